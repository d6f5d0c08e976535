"""The walk of a project tree that every reader shares: which folders hold project files.

Standard library only, so that `paved deps` can fingerprint a tree before its heavy imports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Folders that hold no project source: tool caches, build output, installed packages.
PRUNED_DIRS = frozenset(
    {"__pycache__", "node_modules", "build", "dist", "site-packages", "venv", "env", "htmlcov"}
)


def walk(root: Path) -> Iterator[tuple[str, list[str]]]:
    """(folder, its file names), both sorted, for every folder of the project: hidden folders
    (.git, .ipynb_checkpoints), virtual environments, build output and egg-info are left out.
    Symlinked folders are not followed, so a link to itself cannot loop."""
    for directory, subdirs, files in os.walk(root):
        if "pyvenv.cfg" in files and directory != str(root):
            subdirs[:] = []  # a virtual environment: installed packages, not the project
            continue
        subdirs[:] = sorted(
            name
            for name in subdirs
            if not name.startswith(".")
            and name not in PRUNED_DIRS
            and not name.endswith(".egg-info")
        )
        yield directory, sorted(files)
