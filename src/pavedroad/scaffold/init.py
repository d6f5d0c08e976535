"""`paved init`: a starting handoff.toml for a project that has none, from what is there.

`inspect` gathers the facts (the inference modules read files and ASTs; nothing of the project
runs), `contract_text` writes them as TOML, and `write` checks that the text loads as a contract
before it replaces anything, atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pavedroad.contract import Contract, empty_contract
from pavedroad.contract_file import CONTRACT_FILE, PYPROJECT
from pavedroad.errors import UsageError
from pavedroad.fileio import write_atomic
from pavedroad.project import Project
from pavedroad.scaffold import infer_code, infer_files
from pavedroad.scaffold.findings import Findings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def inspect(root: Path) -> Findings:
    """Everything `paved init` can tell about the project at `root` without running it."""
    project = Project(root, empty_contract(root.resolve()))
    found = list(infer_files.files(project.root))
    packages = infer_code.packages(project)
    package = packages[0] if packages else None
    return Findings(
        name=_name(project),
        package=package,
        other_packages=tuple(packages[1:]),
        entry_points=tuple(infer_code.entry_points(project)),
        dependencies=infer_files.dependencies(project),
        artifact=infer_files.artifact(project, found),
        schemas=tuple(infer_code.schemas(project)),
        predict_candidates=tuple(infer_code.predict_candidates(project)),
        apps=tuple(infer_code.web_apps(project)),
        datasets=infer_files.datasets(project, found),
        tests=len(project.test_files),
        modules=tuple(infer_code.source_modules(project, package)),
        docs=infer_files.docs(project),
        env=infer_code.environment(project),
        notebooks=infer_files.notebook_paths(project),
    )


def _name(project: Project) -> str:
    table = (project.pyproject or {}).get("project")
    name = table.get("name") if isinstance(table, dict) else None
    return name if isinstance(name, str) and name else project.root.name


def existing_contract(root: Path) -> Path | None:
    """The contract `paved init` would replace: handoff.toml, or [tool.paved] in pyproject."""
    handoff = root / CONTRACT_FILE
    if handoff.is_file():
        return handoff
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            return None
        if isinstance(tool, dict) and "paved" in tool:
            return pyproject
    return None


def write(root: Path, text: str, *, force: bool) -> Path:
    """Write handoff.toml at `root`, refusing to replace a contract unless `force`."""
    existing = existing_contract(root)
    if existing is not None and not force:
        where = existing.name if existing.name == CONTRACT_FILE else f"[tool.paved] in {PYPROJECT}"
        raise UsageError(
            f"{root / existing.name} already holds a contract ({where}): `paved init` never "
            "replaces one\n  hint: `paved check` shows its gaps; --force writes a new "
            f"{CONTRACT_FILE} from what the project holds now"
        )
    Contract.model_validate(tomllib.loads(text))  # a bug here must not reach the user's disk
    path = root / CONTRACT_FILE
    try:
        write_atomic(path, text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    return path
