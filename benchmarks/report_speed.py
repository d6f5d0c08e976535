"""How fast is the handoff report? 200 check results and 10,000 recorded runs: under 2 s.

What is timed is the report's own work once the checks have reached their verdict: gathering the
packet (the schemas imported in their subprocess, the history read from SQLite, the documents,
the declarations, the hashes) and rendering it, as HTML with every plot and as Markdown. Running
the checks is `paved check`'s cost, measured by check_speed.py; the evaluation is measured by
evaluate_speed.py.

The project is a copy of examples/churn-service (real schemas, README, pyproject, artifact and
golden dataset) whose `.paved/history.db` gets 10,000 runs recorded through the history store,
one an hour, on the same golden dataset, each with the three metrics, three slices and five
budgets the contract names. The verdict is synthetic: 200 results in 20 families of 10 checks,
with 30 gaps (each with a location and a fix), 10 waived, 20 skipped and 140 passing. The
evaluation is the example's real one, run once by the worker before timing and handed to each
timed run, so the latency histogram, ROC, calibration and confusion plots are drawn too.

Two timings, best of RUNS, each on a fresh project view: the packet as `paved report` builds it
(the schemas imported), and as `paved report --static` builds it (read from their source, the
numbers from the newest recorded run). Exit status: 0 when both are under the target, 1 when
one is missed, 2 when the setup fails.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pavedroad.contract import find_contract, load_contract
from pavedroad.evaluation.run import Evaluation, evaluation, run_evaluation
from pavedroad.history import EvaluationRecord, SQLiteHistory
from pavedroad.project import Project
from pavedroad.report import render
from pavedroad.report.gather import gather
from pavedroad.reporters import Report
from pavedroad.results import Location, Result, Status, Verdict, WaiverNote

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "churn-service"
RUNS = 5
TARGET_SECONDS = 2.0
HISTORY_RUNS = 10_000
FAMILIES, CHECKS_PER_FAMILY = 20, 10


def synthetic_report(project_name: str) -> Report:
    """200 results: per family, gaps first, then waived, skipped and passing rows."""
    results = []
    families = {}
    for family in range(FAMILIES):
        code = "X" + chr(ord("A") + family)
        families[code] = f"Synthetic family {family + 1}"
        for check in range(CHECKS_PER_FAMILY):
            number = family * CHECKS_PER_FAMILY + check
            status = (
                Status.FAIL
                if number % 20 < 3
                else Status.WAIVED
                if number % 20 == 3
                else Status.SKIP
                if number % 20 in (4, 5)
                else Status.PASS
            )
            gap = status in (Status.FAIL, Status.WAIVED)
            results.append(
                Result(
                    id=f"{code}{check + 1:03d}",
                    family=code,
                    title=f"Synthetic check {number} holds",
                    status=status,
                    message=f"subject {number} of `{code}` was examined: "
                    + ("it misses the requirement" if gap else "as required"),
                    subject=f"subject-{number}",
                    fix=f"Change `subject-{number}` so that it meets the requirement."
                    if gap
                    else None,
                    location=Location(path=f"src/module_{number}.py", line=number + 1),
                    waiver=WaiverNote(reason="accepted for now", expires="2027-01-01")
                    if status is Status.WAIVED
                    else None,
                )
            )
    verdict = Verdict(project=str(EXAMPLE), results=tuple(results))
    assert len(results) == FAMILIES * CHECKS_PER_FAMILY
    return Report(verdict=verdict, checks={}, families=families, project_name=project_name)


def record_history(project: Project, found: Evaluation) -> float:
    """HISTORY_RUNS runs through the store, as many `paved evaluate` runs would leave them."""
    outcome = found.outcome
    assert outcome is not None and outcome.rows, "the example's evaluation produced no rows"
    metrics = {k: v.value for k, v in outcome.metrics.items()}
    for piece in outcome.slices:
        for name, value in piece.metrics.items():
            metrics[f"{name}/{piece.column}={piece.value}"] = value.value
    started = time.perf_counter()
    store = SQLiteHistory(project.root / ".paved" / "history.db")
    first = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    try:
        for index in range(HISTORY_RUNS):
            wobble = ((index * 7919) % 101 - 50) / 5000  # deterministic drift, +-0.01
            store.record(
                EvaluationRecord(
                    project="churn",
                    commit=f"{index:040x}",
                    contract_sha256="0" * 64,
                    dataset_sha256=found.dataset_sha256,
                    artifact_sha256=found.artifact_sha256,
                    metrics={k: None if v is None else v + wobble for k, v in metrics.items()},
                    budgets={
                        "latency_p50_ms": 0.7 + wobble,
                        "latency_p95_ms": 0.9 + wobble,
                        "latency_p99_ms": 1.1 + wobble,
                        "peak_memory_mb": 210.0,
                        "throughput_rows_s": 150_000.0,
                    },
                    created=first + dt.timedelta(hours=index),
                ),
                accept=index == HISTORY_RUNS - 100,
            )
    finally:
        store.close()
    return time.perf_counter() - started


def timed(build: Callable[[], tuple[int, int]]) -> tuple[float, tuple[int, int]]:
    best, sizes = float("inf"), (0, 0)
    for _ in range(RUNS):
        started = time.perf_counter()
        sizes = build()
        best = min(best, time.perf_counter() - started)
    return best, sizes


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="paved-report-bench-") as temporary:
        root = Path(temporary) / "churn-service"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".paved", "__pycache__"))
        contract = load_contract(find_contract(root))
        found = run_evaluation(Project(root, contract))
        if found.outcome is None or not found.outcome.rows:
            print(f"the example's evaluation failed: {found.blocked or found.error}")
            return 2
        setup = record_history(Project(root, contract), found)
        report = synthetic_report("churn")

        def build(*, static: bool) -> tuple[int, int]:
            project = Project(root, contract)  # fresh: no fact cached from a previous run
            if not static:
                project.provide(evaluation, found)
            packet = gather(project, report, static=static)
            assert len(packet.measured.overall[0].history) == HISTORY_RUNS
            return len(render.html(packet)), len(render.markdown(packet))

        dynamic, (html, markdown) = timed(lambda: build(static=False))
        static, _ = timed(lambda: build(static=True))
    print(
        f"{len(report.verdict.results)} check results, {HISTORY_RUNS:,} recorded runs "
        f"(written in {setup:.1f} s), best of {RUNS}"
    )
    print(
        f"  gather + render, schemas imported  {dynamic:5.2f} s   target < {TARGET_SECONDS:.0f} s"
    )
    print(f"  gather + render, --static          {static:5.2f} s   target < {TARGET_SECONDS:.0f} s")
    print(f"  HTML {html / 1e3:,.0f} kB, Markdown {markdown / 1e3:,.0f} kB")
    met = max(dynamic, static) < TARGET_SECONDS
    print("target met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
