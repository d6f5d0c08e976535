"""The text report, for people: grouped by family, gaps first, one summary line at the end."""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

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
    """Plain text (no colour), for files and for tests."""
    buffer = io.StringIO()
    write(report, Console(file=buffer, color_system=None, width=100, soft_wrap=True))
    return buffer.getvalue()


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
        for result in results:
            _line(console, result, verbose=verbose)
    console.print()
    style = "bold green" if verdict.ready else "bold red"
    console.print(f"[{style}]{escape(verdict.summary())}[/]", highlight=False)


def _line(console: Console, result: Result, *, verbose: bool) -> None:
    mark, style = MARKS[result.status]
    where = f"  [dim]{escape(str(result.location))}[/]" if result.location else ""
    console.print(
        f"  [{style}]{mark} {result.id}[/]  {escape(result.message)}{where}", highlight=False
    )
    if result.status in (Status.FAIL, Status.ERROR) and result.fix:
        for line in _wrap_fix(result.fix):
            console.print(f"            [cyan]{escape(line)}[/]", highlight=False)
    elif verbose and result.status is Status.WAIVED and result.fix:
        console.print(f"            [dim]{escape(result.fix)}[/]", highlight=False)


def _wrap_fix(fix: str) -> Iterable[str]:
    lines = fix.strip().splitlines()
    yield f"fix: {lines[0]}"
    yield from (f"     {line}" for line in lines[1:])
