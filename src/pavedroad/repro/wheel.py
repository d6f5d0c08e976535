"""The project as a built wheel (REP002): built by uv from the room's copy, never editable.

Building from the copy is the packaging test: a module left out of the wheel's configuration, or
a file the build reads that git does not track, fails here and not on the engineer's machine.
"""

from __future__ import annotations

import configparser
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pavedroad.fileio import sha256_of
from pavedroad.repro.interpreters import Interpreter
from pavedroad.repro.processes import Processes
from pavedroad.repro.room import Room
from pavedroad.repro.uvrun import UvFailed, run_uv

BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class Wheel:
    path: Path | None
    sha256: str | None = None
    error: str | None = None


def build(room: Room, interpreter: Interpreter, uv: str, processes: Processes) -> Wheel:
    if not any((room.project / name).is_file() for name in BUILD_FILES):
        return Wheel(
            None,
            error="the project has no pyproject.toml (nor setup.py): nothing builds it as a wheel",
        )
    args = ["build", "--wheel", "--out-dir", str(room.dist), "--python", interpreter.path]
    try:
        run_uv(processes, uv, [*args, str(room.project)], cwd=room.project)
    except UvFailed as failed:
        return Wheel(None, error=failed.explanation)
    wheels = sorted(room.dist.glob("*.whl"))
    if not wheels:
        return Wheel(None, error="uv build succeeded but wrote no wheel")
    return Wheel(wheels[0], sha256_of(wheels[0]))


@dataclass(frozen=True)
class Contents:
    """What a wheel installs that the room calls: top-level modules, console scripts."""

    modules: tuple[str, ...]
    scripts: dict[str, str]  # name -> "module:function"


def contents(wheel: Path) -> Contents:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        scripts = {}
        for name in names:
            if name.endswith(".dist-info/entry_points.txt"):
                parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
                parser.optionxform = str  # type: ignore[assignment,method-assign]
                parser.read_string(archive.read(name).decode("utf-8", errors="replace"))
                if parser.has_section("console_scripts"):
                    scripts = {k: v.strip() for k, v in parser.items("console_scripts")}
    modules = set()
    for name in names:
        first = name.split("/", 1)[0]
        if first.endswith((".dist-info", ".data")):
            continue
        if "/" in name and name.split("/", 1)[1]:
            modules.add(first)
        elif name.endswith(".py"):
            modules.add(name.removesuffix(".py"))
    return Contents(tuple(sorted(m for m in modules if m.isidentifier())), scripts)
