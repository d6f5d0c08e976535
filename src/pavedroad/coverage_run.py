"""Run a project's test command under coverage.py, and read back what passed and what ran.

The contract's `[tests].command` is what the data scientists run; the engineers need to know it
passes *and* what it exercises. A Python command (`pytest ...`, `python -m X`, `python x.py`) is
rewritten to `python -m coverage run ... -m X`, in this interpreter's environment. Any other
command (`make test`, `tox`, a script) runs as written with `COVERAGE_PROCESS_START` set: the
.pth file that coverage.py installs with itself (7.x) starts measurement in every Python process
of an environment that has coverage.py, and `patch = subprocess` follows the processes those
start. Coverage data, the rc file and any pytest config we need live in a temporary folder:
checking a project never writes into it.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import coverage
from coverage.exceptions import CoverageException

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# The contract has no timeout key; a suite stuck on a network call must still end the check.
TIMEOUT_SECONDS = 15 * 60
OUTPUT_TAIL_LINES = 12

_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?(?:\.exe)?$")
_PYTEST = frozenset({"pytest", "py.test"})
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# A node id has no spaces outside its [parameters], which may hold anything, even " - ".
_SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) ([^\s\[]+(?:\[.*?\](?=$| - ))?)(?: - (.*))?$")
# pytest's last line, bare under -q or between `=` rules: "3 passed, 1 warning in 0.12s".
_FINAL_LINE = re.compile(
    r"^(?:=+ )?((?:no tests ran|\d+ \w+(?:, \d+ \w+)*)"
    r" in \d+(?:\.\d+)?s(?: \([\d:]+\))?)(?: =+)?$"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # `--color=yes` in a project's addopts colours the lines
# Options that say where pytest's configuration and rootdir are; when the user gives them, ours
# would contradict theirs.
_PYTEST_PLACEMENT = ("-c", "--config-file", "--rootdir", "--confcutdir", "--inifile")


@dataclass(frozen=True)
class FileCoverage:
    """What coverage.py measured for one file: its statements and the line numbers that never ran."""

    path: Path
    statements: int
    missing: tuple[int, ...]
    missing_text: str  # coverage.py's own ranges, e.g. "12-15, 40"

    @property
    def percent(self) -> float:
        if not self.statements:
            return 100.0
        return 100.0 * (self.statements - len(self.missing)) / self.statements


@dataclass(frozen=True)
class Failure:
    """One failing test (or collection error) from pytest's short test summary."""

    kind: str  # FAILED or ERROR
    name: str  # e.g. tests/test_model.py::test_predict
    reason: str | None  # the first line of the error, when pytest shows it

    @property
    def path(self) -> str:
        return self.name.split("::", 1)[0]


@dataclass(frozen=True)
class CoverageRun:
    """The outcome of one run of the test command and what coverage.py recorded during it."""

    command: str
    argv: tuple[str, ...] = ()  # what really ran, after the rewrite for coverage.py
    python: bool = False  # the command was rewritten (a Python command), not run as written
    pytest: bool = False
    returncode: int | None = None  # None: it did not start, or it timed out
    output: str = ""  # stdout and stderr, interleaved as a terminal shows them
    timed_out: bool = False
    error: str | None = None  # why the command could not run at all
    measured: bool = False  # coverage.py wrote data: at least one Python process was measured
    total: float | None = None  # percent of statements run; None when no measured file ran
    files: Mapping[Path, FileCoverage] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.error is None and self.returncode == 0

    def failures(self) -> list[Failure]:
        return parse_failures(self.output)

    def summary(self) -> str | None:
        return parse_summary(self.output)

    def tail(self, count: int = OUTPUT_TAIL_LINES) -> list[str]:
        """The last non-empty lines of the output: where a runner says why it stopped."""
        return [line for line in self.output.splitlines() if line.strip()][-count:]


def parse_failures(output: str) -> list[Failure]:
    """The FAILED/ERROR lines of pytest's short test summary (shown by default, `-r fE`). When a
    line gives no reason (a collection error does not), the first `E` line of its report does."""
    lines = output.splitlines()
    found: list[Failure] = []
    for line in lines:
        match = _SUMMARY_LINE.match(line.rstrip())
        if match:
            kind, name, reason = match.groups()
            found.append(Failure(kind, name, reason or _first_error_line(lines, name)))
    return found


def parse_summary(output: str) -> str | None:
    """pytest's own final count of what ran ("35 passed in 1.21s"), or None when the output has
    none (another runner, or `-qq`). The last one wins: a suite may run pytest more than once."""
    found = None
    for line in output.splitlines():
        match = _FINAL_LINE.match(_ANSI.sub("", line).strip())
        if match:
            found = match.group(1)
    return found


def _first_error_line(lines: Sequence[str], name: str) -> str | None:
    """In the report of test `name` (a `____ name ____` banner), its first `E   ...` line."""
    title = name.rsplit("::", 1)[-1] if "::" in name else f"collecting {name}"
    inside = False
    for line in lines:
        if line.startswith("_") and line.strip("_ ").endswith(title):
            inside = True
        elif inside and line.startswith("_"):
            return None
        elif inside and line.startswith("E "):
            return line[1:].strip()
    return None


def has_pytest_config(root: Path) -> bool:
    """Whether pytest finds its configuration in `root` itself rather than in a folder above."""
    names = ("pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml")
    if any((root / name).is_file() for name in names):
        return True
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            tool = {}
        if isinstance(tool, dict) and "pytest" in tool:
            return True
    return _ini_has(root / "tox.ini", "pytest") or _ini_has(root / "setup.cfg", "tool:pytest")


def run_tests(
    command: str,
    root: Path,
    *,
    source: Sequence[Path],
    omit: Sequence[Path] = (),
    pythonpath: Sequence[Path] = (),
    timeout: float = TIMEOUT_SECONDS,
) -> CoverageRun:
    """Run `command` in `root` under coverage.py, measuring the code under `source`."""
    try:
        words = shlex.split(command)
    except ValueError as error:
        return CoverageRun(command, error=f"the command cannot be parsed: {error}")
    assignments, words = _split_assignments(words)
    if not words:
        return CoverageRun(command, error="the command is empty")
    with tempfile.TemporaryDirectory(prefix="paved-coverage-") as scratch:
        folder = Path(scratch)
        rcfile = _write_rcfile(folder, source, omit)
        argv = _rewrite(words, rcfile, root, folder)
        env = _environment(assignments, pythonpath, None if argv else rcfile)
        run = _execute(argv or words, root, env, timeout)
        measured, total, files = _read(rcfile, folder)
    return CoverageRun(
        command,
        argv=run.argv,
        python=argv is not None,
        pytest=_is_pytest(words),
        returncode=run.returncode,
        output=run.output,
        timed_out=run.timed_out,
        error=run.error,
        measured=measured,
        total=total,
        files=files,
    )


@dataclass(frozen=True)
class _Execution:
    argv: tuple[str, ...]
    returncode: int | None
    output: str
    timed_out: bool = False
    error: str | None = None


def _split_assignments(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """`FOO=1 pytest` as a shell reads it: leading NAME=value words set the environment."""
    assignments: dict[str, str] = {}
    while words and _ENV_ASSIGNMENT.match(words[0]):
        name, _, value = words[0].partition("=")
        assignments[name] = value
        words = words[1:]
    return assignments, words


def _is_pytest(words: Sequence[str]) -> bool:
    program = Path(words[0]).name
    if program in _PYTEST:
        return True
    return bool(_PYTHON.match(program)) and words[1:3] in (["-m", "pytest"], ["-m", "py.test"])


def _rewrite(words: list[str], rcfile: Path, root: Path, folder: Path) -> list[str] | None:
    """The command as `python -m coverage run`, or None when it is not a Python command."""
    program = Path(words[0]).name
    coverage_run = [sys.executable, "-m", "coverage", "run", f"--rcfile={rcfile}"]
    if program in _PYTEST:
        return [*coverage_run, "-m", "pytest", *_pytest_options(words[1:], root, folder)]
    if not _PYTHON.match(program) or len(words) < 2:
        return None
    if words[1] == "-m" and len(words) > 2:
        rest = words[3:]
        if words[2] in _PYTEST:
            rest = _pytest_options(rest, root, folder)
        return [*coverage_run, "-m", words[2], *rest]
    if not words[1].startswith("-"):
        return [*coverage_run, *words[1:]]
    return None  # python -c, python -X ... -m: not something `coverage run` takes as is


def _pytest_options(arguments: list[str], root: Path, folder: Path) -> list[str]:
    """No cache written into the project; and when the project has no pytest configuration of its
    own, none from a folder above it either (pytest looks upwards for one, and for conftest.py
    files): the tests must pass in the project alone, as the engineers will receive it."""
    options = ["-p", "no:cacheprovider"]
    placed = any(a.split("=", 1)[0] in _PYTEST_PLACEMENT for a in arguments)
    if not placed and not has_pytest_config(root):
        empty = folder / "pytest.ini"
        empty.write_text("[pytest]\n", encoding="utf-8")
        options += ["-c", str(empty), f"--rootdir={root}", f"--confcutdir={root}"]
    return [*options, *arguments]


def _write_rcfile(folder: Path, source: Sequence[Path], omit: Sequence[Path]) -> Path:
    """Our own configuration, not the project's: the contract decides what counts, so an `omit`
    in the project's coverage settings cannot take a core path out of the measurement."""
    rcfile = folder / "coveragerc"
    lines = [
        "[run]",
        f"data_file = {folder / '.coverage'}",
        "parallel = true",
        "patch = subprocess",
        "source =",
        *(f"    {path}" for path in source),
    ]
    if omit:
        lines += ["omit =", *(f"    {path}" for path in omit)]
    rcfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rcfile


def _environment(
    assignments: Mapping[str, str], pythonpath: Sequence[Path], process_start: Path | None
) -> dict[str, str]:
    """This environment, as if activated: its interpreter first on PATH, the project's source
    roots on PYTHONPATH, no coverage settings inherited from whoever runs pavedroad, and no
    bytecode written into the project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    inherited = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in pythonpath), *inherited])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if process_start is not None:
        env["COVERAGE_PROCESS_START"] = str(process_start)
    env.update(assignments)
    return env


def _execute(argv: list[str], root: Path, env: dict[str, str], timeout: float) -> _Execution:
    try:
        process = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=os.name == "posix",  # so a timeout can end the whole process group
        )
    except OSError as error:
        return _Execution(tuple(argv), None, "", error=f"`{argv[0]}` cannot run: {error.strerror}")
    with process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            output, _ = process.communicate()
            return _Execution(tuple(argv), None, output, timed_out=True)
    return _Execution(tuple(argv), process.returncode, output)


def _kill(process: subprocess.Popen[str]) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
            os.killpg(process.pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows
        process.kill()


def _read(rcfile: Path, folder: Path) -> tuple[bool, float | None, dict[Path, FileCoverage]]:
    """Combine the data files every measured process wrote, and analyse each measured file."""
    if not any(folder.glob(".coverage.*")):
        return False, None, {}
    with warnings.catch_warnings():
        # coverage.py warns about what it did not measure; the checks report on that themselves.
        warnings.simplefilter("ignore")
        cov = coverage.Coverage(config_file=str(rcfile))
        cov.combine(data_paths=[str(folder)])
        files: dict[Path, FileCoverage] = {}
        for name in sorted(cov.get_data().measured_files()):
            try:
                _, statements, _, missing, text = cov.analysis2(name)
            except CoverageException:
                continue  # a file that is gone or is not Python source: nothing to attribute
            path = Path(name).resolve()
            files[path] = FileCoverage(path, len(statements), tuple(missing), text)
        try:
            total: float | None = cov.report(file=io.StringIO(), ignore_errors=True)
        except CoverageException:
            total = None  # no data to report: nothing under `source` ran
    return True, total, files


def _ini_has(path: Path, section: str) -> bool:
    if not path.is_file():
        return False
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return False
    return parser.has_section(section)
