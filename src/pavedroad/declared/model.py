"""What the readers produce: declared requirements, locks and the problems met reading them.

One shape for every source, so the DEP checks compare imports against declarations without
knowing whether a name came from a Pipfile or a requirements file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

RUNTIME = "runtime"

# Extras, groups and file names made of these words hold tools for developing the project, not
# for running it: `requirements-dev.txt`, `[project.optional-dependencies] test`, `docs`.
DEV_WORDS = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "test",
        "tests",
        "testing",
        "lint",
        "linting",
        "docs",
        "doc",
        "typing",
        "ci",
        "qa",
        "style",
    }
)

# pip's hash fragments (`#sha256=...`): a URL that names its content's hash is pinned.
_URL_HASH = re.compile(r"#(?:.*&)?(?:sha1|sha224|sha256|sha384|sha512|md5)=[0-9a-fA-F]+")
# A VCS URL at a full commit (`git+https://...@<40 hex>`) names one tree: pinned too.
_VCS_COMMIT = re.compile(r"^[a-z]+\+[^#]*@[0-9a-fA-F]{40}(?:#.*)?$")


@dataclass(frozen=True, kw_only=True)
class Declared:
    """One declared requirement of the project, where it is written and how tightly."""

    name: str  # canonical (PEP 503)
    requirement: str  # as written; the PEP 508 form for sources that write tables (poetry, Pipfile)
    specifier: str  # a valid PEP 440 specifier set, "" when none (or none can express it)
    pinned: bool  # exactly one version: "==1.2.3" (no wildcard), "===", or a URL with a hash
    group: str  # "runtime", "extra:<name>", or "dev:<name>"
    source: Path
    line: int | None
    marker: str | None


@dataclass(frozen=True, kw_only=True)
class Lock:
    """A lock file: the exact version of each package it installs on this interpreter."""

    path: Path
    kind: Literal["uv.lock", "pylock", "requirements"]
    packages: Mapping[str, str]  # canonical name -> version
    hashed: bool  # every downloaded artifact is checked against a hash


@dataclass(frozen=True, kw_only=True)
class SourceProblem:
    """A dependency file, or a part of one, that could not be read."""

    path: Path
    line: int | None
    message: str


@dataclass(frozen=True)
class Declarations:
    """Everything the project declares about its dependencies, from every source found."""

    dependencies: tuple[Declared, ...]
    locks: tuple[Lock, ...]
    sources: tuple[Path, ...]
    problems: tuple[SourceProblem, ...]

    def runtime(self) -> list[Declared]:
        return [d for d in self.dependencies if d.group == RUNTIME]

    def names(self, *, groups: Iterable[str] | None = None) -> set[str]:
        """Canonical names declared in `groups` (all when None). A group matches exactly
        ("dev:test") or by its kind ("dev" matches every dev group, "extra" every extra)."""
        if groups is None:
            return {d.name for d in self.dependencies}
        wanted = set(groups)
        return {
            d.name
            for d in self.dependencies
            if d.group in wanted or d.group.partition(":")[0] in wanted
        }


@dataclass
class Found:
    """What the readers collect, in the order they find it."""

    dependencies: list[Declared] = field(default_factory=list)
    locks: list[Lock] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)

    def problem(self, path: Path, line: int | None, message: str) -> None:
        self.problems.append(SourceProblem(path=path, line=line, message=message))

    def source(self, path: Path) -> None:
        if path not in self.sources:
            self.sources.append(path)


def dev_word(name: str) -> str | None:
    """The development word in a group or file name (`requirements-dev` -> "dev"), if any."""
    return next((w for w in re.split(r"[^a-z0-9]+", name.lower()) if w in DEV_WORDS), None)


def extra_group(extra: str) -> str:
    """The group of an optional-dependencies extra: `dev:<name>` for tooling, else `extra:`."""
    name = canonicalize_name(extra)
    return f"dev:{name}" if name in DEV_WORDS else f"extra:{name}"


def is_pinned(specifier: SpecifierSet, url: str | None = None, *, hashed: bool = False) -> bool:
    """Exactly one installable thing: `==` without wildcard, `===`, or a URL with a hash."""
    if url is not None:
        return hashed or bool(_URL_HASH.search(url) or _VCS_COMMIT.match(url))
    return any(
        s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*"))
        for s in specifier
    )


def from_requirement(
    requirement: Requirement,
    *,
    written: str,
    group: str,
    source: Path,
    line: int | None,
    hashed: bool = False,
) -> Declared:
    return Declared(
        name=canonicalize_name(requirement.name),
        requirement=written,
        specifier=str(requirement.specifier),
        pinned=is_pinned(requirement.specifier, requirement.url, hashed=hashed),
        group=group,
        source=source,
        line=line,
        marker=str(requirement.marker) if requirement.marker else None,
    )


def marker_matches(marker: str | None) -> bool:
    """Whether a lock entry's marker holds on this interpreter; an unreadable one does not."""
    if not marker:
        return True
    try:
        return Marker(marker).evaluate(context="lock_file")
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return False


def choose_versions(entries: Iterable[tuple[str, str, Iterable[str]]]) -> dict[str, str]:
    """name -> version from (name, version, markers) entries. A lock may hold several versions
    of one package for different interpreters: the one whose markers hold here wins, else the
    first written (an entry without markers holds everywhere)."""
    chosen: dict[str, str] = {}
    matched: set[str] = set()
    for name, version, markers in entries:
        key = canonicalize_name(name)
        markers = list(markers)
        if key in matched:
            continue
        if not markers or any(marker_matches(m) for m in markers):
            chosen[key] = version
            matched.add(key)
        else:
            chosen.setdefault(key, version)
    return chosen
