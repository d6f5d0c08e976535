"""What the tool's process asks of the evaluation worker, and what the worker answers.

Both travel as JSON files so the worker's stdout stays free for progress lines. The worker never
raises out: every failure becomes a `Failure` in the stage where it happened, so the parent turns
it into one failing check with the project's own file and line, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Stage = Literal["import", "load", "dataset", "predict", "outputs", "metrics"]
PROGRESS = "progress"  # the `event` of a progress line on the worker's stdout


@dataclass(frozen=True)
class MetricRequest:
    """One metric to compute: a built-in name, or a custom function."""

    name: str
    function: str | None = None  # "module:function" for a custom metric
    uses: Literal["prediction", "score"] = "prediction"  # custom metrics only


@dataclass(frozen=True)
class Request:
    """Everything the worker needs; paths are absolute."""

    root: str
    source_roots: list[str]  # prepended to sys.path, in order
    predict: str  # "module:callable" (with `mlflow`: "mlflow:DIR", a label)
    batch_format: Literal["records", "pandas", "arrow", "numpy"]
    input_schema: str | None
    output_schema: str | None
    dataset: str | None  # CSV or Parquet; None: load and latency only
    target: str | None
    prediction: str | None  # output field compared with the target
    score: str | None  # output field with the positive-class probability
    metrics: list[MetricRequest]
    slices: list[str]
    slice_min_rows: int
    batch_size: int
    sample_rows: int = 1000  # rows whose inputs and outputs are validated against the schemas
    determinism_rows: int = 100  # rows predicted twice for MOD005
    latency_calls: int = 200  # single-row calls timed after `latency_warmup` untimed ones
    latency_warmup: int = 20
    # an MLflow pyfunc directory (absolute), loaded instead of importing `predict`, which then
    # only names the model in messages; its batches are pandas DataFrames
    mlflow: str | None = None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Request:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["metrics"] = [MetricRequest(**m) for m in data["metrics"]]
        return cls(**data)


@dataclass(frozen=True)
class Failure:
    """An exception in the project's code or data, located in the project when possible."""

    stage: Stage
    kind: str  # the exception's type name, e.g. "ModuleNotFoundError"
    message: str
    path: str | None = None  # the innermost frame inside the project root, relative
    line: int | None = None


@dataclass(frozen=True)
class ColumnProblem:
    """MOD003: a golden-dataset column that does not fit the input schema."""

    column: str
    problem: Literal["missing", "extra", "type"]
    message: str  # e.g. "12 of 1000 sampled rows: Input should be a valid integer, got 'abc'"


@dataclass(frozen=True)
class FieldProblem:
    """MOD004: an output field that violates the output schema on the sample."""

    field: str  # dotted location in the output object; "" for the object as a whole
    message: str
    count: int  # rows of the sample with this problem


@dataclass(frozen=True)
class Determinism:
    """MOD005: the same rows predicted twice."""

    rows: int
    differing: int  # rows whose outputs differ between the two calls
    example: str | None = None  # the first difference, e.g. "row 3: 0.71 then 0.69"


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    error: str | None = None  # why the value could not be computed


@dataclass(frozen=True)
class SliceOutcome:
    column: str
    value: str  # the slice's value, as text
    rows: int
    metrics: dict[str, MetricValue]  # empty when rows < slice_min_rows


@dataclass(frozen=True)
class Latency:
    calls: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    samples_ms: list[float] | None = None  # every timed call, for the report's distribution


@dataclass(frozen=True)
class Roc:
    """The ROC curve of a binary target, from histograms of the score: exact at each bin edge."""

    fpr: list[float]
    tpr: list[float]


@dataclass(frozen=True)
class CalibrationBin:
    """Rows whose score falls in [low, high): their mean score and their share of positives."""

    low: float
    high: float
    rows: int
    mean_score: float
    positive_rate: float


@dataclass(frozen=True)
class Confusion:
    labels: list[str]
    counts: list[list[int]]  # counts[true label][predicted label]


@dataclass(frozen=True)
class Curves:
    """Summaries of the per-row vectors for the report's plots: a few hundred numbers whatever
    the row count. A part is None when the data does not allow it (no score, not binary)."""

    roc: Roc | None = None
    calibration: list[CalibrationBin] | None = None
    confusion: Confusion | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curves:
        roc, bins, confusion = data.get("roc"), data.get("calibration"), data.get("confusion")
        return cls(
            roc=None if roc is None else Roc(**roc),
            calibration=None if bins is None else [CalibrationBin(**b) for b in bins],
            confusion=None if confusion is None else Confusion(**confusion),
        )


@dataclass
class Outcome:
    """What the worker found. A stage that did not run leaves its field None."""

    failures: list[Failure] = field(default_factory=list)
    load_seconds: float | None = None  # importing predict and the schemas, and the first call
    columns: list[ColumnProblem] | None = None
    outputs: list[FieldProblem] | None = None
    determinism: Determinism | None = None
    rows: int = 0  # rows predicted
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    slices: list[SliceOutcome] = field(default_factory=list)
    latency: Latency | None = None
    throughput_rows_s: float | None = None  # rows / seconds spent inside predict
    peak_memory_mb: float | None = None  # peak RSS of the worker after predicting
    curves: Curves | None = None  # for plots only: no check judges them

    def failure(self, stage: Stage) -> Failure | None:
        return next((f for f in self.failures if f.stage == stage), None)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Outcome:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))

        def metrics(values: dict[str, Any]) -> dict[str, MetricValue]:
            return {name: MetricValue(**value) for name, value in values.items()}

        return cls(
            failures=[Failure(**f) for f in data["failures"]],
            load_seconds=data["load_seconds"],
            columns=None
            if data["columns"] is None
            else [ColumnProblem(**c) for c in data["columns"]],
            outputs=None
            if data["outputs"] is None
            else [FieldProblem(**o) for o in data["outputs"]],
            determinism=None if data["determinism"] is None else Determinism(**data["determinism"]),
            rows=data["rows"],
            metrics=metrics(data["metrics"]),
            slices=[
                SliceOutcome(**{**s, "metrics": metrics(s["metrics"])}) for s in data["slices"]
            ],
            latency=None if data["latency"] is None else Latency(**data["latency"]),
            throughput_rows_s=data["throughput_rows_s"],
            peak_memory_mb=data["peak_memory_mb"],
            curves=None if data.get("curves") is None else Curves.from_dict(data["curves"]),
        )
