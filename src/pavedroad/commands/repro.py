"""`paved repro [PATH]`: the project rebuilt and run in a clean room, from what is declared and
committed only; READY (exit 0) when the REP checks pass.

The work is in pavedroad.repro; this module shows the phases as they run, renders the REP
results through the usual reporters, records the outcome for `paved check`, and writes the
attestation (and, on request, the Dockerfile) when the room passes.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from pavedroad import engine
from pavedroad.checks import rep
from pavedroad.commands.options import contract_option, format_option, output_option
from pavedroad.commands.pipeline import emit
from pavedroad.commands.pipeline import evaluate as run_checks
from pavedroad.contract import empty_contract, load_contract
from pavedroad.contract_file import search_contract
from pavedroad.errors import UsageError
from pavedroad.evaluation.judge import MetricRow, metrics_json
from pavedroad.fileio import write_atomic
from pavedroad.notebooks.execute import DEFAULT_TIMEOUT_S, require_extra
from pavedroad.project import Project
from pavedroad.reporters import Format, Report
from pavedroad.repro import attestation, dockerfile, record
from pavedroad.repro.outcome import Outcome, Phase
from pavedroad.repro.overlay import kernel_pins
from pavedroad.repro.record import Recorded
from pavedroad.repro.room import Room
from pavedroad.repro.runner import Options, Run, reproduce
from pavedroad.repro.uvrun import find_uv
from pavedroad.repro.variables import parse_assignments, require_declared

EXIT_READY, EXIT_NOT_READY = 0, 1
DOCKERFILE = "Dockerfile"
KEPT = ("project", "venv", "home", "work", "jupyter")  # what a kept room shows, if it has it
MARKS = {"done": ("✓", "green"), "failed": ("✗", "red"), "skipped": ("-", "dim")}


@click.command("repro")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--python",
    metavar="VERSION|PATH",
    help="The interpreter of the room (default: this one if the contract allows it, else the "
    "newest allowed one on the machine).",
)
@click.option(
    "--env",
    "env",
    multiple=True,
    metavar="KEY=VALUE",
    help="A value for a [config].env variable in the room (default: from .env.example).",
)
@click.option("--keep", is_flag=True, help="Keep the room afterwards and print where it is.")
@click.option(
    "--rebuild", is_flag=True, help="Build the dependencies again instead of reusing the cache."
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    # one more than the CPUs: the phases are processes that also wait (start-up, imports from
    # disk), and bounding them to the CPUs queued the evaluation behind the import (measured:
    # benchmarks/repro_speed.py, cold 1.27-1.40x -> 0.99-1.20x of the hand-made steps)
    default=(os.cpu_count() or 1) + 1,
    show_default="CPUs + 1",
    help="How many of the phases that run the project's code (import and entry points, tests, "
    "evaluation, notebooks) run at once, and how many notebooks at once.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=1e-6,
    show_default=True,
    help="How far (absolute and relative) a metric may differ from the local run's.",
)
@click.option(
    "--history",
    envvar="PAVED_HISTORY",
    metavar="URL",
    help="Where `paved evaluate` recorded the local runs.  [default: .paved/history.db]",
)
@click.option(
    "--dockerfile",
    "write_dockerfile",
    is_flag=True,
    help="When the room passes, write the Dockerfile that performs the same steps.",
)
@click.option(
    "--notebooks",
    "run_notebooks",
    is_flag=True,
    help="Also run every notebook git tracks (under [notebooks].paths) top to bottom in a fresh "
    "kernel of the room's interpreter (REP009). Opt-in: running a notebook runs its code.",
)
@click.option(
    "--notebook-timeout",
    type=click.IntRange(min=1),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    metavar="SECONDS",
    help="How long one notebook cell may run in the room.",
)
@format_option
@output_option
@contract_option
def repro(
    path: Path,
    python: str | None,
    env: tuple[str, ...],
    keep: bool,
    rebuild: bool,
    jobs: int,
    tolerance: float,
    history: str | None,
    write_dockerfile: bool,
    run_notebooks: bool,
    notebook_timeout: int,
    format_: str,
    output: Path | None,
    contract_path: Path | None,
) -> int:
    """Rebuild the project at PATH in a clean room and run it there: the files git tracks, a
    fresh environment from the lock (else the declared requirements), the project as a wheel,
    only the declared environment variables. The package is imported, each entry point called
    with --help, the tests run and the model evaluated; the metrics must match the local run's
    (and, with --notebooks, the notebooks run). On success, .paved/attestation.json records the
    hashes of what passed."""
    project = _project(path, contract_path)
    given = parse_assignments(env)
    require_declared(project.contract.config.env if project.contract.config else [], given)
    if run_notebooks:  # a missing `notebooks` extra is a usage error before any room is built
        require_extra()
        kernel_pins()
    options = Options(
        python=python,
        env=given,
        keep=keep,
        rebuild=rebuild,
        jobs=jobs,
        tolerance=tolerance,
        history=history,
        notebooks=run_notebooks,
        notebook_timeout=notebook_timeout,
    )
    err = Console(stderr=True, highlight=False)
    err.print(f"[bold]paved repro[/] · {escape(str(_shown(project.root)))}", soft_wrap=True)
    display = _Display(err)
    try:
        with display.progress:
            run = reproduce(project, options, display)
    finally:
        if keep and display.room is not None:
            top = display.room.top
            inside = ", ".join(f"{name}/" for name in KEPT if (top / name).exists())
            err.print(f"room kept at {top} ({inside})", soft_wrap=True)
    outcome = run.outcome
    project.provide(record.recorded_outcome, Recorded(outcome))
    report = run_checks(
        project, [rep.family], engine.Selection(skip=frozenset({"REP008", "CON001"}))
    )
    record.write(project.root, outcome)
    written = _attest(project, run, write_dockerfile) if report.verdict.ready else []
    emit(_with_measures(project, report, run), Format(format_), output)
    for line in written:
        err.print(line, soft_wrap=True)
    if write_dockerfile and not report.verdict.ready:
        err.print("[yellow]Dockerfile not written:[/] the clean room did not pass")
    return EXIT_READY if report.verdict.ready else EXIT_NOT_READY


def _shown(path: Path) -> Path:
    """Relative to the working folder when inside it: shorter, and what the user typed."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _project(path: Path, contract_path: Path | None) -> Project:
    """The project of PATH's contract; a project without one is reproduced all the same."""
    if contract_path is None:
        contract_path = search_contract(path)
        if contract_path is None:
            return Project(path, empty_contract(path.resolve()))
    return Project(contract_path.parent, load_contract(contract_path))


class _Display:
    """The phases on stderr: a spinner per running phase (on a terminal), a line per ended one."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}
        self.lock = threading.Lock()
        self.room: Room | None = None

    def room_created(self, room: Room) -> None:
        self.room = room

    def started(self, name: str, text: str) -> None:
        with self.lock:
            self.tasks[name] = self.progress.add_task(escape(text))

    def finished(self, phase: Phase) -> None:
        with self.lock:
            task = self.tasks.pop(phase.name, None)
            if task is not None:
                self.progress.remove_task(task)
        mark, style = MARKS.get(phase.status, ("?", "dim"))
        self.console.print(
            f"  [{style}]{mark}[/] {phase.name:<12} {phase.seconds:6.2f} s  {escape(phase.detail)}",
            soft_wrap=True,
        )

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/] {escape(text)}", soft_wrap=True)


def _attest(project: Project, run: Run, write_dockerfile: bool) -> list[str]:
    """The attestation (and the Dockerfile), written atomically once the room passed."""
    outcome = run.outcome
    lock = run.plan.lock if run.plan is not None else None
    written = attestation.write(
        project, attestation.build(project, outcome, lock=lock, frozen=run.frozen)
    )
    lines = [f"attestation written to {project.rel(written)}"]
    if write_dockerfile:
        lines.append(f"Dockerfile written to {project.rel(_write_dockerfile(project, run))}")
    return lines


def _write_dockerfile(project: Project, run: Run) -> Path:
    assert run.interpreter is not None and run.plan is not None
    if run.wheel_name is None:
        raise UsageError("no wheel was built, so there is no Dockerfile to write")
    target = project.root / DOCKERFILE
    if target.is_file() and dockerfile.HEADER not in target.read_text(
        encoding="utf-8", errors="replace"
    ):
        target = project.root / f"{DOCKERFILE}.paved"  # a Dockerfile someone wrote stays theirs
    model = project.contract.model
    text = dockerfile.render(
        interpreter=run.interpreter,
        uv_version=_uv_version(),
        plan=run.plan,
        frozen=run.frozen,
        wheel_name=run.wheel_name,
        data=[model.artifact] if model is not None and model.artifact else [],
        env=project.contract.config.env if project.contract.config else [],
        entry_point=run.scripts[0] if run.scripts else None,
        created=run.outcome.created,
    )
    write_atomic(target, text)
    return target


def _uv_version() -> str:
    done = subprocess.run(
        [find_uv(), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    words = done.stdout.split()
    return words[1] if len(words) > 1 else "latest"


def _with_measures(project: Project, report: Report, run: Run) -> Report:
    """The metrics table of the text report (compared with the local run) and the JSON report's
    `metrics`, `budgets` and `repro` objects; in `metrics`, `baseline` is the local run's value."""
    outcome = run.outcome
    extra: dict[str, Any] = {"repro": _summary(outcome, run), "compared_with": "local run"}
    facts = outcome.evaluation
    performance = project.contract.performance
    if facts is not None and facts.metrics:
        rows = []
        for metric in facts.metrics:
            name = metric.key.split("/", 1)[0]
            overall = performance.metrics.get(name) if performance else None
            threshold = (
                (performance.slice_metrics.get(name) or overall)
                if "/" in metric.key and performance
                else overall
            )
            rows.append(
                MetricRow(
                    key=metric.key,
                    metric=name,
                    value=metric.room,
                    threshold=threshold,
                    baseline=metric.local,
                    error=metric.error,
                )
            )
        extra["metrics"] = metrics_json(rows, facts.tolerance)
    return dataclasses.replace(report, extra=extra)


def _summary(outcome: Outcome, run: Run) -> dict[str, Any]:
    environment = outcome.environment
    return {
        "python": outcome.python,
        "commit": outcome.commit,
        "environment": None
        if environment is None
        else {
            "source": environment.source,
            "key": environment.key,
            "reused": environment.reused,
            "packages": environment.packages,
        },
        "wheel": run.wheel_name,
        "room": str(run.room.top) if run.room is not None else None,
        "phases": [dataclasses.asdict(p) for p in outcome.phases],
    }
