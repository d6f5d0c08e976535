"""`paved evaluate`: the model on the golden dataset, against thresholds, budgets and baseline.

It runs the MOD and PRF checks (the same ones `paved check` runs as its dynamic part), records
the run in the history store, and with `--accept` makes it the baseline later runs must hold.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from pavedroad import engine
from pavedroad.checks import mod, prf
from pavedroad.commands.options import contract_option, format_option, output_option
from pavedroad.commands.pipeline import emit
from pavedroad.commands.pipeline import evaluate as run_checks
from pavedroad.contract import find_contract, load_contract
from pavedroad.errors import UsageError
from pavedroad.evaluation.judge import (
    Baseline,
    budget_rows,
    budgets_json,
    metric_rows,
    metrics_json,
    project_baseline,
    project_key,
)
from pavedroad.evaluation.run import DEFAULT_TIMEOUT_S, Evaluation, evaluation, run_evaluation
from pavedroad.history import EvaluationRecord, open_history
from pavedroad.project import Project
from pavedroad.reporters import Format, Report
from pavedroad.results import Status

THRESHOLDS = "PRF001"


@click.command("evaluate")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@format_option
@output_option
@click.option(
    "--accept",
    is_flag=True,
    help="Make this run the accepted baseline that later runs are compared with (PRF002). "
    "Refused when a metric misses its threshold.",
)
@click.option(
    "--history",
    "history",
    envvar="PAVED_HISTORY",
    metavar="URL",
    help="Where runs are recorded: a SQLite file or sqlite:/// URL.  [env: PAVED_HISTORY; "
    "default: .paved/history.db in the project]",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="Seconds the evaluation may take before it is stopped.",
)
@contract_option
def evaluate(
    path: Path,
    format_: str,
    output: Path | None,
    accept: bool,
    history: str | None,
    timeout: float,
    contract_path: Path | None,
) -> int:
    """Evaluate the model on the golden dataset: metrics against thresholds and the accepted
    baseline, latency, throughput and memory against budgets. Exit 0 when every check passes."""
    if contract_path is None:
        contract_path = find_contract(path)
        path = contract_path.parent
    project = Project(path, load_contract(contract_path))
    model = project.contract.model
    if model is None or model.label is None:  # neither predict nor mlflow
        raise UsageError(
            f"{project.rel(contract_path)} names no [model].predict: nothing to evaluate.\n"
            '  hint: add `predict = "package.module:function"` (or `mlflow = "DIR"`, an MLflow '
            "pyfunc directory) to [model], and a [performance] section with the golden dataset "
            "and the metrics' thresholds."
        )
    open_history(history, project.root, create=False).close()  # a bad --history fails now,
    # not after a long evaluation
    found = _evaluate_with_progress(project, timeout)
    project.provide(evaluation, found)
    project.provide(project_baseline, _baseline(project, history, found, accept))
    report = run_checks(
        project, [mod.family, prf.family], engine.Selection(skip=frozenset({"CON001"}))
    )
    report, accepted = _record(project, history, found, report, accept)
    emit(report, Format(format_), output)
    if accept and not accepted:
        Console(stderr=True, highlight=False).print(
            "[red]not accepted as the baseline:[/] "
            + (
                "a metric misses its threshold (PRF001)"
                if found.outcome is not None and found.outcome.rows
                else "the evaluation produced no metrics"
            )
        )
        return 1
    return 0 if report.verdict.ready else 1


def _evaluate_with_progress(project: Project, timeout: float) -> Evaluation:
    """The evaluation, with a progress bar of rows and rate on stderr (on a terminal only)."""
    console = Console(stderr=True)
    columns = (
        TextColumn("evaluating"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}{task.fields[of]} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task: TaskID = bar.add_task("evaluate", total=None, of="", rate="")

        def advance(rows: int, total: int | None) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
            of = f" of {total:,}" if total else ""
            bar.update(task, completed=rows, total=total, of=of, rate=rate)

        return run_evaluation(project, progress=advance, timeout=timeout)


def _baseline(project: Project, history: str | None, found: Evaluation, accept: bool) -> Baseline:
    if accept:
        return Baseline(None, "this run is being accepted as the new baseline")
    store = open_history(history, project.root, create=False)
    try:
        record = store.accepted(project_key(project), found.dataset_sha256)
    finally:
        store.close()
    if record is None:
        return Baseline(
            None,
            "no accepted baseline for this golden dataset yet: `paved evaluate --accept` "
            "accepts this model's results",
        )
    return Baseline(record)


def _record(
    project: Project, history: str | None, found: Evaluation, report: Report, accept: bool
) -> tuple[Report, bool]:
    """Record a run that produced numbers (one that did not leaves no history file behind);
    add its metrics and budgets to the report."""
    outcome = found.outcome
    if outcome is None or outcome.rows == 0:
        return report, False
    performance = project.contract.performance
    tolerance = performance.regression_tolerance if performance else 0.0
    baseline = project.fact(project_baseline).record
    metrics = metric_rows(outcome, performance, baseline)
    budgets = budget_rows(outcome, performance)
    misses = any(r.id == THRESHOLDS and r.status is Status.FAIL for r in report.verdict.results)
    accepted = accept and not misses
    store = open_history(history, project.root)
    try:
        run_id = store.record(
            EvaluationRecord(
                project=project_key(project),
                commit=found.commit,
                contract_sha256=found.contract_sha256 or "",
                dataset_sha256=found.dataset_sha256,
                artifact_sha256=found.artifact_sha256,
                metrics={row.key: row.value for row in metrics},
                budgets={row.name: row.value for row in budgets},
                created=dt.datetime.now(dt.timezone.utc),
            ),
            accept=accepted,
        )
    finally:
        store.close()
    extra = {
        "metrics": metrics_json(metrics, tolerance),
        "budgets": budgets_json(budgets),
        "evaluation": {
            "run": run_id,
            "accepted": accepted,
            "rows": outcome.rows,
            "dataset_sha256": found.dataset_sha256,
            "artifact_sha256": found.artifact_sha256,
            "commit": found.commit,
        },
    }
    return dataclasses.replace(report, extra=extra), accepted
