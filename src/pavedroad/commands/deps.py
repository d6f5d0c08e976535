"""`paved deps`: imports against declared dependencies, with the same reporters as `check`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pavedroad import result_cache
from pavedroad.commands.options import format_option, output_option

if TYPE_CHECKING:
    from pavedroad.project import Project
    from pavedroad.reporters import Report

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
    asked = result_cache.query(path, format_, output=output, fix=fix)
    if asked is not None and (answer := result_cache.lookup(asked)) is not None:
        click.echo(answer.output, nl=False)  # nothing the report was computed from changed
        return answer.exit_code
    return _run(path, format_, output, fix, asked)


def _run(
    path: Path, format_: str, output: Path | None, fix: bool, asked: result_cache.Query | None
) -> int:
    # Imported here: a cache hit needs none of it.
    from pavedroad.commands.pipeline import emit
    from pavedroad.reporters import Format, renderer

    project = _project(path)
    tree = result_cache.tree_digest(project.root, project.listing) if asked is not None else ""
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
    exit_code = 0 if report.verdict.ready else 1
    if asked is None:
        emit(report, Format(format_), output)
        return exit_code
    answer = result_cache.Answer(renderer(Format(format_))(report), exit_code)
    click.echo(answer.output, nl=False)
    read = _read_outside_tree(project)
    result_cache.store(asked, project.root, tree, read, answer, contract_found=_found(project))
    return exit_code


def _project(path: Path) -> Project:
    from pavedroad.contract import empty_contract, load_contract, search_contract
    from pavedroad.project import Project

    contract = search_contract(path)
    if contract is None:
        return Project(path, empty_contract(path.resolve()))
    return Project(contract.parent, load_contract(contract))


def _report(project: Project) -> Report:
    from pavedroad import engine
    from pavedroad.checks import dep
    from pavedroad.commands.pipeline import evaluate

    return evaluate(project, [dep.family], engine.Selection(skip=frozenset({"CON001"})))


def _missing_requirements(project: Project, report: Report) -> list[str]:
    """`name==installed` for each DEP001 gap; a package not installed here is added unpinned.
    A gap's subject is the import name when several distributions provide it (`cv2`): the
    distribution to add is the one DEP001 suggests, never the import name."""
    from pavedroad.checks import dep
    from pavedroad.distributions import installed_version
    from pavedroad.results import Status

    suggested = {need.subject: need.candidates[0] for need in dep.needs(project)}
    requirements = []
    for result in report.verdict.results:
        if result.id == MISSING and result.status is Status.FAIL and result.subject:
            name = suggested.get(result.subject, result.subject)
            version = installed_version(name)
            requirements.append(f"{name}=={version}" if version else name)
    return requirements


def _found(project: Project) -> bool:
    """Whether the run was governed by a contract file (else the search went up to /)."""
    return project.loaded.path.is_file()


def _read_outside_tree(project: Project) -> list[Path]:
    """The files the DEP checks read beside the tree's own: the contract and its bases, the
    declared-dependency files (a `-r ../common.txt` include), the artifact. Those inside the tree
    are listed too: harmless, and simpler than telling them apart."""
    from pavedroad.declared import declarations

    files = [source.path for source in project.loaded.sources]
    files.extend(declarations(project).sources)
    model = project.contract.model
    if model is not None and model.artifact is not None:
        files.append(project.root / model.artifact)
    return files
