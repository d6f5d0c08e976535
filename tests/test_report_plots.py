"""The report's SVG plots and the evaluation's curve summaries they draw, on odd data: one point,
equal values, NaN and infinity, nothing at all. Every plot must be well-formed XML whose drawn
coordinates stay inside its viewBox and never read NaN."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

from pavedroad.evaluation.curves import summarise
from pavedroad.evaluation.protocol import CalibrationBin, Curves, Outcome
from pavedroad.report import plots

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
COORDINATES = ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height")


def parsed(svg: str) -> ET.Element:
    """The plot as XML, after checking what every plot promises."""
    root = ET.fromstring(svg)
    assert root.tag == "svg"
    title = root.find("title")
    assert title is not None and (title.text or "").strip()
    width, height = (float(v) for v in root.attrib["viewBox"].split()[2:])
    for element in root.iter():
        numbers = [float(element.attrib[a]) for a in COORDINATES if a in element.attrib]
        for text in (element.attrib.get("points", ""),):
            numbers += [float(v) for v in re.split(r"[ ,]+", text.strip()) if v]
        for value in numbers:
            assert math.isfinite(value), (element.tag, element.attrib)
        xs = [float(element.attrib[a]) for a in ("x", "x1", "x2", "cx") if a in element.attrib]
        ys = [float(element.attrib[a]) for a in ("y", "y1", "y2", "cy") if a in element.attrib]
        assert all(-1 <= x <= width + 1 for x in xs), (element.tag, element.attrib, width)
        assert all(-1 <= y <= height + 1 for y in ys), (element.tag, element.attrib, height)
    return root


def history(*values: float) -> list[tuple[dt.datetime, float, bool]]:
    return [(NOW - dt.timedelta(days=len(values) - i), v, i == 0) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    "points",
    [
        [],
        history(0.85),  # one point
        history(0.85, 0.85, 0.85),  # equal values
        history(0.8, float("nan"), 0.9, float("inf")),  # not finite: dropped
        history(*[0.8 + (i % 7) / 100 for i in range(10_000)]),  # decimated
    ],
    ids=["empty", "one", "equal", "nan", "ten-thousand"],
)
def test_metric_history_is_well_formed_whatever_the_points(
    points: list[tuple[dt.datetime, float, bool]],
) -> None:
    root = parsed(
        plots.metric_history(
            "roc_auc",
            points,
            current=0.86,
            low=0.82,
            high=None,
            baseline=0.85,
            status="pass",
        )
    )
    polyline = root.find("polyline")
    if polyline is not None:
        assert len(polyline.attrib["points"].split()) <= plots.MAX_POINTS + 2


def test_metric_history_puts_higher_values_higher_and_shades_the_failing_side() -> None:
    root = parsed(
        plots.metric_history(
            "recall",
            history(0.5, 0.7),
            current=None,
            low=0.45,
            high=None,
            baseline=None,
            status="pass",
        )
    )
    circles = list(root.iter("circle"))
    (first, second) = sorted(circles, key=lambda c: float(c.attrib["cx"]))
    assert float(second.attrib["cy"]) < float(first.attrib["cy"])  # SVG y grows downwards
    threshold = next(line for line in root.iter("line") if line.attrib.get("stroke") == plots.FAIL)
    band = next(r for r in root.iter("rect") if r.attrib.get("fill") == plots.FAIL)
    # the band lies below the threshold line (values under min fail)
    assert float(band.attrib["y"]) == pytest.approx(float(threshold.attrib["y1"]), abs=0.1)


def test_a_metric_with_no_value_at_all_still_draws_its_threshold() -> None:
    root = parsed(
        plots.metric_history(
            "brier", [], current=None, low=None, high=0.2, baseline=None, status="error"
        )
    )
    assert any("max 0.2" in (t.text or "") for t in root.iter("text"))


@pytest.mark.parametrize(
    "rows",
    [
        [("region=north", 0.9, 300, "pass")],
        [("a", 0.7, 40, "pass"), ("b", 0.7, 40, "pass")],  # equal values
        [("a", None, 10, "error"), ("b", float("nan"), 10, "error")],
        [("a very long slice value that goes on and on", 0.61, 1_000_000, "fail")],
    ],
)
def test_slices_are_well_formed(rows: list[tuple[str, float | None, int | None, str]]) -> None:
    root = parsed(plots.slices("roc_auc", rows, low=0.65, high=None, overall=0.8))
    labels = [t.text or "" for t in root.iter("text")]
    for label, *_ in rows:
        assert any(label in text for text in labels)


def test_slices_place_each_value_in_order() -> None:
    root = parsed(
        plots.slices(
            "roc_auc",
            [("a", 0.6, 50, "fail"), ("b", 0.9, 50, "pass")],
            low=0.7,
            high=None,
            overall=None,
        )
    )
    low, high = (float(c.attrib["cx"]) for c in root.iter("circle"))
    assert low < high


@pytest.mark.parametrize(
    "samples",
    [[], [1.0], [2.0] * 200, [0.5, 0.6, float("nan"), 250.0], list(np.linspace(0.1, 3, 200))],
    ids=["none", "one", "equal", "outlier", "spread"],
)
def test_latency_histogram_is_well_formed(samples: list[float]) -> None:
    root = parsed(
        plots.latency(
            samples,
            {"p50": 0.8, "p95": 1.2, "p99": 1.5},
            {"p50": None, "p95": None, "p99": 25.0},
        )
    )
    bars = [r for r in root.iter("rect") if r.attrib.get("fill") == plots.ACCENT]
    assert len(bars) <= 30
    finite = [s for s in samples if math.isfinite(s)]
    heights = sum(1 for _ in bars)
    assert (heights > 0) == bool(finite)


def test_latency_budget_near_the_calls_is_drawn_and_a_far_one_is_named() -> None:
    near = parsed(plots.latency([1.0, 1.2, 1.4], {"p99": 1.4}, {"p99": 2.0}))
    assert any("budget 2" in (t.text or "") for t in near.iter("text"))
    assert any(line.attrib.get("stroke") == plots.FAIL for line in near.iter("line"))
    far = parsed(plots.latency([1.0, 1.2, 1.4], {"p99": 1.4}, {"p99": 500.0}))
    assert any("off the scale" in (t.text or "") for t in far.iter("text"))


@pytest.mark.parametrize(
    "rows",
    [
        [("peak RSS", 214.0, 256.0, False, "pass")],
        [("rows per second", 150_000.0, 20_000.0, True, "pass")],
        [("peak RSS", None, 256.0, False, None)],
        [("peak RSS", 0.0, None, False, None)],
        [("p50", 1.0, None, False, None), ("p99", float("inf"), 25.0, False, "fail")],
    ],
)
def test_budget_bars_are_well_formed(
    rows: list[tuple[str, float | None, float | None, bool, str | None]],
) -> None:
    parsed(plots.budget_bars("budgets", rows, "MB"))


def test_a_bar_over_its_budget_reaches_past_the_budget_tick() -> None:
    root = parsed(plots.budget_bars("memory", [("peak RSS", 300.0, 256.0, False, "fail")], "MB"))
    bar = next(r for r in root.iter("rect") if r.attrib.get("fill") == plots.FAIL)
    tick = next(line for line in root.iter("line") if line.attrib.get("stroke") == plots.INK)
    assert float(bar.attrib["x"]) + float(bar.attrib["width"]) > float(tick.attrib["x1"])


def test_roc_calibration_and_confusion_are_well_formed_on_odd_input() -> None:
    parsed(plots.roc([0.0, 1.0], [0.0, 1.0], None))
    parsed(plots.roc([0.0], [0.0], float("nan")))
    parsed(plots.roc([0.0, 0.1, float("nan"), 1.0], [0.0, 0.6, 0.7, 1.0], 0.9))
    parsed(plots.calibration([]))
    parsed(plots.calibration([CalibrationBin(0.0, 0.1, 5, 0.05, 0.0)]))
    parsed(plots.confusion(["0", "1"], [[0, 0], [0, 0]]))
    root = parsed(plots.confusion([str(i) for i in range(20)], np.eye(20, dtype=int).tolist()))
    assert len(list(root.iter("rect"))) == 400


def test_axis_helpers_never_divide_by_zero() -> None:
    assert plots.domain([]) == (0.0, 1.0)
    low, high = plots.domain([0.0, 0.0])
    assert low < 0.0 < high
    low, high = plots.domain([5.0, float("nan"), None])
    assert low < 5.0 < high
    assert plots.ticks(0.0, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert all(0.81 <= t <= 0.86 for t in plots.ticks(0.81, 0.86))
    points = [(float(i), float(i % 100)) for i in range(10_000)]
    kept = plots.decimate(points)
    assert len(kept) <= plots.MAX_POINTS
    assert min(v for _, v in kept) == 0.0 and max(v for _, v in kept) == 99.0
    assert [t for t, _ in kept] == sorted(t for t, _ in kept)


def test_sparkline() -> None:
    assert plots.sparkline([]) == ""
    assert plots.sparkline([1.0, 1.0]) == "▄▄"
    assert plots.sparkline([0.0, 1.0]) == "▁█"
    assert len(plots.sparkline([float(i) for i in range(1000)])) == 24


# -- the worker's summaries ---------------------------------------------------------------------


def test_curves_of_a_binary_classifier_match_scikit_learn() -> None:
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 2, 20_000).astype(np.int8)
    score = np.clip(0.35 * y_true + 0.65 * rng.random(20_000), 0.0, 1.0)
    curves = summarise(y_true, score >= 0.5, score)
    assert curves is not None and curves.roc is not None and curves.calibration is not None
    roc = curves.roc
    assert (roc.fpr[0], roc.tpr[0], roc.fpr[-1], roc.tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert roc.fpr == sorted(roc.fpr) and roc.tpr == sorted(roc.tpr)
    assert np.trapezoid(roc.tpr, roc.fpr) == pytest.approx(roc_auc_score(y_true, score), abs=2e-3)
    assert sum(b.rows for b in curves.calibration) == 20_000
    for piece in curves.calibration:
        inside = (score >= piece.low) & ((score < piece.high) | (piece.high == 1.0))
        assert piece.rows == inside.sum()
        assert piece.positive_rate == pytest.approx(y_true[inside].mean(), abs=1e-6)
    assert curves.confusion is not None
    assert curves.confusion.labels == ["0", "1"]
    expected = confusion_matrix(y_true, (score >= 0.5).astype(np.int8)).tolist()
    assert curves.confusion.counts == expected


def test_curves_of_many_rows_are_drawn_from_a_regular_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beyond CURVE_ROWS the ROC and calibration come from every k-th row; the confusion
    counts stay exact."""
    from pavedroad.evaluation import curves

    monkeypatch.setattr(curves, "CURVE_ROWS", 1_000)
    rng = np.random.default_rng(11)
    y_true = rng.integers(0, 2, 10_000)
    score = np.clip(0.4 * y_true + 0.6 * rng.random(10_000), 0.0, 1.0)
    found = summarise(y_true, score >= 0.5, score)
    assert found is not None and found.roc is not None and found.calibration is not None
    assert sum(b.rows for b in found.calibration) == 1_000
    auc = np.trapezoid(found.roc.tpr, found.roc.fpr)
    assert auc == pytest.approx(roc_auc_score(y_true[::10], score[::10]), abs=5e-3)
    assert found.confusion is not None
    assert sum(map(sum, found.confusion.counts)) == 10_000


def test_curves_skip_what_the_data_does_not_allow() -> None:
    regression = np.linspace(0.0, 10.0, 500)
    assert summarise(regression, regression + 0.5, None) is None  # many values: no classes
    three = np.array([0, 1, 2] * 50)
    found = summarise(three, three[::-1].copy(), np.linspace(0, 1, 150))
    assert found is not None and found.roc is None and found.calibration is None  # not binary
    assert found.confusion is not None and len(found.confusion.labels) == 3
    scores_not_probabilities = summarise(np.array([0, 1] * 50), None, np.linspace(-5, 5, 100))
    assert scores_not_probabilities is not None
    assert scores_not_probabilities.roc is not None and scores_not_probabilities.calibration is None
    with_nan = summarise(np.array([0, 1] * 50), None, np.array([0.5, float("nan")] * 50))
    assert with_nan is None
    one_class = summarise(
        np.zeros(50, dtype=np.int8), np.zeros(50, dtype=np.int8), np.full(50, 0.3)
    )
    assert one_class is not None and one_class.roc is None and one_class.confusion is not None
    assert one_class.confusion.counts == [[50]]
    far_apart = summarise(np.array([-5, 10**9] * 10), np.array([-5, -5] * 10), None)
    assert far_apart is not None and far_apart.confusion is not None
    assert far_apart.confusion.counts == [[10, 0], [10, 0]]
    labels = summarise(
        np.array(["churn", "stay"] * 30, dtype=object), np.array(["stay"] * 60, dtype=object), None
    )
    assert labels is not None and labels.confusion is not None
    assert labels.confusion.counts == [[0, 30], [0, 30]]


def test_outcomes_without_curves_or_samples_still_read(tmp_path: Path) -> None:
    """The protocol's new fields are optional: an outcome written before them reads back."""
    path = tmp_path / "outcome.json"
    Outcome(curves=Curves()).write(path)
    text = path.read_text(encoding="utf-8")
    old = re.sub(r', "curves": \{[^}]*\}', "", text)
    assert "curves" not in old
    path.write_text(old, encoding="utf-8")
    assert Outcome.read(path).curves is None
