"""Pipfile: [packages] are runtime, [dev-packages] and other categories are development.

Pipenv's values are PEP 440 specifiers (`"*"` for any) or tables (version, extras, markers, git,
ref, path, file, and PEP 508 marker names as keys: `sys_platform = "== 'win32'"`); each entry
is written back as its PEP 508 requirement.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from pavedroad.declared.model import RUNTIME, Found, from_requirement
from pavedroad.declared.tables import load_toml
from pavedroad.tomlpos import locate

# Tables of a Pipfile that are not package categories.
_NOT_CATEGORIES = frozenset({"source", "requires", "scripts", "pipenv"})
_MARKER_KEYS = frozenset(default_environment())


def _category_group(category: str) -> str:
    if category == "packages":
        return RUNTIME
    return "dev:dev" if category == "dev-packages" else f"dev:{canonicalize_name(category)}"


def pep508(name: str, value: object, root: Path) -> str:
    """The PEP 508 requirement of one Pipfile entry. Raises ValueError when it has none."""
    spec: Mapping[str, Any] = {"version": value} if isinstance(value, str) else _table(value)
    extras = spec.get("extras") or []
    if not (isinstance(extras, list) and all(isinstance(e, str) for e in extras)):
        raise ValueError(f"extras must be an array of names, not {extras!r}")
    text = name + (f"[{','.join(extras)}]" if extras else "")
    url = _url(spec, root)
    if url is not None:
        text += f" @ {url}"
    elif isinstance(version := spec.get("version", "*"), str) and version.strip() != "*":
        text += _specifier(version)
    markers = [f"({spec['markers']})"] if isinstance(spec.get("markers"), str) else []
    markers += [f"{k} {v}" for k, v in spec.items() if k in _MARKER_KEYS and isinstance(v, str)]
    if markers:  # after a URL, PEP 508 needs a space before the `;`
        text += (" ; " if url else "; ") + " and ".join(markers)
    return text


def _specifier(version: str) -> str:
    """A Pipfile version as a PEP 440 specifier set; a bare `1.13` means `==1.13`, as pipenv
    reads it. Raises InvalidSpecifier (a ValueError)."""
    version = version.strip()
    return str(SpecifierSet(f"=={version}" if version[:1].isdigit() else version))


def _url(spec: Mapping[str, Any], root: Path) -> str | None:
    if isinstance(git := spec.get("git"), str):
        ref = spec.get("ref")
        return f"git+{git}" + (f"@{ref}" if isinstance(ref, str) else "")
    local = spec.get("path") or spec.get("file")
    if isinstance(local, str):
        return local if "://" in local else (root / local).as_uri()
    return None


def _table(value: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"not a version or a table: {value!r}")
    return value


def read_pipfile(root: Path, found: Found) -> None:
    path = root / "Pipfile"
    if not path.is_file() or (loaded := load_toml(path, found)) is None:
        return
    text, data = loaded
    found.source(path)
    for category, table in data.items():
        if category in _NOT_CATEGORIES or not isinstance(table, dict):
            continue
        group = _category_group(category)
        for name, value in table.items():
            line = locate(text, (category, name))
            try:
                written = pep508(name, value, root)
                requirement = Requirement(written)
            except ValueError as error:  # InvalidRequirement is a ValueError
                found.problem(path, line, f"{name}: {error}")
                continue
            found.dependencies.append(
                from_requirement(requirement, written=written, group=group, source=path, line=line)
            )
