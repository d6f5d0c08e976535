"""The metric registry and its computation: scikit-learn's own values, errors instead of raises."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from pavedroad.evaluation import metrics as metrics_module
from pavedroad.evaluation.metrics import (
    METRICS,
    Plan,
    compute,
    compute_custom,
    load_custom,
    rank_sum_roc_auc,
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


# -- roc_auc by rank sums beyond RANK_SUM_ROWS -----------------------------------------------------

BIG = 20_000
Y_BIG = RNG.integers(0, 2, BIG)
DISTINCT = RNG.normal(size=BIG) + 0.8 * Y_BIG  # continuous: no two scores equal
TIED = np.round(1 / (1 + np.exp(-DISTINCT)), 1)  # eleven values: ties within and across classes


@pytest.mark.parametrize("score", [DISTINCT, TIED], ids=["distinct", "tied"])
@pytest.mark.parametrize(
    "y_true",
    [
        Y_BIG,
        Y_BIG.astype(bool),
        Y_BIG.astype(np.int8),
        np.where(Y_BIG == 1, "yes", "no"),
        np.where(Y_BIG == 1, "churned", "stayed"),  # the greater label is positive: "stayed"
        Y_BIG.astype(float),
    ],
    ids=["int", "bool", "int8", "yes-no", "churned-stayed", "float"],
)
def test_rank_sums_give_scikit_learns_roc_auc(y_true: Any, score: Any) -> None:
    expected = skm.roc_auc_score(y_true, score)
    assert abs(rank_sum_roc_auc(y_true, score) - expected) < 1e-12
    assert abs(expected - 0.5) > 0.1  # a real ranking: a reversed positive class would show


def test_rank_sums_count_a_tie_as_half_a_pair() -> None:
    y = np.array([0, 0, 1, 1])
    assert rank_sum_roc_auc(y, np.array([0.1, 0.5, 0.5, 0.9])) == 0.875
    assert rank_sum_roc_auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert rank_sum_roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    # more positives than negatives: the negatives are looked up among the positives
    three_to_one = np.array([1, 1, 1, 0])
    assert rank_sum_roc_auc(three_to_one, np.array([0.5, 0.9, 0.7, 0.5])) == 2.5 / 3
    assert rank_sum_roc_auc(three_to_one, np.array([0.1, 0.2, 0.5, 0.5])) == 0.5 / 3


def test_beyond_the_threshold_roc_auc_is_computed_by_rank_sums(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called: list[int] = []

    def spy(y_true: Any, score: Any) -> float:
        called.append(len(y_true))
        return rank_sum_roc_auc(y_true, score)

    monkeypatch.setattr(metrics_module, "rank_sum_roc_auc", spy)
    assert compute("roc_auc", Y_BIG, None, TIED) == MetricValue(skm.roc_auc_score(Y_BIG, TIED))
    assert called == []  # 20,000 rows: scikit-learn's own function, exactly
    monkeypatch.setattr(metrics_module, "RANK_SUM_ROWS", BIG - 1)
    value = compute("roc_auc", Y_BIG, None, TIED).value
    assert called == [BIG]
    assert value is not None and abs(value - skm.roc_auc_score(Y_BIG, TIED)) < 1e-12


@pytest.mark.parametrize(
    ("y_true", "score"),
    [
        (np.ones(50, dtype=np.int64), np.linspace(0, 1, 50)),  # one class only
        (np.arange(50) % 3, np.linspace(0, 1, 50)),  # three classes, one score column
        (np.arange(50) % 2, np.where(np.arange(50) == 7, np.nan, 0.5)),  # NaN score
        (np.arange(50) % 2, np.linspace(0, 1, 49)),  # lengths differ
        (np.linspace(0, 1, 50), np.linspace(0, 1, 50)),  # a continuous target
    ],
    ids=["one-class", "multiclass", "nan", "lengths", "continuous"],
)
def test_rank_sums_fail_as_scikit_learn_does(
    monkeypatch: pytest.MonkeyPatch, y_true: Any, score: Any
) -> None:
    expected = compute("roc_auc", y_true, None, score)
    monkeypatch.setattr(metrics_module, "RANK_SUM_ROWS", 0)
    assert compute("roc_auc", y_true, None, score) == expected
    assert expected.value is None and expected.error


def test_a_narrowed_target_is_widened_for_arithmetic_and_custom_metrics_only() -> None:
    """An int64 target of small values kept as int8: int8 arithmetic would overflow."""
    y_true = np.array([100, -100, 50, 0], dtype=np.int8)
    y_pred = np.array([-100, 100, 50, 0], dtype=np.int8)
    seen: list[str] = []

    def dtype_of_target(y: Any, p: Any) -> float:
        seen.append(str(y.dtype))
        return 0.0

    requests = [MetricRequest("max_error"), MetricRequest("accuracy"), MetricRequest("t", "x:f")]
    plan = Plan(requests, custom={"t": dtype_of_target}, target_dtype="int64")
    found = plan.compute(y_true, y_pred, None)
    assert found["max_error"] == MetricValue(200.0)
    assert found["accuracy"] == MetricValue(0.5)
    assert seen == ["int64"]
    unwidened = Plan(requests, custom={"t": dtype_of_target}).compute(y_true, y_pred, None)
    assert unwidened["max_error"] != MetricValue(200.0)  # what the widening prevents
    assert seen == ["int64", "int8"]


def test_importing_the_registry_does_not_import_scikit_learn_nor_numpy() -> None:
    """The tool's process reads METRICS for names and directions and must stay fast."""
    code = "import sys, pavedroad.evaluation.metrics; print(sorted({'sklearn', 'numpy'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
