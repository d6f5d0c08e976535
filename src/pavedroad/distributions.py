"""Import name -> PyPI distribution, and what an installed distribution needs.

`import sklearn` is provided by `scikit-learn`, `import yaml` by `PyYAML`: the import name says
little about what to declare. The best evidence is the metadata of what is installed where
pavedroad runs; for what is not installed, a table shipped with pavedroad
(`data/import_names.toml`) knows the common mismatches; the contract's
`[dependencies].import_names` overrides both. Names are compared in PEP 503 form everywhere.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import importlib.metadata
import inspect
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pavedroad.cachedir import cache_root, caching_enabled, environment_stamp
from pavedroad.fileio import write_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Source = Literal["contract", "installed", "table", "same-name"]

_NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})
# Files that are modules: sources, and compiled extensions (`_cffi_backend.cpython-311-...so`).
_MODULE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")


def canonical(name: str) -> str:
    """PEP 503 form: `Scikit_Learn` and `scikit-learn` are one distribution."""
    return str(canonicalize_name(name))


@dataclass(frozen=True)
class Resolution:
    """What provides an import. `top` is the import name that decided: the first component of
    the module, or a longer dotted prefix when a namespace package was resolved by its
    submodule (`google.cloud.storage`). `distributions` are canonical names, any of which
    provides the import; the first is the one to suggest. Empty when nothing is known."""

    top: str
    distributions: tuple[str, ...]
    source: Source


def resolve(module: str, /, overrides: Mapping[str, str] = _NO_OVERRIDES) -> Resolution:
    """The distributions that provide `module`, a full dotted module name as imported
    (`sklearn.ensemble`, `google.cloud.storage.blob`) or just its top-level name.

    Evidence in order: the contract's `overrides` (`[dependencies].import_names`), the
    metadata of installed distributions, the shipped table, and else the top-level name itself.
    At each step the longest dotted prefix of `module` that is known wins, so namespace
    packages (`google.*`, `azure.*`) resolve to the distribution of their submodule. A
    namespace itself (`google.cloud`, as in `from google.cloud import storage`) resolves to
    every distribution known to provide a submodule of it: any of them provides the import.
    Callers that know the imported names do better to pass `google.cloud.storage`: a prefix
    that is no module (`sklearn.ensemble.RandomForestClassifier`) is harmless."""
    top = module.partition(".")[0]
    for prefix in _prefixes(module):
        if prefix in overrides:
            return Resolution(prefix, (canonical(overrides[prefix]),), "contract")
    installed = _installed(module)
    if installed is not None:
        return installed
    table = import_names_table()
    for prefix in _prefixes(module):
        if prefix in table:
            return Resolution(prefix, table[prefix], "table")
    below = _table_below(module)
    if below:
        return Resolution(module, below, "table")
    return Resolution(top, (canonical(top),), "same-name")


def _table_below(module: str) -> tuple[str, ...]:
    """The distributions of the table's keys under `module`: `from google.cloud import storage`
    imports the module `google.cloud`, which any of the google-cloud-* distributions provides."""
    found: list[str] = []
    for key, distributions in import_names_table().items():
        if key.startswith(f"{module}."):
            found.extend(d for d in distributions if d not in found)
    return tuple(found)


def _prefixes(module: str) -> Iterator[str]:
    """`a.b.c`, `a.b`, `a`: longest first."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        yield ".".join(parts[:end])


# -- the shipped table ------------------------------------------------------------------------


@functools.cache
def import_names_table() -> Mapping[str, tuple[str, ...]]:
    """The shipped table, import name -> canonical distributions, read once per process."""
    text = files("pavedroad").joinpath("data/import_names.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)["import_names"]
    return MappingProxyType({key: _distribution_names(key, value) for key, value in raw.items()})


def _distribution_names(key: str, value: object) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise ValueError(f"import_names.toml: {key!r} must map to a name or a list of names")
    return tuple(canonical(v) for v in values)


# -- installed metadata -----------------------------------------------------------------------


def read_installed() -> None:
    """Read the installed distributions' metadata now, once for the process: a command that
    waits for other work (the import index's workers) does it meanwhile."""
    _providers()


@functools.cache
def _providers() -> Mapping[str, tuple[str, ...]]:
    """Top-level import name -> installed distributions, from their metadata. Reading every
    installed package's metadata costs a quarter of a second in a data-science environment, so
    the result is cached on disk for as long as the environment's folders are unchanged."""
    cache = _environment_cache()
    if cache is not None:
        try:
            cached = _decode_providers(json.loads(cache.read_bytes()))
        except (OSError, ValueError, RecursionError):
            cached = None  # missing, unreadable, not JSON
        if cached is not None:
            return cached
    found: dict[str, list[str]] = defaultdict(list)
    for top, names in packages_distributions().items():
        for name in names:
            if canonical(name) not in found[top]:
                found[top].append(canonical(name))
    if cache is not None:
        with contextlib.suppress(OSError):  # an unwritable cache costs speed, not correctness
            write_atomic(cache, json.dumps(found))
    return MappingProxyType({top: tuple(names) for top, names in found.items()})


def _decode_providers(data: object) -> Mapping[str, tuple[str, ...]] | None:
    """The cached mapping if it has the shape written (name -> list of names), else None: a
    damaged or foreign file is read again from the metadata, never trusted in part."""
    if not isinstance(data, dict):
        return None
    decoded: dict[str, tuple[str, ...]] = {}
    for top, names in data.items():
        if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
            return None
        decoded[top] = tuple(names)
    return MappingProxyType(decoded)


def packages_distributions() -> dict[str, list[str]]:
    """`importlib.metadata.packages_distributions()` as Python 3.11 computes it: from
    top_level.txt, else inferred from the files the distribution installed. Python 3.10 reads
    top_level.txt only, and packages built without one (scikit-learn, built with meson) would
    look uninstalled there. The files are read as text: the stdlib's parsed metadata and
    PackagePath objects cost ten times more, in the one place a cold run waits for them."""
    found: dict[str, list[str]] = defaultdict(list)
    for distribution in importlib.metadata.distributions():
        name = _name_of(distribution)
        if not name:
            continue
        top_level = distribution.read_text("top_level.txt")
        tops = top_level.split() if top_level else _inferred_tops(distribution)
        for top in tops:
            found[top].append(name)
    return found


def _name_of(distribution: importlib.metadata.Distribution) -> str | None:
    """The `Name:` header of the metadata, found without the email parser (the header block
    ends at the first empty line; a name is never folded over two lines)."""
    text = distribution.read_text("METADATA") or distribution.read_text("PKG-INFO")
    if text is None:
        return None
    for line in text.splitlines():
        if not line.strip():
            break
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "name":
            return value.strip() or None
    return None


def _inferred_tops(distribution: importlib.metadata.Distribution) -> set[str]:
    record = distribution.read_text("RECORD")
    if record is None:  # an egg-info install: the stdlib knows its other file lists
        paths: Iterable[str] = (str(path) for path in distribution.files or ())
    else:
        paths = _record_paths(record)
    tops: set[str] = set()
    folders: set[str] = set()
    for path in paths:
        head, _, rest = path.partition("/")
        if head and head != "." and rest[:1] not in ("", "/", "."):
            folders.add(head)  # a file in a folder: the common line, and the folder is the top
            continue
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if not parts:
            continue
        # a folder's name, or a top-level module file's (`six.py` -> six)
        top = parts[0] if len(parts) > 1 else inspect.getmodulename(parts[0]) or ""
        if top and "." not in top:
            tops.add(top)
    return tops | {folder for folder in folders if "." not in folder}


def _record_paths(record: str) -> Iterator[str]:
    """The path column of a RECORD (CSV): split at the first comma, or read as CSV when the
    path is quoted (it holds a comma or a quote)."""
    for line in record.splitlines():
        if line.startswith('"'):
            yield from (row[0] for row in csv.reader([line]) if row)
        elif line:
            yield line.partition(",")[0]


def _environment_cache() -> Path | None:
    """The cache file for this environment: keyed by every import folder and its mtime, which
    changes whenever a package is installed or removed there."""
    if not caching_enabled():
        return None
    return cache_root() / "environments-v1" / f"{environment_stamp()}.json"


def _installed(module: str) -> Resolution | None:
    top = module.partition(".")[0]
    providers = _providers().get(top)
    if providers is None:
        return None
    if module == top:
        return Resolution(top, providers, "installed")
    submodules = _namespace_layout(top)
    if submodules is None:
        return Resolution(top, providers, "installed")
    # A namespace package: only a distribution that ships the submodule provides it.
    for prefix in _prefixes(module):
        if prefix != top and prefix in submodules:
            return Resolution(prefix, submodules[prefix], "installed")
    return None


@functools.cache
def _namespace_layout(top: str) -> Mapping[str, tuple[str, ...]] | None:
    """For a namespace package (no installed distribution ships `top/__init__.py` or
    `top.py`), each dotted submodule -> the distributions whose files (RECORD) hold it. None
    for a regular package, where every submodule belongs to the distributions of `top`, and
    when the files do not tell (no RECORD, or an editable install that lists none)."""
    layout: dict[str, list[str]] = defaultdict(list)
    for name in _providers()[top]:
        modules = _modules_of(name)
        if modules is None or (top,) in modules:
            return None
        for module in modules:
            if module[0] != top:
                continue
            for end in range(2, len(module) + 1):
                dotted = ".".join(module[:end])
                if name not in layout[dotted]:
                    layout[dotted].append(name)
    if not layout:
        return None
    return MappingProxyType({dotted: tuple(names) for dotted, names in layout.items()})


def _modules_of(name: str) -> set[tuple[str, ...]] | None:
    """The modules an installed distribution's files hold, as name parts:
    `google/cloud/storage/__init__.py` -> (google, cloud, storage); None without a RECORD."""
    try:
        recorded = importlib.metadata.distribution(name).files
    except importlib.metadata.PackageNotFoundError:
        return None
    if recorded is None:
        return None
    modules: set[tuple[str, ...]] = set()
    for path in recorded:
        parts = path.parts
        if "__pycache__" in parts or not parts[-1].endswith(_MODULE_SUFFIXES):
            continue
        stem = parts[-1].split(".", 1)[0]
        modules.add(parts[:-1] if stem == "__init__" else (*parts[:-1], stem))
    return modules


# -- what an installed distribution needs --------------------------------------------------------


@functools.cache
def requires_of(distribution: str) -> frozenset[str]:
    """Canonical names that the installed `distribution` requires in this environment (markers
    evaluated here, extras left out); empty when it is not installed."""
    try:
        requirements = importlib.metadata.distribution(distribution).requires or []
    except importlib.metadata.PackageNotFoundError:
        return frozenset()
    return frozenset(
        canonical(requirement.name)
        for requirement in _parsed(requirements)
        if requirement.marker is None or _applies(requirement.marker)
    )


def _parsed(lines: Iterable[str]) -> Iterator[Requirement]:
    for line in lines:
        try:
            yield Requirement(line)
        except InvalidRequirement:
            continue  # a broken line in someone's metadata is not ours to report


def _applies(marker: Marker) -> bool:
    # `extra == "x"` is false when evaluated with no extra: extras are left out.
    return marker.evaluate({"extra": ""})


def installed_version(distribution: str) -> str | None:
    """The version installed where pavedroad runs, or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
