"""`paved deps --fix`: add missing requirements to pyproject.toml, keeping its formatting.

tomlkit edits the document in place, so comments, ordering and the style of the existing
array survive; the file is replaced atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import tomlkit
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Array, Table

from pavedroad.errors import UsageError
from pavedroad.fileio import write_atomic


def add_dependencies(pyproject: Path, requirements: Sequence[str]) -> list[str]:
    """Append each requirement not already in `[project].dependencies`; return those added."""
    if not pyproject.is_file():
        raise UsageError(
            f"--fix needs a pyproject.toml with a [project] table; {pyproject} does not exist.\n"
            "  hint: create it (`uv init --bare` writes a minimal one), then run `paved deps --fix`."
        )
    try:
        document = tomlkit.parse(pyproject.read_text(encoding="utf-8"))
    except (TOMLKitError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot edit {pyproject}: {error}") from None
    project = document.get("project")
    if not isinstance(project, Table):
        raise UsageError(f"--fix needs a [project] table in {pyproject}")
    dependencies = project.get("dependencies")
    if dependencies is None:
        dependencies = tomlkit.array()
        dependencies.multiline(True)
        project["dependencies"] = dependencies
    if not isinstance(dependencies, Array):
        raise UsageError(f"[project].dependencies in {pyproject} is not an array")
    present = {canonicalize_name(Requirement(str(item)).name) for item in dependencies}
    added = [
        requirement
        for requirement in requirements
        if canonicalize_name(Requirement(requirement).name) not in present
    ]
    if not added:
        return []
    if len(dependencies) + len(added) > 1:
        dependencies.multiline(True)
    for requirement in added:
        dependencies.append(requirement)
    write_atomic(pyproject, tomlkit.dumps(document))
    return added
