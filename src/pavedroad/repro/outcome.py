"""What one clean-room run found, phase by phase: the facts the REP checks judge.

The outcome is data only (no verdict): `paved repro` hands it to the REP checks directly, and
records it in `.paved/repro.json` with the fingerprint of the tree it ran on, so that
`paved check` can show the last run's results for as long as the tree is still that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

FORMAT = 1


@dataclass(frozen=True)
class Phase:
    """One step of the run and how long it took; `status` is done, failed or skipped."""

    name: str
    status: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class EnvironmentFacts:
    """REP001: the environment built from the lock or the declared requirements."""

    python: str  # "CPython 3.11.7"
    interpreter: str
    source: str  # "uv.lock", "the declared requirements of pyproject.toml"
    key: str = ""
    reused: bool = False
    packages: int = 0
    error: str | None = None  # uv's explanation


@dataclass(frozen=True)
class ImportFacts:
    module: str
    error: str | None = None
    where: str | None = None  # the project's file:line that raised, relative
    file: str | None = None  # where the module was imported from


@dataclass(frozen=True)
class PackageFacts:
    """REP002: the wheel built and installed, and the package imported from it."""

    wheel: str | None = None  # the wheel's file name
    wheel_sha256: str | None = None
    build_error: str | None = None
    imports: list[ImportFacts] = field(default_factory=list)


@dataclass(frozen=True)
class FailedTest:
    name: str  # pytest's node id
    reason: str | None
    locally: str | None = None  # "pass" or "fail" when run again in the author's environment


@dataclass(frozen=True)
class MissingModule:
    module: str  # as imported: "yaml"
    distribution: str  # what provides it: "pyyaml"
    tests: list[str] = field(default_factory=list)  # the tests that failed on it


@dataclass(frozen=True)
class SuiteFacts:
    """REP003: the contract's test command, run in the room."""

    command: str
    returncode: int | None = None
    summary: str | None = None  # "35 passed in 1.2s"
    failures: list[FailedTest] = field(default_factory=list)
    missing: list[MissingModule] = field(default_factory=list)
    error: str | None = None  # could not run, or timed out
    tail: str = ""  # the last lines of its output, when no failure names a test


@dataclass(frozen=True)
class MetricFacts:
    key: str  # "roc_auc", "roc_auc/region=north"
    room: float | None
    local: float | None
    error: str | None = None  # why the room has no value


@dataclass(frozen=True)
class EvaluationFacts:
    """REP004: the evaluation in the room against the local run's metrics."""

    local: str  # where the local metrics come from
    metrics: list[MetricFacts] = field(default_factory=list)
    budgets: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None  # the room's evaluation gave no answer
    local_error: str | None = None  # the local one gave none either
    tolerance: float = 1e-6


@dataclass(frozen=True)
class EntryPointFacts:
    """REP007: one entry point called with --help."""

    name: str
    target: str
    status: int | None
    error: str | None = None
    where: str | None = None
    output: str = ""


@dataclass(frozen=True)
class NotebookFacts:
    """REP009: one notebook run top to bottom in the room (`paved repro --notebooks`)."""

    path: str  # relative to the project root
    cells: int = 0  # its code cells
    cell: int | None = None  # where it stopped: the cell's index in the file
    line: int | None = None  # the line of that cell
    code: str | None = None  # that line, as written
    error: str | None = None  # None: it ran to the end
    kind: str | None = None  # exception, timeout, died, start
    module: str | None = None  # a module it could not import
    distribution: str | None = None  # what provides it; None for the project's own module
    locally: str | None = None  # "pass" or "fail": its cells up to that one, run locally
    skipped: str | None = None  # why it was not run (not a Python notebook)


@dataclass(frozen=True)
class NotebooksFacts:
    """REP009: the notebooks of `[notebooks].paths` that git tracks, each run in the room."""

    runs: list[NotebookFacts] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)  # selected, not committed: not run
    timeout: int = 600  # seconds per cell
    error: str | None = None  # none could run: the kernel's own packages did not install


@dataclass(frozen=True)
class FileRead:
    """REP005: a file the project read that the room does not have."""

    path: str  # relative to the project root
    reason: str  # "ignored by .gitignore:2 (`data/`)", "untracked: never committed"
    seen: str  # how it was seen: "opened by the tests", "named in the evaluation's error"
    absolute: bool = False  # opened in the author's tree by absolute path


@dataclass(frozen=True)
class EnvReadFacts:
    """REP006: an environment variable the project's code read in the room."""

    name: str
    where: str  # relative file:line in the project


@dataclass
class Outcome:
    """Everything one run found; a phase that did not run leaves its field None."""

    created: str  # ISO time, UTC
    python: str | None = None
    commit: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # the tree's fingerprint
    environment: EnvironmentFacts | None = None
    package: PackageFacts | None = None
    tests: SuiteFacts | None = None
    evaluation: EvaluationFacts | None = None
    entry_points: list[EntryPointFacts] | None = None
    notebooks: NotebooksFacts | None = None  # run only with --notebooks
    file_reads: list[FileRead] = field(default_factory=list)
    env_reads: list[EnvReadFacts] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    format: int = FORMAT

    def to_json(self) -> str:
        return _ADAPTER.dump_json(self, indent=2).decode("utf-8") + "\n"

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        """Raises ValueError when the text is not a recorded outcome of this format."""
        try:
            found = _ADAPTER.validate_json(text)
        except ValidationError as error:
            raise ValueError(str(error).splitlines()[0]) from None
        if found.format != FORMAT:
            raise ValueError(f"format {found.format}, not {FORMAT}")
        return found

    @classmethod
    def read(cls, path: Path) -> Outcome:
        return cls.from_json(path.read_text(encoding="utf-8"))

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)


_ADAPTER: TypeAdapter[Outcome] = TypeAdapter(Outcome)
