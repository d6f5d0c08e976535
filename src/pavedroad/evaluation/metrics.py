"""The metrics a contract can name, computed with scikit-learn's own functions.

The tool's process imports this module only for the names and directions in `METRICS` (the parent
rejects unknown names, PRF002 needs the direction, the README table lists them), so scikit-learn
is imported inside `compute`, in the worker, and never costs the tool its import time.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import TYPE_CHECKING, Any, Literal

from pavedroad.evaluation.protocol import MetricRequest, MetricValue, SliceOutcome

if TYPE_CHECKING:
    import numpy.typing as npt

    Vector = npt.NDArray[Any]

Input = Literal["prediction", "score"]
CustomMetric = Callable[[Any, Any], object]

# Beyond this many rows roc_auc is computed by rank sums: scikit-learn's roc_curve allocates about
# 60 bytes a row of temporaries (1.26 GB for 20 million rows), the rank sums about 9.
RANK_SUM_ROWS = 1_000_000
RANK_SUM_CHUNK = 1 << 20  # scores looked up at a time: bounds the lookups' temporaries

NEEDS = {
    "prediction": "set [performance].prediction to the output field compared with the target",
    "score": "set [performance].score to the output field holding the positive-class probability",
}


@dataclass(frozen=True)
class MetricDef:
    """A built-in metric: which scikit-learn function, on which output, in which direction."""

    function: str  # the name in sklearn.metrics
    input: Input  # what the function receives as its second argument
    higher_is_better: bool
    description: str
    averaged: bool = False  # binary on two classes, else average="macro" (precision, recall, f1)
    # y_true enters arithmetic (regression), so it is handed over in the dataset's own dtype:
    # the worker may keep an integer target narrower, which only label metrics may see
    arithmetic: bool = False


METRICS: dict[str, MetricDef] = {
    "roc_auc": MetricDef(
        "roc_auc_score",
        "score",
        True,
        f"Area under the ROC curve. Beyond {RANK_SUM_ROWS:,} rows, from exact rank sums (the "
        "Mann-Whitney U statistic): a sixth of scikit-learn's memory, its value within 1e-12.",
    ),
    "pr_auc": MetricDef(
        "average_precision_score", "score", True, "Area under the precision-recall curve."
    ),
    "log_loss": MetricDef(
        "log_loss", "score", False, "Cross-entropy of the predicted probability."
    ),
    "brier": MetricDef(
        "brier_score_loss", "score", False, "Mean squared error of the predicted probability."
    ),
    "accuracy": MetricDef("accuracy_score", "prediction", True, "Share of correct labels."),
    "balanced_accuracy": MetricDef(
        "balanced_accuracy_score", "prediction", True, "Mean of the recall of each class."
    ),
    "precision": MetricDef(
        "precision_score", "prediction", True, "Share of predicted positives that are.", True
    ),
    "recall": MetricDef("recall_score", "prediction", True, "Share of positives found.", True),
    "f1": MetricDef("f1_score", "prediction", True, "Harmonic mean of precision and recall.", True),
    "mcc": MetricDef(
        "matthews_corrcoef", "prediction", True, "Matthews correlation of labels, -1 to 1."
    ),
    "rmse": MetricDef(
        "root_mean_squared_error", "prediction", False, "Root mean squared error.", arithmetic=True
    ),
    "mse": MetricDef(
        "mean_squared_error", "prediction", False, "Mean squared error.", arithmetic=True
    ),
    "mae": MetricDef(
        "mean_absolute_error", "prediction", False, "Mean absolute error.", arithmetic=True
    ),
    "median_ae": MetricDef(
        "median_absolute_error", "prediction", False, "Median absolute error.", arithmetic=True
    ),
    "max_error": MetricDef(
        "max_error", "prediction", False, "Largest absolute error.", arithmetic=True
    ),
    "r2": MetricDef(
        "r2_score", "prediction", True, "Coefficient of determination.", arithmetic=True
    ),
    "explained_variance": MetricDef(
        "explained_variance_score",
        "prediction",
        True,
        "Share of the target's variance explained.",
        arithmetic=True,
    ),
    "mape": MetricDef(
        "mean_absolute_percentage_error",
        "prediction",
        False,
        "Mean absolute percentage error.",
        arithmetic=True,
    ),
}


def compute(
    name: str, y_true: Vector | None, prediction: Vector | None, score: Vector | None
) -> MetricValue:
    """A built-in metric on the full vectors: scikit-learn's value, or why there is none."""
    metric = METRICS[name]
    y_pred = prediction if metric.input == "prediction" else score
    if y_true is None:
        return MetricValue(None, error=f"{name} needs the target: set [performance].target")
    if y_pred is None:
        return MetricValue(None, error=f"{name} needs a {metric.input}: {NEEDS[metric.input]}")
    import numpy as np
    from sklearn import metrics as sklearn_metrics  # here: the tool's process never pays for it
    from sklearn.exceptions import UndefinedMetricWarning

    function = roc_auc if name == "roc_auc" else getattr(sklearn_metrics, metric.function)
    try:
        y_pred = _like_target(y_true, y_pred)
        options: dict[str, Any] = {}
        if metric.averaged and len(np.unique(y_true)) > 2:
            options["average"] = "macro"
        with warnings.catch_warnings():
            # an undefined metric (one class only, no predicted positives) has no value to judge:
            # scikit-learn's stand-in (NaN, 0.0) would read as a real measurement
            warnings.simplefilter("error", UndefinedMetricWarning)
            return _value(name, function(y_true, y_pred, **options))
    except Exception as error:  # scikit-learn's own words: one class only, NaN in input, ...
        return MetricValue(None, error=f"{name}: {_describe(error)}")


def roc_auc(y_true: Vector, score: Vector) -> float:
    """scikit-learn's roc_auc_score; on more than RANK_SUM_ROWS rows the same value by rank sums."""
    if len(y_true) > RANK_SUM_ROWS:
        return rank_sum_roc_auc(y_true, score)
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, score))


def rank_sum_roc_auc(y_true: Vector, score: Vector) -> float:
    """The exact ROC AUC of a binary target: the share of (positive, negative) pairs that the
    score orders right, a tie counting half (the Mann-Whitney U statistic over the pairs).

    Each class's scores are copied and sorted in place; each score of the smaller class is looked
    up in the other's (binary searches) to count the scores below it and those equal. The counts
    add up in Python integers and are divided once, so the value is the exact ratio rounded once, where
    scikit-learn sums trapezoids in floating point (they agree to about 1e-15). Memory: the
    class mask and the two copies, 9 bytes a row. Whatever is not a binary target with one
    finite score per row goes to roc_auc_score itself, so errors and warnings are its own.
    The positive class is the greater label, as in scikit-learn.
    """
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.utils import check_array, check_consistent_length
    from sklearn.utils.multiclass import type_of_target

    if type_of_target(y_true, input_name="y_true") != "binary":
        return float(roc_auc_score(y_true, score))
    checked = check_array(score, ensure_2d=False)  # NaN, infinity, text: scikit-learn's error
    labels = np.unique(y_true)
    if checked.ndim != 1 or len(labels) != 2:
        return float(roc_auc_score(y_true, score))  # one class only: scikit-learn's warning
    check_consistent_length(y_true, checked)
    mask = np.asarray(y_true == labels[1])
    positives = checked[mask]
    negatives = checked[np.logical_not(mask, out=mask)]
    del mask
    positives.sort()
    negatives.sort()
    pairs = len(positives) * len(negatives)
    # the smaller class is looked up in the larger one: fewer searches, each barely longer
    if len(positives) <= len(negatives):
        below, ties = _below_and_tied(positives, negatives)
        return (2 * below + ties) / (2 * pairs)
    below, ties = _below_and_tied(negatives, positives)  # positives below a negative: wrong
    return (2 * (pairs - below) - ties) / (2 * pairs)


def _below_and_tied(keys: Vector, table: Vector) -> tuple[int, int]:
    """Over all keys, how many of the sorted table's values are below each, and how many equal."""
    below = ties = 0
    for start in range(0, len(keys), RANK_SUM_CHUNK):
        chunk = keys[start : start + RANK_SUM_CHUNK]
        left = table.searchsorted(chunk, "left")
        right = table.searchsorted(chunk, "right")
        below += int(left.sum())
        ties += int((right - left).sum())
    return below, ties


def compute_custom(name: str, function: CustomMetric, y_true: Any, y_pred: Any) -> MetricValue:
    """A project's `f(y_true, y_pred) -> float`; anything else is an error, not a value."""
    try:
        result = function(y_true, y_pred)
    except Exception as error:
        return MetricValue(None, error=f"{name}: {_describe(error)}")
    if isinstance(result, bool) or not isinstance(result, Real):
        return MetricValue(
            None, error=f"{name} returned {type(result).__name__} {result!r:.80}, not a float"
        )
    return _value(name, result)


@dataclass(frozen=True)
class Plan:
    """The metrics to compute on the whole dataset and on every slice, with what is missing."""

    requests: Sequence[MetricRequest]
    custom: Mapping[str, CustomMetric | str] = field(default_factory=dict)  # or why not imported
    unavailable: Mapping[str, str] = field(default_factory=dict)  # "score" -> why there is none
    # the dataset's own dtype of the target when y_true is kept narrower (an int64 column of 0
    # and 1 as int8): label metrics take it as it is, arithmetic ones and custom functions get
    # it back in this dtype, so their values are the ones the file's values give
    target_dtype: str | None = None

    def compute(
        self, y_true: Vector | None, prediction: Vector | None, score: Vector | None
    ) -> dict[str, MetricValue]:
        values: dict[str, MetricValue] = {}
        wide = self._widened(y_true) if any(map(_arithmetic, self.requests)) else y_true
        for request in self.requests:
            uses: str = request.uses if request.function else METRICS[request.name].input
            y_pred = prediction if uses == "prediction" else score
            target = wide if _arithmetic(request) else y_true
            if y_true is not None and y_pred is None and uses in self.unavailable:
                values[request.name] = MetricValue(
                    None, error=f"{request.name} needs a {uses}: {self.unavailable[uses]}"
                )
            elif request.function is None:
                values[request.name] = compute(request.name, target, prediction, score)
            else:
                values[request.name] = self._custom(request.name, target, y_pred, uses)
        return values

    def _widened(self, y_true: Vector | None) -> Vector | None:
        if y_true is None or self.target_dtype is None:
            return y_true
        return y_true.astype(self.target_dtype, copy=False)

    def _custom(
        self, name: str, y_true: Vector | None, y_pred: Vector | None, uses: str
    ) -> MetricValue:
        function = self.custom.get(name, "its function was not loaded")
        if isinstance(function, str):
            return MetricValue(None, error=f"{name}: {function}")
        if y_true is None:
            return MetricValue(None, error=f"{name} needs the target: set [performance].target")
        if y_pred is None:
            return MetricValue(None, error=f"{name} needs a {uses}: {NEEDS[uses]}")
        return compute_custom(name, function, y_true, _like_target(y_true, y_pred))


def _arithmetic(request: MetricRequest) -> bool:
    """Whether the metric computes with y_true's values, not only compares them as labels."""
    return request.function is not None or METRICS[request.name].arithmetic


def load_custom(reference: str) -> CustomMetric | str:
    """The function named 'module:function', or why it cannot be used."""
    module_name, _, attribute = reference.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except Exception as error:
        return f"cannot import {reference}: {_describe(error)}"
    if not callable(found):
        return f"{reference} is a {type(found).__name__}, not a function"
    function: CustomMetric = found
    return function


def slice_outcomes(
    plan: Plan,
    column: str,
    codes: Vector,
    labels: Sequence[str],
    vectors: tuple[Vector | None, Vector | None, Vector | None],
    min_rows: int,
) -> list[SliceOutcome]:
    """The metrics of every value of a slice column that has at least `min_rows` rows.

    Rows are grouped by one stable sort instead of a mask per value, so a column with many
    values costs one pass; the rows of a slice keep their order, so its values are exactly those
    scikit-learn gives on the same subset.
    """
    import numpy as np

    counts = np.bincount(codes, minlength=len(labels))
    order = np.argsort(codes, kind="stable") if (counts >= min_rows).any() else None
    starts = np.concatenate(([0], np.cumsum(counts)))
    found: list[SliceOutcome] = []
    for code, label in sorted(enumerate(labels), key=lambda item: item[1]):
        rows = int(counts[code])
        metrics: dict[str, MetricValue] = {}
        if rows >= min_rows and order is not None:
            index = order[starts[code] : starts[code + 1]]
            y_true, prediction, score = (None if v is None else v[index] for v in vectors)
            metrics = plan.compute(y_true, prediction, score)
        found.append(SliceOutcome(column=column, value=label, rows=rows, metrics=metrics))
    return found


def _like_target(y_true: Vector, y_pred: Vector) -> Vector:
    """A model answering True/False for a 0/1 target is right, not a type error."""
    if y_pred.dtype.kind == "b" and y_true.dtype.kind in "iuf":
        return y_pred.astype(y_true.dtype)
    return y_pred


def _value(name: str, result: Any) -> MetricValue:
    value = float(result)
    if not math.isfinite(value):
        return MetricValue(None, error=f"{name} is {value}, not a finite number")
    return MetricValue(value)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
