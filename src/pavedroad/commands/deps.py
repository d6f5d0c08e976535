"""`paved deps`: imports against declared dependencies, with the same reporters as `check`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pavedroad import result_cache
from pavedroad.commands.options import format_option, output_option
from pavedroad.contract_file import search_contract
from pavedroad.tree import Listing, list_tree, source_roots, stat_or_none, walk

if TYPE_CHECKING:
    from pavedroad.imports import Scan
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
    walks: dict[Path, Listing] = {}  # a tree the cache lookup walked is not walked again

    def walker(root: Path) -> Listing:
        walks[root] = walks.get(root) or list_tree(root)
        return walks[root]

    asked = result_cache.query(path, format_, output=output, fix=fix)
    if asked is not None and (answer := result_cache.lookup(asked, walker)) is not None:
        click.echo(answer.output, nl=False)  # nothing the report was computed from changed
        return answer.exit_code
    # a miss: nothing from here on is imported by a hit
    from pavedroad.imports import Scan
    from pavedroad.workqueue import collector_paused

    found = search_contract(path)
    root = found.parent if found is not None else path.resolve()
    fingerprint = result_cache.Fingerprint() if asked is not None else None
    # No cyclic collection in a run this short: its passes over the imports' objects are a cost.
    with collector_paused(), Scan(root, src_layout=len(source_roots(root)) > 1) as scan:
        listing = _walk(root, walks.get(root), fingerprint, scan)
        tree = "" if fingerprint is None else fingerprint.hexdigest()
        # the workers parse while this process imports what the report needs
        return _run(found, root, listing, scan, format_, output, fix, asked, tree)


def _walk(
    root: Path, walked: Listing | None, fingerprint: result_cache.Fingerprint | None, scan: Scan
) -> Listing:
    """One pass over the tree (`walked`, when the cache lookup has listed it): every file is
    stat'ed once, for the result cache's fingerprint (taken before anything reads the file)
    and, for a .py file, for the scan, which hands it to the parse workers there and then."""
    listing = []
    for directory, files in walk(root) if walked is None else walked:
        listing.append((directory, files))
        # thousands of files: string operations, and a Path for a .py file only (as os.path.join
        # would: a root of "/" ends with the separator already)
        prefix = directory if directory.endswith(os.sep) else directory + os.sep
        for name in files:
            python = name.endswith(".py") and _is_python(name)
            if fingerprint is not None:
                stat = fingerprint.add(prefix + name)
                if python:
                    scan.add(Path(prefix + name), stat)
            elif python:
                scan.add(Path(prefix + name), stat_or_none(prefix + name))
    scan.flush()
    return tuple(listing)


def _is_python(name: str) -> bool:
    """A .py file as `Project.python_files` lists them (os.path.splitext: `.py` alone is none)."""
    return os.path.splitext(name)[1] == ".py"  # noqa: PTH122


def _run(
    found: Path | None,
    root: Path,
    listing: Listing,
    scan: Scan,
    format_: str,
    output: Path | None,
    fix: bool,
    asked: result_cache.Query | None,
    tree: str,
) -> int:
    # Imported here: a cache hit needs none of it.
    from pavedroad.commands.pipeline import emit
    from pavedroad.imports import started_scan
    from pavedroad.reporters import Format, renderer

    project = _project(found, root, listing)
    started: Scan | None = scan  # the fact's type: a project may have no started scan
    project.provide(started_scan, started)
    _meanwhile(project)
    report = _report(project)
    if fix:
        # tomlkit and rich only with --fix: the usual run, in a hook or an editor, needs neither
        from rich.console import Console

        from pavedroad.fix_deps import add_dependencies

        added = add_dependencies(project.pyproject_path, _missing_requirements(project, report))
        console = Console(stderr=True, highlight=False)
        if added:
            console.print(f"added to {project.rel(project.pyproject_path)}: {', '.join(added)}")
            report = _report(_project(found, root, None))  # read once: look again after the edit
        else:
            console.print("nothing to add: no missing package")
    exit_code = 0 if report.verdict.ready else 1
    if asked is None:
        emit(report, Format(format_), output)
        return exit_code
    answer = result_cache.Answer(renderer(Format(format_))(report), exit_code)
    click.echo(answer.output, nl=False)
    read = _read_outside_tree(project)
    result_cache.store(asked, project.root, tree, read, answer, contract_found=found is not None)
    return exit_code


def _project(found: Path | None, root: Path, listing: Listing | None) -> Project:
    """The project governed by the contract `found`, or by none, at `root`."""
    from pavedroad.contract import empty_contract, load_contract
    from pavedroad.project import Project

    loaded = empty_contract(root) if found is None else load_contract(found)
    return Project(root, loaded, listing)


def _meanwhile(project: Project) -> None:
    """What the checks will need besides the import index, read while the workers parse."""
    from pavedroad.declared import declarations
    from pavedroad.distributions import read_installed

    declarations(project)
    read_installed()


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
