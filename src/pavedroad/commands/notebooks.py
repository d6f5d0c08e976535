"""`paved notebooks`: the NB audit of a project's notebooks, with the same reporters as `check`.

The static audit reads the notebooks and never runs them; it works with or without a contract
(without one, every .ipynb outside hidden and virtual-env folders is audited). With `--execute`
it also runs them (NB009, NB010), showing a line per notebook with its current cell on stderr.
"""

from __future__ import annotations

import threading
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from pavedroad import engine
from pavedroad.checks import nb
from pavedroad.commands.options import format_option, output_option
from pavedroad.commands.pipeline import emit, evaluate
from pavedroad.contract import empty_contract, load_contract
from pavedroad.contract_file import search_contract
from pavedroad.notebooks.execute import (
    DEFAULT_RTOL,
    DEFAULT_TIMEOUT_S,
    NotebookRun,
    Options,
    Watcher,
    default_jobs,
    require_extra,
)
from pavedroad.project import Project
from pavedroad.reporters import Format, Report
from pavedroad.results import Verdict


@click.command("notebooks")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@format_option
@output_option
@click.option(
    "--execute",
    is_flag=True,
    help="Also run each notebook top to bottom in a fresh kernel (NB009) and compare its outputs "
    "with the saved ones (NB010). This runs the notebooks' code, `!pip install` lines included.",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="Seconds one cell may run before its notebook is stopped (with --execute).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Notebooks run at once (with --execute).  [default: the number of CPUs]",
)
@click.option(
    "--rtol",
    type=click.FloatRange(min=0),
    default=DEFAULT_RTOL,
    show_default=True,
    help="Relative tolerance within which a number equals the saved one (NB010).",
)
def notebooks(
    path: Path,
    format_: str,
    output: Path | None,
    execute: bool,
    timeout: int,
    jobs: int | None,
    rtol: float,
) -> int:
    """Audit the notebooks without running them: execution order, hidden state, paths on one
    machine, secrets (redacted), installs from cells, unseeded randomness, error outputs and
    outputs too large to review. Works with or without a contract. With --execute, also run
    them in fresh kernels and compare their outputs with the saved ones."""
    options = Options(timeout=timeout, jobs=jobs or default_jobs(), rtol=rtol)
    project = _project(path)
    if execute:
        require_extra()  # before any progress display: a usage error, not a broken run
    watcher = _ProgressWatcher(Console(stderr=True))
    report = audit(project, execute=execute, options=options, watcher=watcher)
    emit(report, Format(format_), output)
    return exit_code(report.verdict)


def _project(path: Path) -> Project:
    contract = search_contract(path)
    if contract is None:
        return Project(path, empty_contract(path.resolve()))
    return Project(contract.parent, load_contract(contract))


def audit(
    project: Project,
    *,
    execute: bool = False,
    options: Options | None = None,
    watcher: Watcher | None = None,
) -> Report:
    """The NB checks on `project`: the static ones, and the dynamic ones (which run the
    notebooks) only with `execute`, whatever the contract's `[notebooks].execute` says: this
    command runs notebooks only when told to. The waivers of other families are not judged."""
    project.provide(nb.executions, nb.execute(project, options, watcher) if execute else None)
    selection = engine.Selection(skip=frozenset({"CON001"}))
    return evaluate(project, [nb.family], selection)


def exit_code(verdict: Verdict) -> int:
    return 0 if verdict.ready else 1


class _ProgressWatcher(Watcher):
    """A line per notebook on stderr: its cells done out of its code cells, the cell running,
    and how it ended. Told from the thread that runs the kernels; rich's Progress locks."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f} cells"),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[Path, TaskID] = {}
        self._lock = threading.Lock()
        self._root = Path.cwd()

    def begin(self) -> None:
        self._progress.start()

    def end(self) -> None:
        self._progress.stop()

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self._root).as_posix()
        except ValueError:
            return path.as_posix()

    def waiting(self, path: Path, cells: int) -> None:
        with self._lock:
            self._tasks[path] = self._progress.add_task(
                self._name(path), total=max(cells, 1), state="waiting", start=False
            )

    def started(self, path: Path) -> None:
        task = self._tasks[path]
        self._progress.start_task(task)
        self._progress.update(task, state="starting the kernel")

    def cell(self, path: Path, index: int, position: int) -> None:
        self._progress.update(self._tasks[path], completed=position - 1, state=f"cell {index}")

    def finished(self, run: NotebookRun) -> None:
        task = self._tasks.get(run.path)
        if task is None:  # nbformat could not read it: no line was shown
            return
        if run.failure is None:
            self._progress.update(task, completed=run.cells, state="[green]ran")
        else:
            where = f" at cell {run.failure.cell}" if run.failure.cell is not None else ""
            self._progress.update(task, state=f"[red]stopped{where}")
        self._progress.stop_task(task)
