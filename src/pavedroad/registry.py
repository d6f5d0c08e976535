"""Checks, families, and their discovery (built in, and third party through entry points).

A check is a small function from the Project view to the gaps it finds; no gaps is a pass. Its
title, docstring and metadata are the one source of its documentation: `paved explain`, the
README's list and the SARIF rule descriptors all read `Check.doc`.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from pavedroad.results import Location

if TYPE_CHECKING:
    from pavedroad.project import Project

ENTRY_POINT_GROUP = "pavedroad.checks"
BUILTIN_FAMILIES = (
    "pavedroad.checks.pkg",
    "pavedroad.checks.sch",
    "pavedroad.checks.tst",
    "pavedroad.checks.doc",
    "pavedroad.checks.own",
    "pavedroad.checks.cfg",
    "pavedroad.checks.mod",
    "pavedroad.checks.prf",
    "pavedroad.checks.dep",
    "pavedroad.checks.nb",
    "pavedroad.checks.rep",
)
_SECTION = re.compile(r"^(Why|Example|Fix):[ \t]*", re.MULTILINE)


@dataclass(frozen=True, kw_only=True)
class Gap:
    """One thing wrong, for one subject: what, where, and the specific fix if there is one."""

    message: str
    subject: str | None = None
    location: Location | None = None
    fix: str | None = None


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What a check saw that satisfies it, for one subject (the coverage measured, the hash
    verified): shown as a passing row, so that READY comes with its proof. A check that yields
    neither gaps nor evidence passes with its title as the message."""

    message: str
    subject: str | None = None
    location: Location | None = None


class SkipCheck(Exception):
    """Raised by a check that does not apply to this project, with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class CheckDoc:
    """What the check does, why it matters, an example of the gap, and how to fix it."""

    what: str
    why: str
    example: str
    fix: str

    @classmethod
    def parse(cls, docstring: str | None) -> CheckDoc:
        text = inspect.cleandoc(docstring or "")
        pieces = _SECTION.split(text)
        parts = {"What": pieces[0].strip()}
        for name, body in zip(pieces[1::2], pieces[2::2], strict=True):
            parts[name] = body.strip()
        return cls(
            what=parts.get("What", ""),
            why=parts.get("Why", ""),
            example=parts.get("Example", ""),
            fix=parts.get("Fix", ""),
        )

    def missing(self) -> list[str]:
        """The parts a check's docstring lacks; a test keeps this empty for every check."""
        return [name for name in ("what", "why", "example", "fix") if not getattr(self, name)]

    def markdown(self) -> str:
        return (
            f"{self.what}\n\n**Why it matters.** {self.why}\n\n**Example.** {self.example}\n\n"
            f"**How to fix.** {self.fix}"
        )


CheckFunction = Callable[["Project"], Iterable[Gap | Evidence]]


@dataclass(frozen=True)
class Check:
    id: str
    family: str
    title: str
    run: CheckFunction | None  # None: the engine itself decides it (the CON family)
    doc: CheckDoc
    section: str | None = None  # the contract section that enables it; None: always enforced
    requires: tuple[str, ...] = ()
    dynamic: bool = False  # runs project code; `--static` skips it


@dataclass
class Family:
    """A group of checks that mirrors one concern of the contract (PKG, DEP, TST, ...)."""

    code: str
    name: str
    description: str = ""
    checks: list[Check] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{2,5}", self.code):
            raise ValueError(f"family code {self.code!r} must be 2 to 5 capital letters")

    def check(
        self,
        id: str,
        title: str,
        *,
        section: str | None = None,
        requires: Iterable[str] = (),
        dynamic: bool = False,
    ) -> Callable[[CheckFunction], CheckFunction]:
        """Register the decorated function as check `id` of this family."""
        if not re.fullmatch(rf"{self.code}\d{{3}}", id):
            raise ValueError(f"check id {id!r} must be {self.code} and three digits")

        def register(function: CheckFunction) -> CheckFunction:
            self.checks.append(
                Check(
                    id=id,
                    family=self.code,
                    title=title,
                    run=function,
                    doc=CheckDoc.parse(function.__doc__),
                    section=section,
                    requires=tuple(requires),
                    dynamic=dynamic,
                )
            )
            return function

        return register


@dataclass(frozen=True)
class PluginFailure:
    """A third-party family that could not be loaded; the run reports it and goes on."""

    name: str
    value: str
    error: str


def builtin_families() -> list[Family]:
    return [_family_of(importlib.import_module(name)) for name in BUILTIN_FAMILIES]


def plugin_families() -> tuple[list[Family], list[PluginFailure]]:
    """Families registered under the `pavedroad.checks` entry-point group by other packages."""
    families: list[Family] = []
    failures: list[PluginFailure] = []
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
            families.append(loaded if isinstance(loaded, Family) else _family_of(loaded))
        except Exception as error:  # a broken plugin must not take the run down
            failures.append(
                PluginFailure(
                    entry_point.name, entry_point.value, f"{type(error).__name__}: {error}"
                )
            )
    return families, failures


def _family_of(module: object) -> Family:
    family = getattr(module, "family", None)
    if not isinstance(family, Family):
        raise TypeError(f"{module!r} has no `family` attribute of type pavedroad.registry.Family")
    return family


def all_checks(families: Iterable[Family]) -> Iterator[Check]:
    for family in families:
        yield from family.checks
