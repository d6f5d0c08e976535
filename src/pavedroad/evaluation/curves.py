"""Summaries of the per-row vectors for the handoff report's plots, computed in the worker.

The worker holds the target, prediction and score of every row only while it computes the
metrics; the report needs pictures of them (ROC, calibration, confusion), not the rows. These
summaries are a few hundred numbers whatever the row count, computed in chunks so that their
temporaries stay small next to the vectors themselves. No check judges them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pavedroad.evaluation.protocol import CalibrationBin, Confusion, Curves, Roc

if TYPE_CHECKING:
    import numpy.typing as npt

    Vector = npt.NDArray[Any]

ROC_BINS = 200  # score thresholds the ROC curve is exact at
CALIBRATION_BINS = 10
MAX_LABELS = 20  # more distinct values than this is a regression target: no confusion matrix
CHUNK = 1 << 20  # rows per step: bounds the temporaries
LOOKUP_SPAN = 4096  # integer labels this close together are coded by a lookup table
# The ROC and calibration plots are drawn from every k-th row beyond this many: a picture
# needs no more, and 20 million rows would cost a second. The confusion counts are exact.
CURVE_ROWS = 1_000_000


def summarise(
    y_true: Vector | None, prediction: Vector | None, score: Vector | None
) -> Curves | None:
    """The ROC curve and calibration of a binary target's score, and the confusion counts of
    predicted labels; None when the vectors allow none of them."""
    roc = calibration = confusion = None
    if y_true is None:
        return None
    labels = distinct(y_true)
    if (
        labels is not None
        and len(labels) == 2
        and score is not None
        and len(score) == len(y_true)
        and score.dtype.kind in "iuf"
    ):
        step = max(1, len(score) // CURVE_ROWS)  # a regular sample of a larger dataset
        positive = y_true[::step] == labels[1]  # the greater label, as scikit-learn takes it
        roc, calibration = _score_summaries(positive, score[::step])
    if labels is not None and prediction is not None and len(prediction) == len(y_true):
        confusion = _confusion(y_true, labels, prediction)
    if roc is None and calibration is None and confusion is None:
        return None
    return Curves(roc=roc, calibration=calibration, confusion=confusion)


def distinct(vector: Vector) -> list[Any] | None:
    """The sorted distinct values, or None beyond MAX_LABELS (found without sorting it all)."""
    import numpy as np

    if vector.dtype.kind in "biu" and len(vector):
        low, high = int(vector.min()), int(vector.max())
        if high - low < CHUNK:
            return _distinct_integers(vector, low, high)
    found: set[Any] = set()
    for start in range(0, len(vector), CHUNK):
        found.update(np.unique(vector[start : start + CHUNK]).tolist())
        if len(found) > MAX_LABELS:
            return None
    try:
        return sorted(found)
    except TypeError:  # mixed types in an object column
        return None


def _distinct_integers(vector: Vector, low: int, high: int) -> list[Any] | None:
    """Integers (and booleans) within a narrow range are counted by value: no sort."""
    import numpy as np

    counts = np.zeros(high - low + 1, dtype=np.int64)
    for start in range(0, len(vector), CHUNK):
        part = vector[start : start + CHUNK].astype(np.int64) - low
        counts += np.bincount(part, minlength=len(counts))
    present = np.flatnonzero(counts)
    if len(present) > MAX_LABELS:
        return None
    values = (present + low).astype(vector.dtype)
    return values.tolist()  # type: ignore[no-any-return]


def _score_summaries(
    positive: Vector, score: Vector
) -> tuple[Roc | None, list[CalibrationBin] | None]:
    import numpy as np

    low, high = float(np.min(score)), float(np.max(score))
    if not (np.isfinite(low) and np.isfinite(high)):
        return None, None
    span = high - low
    histogram = np.zeros(2 * ROC_BINS, dtype=np.int64)
    calibrated = low >= 0.0 and high <= 1.0
    rows = np.zeros(CALIBRATION_BINS, dtype=np.int64)
    scores = np.zeros(CALIBRATION_BINS)
    hits = np.zeros(CALIBRATION_BINS)
    for start in range(0, len(score), CHUNK):
        part = score[start : start + CHUNK].astype(np.float64, copy=False)
        yes = positive[start : start + CHUNK]
        scaled = (part - low) * (ROC_BINS / span) if span > 0 else np.zeros(len(part))
        index = np.minimum(scaled.astype(np.intp), ROC_BINS - 1)
        histogram += np.bincount(index + ROC_BINS * yes, minlength=2 * ROC_BINS)
        if calibrated:
            bins = np.minimum((part * CALIBRATION_BINS).astype(np.intp), CALIBRATION_BINS - 1)
            rows += np.bincount(bins, minlength=CALIBRATION_BINS)
            scores += np.bincount(bins, weights=part, minlength=CALIBRATION_BINS)
            hits += np.bincount(bins, weights=yes, minlength=CALIBRATION_BINS)
    return _roc(histogram[:ROC_BINS], histogram[ROC_BINS:]), (
        _calibration(rows, scores, hits) if calibrated else None
    )


def _roc(negatives: Vector, positives: Vector) -> Roc | None:
    """True and false positive rates at each threshold, from the highest score down."""
    import numpy as np

    total_positive, total_negative = int(positives.sum()), int(negatives.sum())
    if total_positive == 0 or total_negative == 0:
        return None
    tpr = np.concatenate(([0], np.cumsum(positives[::-1]))) / total_positive
    fpr = np.concatenate(([0], np.cumsum(negatives[::-1]))) / total_negative
    # an empty bin repeats the point before it
    kept = np.concatenate(([True], (np.diff(tpr) != 0) | (np.diff(fpr) != 0)))
    return Roc(
        fpr=[round(float(v), 6) for v in fpr[kept]], tpr=[round(float(v), 6) for v in tpr[kept]]
    )


def _calibration(rows: Vector, scores: Vector, hits: Vector) -> list[CalibrationBin]:
    width = 1.0 / CALIBRATION_BINS
    return [
        CalibrationBin(
            low=round(i * width, 6),
            high=round((i + 1) * width, 6),
            rows=int(count),
            mean_score=round(float(scores[i]) / int(count), 6),
            positive_rate=round(float(hits[i]) / int(count), 6),
        )
        for i, count in enumerate(rows)
        if count > 0
    ]


def _confusion(y_true: Vector, true_labels: list[Any], prediction: Vector) -> Confusion | None:
    import numpy as np

    if prediction.dtype.kind == "b" and y_true.dtype.kind in "iuf":
        prediction = prediction.astype(y_true.dtype)  # True/False for a 0/1 target
    predicted_labels = distinct(prediction)
    if predicted_labels is None:
        return None
    try:
        labels = sorted(set(true_labels) | set(predicted_labels))
    except TypeError:
        return None
    if len(labels) > MAX_LABELS or any(v != v for v in labels):  # NaN sorts nowhere
        return None
    if any(isinstance(v, float) and not v.is_integer() for v in labels):
        return None  # a few distinct measurements are a regression target, not classes
    size = len(labels)
    counts = np.zeros(size * size, dtype=np.int64)
    code = _coder(labels)
    for start in range(0, len(y_true), CHUNK):
        truth, guess = code(y_true[start : start + CHUNK]), code(prediction[start : start + CHUNK])
        counts += np.bincount(truth * size + guess, minlength=size * size)
    grid = counts.reshape(size, size)
    return Confusion(labels=[str(v) for v in labels], counts=grid.tolist())


def _coder(labels: list[Any]) -> Callable[[Vector], Vector]:
    """Each value's index among the sorted labels: by table lookup for integers (five times
    faster than a binary search), by binary search for anything else."""
    import numpy as np

    table = np.array(labels)
    if table.dtype.kind not in "biu" or int(table[-1]) - int(table[0]) > LOOKUP_SPAN:
        return lambda part: np.searchsorted(table, part)
    low = int(table[0])
    index = np.zeros(int(table[-1]) - low + 1, dtype=np.intp)
    index[table.astype(np.intp) - low] = np.arange(len(table))
    return lambda part: index[part.astype(np.intp) - low]
