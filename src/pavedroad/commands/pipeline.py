"""Evaluate checks on a project and emit the report: shared by `paved check` and `paved deps`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import click
from rich.console import Console

from pavedroad import engine
from pavedroad.errors import UsageError
from pavedroad.fileio import write_atomic
from pavedroad.imports import import_index
from pavedroad.project import Project
from pavedroad.registry import Check, Family, PluginFailure
from pavedroad.reporters import Format, Report, renderer
from pavedroad.reporters import text as text_reporter
from pavedroad.results import Verdict

INDEX_FAMILY = "DEP"  # the family whose checks read the import index

# The report options `check` and `deps` share, so both commands read and behave alike.
format_option = click.option(
    "--format",
    "format_",
    type=click.Choice([f.value for f in Format]),
    default="text",
    show_default=True,
    help="Report format.",
)
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (atomically); the text report still goes to the terminal.",
)


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
    with Console(stderr=True).status("checking", spinner="dots") as status:
        verdict = engine.run(
            project,
            families,
            selection,
            plugin_failures=failures,
            on_check=lambda check: status.update(f"{check.id}  {check.title}"),
        )
    return report_of(project, families, verdict)


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
        text_reporter.write(report, Console(highlight=False), verbose=verbose)
        if output is not None:
            click.echo(f"{format_.value} report written to {output}")
    else:
        click.echo(renderer(format_)(report), nl=False)
