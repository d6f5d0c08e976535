"""`paved deps --fix`: add missing requirements to pyproject.toml, keeping its formatting.

tomlkit edits the document in place, so comments, ordering, the style of the existing
array and the line endings survive; the file is replaced atomically, keeping its permissions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
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
        # bytes, not read_text: universal newlines would turn a CRLF file into LF on write
        original = pyproject.read_bytes().decode("utf-8")
        document = tomlkit.parse(original)
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
    present = {name for item in dependencies if (name := _name(item)) is not None}
    added = [requirement for requirement in requirements if _name(requirement) not in present]
    if not added:
        return []
    if len(dependencies) + len(added) > 1:
        dependencies.multiline(True)
    for requirement in added:
        dependencies.append(requirement)
    write_atomic(pyproject, _same_line_endings(tomlkit.dumps(document), original))
    return added


def _same_line_endings(text: str, original: str) -> str:
    """CRLF throughout when the file was CRLF: tomlkit writes the lines it adds with LF."""
    if "\r\n" in original and "\n" not in original.replace("\r\n", ""):
        return text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text


def _name(requirement: object) -> str | None:
    """The canonical name of a requirement string; None for a line DEP009 reports as invalid."""
    try:
        return canonicalize_name(Requirement(str(requirement)).name)
    except InvalidRequirement:
        return None
