"""`paved check [PATH]`: evaluate the contract, READY (exit 0) or NOT READY (exit 1)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from pavedroad import engine
from pavedroad.commands.options import contract_option, format_option, output_option
from pavedroad.commands.pipeline import emit, evaluate, families
from pavedroad.contract import find_contract, load_contract
from pavedroad.project import Project
from pavedroad.reporters import Format

EXIT_READY, EXIT_NOT_READY = 0, 1  # cli.EXIT_READY, cli.EXIT_NOT_READY


@click.command("check")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--only",
    multiple=True,
    metavar="IDS",
    help="Run only these checks or families (comma-separated).",
)
@click.option(
    "--skip", multiple=True, metavar="IDS", help="Skip these checks or families (comma-separated)."
)
@click.option("--static", is_flag=True, help="Skip dynamic checks: run no project code.")
@format_option
@output_option
@contract_option
@click.option("--verbose", "-v", is_flag=True, help="Show waiver details.")
def check(
    path: Path,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    static: bool,
    format_: str,
    output: Path | None,
    contract_path: Path | None,
    verbose: bool,
) -> int:
    """Evaluate the contract on the project at PATH: READY (exit 0) or NOT READY (exit 1)."""
    if contract_path is None:
        contract_path = find_contract(path)
        path = contract_path.parent  # the project is where its contract is
    project = Project(path, load_contract(contract_path))
    found, failures = families()
    selection = engine.Selection(only=_ids(only), skip=_ids(skip), static=static)
    report = evaluate(project, found, selection, failures)
    emit(report, Format(format_), output, verbose=verbose)
    return EXIT_READY if report.verdict.ready else EXIT_NOT_READY


def _ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(
        part.strip().upper() for value in values for part in value.split(",") if part.strip()
    )
