"""A finished `paved deps` report, kept for the unchanged project and environment it came from.

A warm `paved deps` in a pre-commit hook, an editor or a CI step must cost about what starting
Python costs. The import index alone is cached by content, but loading the contract's models,
the DEP modules and the reporters costs several times the answer. So the rendered report is
kept with everything it was computed from, and reused only when all of it is unchanged:

- every file of the project tree as `tree.walk` sees it, by path, mtime and size: a file added,
  removed or edited anywhere in the project misses the cache (coarse, and so safe);
- the files the run read outside the tree (contract bases, included requirement files, the
  artifact), and the contract files of every folder searched for the contract, present or not;
- the Python environment (`cachedir.environment_stamp`), pavedroad's version, the format.

Only the machine-readable formats printed to stdout are kept: the text report is for a terminal
whose width and colours vary, and is rendered every time. Standard library only, since a hit
must not import what it saves.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pavedroad import __version__
from pavedroad.cachedir import cache_root, caching_enabled, environment_stamp
from pavedroad.contract_file import CONTRACT_FILE, PYPROJECT
from pavedroad.tree import Listing, stat_or_none

LAYOUT = "results-v1"


@dataclass(frozen=True)
class Query:
    """A `paved deps` run that may be answered from the cache: its argument and its format."""

    start: Path  # the PATH argument, resolved
    format: str

    @property
    def file(self) -> Path:
        key = f"{__version__}\0{self.format}\0{self.start}"
        return cache_root() / LAYOUT / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


@dataclass(frozen=True)
class Answer:
    output: str
    exit_code: int


def query(path: Path, format_: str, *, output: Path | None, fix: bool) -> Query | None:
    """The cache query for these options, or None when this run must not use the cache."""
    if fix or output is not None or format_ == "text" or not caching_enabled():
        return None
    return Query(path.resolve(), format_)


def lookup(asked: Query, walker: Callable[[Path], Listing]) -> Answer | None:
    """The kept report, when everything it was computed from is as it was; `walker` walks the
    project (`tree.walk`), so a caller that misses can keep the walk for its run."""
    try:
        entry = json.loads(asked.file.read_bytes())
        inputs = entry["inputs"]
        fresh = (
            entry["start"] == str(asked.start)
            and entry["format"] == asked.format
            and entry["environment"] == environment_stamp()
            and isinstance(inputs, dict)
            and all(_stat(path) == seen for path, seen in inputs.items())
            and entry["tree"] == tree_digest(walker(Path(entry["root"])))
        )
        if fresh and isinstance(entry["output"], str) and isinstance(entry["exit"], int):
            return Answer(entry["output"], entry["exit"])
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        pass  # absent, unreadable, damaged or of another shape: a miss, never a failure
    return None


def store(
    asked: Query,
    root: Path,
    tree: str,
    read: Iterable[Path],
    answer: Answer,
    *,
    contract_found: bool,
) -> None:
    """Keep `answer`, computed on the project at `root` whose `tree_digest` was `tree` before
    the run began (a file edited during the run then misses next time), from the files `read`.
    A cache that cannot be written is no reason to fail the run."""
    from pavedroad.fileio import write_atomic  # the miss has paid for heavier imports already

    searched = _searched(asked.start, root if contract_found else None)
    inputs = {str(path): _stat(path) for path in (*read, *searched)}
    entry = {
        "start": str(asked.start),
        "format": asked.format,
        "root": str(root),
        "environment": environment_stamp(),
        "inputs": inputs,
        "tree": tree,
        "output": answer.output,
        "exit": answer.exit_code,
    }
    try:
        asked.file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(asked.file, json.dumps(entry))
    except OSError:
        pass


class Fingerprint:
    """The digest of a tree's files by path, mtime and size, fed a file at a time in the
    order of `tree.walk`: a run that walks the tree anyway stats each file once."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._lines: list[str] = []  # hashed a thousand at a time: one call instead of each

    def add(self, path: str) -> os.stat_result | None:
        """Stat the file, add it, and return the stat (None when it has none) for other uses."""
        stat = stat_or_none(path)
        if stat is None:
            self._lines.append(f"{path}\0None\n")
            return None
        self._lines.append(f"{path}\0[{stat.st_mtime_ns}, {stat.st_size}]\n")
        if len(self._lines) >= 1024:
            self._flush()
        return stat

    def hexdigest(self) -> str:
        self._flush()
        return self._digest.hexdigest()

    def _flush(self) -> None:
        # surrogateescape: a file name that is not UTF-8 is still a name (its bytes, as read)
        self._digest.update("".join(self._lines).encode("utf-8", "surrogateescape"))
        self._lines.clear()


def tree_digest(listing: Listing) -> str:
    """Every file of the project's walk (`tree.walk`) with its mtime and size, as one digest."""
    fingerprint = Fingerprint()
    for directory, files in listing:
        for name in files:
            fingerprint.add(os.path.join(directory, name))  # noqa: PTH118 - str ops
    return fingerprint.hexdigest()


def _searched(start: Path, found_in: Path | None) -> list[Path]:
    """The contract files the search looked for: from `start` up to the folder where it found
    the contract, or up to the file system's root when it found none."""
    folders = [start, *start.parents]
    if found_in is not None and found_in in folders:
        folders = folders[: folders.index(found_in) + 1]
    return [folder / name for folder in folders for name in (CONTRACT_FILE, PYPROJECT)]


def _stat(path: str | Path) -> list[int] | None:
    """mtime and size, or None for a file that is not there (or cannot be read)."""
    found = stat_or_none(path)
    return None if found is None else [found.st_mtime_ns, found.st_size]
