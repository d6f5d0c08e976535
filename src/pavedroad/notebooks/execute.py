"""Run notebooks top to bottom in fresh kernels, several at once, and compare their outputs with
the ones saved in the file.

Each notebook gets its own ipykernel of this very interpreter (a KernelSpecManager with no
folders serves ipykernel's built-in spec for sys.executable: a `python3` kernelspec installed
elsewhere cannot swap in another Python), started from the notebook's folder, as Jupyter starts
it; a `Kernel` names another spec instead (`paved repro --notebooks`: the clean room's
interpreter, its variables only). The kernels are separate processes, so one event loop drives
them all; `jobs` of them at a time. The loop runs in its own thread: nbclient takes over SIGINT
in the main thread's loop, and with several notebooks at once Ctrl-C would then stop one kernel
and not the run. However a notebook's run ends (Ctrl-C and `Execution.cancel` included), its
kernel is shut down. The notebook is executed in memory and never written back.

The comparison is of what a reader checks by eye: text results (text/plain) and what the cells
printed (stdout), after setting aside what changes on every run whatever the code: memory
addresses, dates and times, durations (`%time`, `%timeit`), progress bars. Numbers are compared
with a relative tolerance. Images, HTML and widgets are not compared (their bytes and embedded
ids change with library versions and on every run), nor is stderr (warnings name the installed
versions' files and lines; progress bars write there).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import re
import signal
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pavedroad.errors import UsageError

if TYPE_CHECKING:  # asyncio and the notebook packages load only when notebooks run: every
    # `paved check` imports this module, few run notebooks
    import asyncio

    from nbformat import NotebookNode

DEFAULT_TIMEOUT_S = 600  # per cell: a training cell may take minutes, a stuck one must end
DEFAULT_RTOL = 1e-6
ABS_TOL = 1e-12  # numbers this close to zero are equal: -0.0, 1e-17 of float noise
STARTUP_TIMEOUT_S = 60
LOG_TAIL = 800  # characters of a dead kernel's own log shown
# What running notebooks imports beyond pavedroad's own dependencies: the `notebooks` extra.
EXTRA_MODULES = ("nbformat", "nbclient", "ipykernel")
# ipykernel's banner on its own stderr, on every start: not a clue to why a kernel died.
_KERNEL_NOISE = re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP.*$", re.M)
_CELL_LINE = re.compile(r"Cell In\[(\d+)\], line (\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_EXIT_CALL = re.compile(r"\b(exit|quit)\(")


def default_jobs() -> int:
    """One kernel per CPU: a cell that computes keeps one core busy."""
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Options:
    timeout: int = DEFAULT_TIMEOUT_S  # seconds per cell
    jobs: int = field(default_factory=lambda: default_jobs())
    rtol: float = DEFAULT_RTOL


@dataclass(frozen=True)
class Failure:
    """Why a notebook did not run to the end: at which cell (its index in the file, None when
    no cell ran), which line of it, and what happened."""

    cell: int | None
    line: int | None
    code: str | None  # that line, as written
    error: str  # "KeyError: 'tenure'", "did not finish within 600 s", "the kernel died ..."
    kind: str  # exception, timeout, died, start


@dataclass(frozen=True)
class Difference:
    """The first line of a cell's outputs that is not what the file saved."""

    cell: int
    saved: str | None  # None: the saved outputs end before it
    now: str | None  # None: the new outputs end before it


@dataclass(frozen=True)
class NotebookRun:
    path: Path
    cells: int  # code cells in the notebook
    failure: Failure | None = None
    saved_outputs: bool = False  # the file holds outputs to compare with
    compared: int = 0  # code cells whose outputs were compared
    differences: tuple[Difference, ...] = ()

    @property
    def ran(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class Kernel:
    """The kernels to run notebooks in, when not the default (this interpreter, this process's
    variables): the spec `name` from the folder `specs` (holding `<name>/kernel.json`), the
    variables it starts with (exactly those), the folder for its connection files."""

    name: str = "python3"
    specs: Path | None = None  # None: ipykernel's built-in spec for this interpreter
    env: Mapping[str, str] | None = None  # None: this process's
    runtime: Path | None = None  # None: Jupyter's runtime folder


class Watcher:
    """What a progress display is told, from the thread that runs the notebooks. This one tells
    nobody; a display overrides what it shows."""

    def begin(self) -> None:
        """The run starts (called from the calling thread)."""

    def end(self) -> None:
        """The run is over, or was interrupted (called from the calling thread)."""

    def waiting(self, path: Path, cells: int) -> None:
        """`path` is queued, with this many code cells to run."""

    def started(self, path: Path) -> None:
        """`path`'s kernel is starting."""

    def cell(self, path: Path, index: int, position: int) -> None:
        """Cell `index` (in the file) starts; it is code cell number `position` from 1."""

    def finished(self, run: NotebookRun) -> None:
        """`run.path` is done, run or not."""


def require_extra() -> None:
    """Fail with the install command when the notebooks extra is missing: in `paved check` this
    is an error row (the notebooks were not run), never a silent skip."""
    import importlib.util

    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"running notebooks needs {', '.join(missing)}, not installed here.\n"
            "  hint: pip install 'pavedroad[notebooks]'"
        )


def run_notebooks(
    paths: Sequence[Path], options: Options | None = None, watcher: Watcher | None = None
) -> tuple[NotebookRun, ...]:
    """Run every notebook in `paths`, `options.jobs` at a time; one result each, in order."""
    return Execution(options, watcher).run(paths)


class Execution:
    """Notebooks run by one event loop in a thread of its own. `cancel()`, from any thread,
    stops the run: every kernel is shut down, and `run` raises asyncio.CancelledError."""

    def __init__(
        self,
        options: Options | None = None,
        watcher: Watcher | None = None,
        kernel: Kernel | None = None,
    ) -> None:
        self.options = options or Options()
        self.watcher = watcher or Watcher()
        self.kernel = kernel or Kernel()
        self._lock = threading.Lock()
        self._runner: _Runner | None = None
        self._cancelled = False

    def run(
        self, paths: Sequence[Path], upto: Mapping[Path, int] | None = None
    ) -> tuple[NotebookRun, ...]:
        """One result per notebook, in order; `upto` runs a notebook's cells up to and
        including that index only."""
        require_extra()
        runner = _Runner(list(paths), self.options, self.watcher, self.kernel, dict(upto or {}))
        thread = threading.Thread(target=runner.main, name="paved-notebooks", daemon=True)
        self.watcher.begin()
        try:
            thread.start()
            with self._lock:
                self._runner = runner
                cancelled = self._cancelled
            if cancelled:
                runner.cancel()
            # an Event, not join(): a join interrupted by Ctrl-C marks the thread as ended
            runner.done.wait()
        except KeyboardInterrupt:  # stop every kernel before giving up: no orphan processes
            runner.cancel()
            runner.done.wait()
            raise
        finally:
            self.watcher.end()
        if runner.error is not None:
            raise runner.error
        return runner.results

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            runner = self._runner
        if runner is not None:
            runner.cancel()


class _Runner:
    """The event loop's side: one task per notebook, cancelled together on Ctrl-C."""

    def __init__(
        self,
        paths: list[Path],
        options: Options,
        watcher: Watcher,
        kernel: Kernel,
        upto: dict[Path, int],
    ) -> None:
        self.paths = paths
        self.options = options
        self.watcher = watcher
        self.kernel = kernel
        self.upto = upto
        self.results: tuple[NotebookRun, ...] = ()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()  # the loop and its task exist
        self.done = threading.Event()  # the loop has closed

    def main(self) -> None:
        import asyncio

        try:
            self.results = asyncio.run(self._all())
        except BaseException as error:  # handed to the calling thread, which raises it
            self.error = error
        finally:
            self._ready.set()
            self.done.set()

    async def _all(self) -> tuple[NotebookRun, ...]:
        import asyncio

        self._loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(max(1, self.options.jobs))
        documents = [_load(path, self.upto.get(path)) for path in self.paths]
        for path, document in zip(self.paths, documents, strict=True):
            if not isinstance(document, NotebookRun):
                self.watcher.waiting(path, len(_code_cells(document)))
        self._task = asyncio.current_task()
        self._ready.set()
        return tuple(
            await asyncio.gather(
                *(
                    self._one(path, document, gate)
                    for path, document in zip(self.paths, documents, strict=True)
                )
            )
        )

    def cancel(self) -> None:
        self._ready.wait()
        if self._loop is not None and self._task is not None:
            # the loop may have closed meanwhile: then nothing is left to stop
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._task.cancel)

    async def _one(
        self, path: Path, document: NotebookNode | NotebookRun, gate: asyncio.Semaphore
    ) -> NotebookRun:
        if isinstance(document, NotebookRun):
            found = document
        else:
            async with gate:
                found = await run_one(path, document, self.options, self.watcher, self.kernel)
        self.watcher.finished(found)
        return found


def _load(path: Path, upto: int | None = None) -> NotebookNode | NotebookRun:
    """The notebook as nbclient runs it (its cells up to index `upto`), or a run that failed
    before any kernel started."""
    import nbformat

    try:
        with warnings.catch_warnings():  # nbformat warns on missing cell ids, fixes them
            warnings.simplefilter("ignore")
            document: NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    except Exception as error:  # whatever nbformat finds wrong, the other notebooks still run
        message = f"nbformat cannot read it: {type(error).__name__}: {error}"
        return NotebookRun(path, 0, Failure(None, None, None, _one_line(message), "start"))
    if upto is not None:
        document.cells = document.cells[: upto + 1]
    return document


async def run_one(
    path: Path,
    document: NotebookNode,
    options: Options,
    watcher: Watcher,
    kernel: Kernel | None = None,
) -> NotebookRun:
    """Run `document` (read from `path`) in a fresh kernel from its folder, then compare."""
    import tempfile
    import uuid

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    watcher.started(path)
    saved = copy.deepcopy(document.cells)
    code = _code_cells(document)
    positions = {id(cell): n for n, cell in enumerate(code, start=1)}
    current: list[int] = []  # the index of the cell running now, once one has started

    def on_cell_start(cell: NotebookNode, cell_index: int) -> None:
        if cell.cell_type == "code" and cell.source.strip():
            current[:] = [cell_index]
            watcher.cell(path, cell_index, positions.get(id(cell), 0))

    kernel = kernel or Kernel()
    specs = [str(kernel.specs)] if kernel.specs is not None else []
    manager = AsyncKernelManager(
        kernel_name=kernel.name, kernel_spec_manager=KernelSpecManager(kernel_dirs=specs)
    )
    if kernel.runtime is not None:
        manager.connection_file = str(kernel.runtime / f"kernel-{uuid.uuid4()}.json")
    launch = {"env": dict(kernel.env)} if kernel.env is not None else {}
    client = NotebookClient(
        document,
        km=manager,
        timeout=options.timeout,
        startup_timeout=STARTUP_TIMEOUT_S,
        shutdown_kernel="immediate",  # a kernel stuck in a cell ignores a polite request
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
    )
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        try:
            failure = await _execute(client, manager, document, current, options, log, launch)
        finally:
            await _shut_down(manager)
    if failure is not None:
        return NotebookRun(path, len(code), failure, _has_outputs(saved))
    compared, differences = compare(saved, document.cells, options.rtol)
    return NotebookRun(path, len(code), None, _has_outputs(saved), compared, differences)


async def _execute(
    client: Any,
    manager: Any,
    document: NotebookNode,
    current: list[int],
    options: Options,
    log: IO[str],
    launch: Mapping[str, Any],
) -> Failure | None:
    """Run the cells; None when they all ran, else what stopped them. The kernel's own
    stdout and stderr (its banner, a crash's last words) go to `log`, not the terminal;
    `launch` are further arguments of its start (its variables)."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        await client.async_execute(cleanup_kc=True, stdout=log, stderr=log, **launch)
    except CellExecutionError as error:
        index = current[0]
        return _exception(document.cells[index], index, error.ename, error.evalue)
    except CellTimeoutError:
        index = current[0]
        return Failure(
            index, None, None, f"did not finish within {options.timeout} s (the timeout)", "timeout"
        )
    except DeadKernelError:
        cell = current[0] if current else None
        return Failure(
            cell, None, None, f"the kernel died{_status(manager)}{_log_tail(log)}", "died"
        )
    except Exception as error:  # the kernel did not start, or broke off: say so, run the rest
        cell = current[0] if current else None
        return Failure(
            cell,
            None,
            None,
            f"the kernel failed: {type(error).__name__}: {_one_line(str(error))}{_log_tail(log)}",
            "start" if cell is None else "died",
        )
    return None


async def _shut_down(manager: Any) -> None:
    """Kill the kernel if it still runs: nbclient leaves it running when cancelled while the
    kernel starts."""
    if not manager.has_kernel:
        return
    try:
        await manager.shutdown_kernel(now=True)
    except Exception:  # then its process group (the kernel leads a session of its own)
        process = getattr(manager.provisioner, "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)


def _status(manager: Any) -> str:
    """` (exit status 1)` of a dead kernel's process, when its manager kept it."""
    process = getattr(getattr(manager, "provisioner", None), "process", None)
    status = getattr(process, "returncode", None)
    return "" if status is None else f" (exit status {status})"


def _exception(cell: NotebookNode, index: int, ename: str, evalue: str) -> Failure:
    """The failure of a cell that raised, at the line of the cell the traceback points at."""
    count = cell.get("execution_count")
    traceback = "\n".join(
        "\n".join(o.get("traceback", [])) for o in cell.get("outputs", []) if _kind(o) == "error"
    )
    lines = cell.source.split("\n")
    line = _failing_line(_ANSI.sub("", traceback), count)
    if line is None and ename == "SystemExit":  # IPython shows no traceback for it
        line = next((n for n, text in enumerate(lines, 1) if _EXIT_CALL.search(text)), None)
    code = lines[line - 1].strip() if line is not None and 0 < line <= len(lines) else None
    error = f"{ename}: {_one_line(evalue)}" if evalue else ename
    return Failure(index, line, code, error, "exception")


def _failing_line(traceback: str, count: int | None) -> int | None:
    """The line of the failing cell in IPython's traceback (`Cell In[7], line 3`): a frame of
    this cell's own run, not one of a function an earlier cell defined."""
    frames = [(int(n), int(line)) for n, line in _CELL_LINE.findall(traceback)]
    mine = [line for n, line in frames if n == count]
    if mine:
        return mine[0]
    return frames[0][1] if frames else None


def _log_tail(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    text = _KERNEL_NOISE.sub("", log.read()).strip()
    if not text:
        return ": its process ended (os._exit, a crash in native code, or out of memory)"
    return f"; its last words: {_one_line(text[-LOG_TAIL:])}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _code_cells(document: NotebookNode) -> list[NotebookNode]:
    return [c for c in document.cells if c.cell_type == "code" and c.source.strip()]


def _has_outputs(cells: Iterable[Mapping[str, Any]]) -> bool:
    return any(c.get("cell_type") == "code" and c.get("outputs") for c in cells)


def _kind(output: Mapping[str, Any]) -> str:
    kind: str = output.get("output_type", "")
    return kind


# -- the comparison --------------------------------------------------------------------------


def compare(
    saved: Sequence[Mapping[str, Any]], now: Sequence[Mapping[str, Any]], rtol: float
) -> tuple[int, tuple[Difference, ...]]:
    """The code cells compared, and the first difference of each cell that differs. A cell the
    file holds as never run (no count, no output) has nothing to compare."""
    compared = 0
    differences: list[Difference] = []
    for index, (before, after) in enumerate(zip(saved, now, strict=True)):
        if before.get("cell_type") != "code" or not _ran(before):
            continue
        compared += 1
        difference = first_difference(
            comparable_lines(before.get("outputs", [])),
            comparable_lines(after.get("outputs", [])),
            rtol,
        )
        if difference is not None:
            saved_line, now_line = difference
            differences.append(Difference(index, saved_line, now_line))
    return compared, tuple(differences)


def _ran(cell: Mapping[str, Any]) -> bool:
    return cell.get("execution_count") is not None or bool(cell.get("outputs"))


def first_difference(
    saved: Sequence[str], now: Sequence[str], rtol: float
) -> tuple[str | None, str | None] | None:
    """The first pair of lines that differ beyond the tolerance, None when all agree."""
    for before, after in zip(saved, now, strict=False):
        if not same_line(before, after, rtol):
            return before, after
    if len(saved) == len(now):
        return None
    shorter = min(len(saved), len(now))
    return (
        saved[shorter] if shorter < len(saved) else None,
        now[shorter] if shorter < len(now) else None,
    )


def comparable_lines(outputs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The normalised lines of a cell's outputs that are compared: consecutive stdout writes
    joined (how a run splits them into messages varies), text/plain results, errors."""
    texts: list[str] = []
    printed: list[str] = []
    for output in outputs:
        kind = _kind(output)
        if kind == "stream":
            if output.get("name") == "stdout":
                printed.append(_text(output.get("text", "")))
            continue
        if printed:
            texts.append("".join(printed))
            printed = []
        if kind in ("execute_result", "display_data"):
            plain = output.get("data", {}).get("text/plain")
            if plain is not None:
                texts.append(_text(plain))
        elif kind == "error":
            texts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    if printed:
        texts.append("".join(printed))
    return [line for text in texts for line in normalise(text)]


def _text(value: object) -> str:
    """nbformat's multiline string: a string, or a list of strings to join."""
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return str(value)


# What changes on every run whatever the code: replaced by a placeholder, or the line dropped.
_DROPPED_LINES = re.compile(
    r"""^(CPU\ times: | Wall\ time: )  # %time
    | per\ loop\ \(mean                 # %timeit
    | \d+%\|                             # tqdm: ' 45%|####5     | 45/100 [00:01<00:02, 30.1it/s]'
    | \d+(\.\d+)?\s?(it/s|s/it)\b
    | \d+/\d+\ \[(=+>?|>)\.*\]            # keras: '12/100 [==>...........] - ETA: 3s'
    """,
    re.VERBOSE,
)
_REPLACED = (
    (re.compile(r"0x[0-9a-fA-F]{6,}"), "0x…"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (
        re.compile(
            r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
            r" +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}\b"
        ),
        "<date>",
    ),
    (
        re.compile(
            r"\b\d{4}[-/]\d{2}[-/]\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
        ),
        "<date>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b"), "<time>"),
    (
        re.compile(
            r"(?<![\w.])\d+(\.\d+)?\s?(ns|µs|μs|us|ms|s|sec|secs|seconds?|mins?|minutes?|hours?)"
            r"(?!\w)"
        ),
        "<duration>",
    ),
)
_NUMBER = re.compile(r"(?<![\w.])[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def normalise(text: str) -> list[str]:
    """The lines of an output as compared: what a terminal shows of a `\\r`-rewritten line,
    without the parts that change on every run, spaces collapsed (columns shift with the width
    of the numbers), blank lines dropped."""
    lines: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip("\r").rsplit("\r", 1)[-1].strip()
        if not line or _DROPPED_LINES.search(line):
            continue
        for pattern, placeholder in _REPLACED:
            line = pattern.sub(placeholder, line)
        lines.append(" ".join(line.split()))
    return lines


def same_line(saved: str, now: str, rtol: float) -> bool:
    """The same text with every number equal within `rtol` (relative)."""
    if saved == now:
        return True
    if _NUMBER.sub("#", saved) != _NUMBER.sub("#", now):
        return False
    pairs = zip(_NUMBER.finditer(saved), _NUMBER.finditer(now), strict=True)
    return all(
        math.isclose(float(a.group()), float(b.group()), rel_tol=rtol, abs_tol=ABS_TOL)
        for a, b in pairs
    )
