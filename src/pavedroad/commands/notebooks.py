"""`paved notebooks`: the NB audit of a project's notebooks, with the same reporters as `check`.

The static audit reads the notebooks and never runs them; it works with or without a contract
(without one, every .ipynb outside hidden and virtual-env folders is audited).
"""

from __future__ import annotations

from pathlib import Path

import click

from pavedroad import engine
from pavedroad.checks import nb
from pavedroad.commands.pipeline import emit, evaluate, format_option, output_option
from pavedroad.contract import empty_contract, load_contract, search_contract
from pavedroad.project import Project
from pavedroad.reporters import Format, Report
from pavedroad.results import Verdict


@click.command("notebooks")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@format_option
@output_option
def notebooks(path: Path, format_: str, output: Path | None) -> int:
    """Audit the notebooks without running them: execution order, hidden state, paths on one
    machine, secrets (redacted), installs from cells, unseeded randomness, error outputs and
    outputs too large to review. Works with or without a contract."""
    report = audit(_project(path))
    emit(report, Format(format_), output)
    return exit_code(report.verdict)


def _project(path: Path) -> Project:
    contract = search_contract(path)
    if contract is None:
        return Project(path, empty_contract(path.resolve()))
    return Project(contract.parent, load_contract(contract))


def audit(project: Project, *, execute: bool = False) -> Report:
    """The NB checks on `project`: the static ones, and the dynamic ones (which run the
    notebooks) only with `execute`. The waivers of other families are not judged here."""
    selection = engine.Selection(skip=frozenset({"CON001"}), static=not execute)
    return evaluate(project, [nb.family], selection)


def exit_code(verdict: Verdict) -> int:
    return 0 if verdict.ready else 1
