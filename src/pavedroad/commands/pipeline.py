"""Evaluate checks on a project and emit the report: shared by `paved check` and `paved deps`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from pavedroad import engine
from pavedroad.errors import UsageError
from pavedroad.fileio import write_atomic
from pavedroad.imports import import_index
from pavedroad.project import Project
from pavedroad.registry import Check, Family, PluginFailure, builtin_families, plugin_families
from pavedroad.reporters import Format, Report, renderer
from pavedroad.results import Verdict

INDEX_FAMILY = "DEP"  # the family whose checks read the import index


def evaluate(
    project: Project,
    families: Sequence[Family],
    selection: engine.Selection,
    failures: Sequence[PluginFailure] = (),
) -> Report:
    """Run the checks, showing the one running on stderr (it only animates on a terminal, so
    reports on stdout stay clean), and wrap the verdict with what reporters need."""
    # The import index parses in forked workers, which is only safe while no other thread runs:
    # build it before the spinner's thread starts (a per-run fact, so the checks reuse it), and
    # only when a selected check reads it: `--only MOD001` must not parse the whole tree.
    if any(c.family == INDEX_FAMILY and selection.picks(c) for f in families for c in f.checks):
        import_index(project)
    with _spinner("checking") as update:
        verdict = engine.run(
            project,
            families,
            selection,
            plugin_failures=failures,
            on_check=lambda check: update(f"{check.id}  {check.title}"),
        )
    return report_of(project, families, verdict)


def families() -> tuple[list[Family], list[PluginFailure]]:
    """The built-in families, then the plugins' (and the plugins that failed to load)."""
    plugins, failures = plugin_families()
    return [*builtin_families(), *plugins], failures


@contextmanager
def _spinner(text: str) -> Iterator[Callable[[str], None]]:
    """rich's status spinner on stderr when stderr is a terminal; else nothing, without
    importing rich (30 ms, and a refresh thread) for a spinner that would show nothing."""
    if not _may_be_terminal():
        yield lambda _: None
        return
    from rich.console import Console

    with Console(stderr=True).status(text, spinner="dots") as status:
        yield status.update


def _may_be_terminal() -> bool:
    """False only where rich's Console.is_terminal is certainly False for stderr, by rich's own
    rules: TTY_COMPATIBLE=0, or no TTY_COMPATIBLE=1, no FORCE_COLOR and no tty."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    if os.environ.get("FORCE_COLOR") is not None:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def catalogue(families: Iterable[Family]) -> dict[str, Check]:
    """Every check by id, the engine's own CON checks included."""
    return {c.id: c for f in (*families, engine.META) for c in f.checks}


def report_of(project: Project, families: Sequence[Family], verdict: Verdict) -> Report:
    meta = project.contract.contract
    return Report(
        verdict=verdict,
        checks=catalogue(families),
        families={f.code: f.name for f in (*families, engine.META)},
        project_name=meta.name if meta and meta.name else project.root.name,
        contract_path=project.rel(project.loaded.path),
    )


def emit(report: Report, format_: Format, output: Path | None, *, verbose: bool = False) -> None:
    """Write the report to `output` atomically (the text report still goes to the terminal, so
    a CI log stays readable), or print it."""
    if output is not None:
        try:
            write_atomic(output, renderer(format_)(report))
        except OSError as error:
            raise UsageError(f"cannot write the report to {output}: {error.strerror}") from None
    if output is not None or format_ is Format.TEXT:
        from rich.console import Console

        from pavedroad.reporters import text as text_reporter

        text_reporter.write(report, Console(highlight=False), verbose=verbose)
        if output is not None:
            click.echo(f"{format_.value} report written to {output}")
    else:
        click.echo(renderer(format_)(report), nl=False)
