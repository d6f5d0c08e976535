"""Poetry's tables: [tool.poetry.dependencies], its groups and dev-dependencies.

Poetry writes constraints that PEP 440 does not have (`^1.2`, `~1.2`, `1.2.3` meaning `==`);
they are translated with poetry's documented semantics, so `pinned` means the same thing for a
poetry project as for any other. No library translates them without importing poetry itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pavedroad.declared.model import RUNTIME, Found, from_requirement
from pavedroad.tomlpos import locate

_TOKEN = re.compile(r"\s*(\^|~=|~|===|==|!=|>=|<=|>|<|=)?\s*([^\s,|]+)\s*,?")


class Untranslatable(ValueError):
    """A valid poetry constraint PEP 440 cannot express (a union `^1 || ^2`)."""


def _bump(version: str, index: int) -> str:
    """The upper bound: `version` with component `index` incremented, zeros after, at least
    three components (poetry writes `<2.0.0`)."""
    release = list(Version(version).release)
    bumped = [*release[:index], release[index] + 1]
    bumped += [0] * (max(3, index + 1) - len(bumped))
    return ".".join(str(part) for part in bumped)


def _caret(version: str) -> list[str]:
    """^1.2.3 -> >=1.2.3,<2.0.0; ^0.2.3 -> <0.3.0; ^0.0.3 -> <0.0.4; ^0.0 -> <0.1.0."""
    release = Version(version).release
    index = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
    return [f">={version}", f"<{_bump(version, index)}"]


def _tilde(version: str) -> list[str]:
    """~1.2.3 -> >=1.2.3,<1.3.0; ~1.2 -> <1.3.0; ~1 -> <2.0.0."""
    index = 0 if len(Version(version).release) == 1 else 1
    return [f">={version}", f"<{_bump(version, index)}"]


def poetry_specifier(constraint: str) -> str:
    """The PEP 440 specifier set of a poetry version constraint ("" for `*`). Raises
    Untranslatable for a union, ValueError for a constraint that is not valid."""
    text = constraint.strip()
    if "|" in text:
        raise Untranslatable(constraint)
    parts: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"not a poetry version constraint: {constraint!r}")
        position = match.end()
        operator, version = match.group(1), match.group(2).removeprefix("v")
        try:
            if operator == "^":
                parts += _caret(version)
            elif operator == "~":
                parts += _tilde(version)
            elif version != "*":
                parts.append(f"{'==' if operator in (None, '=') else operator}{version}")
        except InvalidVersion as error:
            raise ValueError(f"not a version in {constraint!r}: {error}") from None
    try:
        return str(SpecifierSet(",".join(parts)))
    except InvalidSpecifier as error:
        raise ValueError(f"not a version constraint: {constraint!r} ({error})") from None


def _python_marker(constraint: str) -> str:
    """`python = "^3.9"` as a marker: python_full_version >= "3.9" and ... < "4.0.0"; "" for a
    union such as `~2.7 || ^3.6`, which only narrows where the package installs."""
    try:
        specifier = SpecifierSet(poetry_specifier(constraint))
    except Untranslatable:
        return ""
    return " and ".join(
        f'python_full_version {s.operator} "{s.version}"' for s in sorted(specifier, key=str)
    )


def _direct_url(spec: Mapping[str, Any], root: Path) -> str | None:
    if isinstance(git := spec.get("git"), str):
        ref = next((spec[k] for k in ("rev", "tag", "branch") if isinstance(spec.get(k), str)), "")
        return f"git+{git}" + (f"@{ref}" if ref else "")
    if isinstance(url := spec.get("url"), str):
        return url
    if isinstance(local := spec.get("path"), str):
        return (root / local).as_uri()
    return None


def pep508(name: str, spec: Mapping[str, Any], root: Path) -> str:
    """The PEP 508 requirement for one poetry entry (a table with version, extras, markers,
    python, platform, git/url/path). Raises ValueError when it cannot be written."""
    extras = spec.get("extras") or []
    if not (isinstance(extras, list) and all(isinstance(e, str) for e in extras)):
        raise ValueError(f"extras must be an array of names, not {extras!r}")
    text = name + (f"[{','.join(extras)}]" if extras else "")
    url = _direct_url(spec, root)
    if url is not None:
        text += f" @ {url}"
    elif isinstance(version := spec.get("version"), str):
        with suppress(Untranslatable):  # a union: declared, with no version PEP 440 can hold
            text += poetry_specifier(version)
    markers = [f"({spec['markers']})"] if isinstance(spec.get("markers"), str) else []
    if isinstance(python := spec.get("python"), str) and (marker := _python_marker(python)):
        markers.append(marker)
    if isinstance(platform := spec.get("platform"), str):
        markers.append(f'sys_platform == "{platform}"')
    if markers:
        text += (" " if url else "") + "; " + " and ".join(markers)
    return text


def _group_tables(poetry: Mapping[str, Any]) -> list[tuple[tuple[str, ...], object, str]]:
    """(key path under tool.poetry, table, group) for every poetry dependency table."""
    tables: list[tuple[tuple[str, ...], object, str]] = [
        (("dependencies",), poetry.get("dependencies"), RUNTIME),
        (("dev-dependencies",), poetry.get("dev-dependencies"), "dev:dev"),
    ]
    groups = poetry.get("group")
    for group, table in groups.items() if isinstance(groups, dict) else ():
        content = table.get("dependencies") if isinstance(table, dict) else None
        name = RUNTIME if group == "main" else f"dev:{canonicalize_name(group)}"
        tables.append((("group", group, "dependencies"), content, name))
    return [t for t in tables if t[1] is not None]


def _extras_of(poetry: Mapping[str, Any]) -> dict[str, str]:
    """Optional dependency name -> the group of the first [tool.poetry.extras] entry naming it."""
    extras = poetry.get("extras")
    groups: dict[str, str] = {}
    for extra, names in extras.items() if isinstance(extras, dict) else ():
        for name in names if isinstance(names, list) else ():
            if isinstance(name, str):
                groups.setdefault(canonicalize_name(name), f"extra:{canonicalize_name(extra)}")
    return groups


def read_poetry(found: Found, path: Path, text: str, poetry: Mapping[str, Any]) -> None:
    extras = _extras_of(poetry)
    for key_path, table, group in _group_tables(poetry):
        full = ("tool", "poetry", *key_path)
        if not isinstance(table, dict):
            found.problem(path, locate(text, full), f"{'.'.join(full)} must be a table")
            continue
        for name, value in table.items():
            if canonicalize_name(name) == "python":
                continue  # the interpreter, not a package
            entries = value if isinstance(value, list) else [value]
            for index, entry in enumerate(entries):
                where = (*full, name, index) if isinstance(value, list) else (*full, name)
                _entry(found, path, text, where, name, entry, group, extras)


def _entry(
    found: Found,
    path: Path,
    text: str,
    where: tuple[str | int, ...],
    name: str,
    entry: object,
    group: str,
    extras: Mapping[str, str],
) -> None:
    line = locate(text, where)
    spec = {"version": entry} if isinstance(entry, str) else entry
    if not isinstance(spec, dict):
        found.problem(path, line, f"{name}: not a version constraint or table: {entry!r}")
        return
    if spec.get("optional") is True and group == RUNTIME:
        group = extras.get(canonicalize_name(name), "extra:optional")
    try:
        written = pep508(name, spec, path.parent)
        requirement = Requirement(written)
    except ValueError as error:  # InvalidRequirement and Untranslatable are ValueErrors
        found.problem(path, line, f"{name}: {error}")
        return
    found.dependencies.append(
        from_requirement(requirement, written=written, group=group, source=path, line=line)
    )
