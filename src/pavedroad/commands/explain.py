"""`paved explain [ID]`: why a check matters and how to fix its gap, from its docstring."""

from __future__ import annotations

import difflib

import click
from rich.console import Console
from rich.markup import escape

from pavedroad.commands.pipeline import catalogue, families
from pavedroad.errors import UsageError
from pavedroad.registry import Check

EXIT_READY = 0  # cli.EXIT_READY; an unknown id raises a UsageError (exit 2)


@click.command("explain")
@click.argument("check_id", required=False)
def explain(check_id: str | None) -> int:
    """Why a check matters and how to fix its gap; without ID, list every check."""
    checks = catalogue(families()[0])
    console = Console(highlight=False)
    if check_id is None:
        for check_ in checks.values():
            console.print(f"[bold]{check_.id}[/]  {escape(check_.title)}")
        return EXIT_READY
    wanted = check_id.upper()
    if wanted not in checks:
        close = difflib.get_close_matches(wanted, list(checks), n=1)
        codes = ", ".join(sorted({c.family for c in checks.values()}))
        hint = f" (did you mean {close[0]}?)" if close else f" (the families are {codes})"
        raise UsageError(f"no check {check_id!r}{hint}; `paved explain` lists them all")
    from rich.markdown import Markdown  # 40 ms of imports only `explain ID` needs

    console.print(Markdown(explanation(checks[wanted])))
    return EXIT_READY


def explanation(check_: Check) -> str:
    """The Markdown shown by `paved explain`, built from the check's docstring."""
    flags = []
    if check_.section:
        flags.append(f"enforced when the contract has `[{check_.section}]`")
    if check_.dynamic:
        flags.append("dynamic: runs project code, skipped by `--static`")
    if check_.requires:
        flags.append("requires " + ", ".join(check_.requires))
    meta = f"*{'; '.join(flags)}*\n\n" if flags else ""
    return f"# {check_.id}: {check_.title}\n\n{meta}{check_.doc.markdown()}\n"
