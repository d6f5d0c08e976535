"""Declared dependencies: what a project says it needs, in every place Python projects say it.

One reader per source, each in its own module: pyproject.toml (PEP 621, PEP 735, [tool.uv],
poetry), requirements files, setup.cfg, Pipfile, environment.yml, and the lock files uv.lock,
pylock.toml and hashed requirements. Every file that cannot be read, or entry that does not
parse, becomes a SourceProblem with its file and line: a messy project is analysed anyway.
"""

from __future__ import annotations

import os
from pathlib import Path

from pavedroad.declared.locks import candidates as lock_candidates
from pavedroad.declared.locks import lock_kind, read_pylock, read_uv_lock
from pavedroad.declared.model import Declarations, Declared, Found, Lock, SourceProblem
from pavedroad.declared.pipfile import read_pipfile
from pavedroad.declared.pyproject import read_pyproject
from pavedroad.declared.requirements_txt import read_requirements
from pavedroad.declared.setup_cfg import read_setup_cfg
from pavedroad.project import Project

__all__ = [
    "Declarations",
    "Declared",
    "Lock",
    "SourceProblem",
    "declarations",
    "read_declarations",
]


def _environment_files(root: Path, found: Found) -> None:
    """environment.yml and its variants (environment-dev.yml). PyYAML is imported only here,
    when there is one."""
    paths = sorted(
        p
        for pattern in ("environment*.yml", "environment*.yaml")
        for p in root.glob(pattern)
        if not p.name.startswith(".")
    )
    if not paths:
        return
    try:
        from pavedroad.declared.conda import read_environment
    except ModuleNotFoundError as error:
        if error.name != "yaml":
            raise
        for path in paths:
            found.problem(path, None, f"reading {path.name} needs PyYAML: `pip install pyyaml`")
        return
    for path in paths:
        read_environment(path, found)


def _contract_lock(project: Project) -> Path | None:
    section = project.contract.dependencies
    return project.root / section.lock if section is not None and section.lock else None


def _locks(root: Path, contract_lock: Path | None, found: Found) -> None:
    paths = lock_candidates(root)
    known = {os.path.realpath(p) for p in paths}
    if contract_lock and contract_lock.is_file() and os.path.realpath(contract_lock) not in known:
        paths.append(contract_lock)
    for path in paths:
        (read_pylock if lock_kind(path) == "pylock" else read_uv_lock)(path, found)


def read_declarations(project: Project) -> Declarations:
    """Every declaration of `project`, from every source found at its root."""
    found = Found()
    contract_lock = _contract_lock(project)
    kind = lock_kind(contract_lock) if contract_lock is not None else None
    read_pyproject(project, found)
    read_setup_cfg(project.root, found)
    read_pipfile(project.root, found)
    _environment_files(project.root, found)
    read_requirements(project.root, contract_lock if kind == "requirements" else None, found)
    _locks(project.root, contract_lock if kind in ("uv.lock", "pylock") else None, found)
    return Declarations(
        dependencies=tuple(found.dependencies),
        locks=tuple(found.locks),
        sources=tuple(found.sources),
        problems=tuple(found.problems),
    )


def declarations(project: Project) -> Declarations:
    """`read_declarations`, once per run however many checks ask."""
    return project.fact(read_declarations)
