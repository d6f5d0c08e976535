"""The report's plots as inline SVG, written by hand: no charting library, no script, no network.

Each function takes plain numbers and returns one `<svg>` element as text, well-formed XML that
scales with its container (viewBox, no fixed size) and prints as it shows. Inputs may be odd:
one point, equal values, values missing or not finite; non-finite values are dropped before
anything is drawn, so no NaN ever reaches an attribute.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from html import escape

from pavedroad.evaluation.protocol import CalibrationBin

PASS, FAIL, WARN, MUTED, ACCENT, GRID, INK = (
    "#1a7f37",
    "#cf222e",
    "#9a6700",
    "#6e7781",
    "#0969da",
    "#d0d7de",
    "#1f2328",
)
STATUS_COLOURS = {"pass": PASS, "fail": FAIL, "regressed": FAIL, "error": FAIL}
MAX_POINTS = 300  # drawn per series; longer histories keep each bucket's lowest and highest
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Scale:
    """A linear map from a data interval onto a pixel interval."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return self.start + share * (self.end - self.start)


def finite(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def domain(values: Iterable[float | None], *, pad: float = 0.08) -> tuple[float, float]:
    """An interval holding every finite value with a margin; never empty, never zero-wide."""
    kept = finite(values)
    if not kept:
        return 0.0, 1.0
    low, high = min(kept), max(kept)
    if low == high:
        spread = abs(low) * 0.1 or 1.0
        low, high = low - spread, high + spread
    margin = (high - low) * pad
    return low - margin, high + margin


def ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round values inside [low, high], about `count` of them, at a 1-2-2.5-5 step."""
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step)
    found = []
    index = first
    while index * step <= high + step * 1e-9:
        found.append(round(index * step, 12))
        index += 1
    return found


def number(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def decimate(
    points: Sequence[tuple[float, float]], limit: int = MAX_POINTS
) -> list[tuple[float, float]]:
    """At most about `limit` points, keeping each bucket's lowest and highest (in time order), so
    a dip in ten thousand runs still shows."""
    if len(points) <= limit:
        return list(points)
    buckets = limit // 2
    size = len(points) / buckets
    kept: list[tuple[float, float]] = []
    for bucket in range(buckets):
        chunk = points[int(bucket * size) : int((bucket + 1) * size)]
        if not chunk:
            continue
        low = min(chunk, key=lambda p: p[1])
        high = max(chunk, key=lambda p: p[1])
        kept.extend(sorted({low, high}))
    return kept


def sparkline(values: Sequence[float], width: int = 24) -> str:
    """The history as block characters, for the Markdown report."""
    kept = finite(values)
    if not kept:
        return ""
    if len(kept) > width:
        kept = [kept[int(i * len(kept) / width)] for i in range(width - 1)] + [kept[-1]]
    low, high = min(kept), max(kept)
    if low == high:
        return SPARKS[3] * len(kept)
    return "".join(SPARKS[round((v - low) / (high - low) * (len(SPARKS) - 1))] for v in kept)


# -- SVG text ---------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.1f}"


def _element(tag: str, body: str = "", /, **attributes: object) -> str:
    parts = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(v), quote=True)}"'
        for name, v in attributes.items()
        if v is not None
    )
    return f"<{tag}{parts}>{body}</{tag}>" if body else f"<{tag}{parts}/>"


def _text(x: float, y: float, content: str, *, halo: bool = False, **attributes: object) -> str:
    """A label; with `halo`, outlined in white so it stays legible over lines and points."""
    attributes.setdefault("font_size", 11)
    attributes.setdefault("fill", INK)
    if halo:
        attributes.update(stroke="#ffffff", stroke_width=3, paint_order="stroke")
    return _element("text", escape(content, quote=False), x=_n(x), y=_n(y), **attributes)


def _line(x1: float, y1: float, x2: float, y2: float, **attributes: object) -> str:
    return _element("line", x1=_n(x1), y1=_n(y1), x2=_n(x2), y2=_n(y2), **attributes)


def _svg(width: int, height: int, title: str, body: Iterable[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" class="plot" '
        f'preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title, quote=False)}</title>{''.join(body)}</svg>"
    )


def _y_axis(scale: Scale, left: float, right: float, *, fmt: str = "") -> Iterator[str]:
    for tick in ticks(scale.low, scale.high):
        y = scale(tick)
        yield _line(left, y, right, y, stroke=GRID, stroke_width=1)
        yield _text(left - 6, y + 4, number(tick) + fmt, text_anchor="end", fill=MUTED)


def _x_axis(scale: Scale, top: float, bottom: float, *, fmt: str = "") -> Iterator[str]:
    """Grid lines and tick labels; the unit only on the last label, so labels never collide."""
    found = ticks(scale.low, scale.high)
    for index, tick in enumerate(found):
        x = scale(tick)
        label = _compact(tick) + (fmt if index == len(found) - 1 else "")
        yield _line(x, top, x, bottom, stroke=GRID, stroke_width=1)
        yield _text(x, bottom + 14, label, text_anchor="middle", fill=MUTED)


def _compact(value: float) -> str:
    """A tick label: 150k rather than 150,000."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return number(value)


# -- a metric over time -------------------------------------------------------------------------


def metric_history(
    name: str,
    history: Sequence[tuple[dt.datetime, float, bool]],
    *,
    current: float | None,
    low: float | None,
    high: float | None,
    baseline: float | None,
    status: str,
) -> str:
    """The metric's recorded values run after run (oldest on the left), its threshold (the
    failing side shaded), the accepted baseline, and this run's value after the last record.
    Runs are spaced evenly: a quiet month between two runs must not squeeze the rest."""
    width, height, left, right, top, bottom = 560, 220, 56, 548, 16, 188
    kept = [(when, value, yes) for when, value, yes in history if math.isfinite(value)]
    points = [(float(index), value) for index, (_, value, _) in enumerate(kept)]
    fresh = current is not None and math.isfinite(current)
    count = len(points) + fresh
    series = decimate(points)
    ys = domain([v for _, v in series] + [current if fresh else None, low, high, baseline])
    y = Scale(ys[0], ys[1], bottom, top)
    x = (
        Scale(-1.0, 1.0, left, right)
        if count <= 1
        else Scale(0.0, count - 1.0, left + 8, right - 8)
    )
    body = [
        _element("rect", x=left, y=top, width=right - left, height=bottom - top, fill="#ffffff"),
        *_y_axis(y, left, right),
    ]
    body.extend(_threshold_bands(y, low, high, left, right, top, bottom, horizontal=True))
    if baseline is not None and math.isfinite(baseline):
        at = y(baseline)
        body.append(_line(left, at, right, at, stroke=ACCENT, stroke_dasharray="2 3"))
        label = f"accepted baseline {number(baseline)}"
        body.append(
            _text((left + right) / 2, at + 14, label, text_anchor="middle", fill=ACCENT, halo=True)
        )
    if len(series) > 1:
        path = " ".join(f"{_n(x(t))},{_n(y(v))}" for t, v in series)
        body.append(_element("polyline", points=path, fill="none", stroke=MUTED, stroke_width=1.5))
    if len(series) <= 60:
        body.extend(
            _element("circle", cx=_n(x(t)), cy=_n(y(v)), r=2.5, fill=MUTED) for t, v in series
        )
    accepted = [(float(index), v) for index, (_, v, yes) in enumerate(kept) if yes]
    for t, v in accepted[-20:]:
        cx, cy = x(t), y(v)
        diamond = f"{_n(cx)},{_n(cy - 6)} {_n(cx + 6)},{_n(cy)} {_n(cx)},{_n(cy + 6)} {_n(cx - 6)},{_n(cy)}"
        body.append(_element("polygon", points=diamond, fill=ACCENT, stroke="#ffffff"))
    if current is not None and fresh:
        colour = STATUS_COLOURS.get(status, MUTED)
        cx, cy = x(float(count - 1)), y(current)
        dot = _element(
            "circle", cx=_n(cx), cy=_n(cy), r=5.5, fill=colour, stroke="#ffffff", stroke_width=1.5
        )
        text = number(current)
        label = _text(
            cx - 8, cy - 9, text, text_anchor="end", font_weight="bold", fill=colour, halo=True
        )
        body.extend((dot, label))
    if kept:
        body.append(_text(x(0.0) if count > 1 else left, bottom + 16, _day(kept[0][0]), fill=MUTED))
    end = "this run" if fresh else (_day(kept[-1][0]) if len(kept) > 1 else "")
    if end and count > 1:
        body.append(_text(right, bottom + 16, end, text_anchor="end", fill=MUTED))
    caption = f"{name}: {len(points)} recorded run{'s' if len(points) != 1 else ''}"
    body.append(_text((left + right) / 2, bottom + 28, caption, text_anchor="middle", fill=MUTED))
    return _svg(width, height, f"{name} over time against its threshold", body)


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d")


def _threshold_bands(
    scale: Scale,
    low: float | None,
    high: float | None,
    left: float,
    right: float,
    top: float,
    bottom: float,
    *,
    horizontal: bool,
) -> Iterator[str]:
    """The failing side of each bound, shaded, and the bound as a dashed line with its label.
    `horizontal`: values run up the y axis (bounds are horizontal lines)."""
    for bound, label, below in ((low, "min", True), (high, "max", False)):
        if bound is None or not math.isfinite(bound):
            continue
        at = scale(bound)
        if horizontal:
            edge = bottom if below else top
            y0, y1 = sorted((at, edge))
            yield _element(
                "rect",
                x=_n(left),
                y=_n(y0),
                width=_n(right - left),
                height=_n(y1 - y0),
                fill=FAIL,
                fill_opacity=0.07,
            )
            yield _line(left, at, right, at, stroke=FAIL, stroke_dasharray="6 4")
            text = f"{label} {number(bound)}"
            yield _text(left + 4, at - 4 if below else at + 12, text, fill=FAIL, halo=True)
        else:
            edge = left if below else right
            x0, x1 = sorted((at, edge))
            yield _element(
                "rect",
                x=_n(x0),
                y=_n(top),
                width=_n(x1 - x0),
                height=_n(bottom - top),
                fill=FAIL,
                fill_opacity=0.07,
            )
            yield _line(at, top, at, bottom, stroke=FAIL, stroke_dasharray="6 4")
            yield _text(at + 4, top + 10, f"{label} {number(bound)}", fill=FAIL, halo=True)


# -- slices -------------------------------------------------------------------------------------


def slices(
    metric: str,
    rows: Sequence[tuple[str, float | None, int | None, str]],
    *,
    low: float | None,
    high: float | None,
    overall: float | None,
) -> str:
    """One row per slice value: its metric as a dot against the threshold and the overall value.
    Each row is (label, value, rows, status)."""
    labels = [
        f"{label} (n={count:,})" if count is not None else label for label, _, count, _ in rows
    ]
    left = min(300, 24 + 6.5 * max((len(t) for t in labels), default=8))
    width, top, row_height = int(left) + 380, 30, 24
    bottom = top + row_height * max(len(rows), 1)
    right = width - 60
    xs = domain([v for _, v, _, _ in rows] + [low, high, overall])
    x = Scale(xs[0], xs[1], left, right)
    body = [*_x_axis(x, top - 14, bottom)]
    body.extend(_threshold_bands(x, low, high, left, right, top - 14, bottom, horizontal=False))
    if overall is not None and math.isfinite(overall):
        body.append(
            _line(x(overall), top - 14, x(overall), bottom, stroke=ACCENT, stroke_dasharray="2 3")
        )
        body.append(
            _text(
                x(overall),
                top - 18,
                f"overall {number(overall)}",
                text_anchor="middle",
                fill=ACCENT,
            )
        )
    for index, ((_, value, _, status), label) in enumerate(zip(rows, labels, strict=True)):
        cy = top + row_height * index + row_height / 2
        body.append(_text(left - 8, cy + 4, label, text_anchor="end"))
        if value is None or not math.isfinite(value):
            body.append(_text(left + 4, cy + 4, "not computed", fill=FAIL))
            continue
        colour = STATUS_COLOURS.get(status, MUTED)
        body.append(_line(left, cy, x(value), cy, stroke=GRID, stroke_width=2))
        body.append(_element("circle", cx=_n(x(value)), cy=_n(cy), r=5, fill=colour))
        body.append(_text(x(value) + 9, cy + 4, number(value), fill=colour))
    return _svg(width, bottom + 22, f"{metric} on each slice against its threshold", body)


# -- budgets ------------------------------------------------------------------------------------


def budget_bars(
    title: str, rows: Sequence[tuple[str, float | None, float | None, bool, str | None]], unit: str
) -> str:
    """One bar per measure against its budget, drawn as a tick labelled above the bar. Each row
    is (label, value, limit, minimum, status): with `minimum` the value must reach the limit."""
    width, row_height, top = 440, 46, 6
    left = min(160, 24 + 7 * max((len(r[0]) for r in rows), default=4))
    right = width - 64
    reach = domain([0.0] + [r[1] for r in rows] + [r[2] for r in rows], pad=0.05)[1]
    x = Scale(0.0, max(reach, 1e-9), left, right)
    bottom = top + row_height * max(len(rows), 1)
    body = [*_x_axis(x, top, bottom, fmt=f" {unit}" if unit else "")]
    for index, (label, value, limit, minimum, status) in enumerate(rows):
        y0 = top + row_height * index + 20
        cy = y0 + 8
        body.append(_text(left - 8, cy + 4, label, text_anchor="end", font_size=12))
        if value is None or not math.isfinite(value):
            body.append(_text(left + 4, cy + 4, "not measured", fill=MUTED, font_size=12))
        else:
            colour = STATUS_COLOURS.get(status or "", ACCENT)
            bar = _n(max(x(value) - left, 1.0))
            body.append(
                _element("rect", x=_n(left), y=_n(y0), width=bar, height=16, fill=colour, rx=2)
            )
            body.append(_text(x(value) + 6, cy + 4, number(value), fill=colour, font_size=12))
        if limit is not None and math.isfinite(limit):
            at = x(limit)
            body.append(_line(at, y0 - 4, at, y0 + 20, stroke=INK, stroke_width=2))
            word = "min" if minimum else "budget"
            body.append(
                _text(at, y0 - 7, f"{word} {number(limit)}", text_anchor="middle", font_size=11)
            )
    return _svg(width, bottom + 22, title, body)


def latency(
    samples: Sequence[float], percentiles: dict[str, float | None], budgets: dict[str, float | None]
) -> str:
    """The single-row latency distribution (a histogram of every timed call), its percentiles,
    and each latency budget; a budget far beyond the calls is named at the edge instead of
    squeezing the calls into a corner. Calls beyond three times p99 pile up in the last bar."""
    width, height, left, right, top, bottom = 560, 250, 20, 540, 48, 206
    kept = sorted(finite(samples))
    marks = {k: v for k, v in percentiles.items() if v is not None and math.isfinite(v)}
    limits = {k: v for k, v in budgets.items() if v is not None and math.isfinite(v) and v > 0}
    reach = max([*kept[-1:], *marks.values(), 1e-6])
    p99 = marks.get("p99", reach)
    end = min(reach, 3 * p99) if p99 > 0 else reach
    shown = {name: limit for name, limit in limits.items() if limit <= 4 * end}
    end = max([end, *shown.values()]) * 1.05
    start = 0.0 if shown or not kept else max(0.0, kept[0] - 0.15 * (end - kept[0]))
    x = Scale(start, end, left, right)
    bins = 30
    counts = [0] * bins
    for value in kept:
        counts[max(0, min(int((value - start) / (end - start) * bins), bins - 1))] += 1
    y = Scale(0.0, max(max(counts), 1) * 1.1, bottom, top)
    body = [*_x_axis(x, top, bottom, fmt=" ms")]
    bar = (right - left) / bins
    body.extend(
        _element(
            "rect",
            x=_n(left + index * bar + 0.5),
            y=_n(y(count)),
            width=_n(bar - 1),
            height=_n(bottom - y(count)),
            fill=ACCENT,
            fill_opacity=0.75,
        )
        for index, count in enumerate(counts)
        if count
    )
    for index, (name, value) in enumerate(marks.items()):
        at = x(min(max(value, start), end))
        body.append(_line(at, top - 4, at, bottom, stroke=MUTED, stroke_dasharray="3 3"))
        label = f"{name} {number(value)}"
        body.append(_text(at, top - 8 - 12 * (index % 3), label, text_anchor="middle", fill=MUTED))
    for name, limit in shown.items():
        at = x(limit)
        body.append(_line(at, top, at, bottom, stroke=FAIL, stroke_width=2))
        label = f"{name} budget {number(limit)}"
        body.append(_text(at - 4, bottom - 6, label, text_anchor="end", fill=FAIL))
    far = [(n, v) for n, v in limits.items() if n not in shown]
    for index, (name, limit) in enumerate(far):
        label = f"{name} budget {number(limit)} ms, off the scale →"
        body.append(_text(right, top + 14 + 14 * index, label, text_anchor="end", fill=PASS))
    caption = f"{len(kept)} single-row calls" if kept else "no call timings"
    body.append(_text((left + right) / 2, bottom + 30, caption, text_anchor="middle", fill=MUTED))
    return _svg(width, height, "single-row latency distribution against its budget", body)


# -- classifiers --------------------------------------------------------------------------------


def roc(fpr: Sequence[float], tpr: Sequence[float], auc: float | None) -> str:
    size, margin = 300, 40
    axis = Scale(0.0, 1.0, margin, size - 12)
    up = Scale(0.0, 1.0, size - margin, 12)
    body = [*_square_axes(axis, up, size, margin, "false positive rate", "true positive rate")]
    body.append(_line(axis(0), up(0), axis(1), up(1), stroke=MUTED, stroke_dasharray="4 4"))
    pairs = [
        (f, t) for f, t in zip(fpr, tpr, strict=False) if math.isfinite(f) and math.isfinite(t)
    ]
    if len(pairs) > 1:
        path = " ".join(f"{_n(axis(f))},{_n(up(t))}" for f, t in pairs)
        body.append(_element("polyline", points=path, fill="none", stroke=ACCENT, stroke_width=2))
    if auc is not None and math.isfinite(auc):
        body.append(
            _text(
                axis(0.95),
                up(0.06),
                f"AUC {auc:.3f}",
                text_anchor="end",
                font_weight="bold",
                fill=ACCENT,
            )
        )
    return _svg(size, size, "ROC curve", body)


def calibration(bins: Sequence[CalibrationBin]) -> str:
    size, margin = 300, 40
    axis = Scale(0.0, 1.0, margin, size - 12)
    up = Scale(0.0, 1.0, size - margin, 12)
    body = [*_square_axes(axis, up, size, margin, "mean predicted probability", "observed rate")]
    body.append(_line(axis(0), up(0), axis(1), up(1), stroke=MUTED, stroke_dasharray="4 4"))
    kept = [
        b
        for b in bins
        if math.isfinite(b.mean_score) and math.isfinite(b.positive_rate) and b.rows > 0
    ]
    if len(kept) > 1:
        path = " ".join(f"{_n(axis(b.mean_score))},{_n(up(b.positive_rate))}" for b in kept)
        body.append(_element("polyline", points=path, fill="none", stroke=ACCENT, stroke_width=1.5))
    most = max((b.rows for b in kept), default=1)
    for b in kept:
        radius = 3 + 6 * math.sqrt(b.rows / most)
        body.append(
            _element(
                "circle",
                cx=_n(axis(b.mean_score)),
                cy=_n(up(b.positive_rate)),
                r=_n(radius),
                fill=ACCENT,
                fill_opacity=0.6,
                stroke=ACCENT,
            )
        )
    return _svg(size, size, "calibration: observed rate against predicted probability", body)


def _square_axes(
    axis: Scale, up: Scale, size: int, margin: int, x_title: str, y_title: str
) -> Iterator[str]:
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        yield _line(axis(tick), up(0), axis(tick), up(1), stroke=GRID)
        yield _line(axis(0), up(tick), axis(1), up(tick), stroke=GRID)
        yield _text(
            axis(tick), up(0) + 13, number(tick), text_anchor="middle", font_size=9, fill=MUTED
        )
        yield _text(
            axis(0) - 4, up(tick) + 3, number(tick), text_anchor="end", font_size=9, fill=MUTED
        )
    yield _text((axis(0) + axis(1)) / 2, size - 4, x_title, text_anchor="middle", fill=MUTED)
    middle = (up(0) + up(1)) / 2
    yield _text(
        10,
        middle,
        y_title,
        text_anchor="middle",
        fill=MUTED,
        transform=f"rotate(-90 10 {_n(middle)})",
    )


def confusion(labels: Sequence[str], counts: Sequence[Sequence[int]]) -> str:
    """Counts of true (rows) against predicted (columns) labels, shaded by the share of the row."""
    size = len(labels)
    cell = max(24, min(80, 320 // max(size, 1)))
    left, top = 90, 44
    width, height = left + cell * size + 12, top + cell * size + 12
    body = [
        _text(left + cell * size / 2, 12, "predicted", text_anchor="middle", fill=MUTED),
        _text(
            12,
            top + cell * size / 2,
            "true",
            text_anchor="middle",
            fill=MUTED,
            transform=f"rotate(-90 12 {_n(top + cell * size / 2)})",
        ),
    ]
    for column, label in enumerate(labels):
        body.append(
            _text(left + cell * column + cell / 2, top - 8, _short(label), text_anchor="middle")
        )
    for row, label in enumerate(labels):
        total = sum(counts[row]) if row < len(counts) else 0
        body.append(
            _text(left - 8, top + cell * row + cell / 2 + 4, _short(label), text_anchor="end")
        )
        for column in range(size):
            count = counts[row][column] if row < len(counts) and column < len(counts[row]) else 0
            share = count / total if total else 0.0
            colour = PASS if row == column else FAIL
            x0, y0 = left + cell * column, top + cell * row
            body.append(
                _element(
                    "rect",
                    x=x0,
                    y=y0,
                    width=cell - 2,
                    height=cell - 2,
                    fill=colour,
                    fill_opacity=_n(0.08 + 0.8 * share) if share else 0.04,
                    rx=3,
                )
            )
            ink = "#ffffff" if share > 0.55 else INK
            body.append(
                _text(
                    x0 + cell / 2 - 1,
                    y0 + cell / 2 - (2 if cell >= 40 else -3),
                    f"{count:,}",
                    text_anchor="middle",
                    font_size=11 if cell >= 40 else 9,
                    fill=ink,
                    font_weight="bold",
                )
            )
            if cell >= 40:
                body.append(
                    _text(
                        x0 + cell / 2 - 1,
                        y0 + cell / 2 + 12,
                        f"{share:.0%}",
                        text_anchor="middle",
                        font_size=9,
                        fill=ink,
                    )
                )
    return _svg(width, height, "confusion matrix", body)


def _short(label: str, limit: int = 12) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
