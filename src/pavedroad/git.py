"""Asking git about a project: its commit, the files it tracks, why it ignores a path.

Git is optional: a project outside a repository, a machine without git, or git that hangs on a
network file system all answer None, and the caller says what it does instead.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

TIMEOUT_S = 60


def git_output(root: Path, *args: str, timeout: float = TIMEOUT_S) -> str | None:
    """What `git ARGS` prints, run in `root`; None when git is missing, times out or fails.
    Paths git prints that are not UTF-8 keep their bytes (surrogateescape), as os does."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, check=False, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="surrogateescape")


def git_commit(root: Path) -> str | None:
    """HEAD's commit, with `-dirty` when tracked files changed; None outside git."""
    head = git_output(root, "rev-parse", "HEAD", timeout=10)
    if head is None:
        return None
    dirty = git_output(root, "status", "--porcelain", "--untracked-files=no", "--", ".", timeout=30)
    return head.strip() + ("-dirty" if dirty and dirty.strip() else "")
