"""The evaluation in the room, against the local run's metrics (REP004).

The room's worker imports the model from the installed wheel, with the room's dependencies
first (see `overlay`), reads the room's copy of the golden dataset, and answers with the usual
Outcome. The local metrics are those of the latest `paved evaluate` run recorded in the
project's history for the same model artifact, golden dataset and contract; when none is
recorded, the same worker runs in the author's environment now, while the room is built.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pavedroad.evaluation import judge
from pavedroad.evaluation.protocol import Outcome as WorkerOutcome
from pavedroad.evaluation.protocol import Request
from pavedroad.evaluation.run import DEFAULT_TIMEOUT_S, build_request, contract_sha256
from pavedroad.fileio import sha256_of
from pavedroad.history import open_history
from pavedroad.project import Project
from pavedroad.repro.outcome import EvaluationFacts, MetricFacts
from pavedroad.repro.processes import Completed, Processes

STDERR_TAIL = 1500


@dataclass(frozen=True)
class Local:
    """The local run's metrics by key, and where they come from; or why there are none."""

    metrics: dict[str, float | None]
    source: str
    error: str | None = None


def local_metrics(project: Project, history: str | None, processes: Processes) -> Local:
    """The recorded run of this model, dataset and contract, else a local evaluation now."""
    model, performance = project.contract.model, project.contract.performance
    assert model is not None and performance is not None
    artifact = _hash(project.root, model.artifact)
    dataset = _hash(project.root, performance.dataset)
    store = open_history(history, project.root, create=False)
    try:
        for record in store.runs(judge.project_key(project), limit=200):
            if (
                record.contract_sha256 == contract_sha256(project)
                and record.dataset_sha256 == dataset
                and record.artifact_sha256 == artifact
            ):
                when = record.created.strftime("%Y-%m-%d %H:%M UTC")
                return Local(record.metrics, f"`paved evaluate` run {record.id} of {when}")
    finally:
        store.close()
    outcome, error = _run_worker(
        [sys.executable, "-u", "-m", "pavedroad.evaluation.worker"],
        build_request(project),
        cwd=project.root,  # where `paved evaluate` runs it
        env={**os.environ},
        scratch=None,
        processes=processes,
    )
    source = "evaluated now, as no `paved evaluate` run is recorded for this model"
    if outcome is None:
        return Local({}, source, error=error)
    rows = judge.metric_rows(outcome, performance, None)
    return Local({row.key: row.value for row in rows}, source, error=_failure(outcome))


def room_evaluation(
    room_project: Path,
    project: Project,
    command: list[str],
    env: Mapping[str, str],
    scratch: Path,
    processes: Processes,
) -> tuple[WorkerOutcome | None, str | None]:
    """The worker in the room, importing the model from the wheel (no source roots)."""
    request = dataclasses.replace(
        build_request(Project(room_project, project.loaded)), source_roots=[]
    )
    return _run_worker(
        command, request, cwd=room_project, env=env, scratch=scratch, processes=processes
    )


def compare(
    project: Project,
    room: WorkerOutcome | None,
    room_error: str | None,
    local: Local,
    tolerance: float,
) -> tuple[EvaluationFacts, dict[str, float | None]]:
    """The room's metrics beside the local ones, and the room's budgets."""
    performance = project.contract.performance
    if room is None:
        facts = EvaluationFacts(
            local=local.source, error=room_error, local_error=local.error, tolerance=tolerance
        )
        return facts, {}
    rows = judge.metric_rows(room, performance, None)
    metrics = [
        MetricFacts(key=row.key, room=row.value, local=local.metrics.get(row.key), error=row.error)
        for row in rows
    ]
    budgets = {row.name: row.value for row in judge.budget_rows(room, performance)}
    facts = EvaluationFacts(
        local=local.source,
        metrics=metrics,
        budgets=budgets,
        error=_failure(room),
        local_error=local.error,
        tolerance=tolerance,
    )
    return facts, budgets


def differs(room: float | None, local: float | None, tolerance: float) -> bool:
    if room is None or local is None:
        return room is not local
    if math.isnan(room) or math.isnan(local):
        return math.isnan(room) != math.isnan(local)
    return not math.isclose(room, local, rel_tol=tolerance, abs_tol=tolerance)


def _failure(outcome: WorkerOutcome) -> str | None:
    failure = outcome.failures[0] if outcome.failures else None
    if failure is None:
        return None
    where = f" (at {failure.path}:{failure.line})" if failure.path else ""
    return f"{failure.stage}: {failure.kind}: {failure.message}{where}"


def _hash(root: Path, relative: str | None) -> str | None:
    if relative is None or not (root / relative).is_file():
        return None
    return sha256_of(root / relative)


def _run_worker(
    command: list[str],
    request: Request,
    *,
    cwd: Path,
    env: Mapping[str, str],
    scratch: Path | None,
    processes: Processes,
) -> tuple[WorkerOutcome | None, str | None]:
    with tempfile.TemporaryDirectory(prefix="paved-repro-eval-", dir=scratch) as folder:
        request_path, outcome_path = Path(folder, "request.json"), Path(folder, "outcome.json")
        request.write(request_path)
        done: Completed = processes.run(
            [*command, str(request_path), str(outcome_path)],
            cwd=cwd,
            env=env,
            timeout=DEFAULT_TIMEOUT_S,
        )
        if outcome_path.is_file():
            return WorkerOutcome.read(outcome_path), None
    if done.error is not None:
        return None, done.error
    if done.timed_out:
        return None, f"the evaluation did not finish within {DEFAULT_TIMEOUT_S:g} s"
    tail = done.output[-STDERR_TAIL:].strip()
    return None, f"the evaluation worker exited with status {done.returncode}" + (
        f":\n{tail}" if tail else ""
    )
