"""PRF: the model meets its thresholds on the golden dataset, holds its baseline, fits its budgets.

Every check here judges the one evaluation of the run (`evaluation.run`), measured in a subprocess
against the contract's `[performance]` section; `evaluation.judge` decides each number's status.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from pavedroad.checks.mod import evaluated
from pavedroad.contract import Performance
from pavedroad.evaluation.judge import (
    Baseline,
    BudgetRow,
    MetricRow,
    budget_rows,
    metric_rows,
    project_baseline,
)
from pavedroad.evaluation.metrics import METRICS
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck

family = Family(
    "PRF", "Performance", "Metrics against thresholds and the accepted baseline; budgets."
)


def _performance(project: Project) -> Performance:
    performance = project.contract.performance
    assert performance is not None  # section="performance"
    return performance


def _rows(project: Project) -> list[MetricRow]:
    """The metric rows of this run, compared with the accepted baseline when there is one."""
    _, outcome = evaluated(project)
    if outcome.rows == 0:
        raise SkipCheck("no rows of the golden dataset were predicted (see MOD003)")
    baseline = project.fact(project_baseline).record
    return metric_rows(outcome, project.contract.performance, baseline)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


@family.check(
    "PRF001",
    "Metrics meet their thresholds",
    section="performance",
    requires=("MOD002",),
    dynamic=True,
)
def metrics_meet_thresholds(project: Project) -> Iterator[Gap | Evidence]:
    """Computes each `[performance].metrics` entry on the golden dataset, overall and per slice,
    and compares it with its `min` and `max`.

    Why: The thresholds are what data science and engineering agreed the model must achieve;
    they turn "is the model good enough?" into a yes or no. Slices catch a model that is good on
    average and fails a segment: a region, a device type, new customers.

    Example: `metrics = { roc_auc = { min = 0.85 } }` and `slices = ["region"]`: overall 0.88,
    but 0.71 for `region=north`.

    Fix: Improve the model where it falls short (more data for the slice, features, retraining),
    or renegotiate the threshold with the other side and record why in the contract.
    """
    performance = _performance(project)
    for name in project.fact(_unknown_metrics):
        close = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        yield Gap(
            subject=name,
            message=f"unknown metric {name!r}: neither built in nor given a `function`.{hint}",
            location=project.contract_location("performance", "metrics", name),
            fix=f"Use a built-in metric ({', '.join(sorted(METRICS))}) or give it "
            '`function = "module:function"`.',
        )
    if not performance.metrics:
        raise SkipCheck("the contract sets no [performance].metrics")
    _, outcome = evaluated(project)
    for row in _rows(project):
        where = project.contract_location("performance", "metrics", row.metric)
        if row.value is None:
            yield Gap(
                subject=row.key,
                message=f"{row.key} could not be computed: {row.error}",
                location=where,
                fix="Correct [performance] so that the metric can be computed (the message says "
                "what is missing), or remove the metric.",
            )
        elif row.outside:
            assert row.threshold is not None
            bound = (
                f"min {_fmt(row.threshold.min)}"
                if row.threshold.min is not None and row.value < row.threshold.min
                else f"max {_fmt(row.threshold.max)}"
            )
            size = f" on {row.slice_rows} rows" if row.slice_rows is not None else ""
            yield Gap(
                subject=row.key,
                message=f"{row.key} is {_fmt(row.value)}{size}, outside its threshold ({bound})",
                location=where,
            )
        elif row.threshold is not None:
            yield Evidence(
                subject=row.key,
                message=f"{row.key} = {_fmt(row.value)} within "
                f"[{_fmt(row.threshold.min)}, {_fmt(row.threshold.max)}]",
                location=where,
            )
    for piece in outcome.slices:
        if piece.rows < performance.slice_min_rows:
            yield Evidence(
                subject=f"{piece.column}={piece.value}",
                message=f"slice {piece.column}={piece.value} has {piece.rows} rows, under "
                f"slice_min_rows = {performance.slice_min_rows}: reported, not judged",
                location=project.contract_location("performance", "slices"),
            )


def _unknown_metrics(project: Project) -> tuple[str, ...]:
    """Threshold names nobody can compute: known before any evaluation runs, so a typo in the
    contract is reported even when the model does not load."""
    performance = project.contract.performance
    if performance is None:
        return ()
    named = {**performance.slice_metrics, **performance.metrics}
    return tuple(n for n, t in named.items() if t.function is None and n not in METRICS)


@family.check(
    "PRF002",
    "No regression against the accepted baseline",
    section="performance",
    requires=("MOD002",),
    dynamic=True,
)
def no_regression(project: Project) -> Iterator[Gap | Evidence]:
    """Compares each metric, overall and per slice, with the accepted baseline's value on the same
    golden dataset, allowing `[performance].regression_tolerance`.

    Why: Thresholds say what is acceptable; the baseline says what was achieved and signed off.
    A retrained model that still clears the threshold but lost three points of recall is a
    regression both sides should see before it ships, not after.

    Example: accepted baseline roc_auc 0.91; the retrained model scores 0.87, above the 0.85
    threshold but 0.04 worse, with a tolerance of 0.01.

    Fix: Find what changed (data, features, hyperparameters, library versions) and restore the
    baseline's level; if the new model is deliberately accepted as it is, run
    `paved evaluate --accept` to make it the new baseline.
    """
    performance = _performance(project)
    baseline: Baseline = project.fact(project_baseline)
    if baseline.record is None:
        raise SkipCheck(baseline.reason or "no accepted baseline")
    accepted = baseline.record
    when = accepted.created.strftime("%Y-%m-%d")
    commit = f" at {accepted.commit[:12]}" if accepted.commit else ""
    for row in _rows(project):
        if row.baseline is None:
            continue
        where = project.contract_location("performance", "metrics", row.metric)
        loss = row.regression(performance.regression_tolerance)
        if loss is not None:
            yield Gap(
                subject=row.key,
                message=f"{row.key} is {_fmt(row.value)}, the baseline accepted on {when}{commit} "
                f"had {_fmt(row.baseline)}: {loss:.4g} worse, beyond the tolerance of "
                f"{performance.regression_tolerance:g}",
                location=where,
            )
        else:
            yield Evidence(
                subject=row.key,
                message=f"{row.key} = {_fmt(row.value)}, baseline {_fmt(row.baseline)} "
                f"(accepted {when})",
                location=where,
            )


def _budget_gaps(project: Project, names: tuple[str, ...]) -> Iterator[Gap | Evidence]:
    performance = _performance(project)
    rows: list[BudgetRow] = [
        r for r in budget_rows(evaluated(project)[1], performance) if r.name in names
    ]
    if all(r.limit is None for r in rows):
        raise SkipCheck(f"the contract sets no budget for {' or '.join(names)}")
    for row in rows:
        if row.limit is None:
            continue
        where = project.contract_location("performance", row.name)
        if row.value is None:
            yield Gap(
                subject=row.name,
                message=f"{row.name} was not measured: the evaluation did not reach that stage",
                location=where,
            )
        elif row.over:
            relation = "under the minimum" if row.minimum else "over the budget"
            yield Gap(
                subject=row.name,
                message=f"{row.name} is {_fmt(row.value)}, {relation} of {_fmt(row.limit)}",
                location=where,
            )
        else:
            yield Evidence(
                subject=row.name,
                message=f"{row.name} = {_fmt(row.value)} (budget {_fmt(row.limit)})",
                location=where,
            )


@family.check(
    "PRF003",
    "Single-row latency is within budget",
    section="performance",
    requires=("MOD002",),
    dynamic=True,
)
def latency_within_budget(project: Project) -> Iterator[Gap | Evidence]:
    """Times single-row predictions after a warm-up and compares p50, p95 and p99 with
    `latency_p50_ms`, `latency_p95_ms` and `latency_p99_ms`.

    Why: An online service has a latency budget end to end; the model's share has to be known
    before it is deployed, not discovered by its first timeout. Tail percentiles matter more
    than the mean: one slow call in a hundred is one unhappy user in a hundred.

    Example: `latency_p99_ms = 50` for a gradient-boosting model with 2,000 trees that takes
    80 ms per row at p99.

    Fix: Make single predictions cheaper (a smaller model, fewer features, no per-call loading),
    or agree on a larger budget with the serving owners. Latency is measured in the worker
    process on this machine: compare like with like.
    """
    yield from _budget_gaps(project, ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"))


@family.check(
    "PRF004",
    "Peak memory is within budget",
    section="performance",
    requires=("MOD002",),
    dynamic=True,
)
def memory_within_budget(project: Project) -> Iterator[Gap | Evidence]:
    """Compares the evaluation worker's peak resident memory (loading, predicting the golden
    dataset in batches, timing single rows) with `peak_memory_mb`.

    Why: Engineering sizes containers and workers from this number. A model that needs more
    memory than its pod is OOM-killed in production, usually under the heaviest load.

    Example: `peak_memory_mb = 512` for a model whose artifact alone is 700 MB once unpickled.

    Fix: Reduce the model's footprint (smaller artifact, lazy feature tables, smaller batches
    with `[performance].batch_size`) or agree on a larger budget and document it in the
    resource requirements.
    """
    yield from _budget_gaps(project, ("peak_memory_mb",))


@family.check(
    "PRF005",
    "Batch throughput reaches its budget",
    section="performance",
    requires=("MOD002",),
    dynamic=True,
)
def throughput_within_budget(project: Project) -> Iterator[Gap | Evidence]:
    """Measures rows per second inside `predict` over the golden dataset and compares it with
    `throughput_rows_s`.

    Why: Batch scoring jobs have a window: a nightly job that must score 50 million customers in
    two hours needs about 7,000 rows/s. Knowing the model's throughput up front decides how many
    workers the job needs.

    Example: `throughput_rows_s = 5000` for a predict that loops over rows in Python and scores
    800 rows/s.

    Fix: Vectorise predict over the batch (one call for the whole batch, not one per row), load
    the model once, or agree on a lower budget with the job's owners.
    """
    yield from _budget_gaps(project, ("throughput_rows_s",))
