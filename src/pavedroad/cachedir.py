"""Where pavedroad keeps its caches, and the stamp of the Python environment they depend on.

Standard library only: `paved deps` consults its result cache before importing anything else.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def cache_root() -> Path:
    """`$PAVED_CACHE_DIR`, else `$XDG_CACHE_HOME/pavedroad`, else ~/.cache/pavedroad. Each cache
    lives in a versioned folder of its own below it (`imports-v1/`, `results-v1/`, ...)."""
    base = os.environ.get("PAVED_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "pavedroad")
    return Path(base)


def caching_enabled() -> bool:
    """False when `PAVED_NO_CACHE` is set to anything but "" or "0"."""
    return os.environ.get("PAVED_NO_CACHE", "") in ("", "0")


def environment_stamp() -> str:
    """A digest of the interpreter and every import folder with its mtime: it changes whenever
    a package is installed into or removed from the environment."""
    stamps = [sys.executable]
    for entry in sys.path:
        try:
            stamps.append(f"{entry}\0{Path(entry or '.').stat().st_mtime_ns}")
        except OSError:
            continue
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:32]
