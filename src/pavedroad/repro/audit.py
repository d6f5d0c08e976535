"""What the project's code reads in the room, recorded as it happens (REP005 and REP006).

A failure only shows the first thing that was missing; a default silently taken shows nothing.
So every Python process of the room loads a small module (through a `.pth` file of the room's
own environment) that records, in a log outside the project:

- environment variables read by the project's own code (`os.environ[...]`, `.get`, `getenv`,
  `in`), with the file and line, whether set or not: a setting the contract does not declare
  is one the engineer will not know to set;
- files opened for reading that do not exist in the room (what a clone would lack), and files
  opened in the author's tree by absolute path (what a clone would not have at all).

Reads by the tests themselves, by libraries and by the interpreter are not the project's and are
not recorded. The module writes with `os.open` under a guard, so it never audits itself.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

MODULE = "_paved_repro_audit"
PTH = f"{MODULE}.pth"

_SOURCE = '''\
"""Written by `paved repro`: records what the project reads that a clean clone may lack."""

import json as _json
import os as _os
import sys as _sys
import threading as _threading

_LOG = {log!r}
_CODE = {code!r}  # the project's code: the room's copy and its installed package
_ROOM = {room!r}
_AUTHOR = {author!r}
_NOT_AUTHOR = {not_author!r}  # under the author's tree but not theirs: caches, interpreters
_INTERNAL = frozenset({{"os", "_collections_abc", "collections.abc"}})  # by name: frozen in 3.11+
_WRITES = _os.O_WRONLY | _os.O_RDWR | _os.O_CREAT | _os.O_APPEND | _os.O_TRUNC
_busy = _threading.local()
_seen = set()


def _record(entry):
    _busy.on = True
    try:
        descriptor = _os.open(_LOG, _os.O_WRONLY | _os.O_APPEND | _os.O_CREAT, 0o600)
        try:
            _os.write(descriptor, (_json.dumps(entry) + "\\n").encode("utf-8"))
        finally:
            _os.close(descriptor)
    except Exception:
        pass
    finally:
        _busy.on = False


def _is_test(path):
    name = _os.path.basename(path)
    parts = path.replace("\\\\", "/").split("/")
    return (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
        or any(part in ("tests", "test", "testing") for part in parts[:-1])
    )


def _project_frame():
    frame = _sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") in _INTERNAL:
        frame = frame.f_back
    if frame is None:
        return None
    path = frame.f_code.co_filename
    if path.startswith(_CODE) and not _is_test(path):
        return path, frame.f_lineno
    return None


_original = _os._Environ.__getitem__


def _getitem(self, key):
    if self is _os.environ and isinstance(key, str) and not getattr(_busy, "on", False):
        try:
            found = _project_frame()
            if found is not None and (key, *found) not in _seen:
                _seen.add((key, *found))
                _record({{"kind": "env", "name": key, "file": found[0], "line": found[1]}})
        except Exception:
            pass
    return _original(self, key)


def _audit(event, args):
    if event != "open" or getattr(_busy, "on", False):
        return
    try:
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & _WRITES
        ):
            return
        full = _os.path.abspath(_os.fsdecode(path))
        if full.endswith(".pyc"):
            return  # the interpreter looking for its bytecode cache
        if full.startswith(_AUTHOR) and not full.startswith(_NOT_AUTHOR):
            entry = {{"kind": "open", "path": full, "author": True}}
        elif full.startswith(_ROOM) and not _os.path.exists(full):
            entry = {{"kind": "open", "path": full, "author": False}}
        else:
            return
        if full not in _seen:
            _seen.add(full)
            _record(entry)
    except Exception:
        pass


_os._Environ.__getitem__ = _getitem
_sys.addaudithook(_audit)
'''


@dataclass(frozen=True)
class EnvRead:
    name: str
    file: str
    line: int


@dataclass(frozen=True)
class FileOpen:
    path: str  # absolute, as opened
    author: bool  # in the author's tree (by absolute path), not in the room


def install(
    site_packages: Path,
    *,
    log: Path,
    code: list[Path],
    room: Path,
    author: Path,
    not_author: list[Path],
) -> None:
    """Write the module and the `.pth` line that loads it into the room's environment."""
    text = _SOURCE.format(
        log=str(log),
        code=tuple(_prefix(p) for p in code),
        room=_prefix(room),
        author=_prefix(author),
        not_author=tuple(_prefix(p) for p in not_author) or ("\0",),
    )
    (site_packages / f"{MODULE}.py").write_text(text, encoding="utf-8")
    (site_packages / PTH).write_text(f"import {MODULE}\n", encoding="utf-8")


def _prefix(path: Path) -> str:
    """A folder with its separator (so `src/app` does not match `src/apple`); a module as is."""
    if path.suffix == ".py":
        return str(path)
    return str(path).rstrip("/\\") + ("\\" if sys.platform == "win32" else "/")


def read(log: Path) -> tuple[list[EnvRead], list[FileOpen]]:
    """What the log recorded, in order, each once; a damaged line is skipped."""
    env: dict[tuple[str, str, int], EnvRead] = {}
    opened: dict[str, FileOpen] = {}
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return [], []
    for line in lines:
        try:
            entry = json.loads(line)
            if entry["kind"] == "env":
                read_ = EnvRead(str(entry["name"]), str(entry["file"]), int(entry["line"]))
                env.setdefault((read_.name, read_.file, read_.line), read_)
            elif entry["kind"] == "open":
                opened.setdefault(
                    entry["path"], FileOpen(str(entry["path"]), bool(entry["author"]))
                )
        except (ValueError, KeyError, TypeError):
            continue
    return list(env.values()), list(opened.values())
