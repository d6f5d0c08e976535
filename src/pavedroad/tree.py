"""The walk of a project tree that every reader shares: which folders hold project files.

Standard library only, so that `paved deps` can fingerprint a tree before its heavy imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

# Folders that hold no project source: tool caches, build output, installed packages.
PRUNED_DIRS = frozenset(
    {"__pycache__", "node_modules", "build", "dist", "site-packages", "venv", "env", "htmlcov"}
)

# What `walk` yields, kept: a run walks the tree once and hands the listing around.
Listing = tuple[tuple[str, list[str]], ...]


def walk(root: Path) -> Iterator[tuple[str, list[str]]]:
    """(folder, its file names), both sorted, for every folder of the project: hidden folders
    (.git, .ipynb_checkpoints), virtual environments, build output and egg-info are left out.
    Symlinked folders are not followed, so a link to itself cannot loop. What `os.walk` gives,
    in its order, in half its time: a folder's kind comes from the directory entry, with no
    `lstat` per folder, and a left-out folder is never listed."""
    top = os.fspath(root)
    stack = [top]
    while stack:
        directory = stack.pop()
        files: list[str] = []
        folders: list[str] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if not _is_folder(entry):
                        files.append(entry.name)
                    elif _kept(entry):
                        folders.append(entry.name)
        except OSError:
            continue  # unreadable, or gone meanwhile: as os.walk, nothing of it
        if "pyvenv.cfg" in files and directory != top:
            continue  # a virtual environment: installed packages, not the project
        files.sort()
        yield directory, files
        folders.sort(reverse=True)  # popped in order
        stack.extend(os.path.join(directory, name) for name in folders)  # noqa: PTH118


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """A folder, or a link to one (a file for the listing when it cannot be told, as os.walk)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _kept(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.startswith(".") or name in PRUNED_DIRS or name.endswith(".egg-info"):
        return False
    try:
        return not entry.is_symlink()
    except OSError:
        return False


def files_by_suffix(
    listing: Iterable[tuple[str, list[str]]], suffixes: Iterable[str]
) -> dict[str, tuple[Path, ...]]:
    """The files of a walk with each of these suffixes (".py"), in the walk's order."""
    found: dict[str, list[Path]] = {suffix: [] for suffix in suffixes}
    for directory, files in listing:
        base = None  # a Path costs microseconds: built only for the folders that hold a match
        for name in files:
            suffix = os.path.splitext(name)[1]  # noqa: PTH122 - a str op per file, no Path
            if suffix in found:
                base = Path(directory) if base is None else base
                found[suffix].append(base / name)
    return {suffix: tuple(paths) for suffix, paths in found.items()}


def source_roots(root: Path) -> tuple[Path, ...]:
    """Where top-level packages live: src/ first (the src layout), then the root (flat)."""
    src = root / "src"
    return (src, root) if src.is_dir() else (root,)


def stat_or_none(path: str | Path) -> os.stat_result | None:
    """The file's stat, or None for one that is not there or cannot be read (a dangling link,
    a link to itself): every reader of a walk's files asks this of thousands of them."""
    try:
        return os.stat(path)  # noqa: PTH116 - str paths too: no Path built per file
    except OSError:
        return None


def list_tree(root: Path) -> Listing:
    """The whole walk of `root`, kept."""
    return tuple(walk(root))
