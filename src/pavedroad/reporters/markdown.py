"""The Markdown report, for a pull-request comment: the verdict, a table of gaps, the rest folded.

GitHub and GitLab render it; the marker comment on the first line lets a CI job find and update
its previous comment instead of adding a new one on every push.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

from pavedroad.reporters import Report
from pavedroad.results import Result, Status

MARKER = "<!-- pavedroad-report -->"
ICONS = {
    Status.FAIL: "❌",
    Status.ERROR: "⚠️",
    Status.WAIVED: "〰️",
    Status.SKIP: "⏭️",
    Status.PASS: "✅",
}
COLUMNS = ("Status", "Check", "Subject", "Message", "Location", "Fix")
FOLDED = (Status.WAIVED, Status.SKIP, Status.PASS)
_CODE_SPAN = re.compile(r"(`[^`\n]*`)")


def render(report: Report) -> str:
    verdict = report.verdict
    icon = "✅" if verdict.ready else "❌"
    lines = [
        MARKER,
        f"## {icon} {verdict.label}: {inline(report.project_name)}",
        "",
        f"**{inline(verdict.summary())}**",
        "",
        *_gaps(verdict.gaps()),
        *_folded([r for r in verdict.results if r.status in FOLDED], report.families),
        f"<sub>pavedroad {report.tool_version}</sub>",
    ]
    return "\n".join(lines) + "\n"


def _gaps(gaps: list[Result]) -> Iterable[str]:
    if not gaps:
        yield "No gaps: every enforced check passed."
        yield ""
        return
    yield _row(COLUMNS)
    yield _row(["---"] * len(COLUMNS))
    for gap in gaps:
        yield _row(
            [
                f"{ICONS[gap.status]} {gap.status.value}",
                f"`{gap.id}`",
                cell(gap.subject or ""),
                cell(gap.message),
                _code(str(gap.location)) if gap.location else "",
                cell(gap.fix or ""),
            ]
        )
    yield ""


def _folded(results: list[Result], families: Mapping[str, str]) -> Iterable[str]:
    if not results:
        return
    counts = ", ".join(
        f"{sum(r.status is status for r in results)} {status.value}"
        for status in FOLDED
        if any(r.status is status for r in results)
    )
    by_family: dict[str, list[Result]] = {}
    for result in results:
        by_family.setdefault(result.family, []).append(result)
    yield "<details>"
    yield f"<summary>Passes, skips and waivers: {counts}</summary>"
    yield ""
    for code, members in by_family.items():
        yield f"#### {code} · {inline(families.get(code, code))}"
        yield ""
        for result in members:
            subject = f" ({inline(result.subject)})" if result.subject else ""
            yield (
                f"- {ICONS[result.status]} {result.status.value} `{result.id}`{subject}: "
                f"{inline(result.message)}"
            )
        yield ""
    yield "</details>"
    yield ""


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def inline(text: str) -> str:
    """Text safe on one Markdown line: HTML neutralised, line breaks joined."""
    return " ".join(_no_html(text).split())


def cell(text: str) -> str:
    """Text safe in a table cell: a pipe would end the cell, a newline the row."""
    escaped = _no_html(text).replace("|", "\\|")
    return "<br>".join(" ".join(line.split()) for line in escaped.strip().splitlines())


def _no_html(text: str) -> str:
    """`<package>` would vanish as an unknown tag; inside a code span it already shows as is."""
    pieces = _CODE_SPAN.split(text)
    return "".join(p if i % 2 else html.escape(p, quote=False) for i, p in enumerate(pieces))


def _code(text: str) -> str:
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`"
