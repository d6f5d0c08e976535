"""The Python the clean room is built with: one the contract allows, among those on the machine.

The interpreter running pavedroad is preferred when it fits (the local run used it, so the room
differs from it only by what is declared); else the newest that fits among PATH, pyenv's and
uv's installed versions. Each candidate is asked for its version by running it: a pyenv shim for
a version that is not selected fails that question and is simply not a candidate.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from pavedroad.errors import UsageError

QUERY = "import platform, sys; print(platform.python_implementation(), *sys.version_info[:3])"
QUERY_TIMEOUT_S = 20
_NAME = re.compile(r"^python(3(\.\d+)?)?$")


@dataclass(frozen=True, order=True)
class Interpreter:
    version: tuple[int, int, int]
    implementation: str
    path: str

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def label(self) -> str:
        return f"{self.implementation} {self.version_text}"

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def allowed_versions(*specifiers: str | None) -> SpecifierSet:
    """Every constraint at once: the contract's [dependencies].python and requires-python."""
    combined = SpecifierSet()
    for text in specifiers:
        if not text:
            continue
        try:
            combined &= SpecifierSet(text)
        except InvalidSpecifier:
            raise UsageError(
                f"{text!r} is not a Python version specifier such as '>=3.10,<3.13'"
            ) from None
    return combined


def choose(allowed: SpecifierSet, wanted: str | None = None) -> Interpreter:
    """The interpreter the room uses: `wanted` (a path, or a version such as 3.12) when given,
    else the running one if allowed, else the newest allowed one found on the machine."""
    if wanted is not None and (os.sep in wanted or Path(wanted).is_file()):
        found = query(wanted)
        if found is None:
            raise UsageError(f"--python {wanted}: not a Python interpreter that runs here")
        _require(found, allowed, wanted)
        return found
    running = current()
    if _fits(running, allowed, wanted):
        return running
    candidates = discover()
    fitting = [c for c in candidates if _fits(c, allowed, wanted)]
    if fitting:
        return max(fitting)
    raise UsageError(_none_fits(allowed, wanted, [running, *candidates]))


def current() -> Interpreter:
    info = sys.version_info
    return Interpreter(
        (info.major, info.minor, info.micro), platform.python_implementation(), sys.executable
    )


def discover() -> list[Interpreter]:
    """Every distinct interpreter found, each asked its version (in parallel: a shim is slow)."""
    paths = list(dict.fromkeys(_candidates()))
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = [i for i in pool.map(query, paths) if i is not None]
    unique: dict[tuple[str, tuple[int, int, int]], Interpreter] = {}
    for interpreter in found:
        unique.setdefault((interpreter.implementation, interpreter.version), interpreter)
    return sorted(unique.values())


def query(path: str) -> Interpreter | None:
    try:
        done = subprocess.run(
            [path, "-c", QUERY],
            capture_output=True,
            text=True,
            timeout=QUERY_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 4 or not all(w.isdigit() for w in words[1:]):
        return None
    major, minor, micro = (int(w) for w in words[1:])
    return Interpreter((major, minor, micro), words[0], path)


def _candidates() -> Iterator[str]:
    """python, python3 and python3.N on PATH; pyenv's versions; uv's managed installs."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        yield from _pythons_in(Path(folder))
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    uv_data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    for base in (pyenv, Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or uv_data / "uv/python")):
        if base.is_dir():
            for version in sorted(base.iterdir()):
                yield from _pythons_in(version / "bin")


def _pythons_in(folder: Path) -> Iterable[str]:
    try:
        paths = sorted(folder.iterdir())
    except OSError:
        return []
    return [str(path) for path in paths if _NAME.match(path.name) and os.access(path, os.X_OK)]


def _fits(interpreter: Interpreter, allowed: SpecifierSet, wanted: str | None) -> bool:
    if interpreter.implementation != "CPython" and wanted is None:
        return False  # the contract speaks of Python versions; other implementations by request
    if not allowed.contains(Version(interpreter.version_text), prereleases=True):
        return False
    if wanted is None:
        return True
    parts = wanted.split(".")
    return [str(p) for p in interpreter.version[: len(parts)]] == parts


def _require(found: Interpreter, allowed: SpecifierSet, wanted: str) -> None:
    if not allowed.contains(Version(found.version_text), prereleases=True):
        raise UsageError(
            f"--python {wanted} is {found.label}, which the project does not allow "
            f"(python {allowed})"
        )


def _none_fits(allowed: SpecifierSet, wanted: str | None, seen: list[Interpreter]) -> str:
    need = f"Python {wanted}" if wanted else "a Python"
    rule = f" allowed by {allowed}" if str(allowed) else ""
    unique = sorted({(i.label, i.path) for i in seen})
    listed = "\n".join(f"    {label}  {path}" for label, path in unique) or "    (none)"
    version = wanted or _lowest(allowed) or "3.12"
    return (
        f"no interpreter on this machine is {need}{rule}; found:\n{listed}\n"
        f"  hint: install one (`uv python install {version}`), or pass --python PATH"
    )


def _lowest(allowed: SpecifierSet) -> str | None:
    floors = [s.version for s in allowed if s.operator in (">=", "==", "~=")]
    return max(floors, default=None, key=Version)
