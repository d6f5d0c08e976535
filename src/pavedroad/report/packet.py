"""The handoff packet: everything the report shows, gathered once, rendered by the templates.

Plain frozen data. Statuses in it were decided elsewhere (the engine for checks, the evaluation's
judge for metrics and budgets); the templates and plots only draw them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pavedroad.evaluation.protocol import Curves
from pavedroad.reporters import Report
from pavedroad.results import Result, Status


@dataclass(frozen=True)
class FamilyScore:
    """One family's line of the scorecard, and its rows split into gaps and the rest."""

    code: str
    name: str
    counts: dict[Status, int]
    gaps: tuple[Result, ...]  # fail and error, with their fix
    others: tuple[Result, ...]  # pass, waived, skip


@dataclass(frozen=True)
class DocView:
    """A part of the model card read from the project's documents, as Markdown."""

    title: str
    source: str | None = None  # "README.md#failure-modes": where it was read
    markdown: str | None = None
    missing: str | None = None  # why there is nothing to show, and how to add it


@dataclass(frozen=True)
class FieldView:
    name: str
    type: str
    required: bool
    constraints: tuple[str, ...] = ()
    default: str | None = None
    description: str | None = None
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaView:
    """An input or output schema: its fields as the imported class declares them, or as its
    source reads when no project code may run (`--static`)."""

    key: Literal["input_schema", "output_schema"]
    reference: str
    fields: tuple[FieldView, ...] = ()
    description: str | None = None
    example: str | None = None  # the first example object, as JSON
    source: Literal["imported", "source"] = "imported"
    problem: str | None = None  # why the fields could not be read


@dataclass(frozen=True)
class Point:
    """One recorded evaluation's value of a metric."""

    when: dt.datetime
    value: float
    accepted: bool = False


@dataclass(frozen=True)
class MetricView:
    key: str  # "roc_auc" or "roc_auc/contract=one-year"
    metric: str
    slice: str | None  # "contract=one-year"
    value: float | None
    low: float | None  # the threshold's min
    high: float | None  # the threshold's max
    baseline: float | None
    status: str  # the judge's: pass, fail, regressed, error, unjudged
    higher_is_better: bool
    rows: int | None = None  # of the slice
    error: str | None = None
    history: tuple[Point, ...] = ()  # recorded runs on this golden dataset, oldest first


@dataclass(frozen=True)
class BudgetView:
    name: str  # latency_p99_ms, peak_memory_mb, throughput_rows_s, ...
    value: float | None
    limit: float | None
    minimum: bool  # the value must reach the limit (throughput) instead of staying under it
    status: str | None  # pass, fail, or None without a budget


@dataclass(frozen=True)
class Measured:
    """The numbers the model card shows: this run's evaluation, or the last recorded one."""

    source: str  # "this run: 1,000 rows of data/golden.csv", "run 3 recorded on ..."
    fresh: bool = False  # measured by this run's evaluation, not read from the history
    rows: int = 0  # golden-dataset rows this run predicted
    metrics: tuple[MetricView, ...] = ()
    budgets: tuple[BudgetView, ...] = ()
    latency_samples: tuple[float, ...] = ()
    curves: Curves | None = None
    note: str | None = None  # why no fresh numbers, when there are none
    runs: int = 0  # recorded runs on this golden dataset
    baseline: str | None = None  # "run 1, accepted 2026-11-22 at 0d3193d67fb7"

    @property
    def overall(self) -> tuple[MetricView, ...]:
        return tuple(m for m in self.metrics if m.slice is None)

    @property
    def sliced(self) -> dict[str, list[MetricView]]:
        """Per metric, its rows on every slice value."""
        found: dict[str, list[MetricView]] = {}
        for metric in self.metrics:
            if metric.slice is not None:
                found.setdefault(metric.metric, []).append(metric)
        return found


@dataclass(frozen=True)
class OwnerView:
    role: str
    names: tuple[str, ...]
    required: bool
    responsibility: str


@dataclass(frozen=True)
class SettingView:
    name: str
    documented_at: str | None  # "README.md:41"
    documentation: str | None  # the documenting line's text
    status: Status | None  # of CFG001 for this variable: read by the code or not
    read_at: str | None = None  # "src/churn/settings.py:23"


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str  # "==1.7.2", ">=1.4", or "" when unconstrained
    pinned: bool


@dataclass(frozen=True)
class Environment:
    python: str
    platform: str
    tool_version: str
    python_required: str | None = None
    commit: str | None = None
    contract_sha256: str | None = None
    artifact: str | None = None
    artifact_sha256: str | None = None  # as found on disk
    artifact_expected: str | None = None  # as the contract records it
    dataset: str | None = None
    dataset_sha256: str | None = None
    dependencies_source: str = "no dependency file"
    dependencies: tuple[Dependency, ...] = ()


@dataclass(frozen=True)
class Packet:
    report: Report
    generated: dt.datetime
    static: bool
    scorecard: tuple[FamilyScore, ...]
    purpose: DocView
    training_data: DocView
    resources: DocView
    failure_modes: DocView
    schemas: tuple[SchemaView, ...]
    measured: Measured
    owners: tuple[OwnerView, ...]
    settings: tuple[SettingView, ...]
    environment: Environment
