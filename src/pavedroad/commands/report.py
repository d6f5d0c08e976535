"""`paved report [PATH]`: the handoff packet, as a self-contained HTML page or as Markdown."""

from __future__ import annotations

from pathlib import Path

import click

from pavedroad import engine
from pavedroad.commands.options import contract_option
from pavedroad.commands.pipeline import evaluate, families
from pavedroad.contract import find_contract, load_contract
from pavedroad.errors import UsageError
from pavedroad.fileio import write_atomic
from pavedroad.project import Project

EXIT_READY, EXIT_NOT_READY = 0, 1  # cli.EXIT_READY, cli.EXIT_NOT_READY
DEFAULT_HTML = Path("handoff.html")
STDOUT = Path("-")


@click.command("report")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format",
    "format_",
    type=click.Choice(["html", "markdown"]),
    default="html",
    show_default=True,
    help="A self-contained page, or Markdown for a repository or a pull request.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the packet to FILE (atomically); `-` prints it. Default: handoff.html in the "
    "current folder for html, standard output for markdown.",
)
@click.option(
    "--static",
    is_flag=True,
    help="Run no project code: skip the dynamic checks, read the schemas from their source, and "
    "show the last recorded evaluation instead of a new one.",
)
@contract_option
def report(
    path: Path, format_: str, output: Path | None, static: bool, contract_path: Path | None
) -> int:
    """Write the handoff packet of the project at PATH: the verdict and its gaps, the model card
    (schemas, metrics, slices, budgets, documents, owners, settings), plots, and the environment.
    Exit 0 when READY, 1 when NOT READY, as `paved check`."""
    from pavedroad.report import render
    from pavedroad.report.gather import gather

    render.require()  # before the checks run, which may take minutes
    if contract_path is None:
        contract_path = find_contract(path)
        path = contract_path.parent
    project = Project(path, load_contract(contract_path))
    found, failures = families()
    checked = evaluate(project, found, engine.Selection(static=static), failures)
    packet = gather(project, checked, static=static)
    text = render.html(packet) if format_ == "html" else render.markdown(packet)
    target = output or (DEFAULT_HTML if format_ == "html" else STDOUT)
    if target == STDOUT:
        click.echo(text, nl=False)
        click.echo(checked.verdict.summary(), err=True)
    else:
        try:
            write_atomic(target, text)
        except OSError as error:
            raise UsageError(f"cannot write the report to {target}: {error.strerror}") from None
        click.echo(checked.verdict.summary())
        click.echo(f"{format_} report written to {target}")
    return EXIT_READY if checked.verdict.ready else EXIT_NOT_READY
