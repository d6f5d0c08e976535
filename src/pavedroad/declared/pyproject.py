"""pyproject.toml: PEP 621 [project] dependencies and extras, PEP 735 [dependency-groups],
[tool.uv] dev-dependencies, and poetry's tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from pavedroad.declared.model import RUNTIME, Found, extra_group
from pavedroad.declared.poetry import read_poetry
from pavedroad.declared.tables import error_line, requirement_array
from pavedroad.project import Project
from pavedroad.tomlpos import locate


def _declares(data: dict[str, Any]) -> bool:
    """Whether the file declares dependencies at all (a pyproject that only configures ruff
    does not make the project one that has a dependency file)."""
    tool = data.get("tool")
    tool = tool if isinstance(tool, dict) else {}
    uv = tool.get("uv")
    return (
        "project" in data
        or "dependency-groups" in data
        or "poetry" in tool
        or (isinstance(uv, dict) and "dev-dependencies" in uv)
    )


def read_pyproject(project: Project, found: Found) -> None:
    path = project.pyproject_path
    data = project.pyproject
    if project.pyproject_error is not None:
        message = project.pyproject_error
        found.problem(path, error_line(message), f"pyproject.toml is not valid TOML: {message}")
        return
    text = project.text(path)
    if data is None or text is None or not _declares(data):
        return
    found.source(path)
    _pep621(found, path, text, data.get("project"))
    _groups(found, path, text, data.get("dependency-groups"))
    tool = data.get("tool")
    if isinstance(tool, dict):
        uv = tool.get("uv")
        if isinstance(uv, dict) and "dev-dependencies" in uv:
            key = ("tool", "uv", "dev-dependencies")
            requirement_array(found, path, text, key, uv["dev-dependencies"], "dev:dev")
        if isinstance(tool.get("poetry"), dict):
            read_poetry(found, path, text, tool["poetry"])


def _table(
    found: Found, path: Path, text: str, key: tuple[str, ...], value: object
) -> dict[str, Any] | None:
    """`value` when it is a table; a problem at its line when it is something else."""
    if isinstance(value, dict):
        return value
    if value is not None:
        found.problem(path, locate(text, key), f"{'.'.join(key)} must be a table")
    return None


def _pep621(found: Found, path: Path, text: str, value: object) -> None:
    table = _table(found, path, text, ("project",), value)
    if table is None:
        return
    if "dependencies" in table:
        key: tuple[str, ...] = ("project", "dependencies")
        requirement_array(found, path, text, key, table["dependencies"], RUNTIME)
    value = table.get("optional-dependencies")
    extras = _table(found, path, text, ("project", "optional-dependencies"), value)
    if extras is not None:
        for extra, items in extras.items():
            key = ("project", "optional-dependencies", extra)
            requirement_array(found, path, text, key, items, extra_group(extra))


def _groups(found: Found, path: Path, text: str, value: object) -> None:
    """PEP 735 groups are never installed with the package: each is `dev:<name>`."""
    groups = _table(found, path, text, ("dependency-groups",), value)
    for group, items in (groups or {}).items():
        key = ("dependency-groups", group)
        group_name = f"dev:{canonicalize_name(group)}"
        requirement_array(found, path, text, key, items, group_name, includes=True)
