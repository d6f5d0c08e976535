"""`paved deps`: imports against declared dependencies, with the same reporters as `check`."""

from __future__ import annotations

from pathlib import Path

import click

from pavedroad import engine
from pavedroad.checks import dep
from pavedroad.commands.pipeline import emit, evaluate, format_option, output_option
from pavedroad.contract import empty_contract, load_contract, search_contract
from pavedroad.distributions import installed_version
from pavedroad.project import Project
from pavedroad.reporters import Format, Report
from pavedroad.results import Status

MISSING = "DEP001"


@click.command("deps")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@format_option
@output_option
@click.option(
    "--fix",
    is_flag=True,
    help="Add the missing packages to pyproject.toml, pinned to the installed version.",
)
def deps(path: Path, format_: str, output: Path | None, fix: bool) -> int:
    """What the code and notebooks import against what is declared: missing, unused,
    transitive, unpinned, dev-only. Works with or without a contract."""
    project = _project(path)
    report = _report(project)
    if fix:
        # tomlkit and rich only with --fix: the usual run, in a hook or an editor, needs neither
        from rich.console import Console

        from pavedroad.fix_deps import add_dependencies

        added = add_dependencies(project.pyproject_path, _missing_requirements(project, report))
        console = Console(stderr=True, highlight=False)
        if added:
            console.print(f"added to {project.rel(project.pyproject_path)}: {', '.join(added)}")
            report = _report(_project(path))  # the view is read once: look again after the edit
        else:
            console.print("nothing to add: no missing package")
    emit(report, Format(format_), output)
    return 0 if report.verdict.ready else 1


def _project(path: Path) -> Project:
    contract = search_contract(path)
    if contract is None:
        return Project(path, empty_contract(path.resolve()))
    return Project(contract.parent, load_contract(contract))


def _report(project: Project) -> Report:
    return evaluate(project, [dep.family], engine.Selection(skip=frozenset({"CON001"})))


def _missing_requirements(project: Project, report: Report) -> list[str]:
    """`name==installed` for each DEP001 gap; a package not installed here is added unpinned.
    A gap's subject is the import name when several distributions provide it (`cv2`): the
    distribution to add is the one DEP001 suggests, never the import name."""
    suggested = {need.subject: need.candidates[0] for need in dep.needs(project)}
    requirements = []
    for result in report.verdict.results:
        if result.id == MISSING and result.status is Status.FAIL and result.subject:
            name = suggested.get(result.subject, result.subject)
            version = installed_version(name)
            requirements.append(f"{name}=={version}" if version else name)
    return requirements
