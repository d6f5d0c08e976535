"""Why the room differs from the author's machine: files it lacks (REP005), settings read (REP006).

A file the project needs but git does not track shows up two ways: the audit log saw it opened
and missing, or a failure names it (a path in quotes in an exception: pyarrow and other C
readers open files without Python seeing it). Either way it counts only when the author's tree
has it and the room does not: that is a file a clone would lack.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pavedroad.project import Project
from pavedroad.repro import audit
from pavedroad.repro.files import TOOL_STATE, IgnoreRules, Listing
from pavedroad.repro.outcome import EnvReadFacts, FileRead
from pavedroad.repro.places import Places

_QUOTED = re.compile(r"""['"]([^'"\n\r]{1,400})['"]""")


@dataclass(frozen=True)
class Said:
    """A failure's output, what produced it, and the folder (relative to the project root) that
    the relative paths it names are relative to: a notebook's own folder, its kernel's cwd."""

    text: str
    where: str
    folder: str = ""


def file_reads(
    listing: Listing,
    places: Places,
    opened: Iterable[audit.FileOpen],
    texts: Iterable[Said],
    modules: Iterable[str] = (),
) -> list[FileRead]:
    """Files of the author's tree the room lacks and the project read. `texts` are failure
    outputs; `modules` are project modules that failed to import."""
    tracked = set(listing.files)
    caches = IgnoreRules.of_builtins()
    found: dict[str, FileRead] = {}

    def consider(relative: str, seen: str, *, absolute: bool = False) -> None:
        relative = os.path.normpath(relative).replace(os.sep, "/")
        if relative.startswith(("../", f"{TOOL_STATE}/")) or relative in (".", TOOL_STATE):
            return
        if relative in found or (relative in tracked and not absolute):
            return
        if caches.why(relative) is not None or _in_environment(listing.root, relative):
            return  # a tool's cache or environment (pytest's .pyc, a .venv), not the project's
        if not (listing.root / relative).exists():
            return
        reason = "tracked" if relative in tracked else listing.absent_reason(relative)
        found[relative] = FileRead(relative, reason, seen, absolute=absolute)

    room = places.room.project
    author = listing.root.resolve()
    for entry in sorted(opened, key=lambda o: not o.author):  # by absolute path first: worse
        path = Path(entry.path)
        if entry.author and path.is_relative_to(author):
            consider(
                path.relative_to(author).as_posix(),
                "opened by its absolute path in the author's tree",
                absolute=True,
            )
        elif path.is_relative_to(room):
            consider(path.relative_to(room).as_posix(), "opened in the clean room")
    for said in texts:
        for quoted in _QUOTED.findall(said.text):
            candidate = Path(quoted)
            if candidate.is_absolute():
                if candidate.is_relative_to(room):
                    consider(candidate.relative_to(room).as_posix(), f"named by {said.where}")
            elif "/" in quoted or "." in quoted:
                consider((Path(said.folder) / quoted).as_posix(), f"named by {said.where}")
    for module in modules:
        for root in places.project.source_roots:
            base = root.joinpath(*module.split("."))
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    consider(places.project.rel(candidate), f"imported as {module}")
    return list(found.values())


def _in_environment(root: Path, relative: str) -> bool:
    """Whether a folder of the path is a virtual environment of the author's."""
    parts = relative.split("/")[:-1]
    return any((root.joinpath(*parts[: i + 1]) / "pyvenv.cfg").is_file() for i in range(len(parts)))


def env_reads(reads: Iterable[audit.EnvRead], places: Places) -> list[EnvReadFacts]:
    """Each variable the project's code read, at the first place it was read."""
    found: dict[str, EnvReadFacts] = {}
    for read in reads:
        if read.name not in found:
            found[read.name] = EnvReadFacts(read.name, f"{places.relative(read.file)}:{read.line}")
    return sorted(found.values(), key=lambda r: r.name)


def own_modules(project: Project, packages: Iterable[str]) -> set[str]:
    """Top-level names that are the project's own: its packages and its root-level modules."""
    names = set(packages)
    for root in project.source_roots:
        try:
            entries = list(root.iterdir())
        except OSError:
            continue
        names.update(p.stem for p in entries if p.suffix == ".py")
        names.update(p.name for p in entries if p.is_dir() and (p / "__init__.py").is_file())
    return names
