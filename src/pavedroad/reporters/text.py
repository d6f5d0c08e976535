"""The text report, for people: grouped by family, gaps first, one summary line at the end."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from pavedroad.reporters import Report
from pavedroad.results import Result, Status

MARKS = {
    Status.FAIL: ("✗", "red"),
    Status.ERROR: ("!", "magenta"),
    Status.WAIVED: ("~", "yellow"),
    Status.SKIP: ("-", "dim"),
    Status.PASS: ("✓", "green"),
}
ORDER = {status: rank for rank, status in enumerate(MARKS)}


def render(report: Report) -> str:
    """Plain text (no colour), for files and for tests; wide, so that a message is one line."""
    buffer = io.StringIO()
    write(report, Console(file=buffer, color_system=None, width=240))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def write(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Print the report on a console; passes and skips are one line each, gaps carry the fix."""
    verdict = report.verdict
    console.print(
        f"[bold]pavedroad {report.tool_version}[/] · {escape(report.project_name)}",
        highlight=False,
    )
    by_family: dict[str, list[Result]] = {}
    for result in verdict.results:
        by_family.setdefault(result.family, []).append(result)
    for code in sorted(by_family, key=lambda c: (min(ORDER[r.status] for r in by_family[c]), c)):
        results = sorted(by_family[code], key=lambda r: (ORDER[r.status], r.id))
        console.print()
        console.print(
            f"[bold]{code}[/]  {escape(report.families.get(code, code))}", highlight=False
        )
        console.print(Padding(_rows(results, verbose=verbose), (0, 0, 0, 2)))
    if report.extra.get("metrics") or report.extra.get("budgets"):
        console.print()
        console.print(
            _measures(
                report.extra.get("metrics", {}),
                report.extra.get("budgets", {}),
                str(report.extra.get("compared_with", "baseline")),
            )
        )
    console.print()
    style = "bold green" if verdict.ready else "bold red"
    console.print(f"[{style}]{escape(verdict.summary())}[/]", highlight=False)


def _rows(results: Iterable[Result], *, verbose: bool) -> Table:
    """One row per result; a long message wraps under itself, not under the check id."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    for result in results:
        mark, style = MARKS[result.status]
        table.add_row(Text(f"{mark} {result.id}", style=style), _body(result, verbose=verbose))
    return table


def _body(result: Result, *, verbose: bool) -> Text:
    body = Text(result.message)
    gap = result.status in (Status.FAIL, Status.ERROR)
    where = str(result.location) if result.location else None
    if where and where not in result.message and (gap or result.status is Status.WAIVED):
        body.append(f"\nat {where}", style="dim")
    if gap and result.fix:
        body.append(f"\nfix: {result.fix.strip()}", style="cyan")
    elif verbose and result.status is Status.WAIVED and result.fix:
        body.append(f"\nfix: {result.fix.strip()}", style="dim")
    return body


MEASURE_STYLES = {"pass": "green", "fail": "red", "regressed": "red", "error": "magenta"}


def _measures(
    metrics: Mapping[str, Mapping[str, Any]], budgets: Mapping[str, Any], compared_with: str
) -> Table:
    """`paved evaluate`'s numbers at a glance: each metric and budget, its limit, and what it
    is compared with (the accepted baseline; for `paved repro`, the local run)."""
    table = Table(title="measured", title_justify="left", box=None, padding=(0, 2))
    for header in ("measure", "value", "limit", compared_with, "status"):
        table.add_column(
            header,
            justify="right" if header in ("value", compared_with) else "left",
            overflow="fold",  # a slice's name is read whole, never cut with an ellipsis
        )
    for name, row in metrics.items():
        table.add_row(
            escape(name),
            _number(row.get("value")),
            _limit(row.get("min"), row.get("max")),
            _number(row.get("baseline")),
            _status(row.get("status")),
        )
    for name, row in budgets.items():
        table.add_row(
            escape(name),
            _number(row.get("value")),
            _limit(row.get("min"), row.get("max")),
            "",
            _status(row.get("status")),
        )
    return table


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "n/a"


def _limit(low: object, high: object) -> str:
    parts = []
    if isinstance(low, int | float):
        parts.append(f">= {low:g}")
    if isinstance(high, int | float):
        parts.append(f"<= {high:g}")
    return ", ".join(parts)


def _status(status: object) -> str:
    if status is None:
        return "[dim]no budget[/]"
    style = MEASURE_STYLES.get(str(status), "dim")
    return f"[{style}]{escape(str(status))}[/]"
