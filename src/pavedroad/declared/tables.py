"""Reading TOML dependency files: loading with a located error, and arrays of requirements."""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from pavedroad.declared.model import Found, from_requirement
from pavedroad.tomlpos import locate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_AT_LINE = re.compile(r"at line (\d+)")


def error_line(message: str) -> int | None:
    """The line tomllib names in its message ("... (at line 3, column 7)")."""
    match = _AT_LINE.search(message)
    return int(match.group(1)) if match else None


def load_toml(path: Path, found: Found) -> tuple[str, dict[str, Any]] | None:
    """(text, data) of a TOML file, or None with the problem recorded."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, tomllib.loads(text)
    except OSError as error:
        found.problem(path, None, f"cannot read {path.name}: {error.strerror or error}")
    except UnicodeDecodeError as error:
        found.problem(path, None, f"{path.name} is not UTF-8 text, as TOML must be: {error}")
    except tomllib.TOMLDecodeError as error:
        found.problem(path, error_line(str(error)), f"{path.name} is not valid TOML: {error}")
    return None


def local_project_name(directory: Path) -> str | None:
    """The distribution name of a project folder (an editable or path requirement), from its
    pyproject.toml [project].name or setup.cfg [metadata] name; None when neither says."""
    try:
        data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
        name = data.get("project", {}).get("name")
        if isinstance(name, str):
            return name
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        pass
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(directory / "setup.cfg", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser.get("metadata", "name", fallback=None)


def requirement_array(
    found: Found,
    path: Path,
    text: str,
    key_path: Sequence[str | int],
    value: object,
    group: str,
    *,
    includes: bool = False,
) -> None:
    """Each string of a TOML array of PEP 508 requirements, as Declared in `group`. PEP 735
    `{include-group = ...}` items (when `includes`) add nothing: that group is read itself."""
    if not isinstance(value, list):
        where = ".".join(str(k) for k in key_path)
        found.problem(path, locate(text, key_path), f"{where} must be an array of requirements")
        return
    for index, item in enumerate(value):
        line = locate(text, (*key_path, index))
        if includes and isinstance(item, dict) and set(item) == {"include-group"}:
            continue
        if not isinstance(item, str):
            found.problem(path, line, f"not a requirement string: {item!r}")
            continue
        try:
            requirement = Requirement(item)
        except InvalidRequirement as error:
            found.problem(path, line, f"invalid requirement {item!r}: {error}")
            continue
        found.dependencies.append(
            from_requirement(requirement, written=item, group=group, source=path, line=line)
        )
