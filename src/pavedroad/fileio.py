"""Files: written so that a crash or Ctrl-C never leaves half a report behind, hashed in chunks."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

CHUNK = 1 << 20


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename it over `path`. The result has
    the permissions of the file it replaces, or those a plain `open()` would give a new one:
    mkstemp's private 0600 must not leak into a project's pyproject.toml or a shared report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def sha256_of(path: Path) -> str:
    """Streamed, so a multi-gigabyte artifact or dataset costs the memory of one chunk."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
