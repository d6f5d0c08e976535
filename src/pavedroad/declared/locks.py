"""Lock files: uv.lock and PEP 751 pylock.toml (requirements locks are read with the
requirements files). A lock may pin several versions of a package for different interpreters;
`Lock.packages` holds the one this interpreter would install (for a package installed only
elsewhere, such as colorama on Windows, the first one the lock names)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pavedroad.declared.model import Found, Lock, choose_versions
from pavedroad.declared.tables import load_toml
from pavedroad.tomlpos import locate

# uv.lock sources that are the project itself or its workspace members, not dependencies.
_OWN_SOURCES = frozenset({"virtual", "editable"})
# Sources whose artifacts are downloaded, so a hash can check them.
_DOWNLOADED = frozenset({"registry", "url"})
_PYLOCK = re.compile(r"pylock(\.[^.]+)?\.toml")


def is_pylock(path: Path) -> bool:
    """PEP 751 names: pylock.toml, or pylock.<name>.toml."""
    return _PYLOCK.fullmatch(path.name) is not None


def lock_kind(path: Path) -> Literal["uv.lock", "pylock", "requirements"]:
    """What a lock path holds, by its name: a contract may name any of the three."""
    if is_pylock(path):
        return "pylock"
    return "uv.lock" if path.name.endswith(".lock") else "requirements"


def candidates(root: Path) -> list[Path]:
    found = [root / "uv.lock"] if (root / "uv.lock").is_file() else []
    return found + sorted(p for p in root.glob("pylock*.toml") if is_pylock(p) and p.is_file())


def _table_array(
    found: Found, path: Path, text: str, data: dict[str, Any], key: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The tables of the array `key`, each with its index; a problem for anything else."""
    items = data.get(key, [])
    if not isinstance(items, list):
        found.problem(path, locate(text, (key,)), f"`{key}` must be an array of tables")
        return
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            yield index, item
        else:
            found.problem(path, locate(text, (key, index)), f"{key} entry without a name")


def _hashes(artifact: object) -> bool:
    """Whether a uv.lock artifact (`hash = "sha256:..."`) or a pylock one (`hashes = {...}`)
    carries a hash."""
    return isinstance(artifact, dict) and bool(artifact.get("hash") or artifact.get("hashes"))


def _artifacts(package: dict[str, Any]) -> list[object]:
    wheels = package.get("wheels")
    found = list(wheels) if isinstance(wheels, list) else []
    found += [package[k] for k in ("sdist", "archive") if k in package]
    return found


def read_uv_lock(path: Path, found: Found) -> None:
    loaded = load_toml(path, found)
    if loaded is None:
        return
    text, data = loaded
    found.source(path)
    entries: list[tuple[str, str, list[str]]] = []
    hashed = True
    for _, package in _table_array(found, path, text, data, "package"):
        source = package.get("source")
        kinds = set(source) if isinstance(source, dict) else set()
        version = package.get("version")
        if kinds & _OWN_SOURCES or not isinstance(version, str):
            continue
        markers = package.get("resolution-markers")
        markers = [m for m in markers if isinstance(m, str)] if isinstance(markers, list) else []
        entries.append((package["name"], version, markers))
        if kinds & _DOWNLOADED and not any(_hashes(a) for a in _artifacts(package)):
            hashed = False
    found.locks.append(
        Lock(path=path, kind="uv.lock", packages=choose_versions(entries), hashed=hashed)
    )


def read_pylock(path: Path, found: Found) -> None:
    loaded = load_toml(path, found)
    if loaded is None:
        return
    text, data = loaded
    found.source(path)
    if "lock-version" not in data:
        found.problem(path, None, f"{path.name} has no lock-version: not a PEP 751 lock file")
    entries: list[tuple[str, str, list[str]]] = []
    hashed = True
    for _, package in _table_array(found, path, text, data, "packages"):
        version = package.get("version")
        artifacts = _artifacts(package)
        if artifacts and not all(_hashes(a) for a in artifacts):
            hashed = False
        if isinstance(version, str):  # a directory or VCS package may have no version
            marker = package.get("marker")
            entries.append((package["name"], version, [marker] if isinstance(marker, str) else []))
    found.locks.append(
        Lock(path=path, kind="pylock", packages=choose_versions(entries), hashed=hashed)
    )
