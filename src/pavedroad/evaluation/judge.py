"""The evaluation measured against the contract and the accepted baseline.

One place decides what passes, so the PRF checks, the JSON report's `metrics` and `budgets`
objects and the history record never disagree about a number or its status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pavedroad.contract import Performance, Threshold
from pavedroad.evaluation.metrics import METRICS
from pavedroad.evaluation.protocol import MetricValue, Outcome
from pavedroad.evaluation.run import evaluation
from pavedroad.history import EvaluationRecord, open_history
from pavedroad.project import Project

MetricStatus = Literal["pass", "fail", "error", "regressed", "unjudged"]
MINIMA = ("throughput_rows_s",)  # budgets a measure must reach; the others it must stay under


@dataclass(frozen=True)
class MetricRow:
    """One metric overall or on one slice, with its range and the baseline's value."""

    key: str  # "roc_auc", or "roc_auc/region=north" on a slice
    metric: str
    value: float | None
    threshold: Threshold | None
    baseline: float | None
    error: str | None = None
    slice_rows: int | None = None  # rows of the slice; None overall

    @property
    def outside(self) -> bool:
        """Outside its thresholds, or not computed when it has thresholds to meet."""
        if self.threshold is None or (self.threshold.min is None and self.threshold.max is None):
            return False
        if self.value is None or math.isnan(self.value):
            return True
        low, high = self.threshold.min, self.threshold.max
        return (low is not None and self.value < low) or (high is not None and self.value > high)

    def regression(self, tolerance: float) -> float | None:
        """How much worse than the baseline, in the metric's direction, beyond `tolerance`."""
        if self.value is None or self.baseline is None or math.isnan(self.value):
            return None
        higher = higher_is_better(self.metric, self.threshold)
        loss = (self.baseline - self.value) if higher else (self.value - self.baseline)
        return loss if loss > tolerance else None

    def status(self, tolerance: float) -> MetricStatus:
        if self.value is None:
            return "error"
        if self.outside:
            return "fail"
        if self.regression(tolerance) is not None:
            return "regressed"
        if self.threshold is None:
            return "unjudged"
        return "pass"


@dataclass(frozen=True)
class Baseline:
    """The accepted evaluation this run is compared with, or why there is none."""

    record: EvaluationRecord | None
    reason: str | None = None


@dataclass(frozen=True)
class BudgetRow:
    name: str  # a [performance] key: "latency_p99_ms", "throughput_rows_s", ...
    value: float | None
    limit: float | None
    minimum: bool  # True: the value must reach the limit (throughput); False: stay under it

    @property
    def over(self) -> bool:
        if self.limit is None or self.value is None:
            return False
        return self.value < self.limit if self.minimum else self.value > self.limit


def higher_is_better(metric: str, threshold: Threshold | None) -> bool:
    """A built-in metric knows its direction; a custom one says so, or its threshold implies it."""
    if threshold is not None and threshold.function is not None:
        if threshold.higher_is_better is not None:
            return threshold.higher_is_better
        return not (threshold.max is not None and threshold.min is None)
    known = METRICS.get(metric)
    return True if known is None else known.higher_is_better


def metric_rows(
    outcome: Outcome, performance: Performance | None, baseline: EvaluationRecord | None
) -> list[MetricRow]:
    """Every metric overall, then on every slice value, in the contract's order."""
    overall = dict(performance.metrics) if performance else {}
    per_slice = dict(performance.slice_metrics) if performance else {}
    base = baseline.metrics if baseline is not None else {}
    rows = [
        _row(name, name, outcome.metrics.get(name), overall.get(name), base.get(name))
        for name in overall
    ]
    min_rows = performance.slice_min_rows if performance else 1
    for piece in outcome.slices:
        if piece.rows < min_rows:
            continue  # too small to judge: PRF001 shows it as evidence
        label = f"{piece.column}={piece.value}"
        for name in per_slice or overall:
            key = f"{name}/{label}"
            threshold = per_slice.get(name, overall.get(name))
            value = piece.metrics.get(name)
            rows.append(_row(key, name, value, threshold, base.get(key), slice_rows=piece.rows))
    return rows


def _row(
    key: str,
    name: str,
    measured: MetricValue | None,
    threshold: Threshold | None,
    baseline: float | None,
    slice_rows: int | None = None,
) -> MetricRow:
    if measured is None:
        measured = MetricValue(None, error=f"{name} was not computed")
    return MetricRow(
        key=key,
        metric=name,
        value=measured.value,
        threshold=threshold,
        baseline=baseline,
        error=measured.error,
        slice_rows=slice_rows,
    )


def budget_rows(outcome: Outcome, performance: Performance | None) -> list[BudgetRow]:
    latency = outcome.latency
    measured = {
        "latency_p50_ms": latency.p50_ms if latency else None,
        "latency_p95_ms": latency.p95_ms if latency else None,
        "latency_p99_ms": latency.p99_ms if latency else None,
        "peak_memory_mb": outcome.peak_memory_mb,
        "throughput_rows_s": outcome.throughput_rows_s,
    }
    return [
        BudgetRow(
            name=name,
            value=value,
            limit=getattr(performance, name) if performance is not None else None,
            minimum=name in MINIMA,
        )
        for name, value in measured.items()
    ]


def metrics_json(rows: list[MetricRow], tolerance: float) -> dict[str, dict[str, object]]:
    """The JSON report's `metrics` object."""
    return {
        row.key: {
            "value": row.value,
            "min": row.threshold.min if row.threshold else None,
            "max": row.threshold.max if row.threshold else None,
            "baseline": row.baseline,
            "status": row.status(tolerance),
            **({"error": row.error} if row.error else {}),
            **({"rows": row.slice_rows} if row.slice_rows is not None else {}),
        }
        for row in rows
    }


def budgets_json(rows: list[BudgetRow]) -> dict[str, dict[str, object]]:
    """The JSON report's `budgets` object; a measure with no budget has status null."""
    return {
        row.name: {
            "value": row.value,
            ("min" if row.minimum else "max"): row.limit,
            "status": None if row.limit is None else ("fail" if row.over else "pass"),
        }
        for row in rows
    }


def project_key(project: Project) -> str:
    """Whose history a run belongs to: the contract's name, else the package's, else the folder's."""
    contract = project.contract
    if contract.contract is not None and contract.contract.name:
        return contract.contract.name
    if contract.package is not None:
        return contract.package.name
    return project.root.name


def project_baseline(project: Project) -> Baseline:
    """The accepted baseline for this project and golden dataset (a `project.fact`). Read-only:
    `paved check` never creates a history file."""
    dataset_sha256 = project.fact(evaluation).dataset_sha256
    store = open_history(None, project.root, create=False)
    try:
        record = store.accepted(project_key(project), dataset_sha256)
    finally:
        store.close()
    if record is None:
        return Baseline(
            None,
            "no accepted baseline for this golden dataset yet: run `paved evaluate --accept` "
            "to accept this model's results as the baseline",
        )
    return Baseline(record)
