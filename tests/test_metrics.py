"""The metric registry and its computation: scikit-learn's own values, errors instead of raises."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from pavedroad.evaluation.metrics import (
    METRICS,
    Plan,
    compute,
    compute_custom,
    load_custom,
    slice_outcomes,
)
from pavedroad.evaluation.protocol import MetricRequest, MetricValue

RNG = np.random.default_rng(3)
Y = RNG.integers(0, 2, 500)
SCORE = np.clip(Y * 0.3 + RNG.uniform(0, 0.7, 500), 0.01, 0.99)
LABEL = (SCORE > 0.5).astype(np.int64)


def test_every_metric_names_a_scikit_learn_function_a_direction_and_a_description() -> None:
    for name, metric in METRICS.items():
        assert callable(getattr(skm, metric.function)), name
        assert metric.description.endswith("."), name
        assert metric.input in ("prediction", "score")
    lower = {n for n, m in METRICS.items() if not m.higher_is_better}
    assert lower == {"log_loss", "brier", "rmse", "mse", "mae", "median_ae", "max_error", "mape"}


@pytest.mark.parametrize("name", sorted(METRICS))
def test_each_metric_is_scikit_learns_value_exactly(name: str) -> None:
    metric = METRICS[name]
    y_pred = LABEL if metric.input == "prediction" else SCORE
    expected = getattr(skm, metric.function)(Y, y_pred)
    assert compute(name, Y, LABEL, SCORE) == MetricValue(float(expected))


def test_precision_recall_and_f1_are_macro_averaged_beyond_two_classes() -> None:
    y = RNG.integers(0, 3, 300)
    pred = np.where(RNG.uniform(size=300) < 0.7, y, (y + 1) % 3)
    for name, function in [
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ]:
        assert compute(name, y, pred, None).value == function(y, pred, average="macro")


def test_boolean_predictions_of_a_numeric_target_are_cast_not_rejected() -> None:
    assert compute("accuracy", Y, LABEL.astype(bool), None).value == skm.accuracy_score(Y, LABEL)


def test_a_metric_without_its_input_or_with_bad_data_is_an_error_not_a_raise() -> None:
    assert compute("roc_auc", Y, LABEL, None) == MetricValue(
        None,
        error="roc_auc needs a score: set [performance].score to the output field holding the "
        "positive-class probability",
    )
    assert compute("f1", None, LABEL, None).error == (
        "f1 needs the target: set [performance].target"
    )
    one_class = compute("roc_auc", np.ones(10), LABEL[:10], SCORE[:10])
    assert one_class.value is None
    assert str(one_class.error).startswith("roc_auc: UndefinedMetricWarning: Only one class")


def test_a_custom_metric_is_called_and_must_return_a_number() -> None:
    def mean_prediction(y_true: Any, y_pred: Any) -> float:
        return float(np.mean(y_pred))

    def fails(y_true: Any, y_pred: Any) -> float:
        raise ZeroDivisionError("no rows")

    assert compute_custom("m", mean_prediction, Y, SCORE) == MetricValue(float(np.mean(SCORE)))
    assert compute_custom("m", lambda y, p: np.int64(3), Y, SCORE) == MetricValue(3.0)
    assert (
        compute_custom("m", lambda y, p: True, Y, SCORE).error
        == "m returned bool True, not a float"
    )
    assert compute_custom("m", lambda y, p: None, Y, SCORE).error == (
        "m returned NoneType None, not a float"
    )
    assert compute_custom("m", fails, Y, SCORE).error == "m: ZeroDivisionError: no rows"
    assert compute_custom("m", lambda y, p: float("nan"), Y, SCORE).error == (
        "m is nan, not a finite number"
    )


def test_load_custom_says_why_a_function_cannot_be_used() -> None:
    assert load_custom("math:fsum") is not None and callable(load_custom("math:fsum"))
    assert load_custom("math:pi") == "math:pi is a float, not a function"
    assert str(load_custom("no_such_module_xyz:f")).startswith(
        "cannot import no_such_module_xyz:f: ModuleNotFoundError"
    )


def test_a_plan_gives_a_custom_metric_its_chosen_input_and_names_missing_ones() -> None:
    plan = Plan(
        [
            MetricRequest("accuracy"),
            MetricRequest("mean_score", "x:f", "score"),
            MetricRequest("pr_auc"),
        ],
        custom={"mean_score": lambda y, p: float(np.mean(p))},
        unavailable={"score": "[performance].score names 'p', which the outputs have label"},
    )
    assert plan.compute(Y, LABEL, SCORE) == {
        "accuracy": MetricValue(skm.accuracy_score(Y, LABEL)),
        "mean_score": MetricValue(float(np.mean(SCORE))),
        "pr_auc": MetricValue(skm.average_precision_score(Y, SCORE)),
    }
    assert plan.compute(Y, LABEL, None)["pr_auc"].error == (
        "pr_auc needs a score: [performance].score names 'p', which the outputs have label"
    )


def test_slices_compute_on_their_own_rows_and_skip_small_ones() -> None:
    codes = np.array([0, 1, 0, 1, 2] * 100, dtype=np.int32)[: len(Y)]
    plan = Plan([MetricRequest("accuracy"), MetricRequest("roc_auc")])
    found = slice_outcomes(
        plan, "region", codes, ["north", "south", "east"], (Y, LABEL, SCORE), 150
    )
    assert [(s.value, s.rows) for s in found] == [("east", 100), ("north", 200), ("south", 200)]
    assert found[0].metrics == {}
    north = codes == 0
    assert found[1].metrics == {
        "accuracy": MetricValue(skm.accuracy_score(Y[north], LABEL[north])),
        "roc_auc": MetricValue(skm.roc_auc_score(Y[north], SCORE[north])),
    }


def test_importing_the_registry_does_not_import_scikit_learn_nor_numpy() -> None:
    """The tool's process reads METRICS for names and directions and must stay fast."""
    code = "import sys, pavedroad.evaluation.metrics; print(sorted({'sklearn', 'numpy'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
