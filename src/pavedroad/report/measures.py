"""The numbers of the model card: metrics and budgets from this run's evaluation (or, when none
ran, the last recorded one), each with its threshold, the accepted baseline, its status as the
evaluation's judge decides it, and its history on the same golden dataset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pavedroad.contract import Performance, Threshold
from pavedroad.errors import PavedError, UsageError
from pavedroad.evaluation.judge import (
    MINIMA,
    BudgetRow,
    MetricRow,
    budget_rows,
    higher_is_better,
    metric_rows,
    project_baseline,
    project_key,
)
from pavedroad.evaluation.protocol import Outcome
from pavedroad.evaluation.run import Evaluation, evaluation
from pavedroad.fileio import sha256_of
from pavedroad.history import EvaluationRecord, open_history
from pavedroad.project import Project
from pavedroad.report.packet import BudgetView, Measured, MetricView, Point

HISTORY_LIMIT = 10_000  # recorded runs read for the history plots


def this_evaluation(project: Project, *, static: bool) -> tuple[Evaluation | None, str | None]:
    """The run's evaluation (computed once per run, shared with the MOD and PRF checks), or why
    there is none."""
    model = project.contract.model
    if model is None or model.label is None:
        return None, "the contract names no [model].predict: nothing was evaluated"
    if static:
        return None, "--static: no project code ran"
    try:
        return project.fact(evaluation), None
    except PavedError as error:  # the evaluate extra is not installed
        return None, str(error)


def dataset_sha256(project: Project) -> str | None:
    """The golden dataset's hash, which keys its baseline and history (a `project.fact`)."""
    performance = project.contract.performance
    if performance is None or performance.dataset is None:
        return None
    path = project.root / performance.dataset
    return sha256_of(path) if path.is_file() else None


def measured(project: Project, found: Evaluation | None, why_not: str | None) -> Measured:
    performance = project.contract.performance
    tolerance = performance.regression_tolerance if performance else 0.0
    fresh = found is not None and found.outcome is not None
    dataset = found.dataset_sha256 if found is not None and fresh else project.fact(dataset_sha256)
    try:
        runs, baseline = _history(project, dataset, fresh=fresh)
    except UsageError as error:  # the history file is not ours, or is newer than this tool
        runs, baseline, why_not = [], None, f"{why_not or ''} {error}".strip()
    outcome = found.outcome if found is not None else None
    history = _series(runs)
    accepted = _describe_baseline(baseline)
    if outcome is not None and (outcome.rows or outcome.latency):
        return Measured(
            source=_fresh_source(outcome, performance),
            fresh=True,
            rows=outcome.rows,
            metrics=_metric_views(
                metric_rows(outcome, performance, baseline) if outcome.rows else [],
                tolerance,
                history,
            ),
            budgets=_budget_views(budget_rows(outcome, performance)),
            latency_samples=tuple(outcome.latency.samples_ms or ()) if outcome.latency else (),
            curves=outcome.curves,
            runs=len(runs),
            baseline=accepted,
        )
    why_not = why_not or _why_no_outcome(found)
    if not runs:
        return Measured(
            source="nothing measured",
            note=f"{why_not}; no evaluation is recorded either (`paved evaluate` records one)",
            baseline=accepted,
        )
    last = runs[0]
    commit = f" at {last.commit[:12]}" if last.commit else ""
    return Measured(
        source=f"run {last.id} recorded on {last.created:%Y-%m-%d %H:%M} UTC{commit}",
        metrics=_metric_views(_recorded_rows(last, performance, baseline), tolerance, history),
        budgets=_budget_views(_recorded_budgets(last, performance)),
        note=why_not,
        runs=len(runs),
        baseline=accepted,
    )


def _history(
    project: Project, dataset: str | None, *, fresh: bool
) -> tuple[list[EvaluationRecord], EvaluationRecord | None]:
    """Recorded runs on this golden dataset, newest first, and its accepted baseline: read-only,
    from where `paved check` reads it (PAVED_HISTORY, else .paved/history.db)."""
    store = open_history(None, project.root, create=False)
    try:
        runs = [
            r
            for r in store.runs(project_key(project), HISTORY_LIMIT)
            if dataset is None or r.dataset_sha256 == dataset
        ]
        if fresh:  # the record PRF002 compared this run with
            return runs, project.fact(project_baseline).record
        return runs, store.accepted(project_key(project), dataset)
    finally:
        store.close()


def _series(runs: Sequence[EvaluationRecord]) -> dict[str, list[Point]]:
    """Per metric key, its finite values oldest first."""
    series: dict[str, list[Point]] = {}
    for run in reversed(runs):
        for key, value in run.metrics.items():
            if value is not None and math.isfinite(value):
                series.setdefault(key, []).append(Point(run.created, value, run.accepted))
    return series


def _metric_views(
    rows: Sequence[MetricRow], tolerance: float, history: dict[str, list[Point]]
) -> tuple[MetricView, ...]:
    return tuple(
        MetricView(
            key=row.key,
            metric=row.metric,
            slice=row.key.partition("/")[2] or None,
            value=row.value,
            low=row.threshold.min if row.threshold else None,
            high=row.threshold.max if row.threshold else None,
            baseline=row.baseline,
            status=row.status(tolerance),
            higher_is_better=higher_is_better(row.metric, row.threshold),
            rows=row.slice_rows,
            error=row.error,
            history=tuple(history.get(row.key, ())),
        )
        for row in rows
    )


def _budget_views(rows: Sequence[BudgetRow]) -> tuple[BudgetView, ...]:
    return tuple(
        BudgetView(
            name=row.name,
            value=row.value,
            limit=row.limit,
            minimum=row.minimum,
            status=None if row.limit is None else ("fail" if row.over else "pass"),
        )
        for row in rows
    )


def _recorded_rows(
    run: EvaluationRecord, performance: Performance | None, baseline: EvaluationRecord | None
) -> list[MetricRow]:
    """A recorded run's metrics judged as `metric_rows` judges a fresh one, against the
    contract's thresholds as they are now."""
    overall = dict(performance.metrics) if performance else {}
    per_slice = dict(performance.slice_metrics) if performance else {}
    rows = []
    for key, value in run.metrics.items():
        name, _, piece = key.partition("/")
        threshold: Threshold | None = (
            per_slice.get(name, overall.get(name)) if piece else overall.get(name)
        )
        rows.append(
            MetricRow(
                key=key,
                metric=name,
                value=value if value is not None and math.isfinite(value) else None,
                threshold=threshold,
                baseline=baseline.metrics.get(key) if baseline is not None else None,
                error=None if value is not None else f"{key} was not computed in that run",
            )
        )
    return rows


def _recorded_budgets(run: EvaluationRecord, performance: Performance | None) -> list[BudgetRow]:
    return [
        BudgetRow(
            name=name,
            value=value,
            limit=getattr(performance, name, None) if performance is not None else None,
            minimum=name in MINIMA,
        )
        for name, value in run.budgets.items()
    ]


def _fresh_source(outcome: Outcome, performance: Performance | None) -> str:
    if not outcome.rows:
        return "this run: the model loaded and was timed on the input schema's examples"
    dataset = performance.dataset if performance and performance.dataset else "the golden dataset"
    return f"this run: {outcome.rows:,} rows of {dataset}"


def _why_no_outcome(found: Evaluation | None) -> str:
    if found is None:
        return "no evaluation ran"
    if found.blocked or found.error:
        return f"the model was not evaluated: {found.blocked or found.error}"
    failure = found.outcome.failures[0] if found.outcome and found.outcome.failures else None
    if failure is not None:
        return f"the evaluation stopped at {failure.stage}: {failure.kind}: {failure.message}"
    return "the evaluation predicted no rows"


def _describe_baseline(baseline: EvaluationRecord | None) -> str | None:
    if baseline is None:
        return None
    commit = f" at {baseline.commit[:12]}" if baseline.commit else ""
    return f"run {baseline.id}, accepted on {baseline.created:%Y-%m-%d}{commit}"
