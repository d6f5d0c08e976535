"""The packet as a page: HTML (self-contained: styles and SVG inline, no script, no network) or
Markdown (for a repository or a pull request). Jinja2 renders both, with autoescape on for HTML.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markdown_it import MarkdownIt

from pavedroad.errors import UsageError
from pavedroad.report import plots
from pavedroad.report.packet import BudgetView, MetricView, Packet
from pavedroad.reporters import markdown as markdown_reporter
from pavedroad.results import Status

if TYPE_CHECKING:
    import jinja2
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

LATENCY = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")


def require() -> None:
    """Fail before any check runs, with the install command, when jinja2 is missing."""
    if importlib.util.find_spec("jinja2") is None:
        raise UsageError(
            "writing the handoff report needs jinja2, not installed here.\n"
            "  hint: pip install 'pavedroad[report]'"
        )


@dataclass(frozen=True)
class Plots:
    """Each plot as SVG text; empty when the data for it is missing."""

    metrics: dict[str, str]  # overall metric key -> its history against its threshold
    slices: dict[str, str]  # metric -> its slices
    latency: str = ""
    memory: str = ""
    throughput: str = ""
    roc: str = ""
    calibration: str = ""
    confusion: str = ""


def html(packet: Packet) -> str:
    return (
        _environment(autoescape=True)
        .get_template("handoff.html.jinja")
        .render(**_context(packet), plots=draw(packet))
    )


def markdown(packet: Packet) -> str:
    # The PR comment's verdict, gaps table and folded passes, without its update marker.
    scorecard = markdown_reporter.render(packet.report).split("\n", 1)[1]
    return (
        _environment(autoescape=False)
        .get_template("handoff.md.jinja")
        .render(**_context(packet), scorecard=scorecard.replace("## ", "### ", 1))
    )


def _context(packet: Packet) -> dict[str, Any]:
    verdict = packet.report.verdict
    return {
        "p": packet,
        "verdict": verdict,
        "statuses": list(Status),
    }


def draw(packet: Packet) -> Plots:
    measured = packet.measured
    metrics = {
        m.key: plots.metric_history(
            m.key,
            [(p.when, p.value, p.accepted) for p in m.history],
            current=m.value if measured.fresh else None,
            low=m.low,
            high=m.high,
            baseline=m.baseline,
            status=m.status,
        )
        for m in measured.overall
    }
    overall = {m.metric: m for m in measured.overall}
    slices = {
        metric: plots.slices(
            metric,
            [(m.slice or "", m.value, m.rows, m.status) for m in rows],
            low=rows[0].low,
            high=rows[0].high,
            overall=overall[metric].value if metric in overall else None,
        )
        for metric, rows in measured.sliced.items()
    }
    budgets = {b.name: b for b in measured.budgets}
    curves = measured.curves
    auc = overall.get("roc_auc")
    return Plots(
        metrics=metrics,
        slices=slices,
        latency=_latency(measured.latency_samples, budgets),
        memory=_bars("peak memory against its budget", [budgets.get("peak_memory_mb")], "MB"),
        throughput=_bars(
            "batch throughput against its minimum", [budgets.get("throughput_rows_s")], "rows/s"
        ),
        roc=plots.roc(curves.roc.fpr, curves.roc.tpr, auc.value if auc else None)
        if curves and curves.roc
        else "",
        calibration=plots.calibration(curves.calibration) if curves and curves.calibration else "",
        confusion=plots.confusion(curves.confusion.labels, curves.confusion.counts)
        if curves and curves.confusion
        else "",
    )


def _latency(samples: Sequence[float], budgets: dict[str, BudgetView]) -> str:
    rows = [budgets[name] for name in LATENCY if name in budgets]
    if samples:
        short = {name: name.split("_")[1] for name in LATENCY}
        return plots.latency(
            samples,
            {short[b.name]: b.value for b in rows},
            {short[b.name]: b.limit for b in rows},
        )
    return _bars("single-row latency percentiles against their budgets", rows, "ms")


def _bars(title: str, rows: Sequence[BudgetView | None], unit: str) -> str:
    kept = [b for b in rows if b is not None and (b.value is not None or b.limit is not None)]
    if not kept:
        return ""
    return plots.budget_bars(
        title,
        [(_label(b.name), b.value, b.limit, b.minimum, b.status) for b in kept],
        unit,
    )


def _label(name: str) -> str:
    return {
        "peak_memory_mb": "peak RSS",
        "throughput_rows_s": "rows per second",
    }.get(name, name.replace("latency_", "").replace("_ms", ""))


# -- filters ------------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return plots.number(value)


def _threshold(metric: MetricView) -> str:
    parts = []
    if metric.low is not None:
        parts.append(f">= {plots.number(metric.low)}")
    if metric.high is not None:
        parts.append(f"<= {plots.number(metric.high)}")
    return ", ".join(parts) or "none"


def _limit(budget: BudgetView) -> str:
    if budget.limit is None:
        return "no budget"
    return f"{'>=' if budget.minimum else '<='} {plots.number(budget.limit)}"


def _spark(metric: MetricView) -> str:
    return plots.sparkline([p.value for p in metric.history])


def _prose(text: str) -> Any:
    """A project document's Markdown as HTML: its own HTML escaped, links reduced to their
    text and images to their alt text, so the page never points outside itself."""
    from markupsafe import Markup

    return Markup(_prose_parser().render(text))


def _prose_inline(text: str) -> Any:
    """One line of a project document (a table row's cells), its inline Markdown as HTML."""
    from markupsafe import Markup

    return Markup(_prose_parser().renderInline(text))


def _code_spans(text: str) -> Any:
    """A check's message or fix: escaped, with its `code spans` set as code."""
    from markupsafe import Markup, escape

    pieces = _CODE_SPAN.split(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(p[1:-1]) if i % 2 else escape(p)
        for i, p in enumerate(pieces)
    )


def _text_only(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return ""


def _alt_text(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return self.renderInline(tokens[idx].children or [], options, env)


@functools.cache
def _prose_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    parser.add_render_rule("link_open", _text_only)
    parser.add_render_rule("link_close", _text_only)
    parser.add_render_rule("image", _alt_text)
    return parser


@functools.cache
def _environment(*, autoescape: bool) -> jinja2.Environment:
    """One environment per escaping mode, so each template is compiled once per process."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pavedroad.report", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        number=_number,
        threshold=_threshold,
        limit=_limit,
        spark=_spark,
        prose=_prose,
        prose_inline=_prose_inline,
        codes=_code_spans,
        cell=markdown_reporter.cell,
        inline=markdown_reporter.inline,
    )
    return environment
