"""The environment variables the project's code sees in the room: an allowlist, nothing else.

PATH, LANG and TZ pass through, PATH without the author's virtual environments, conda
environments and anything under their home folder (user-installed scripts, pyenv shims): the
room's own `bin/` comes first and a command the project does not declare must not be found
elsewhere. The contract's `[config].env` variables get the values given with `--env KEY=VALUE`,
else those of the project's committed `.env.example`; an undeclared one is never passed. HOME
is an empty folder; user site-packages are off, and PYTHONPATH is not set.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path

from pavedroad.errors import UsageError

PASSED = ("PATH", "LANG", "TZ")
ALWAYS = frozenset({*PASSED, "HOME"})  # what the room sets itself: never a contract's concern
EXAMPLE_FILE = ".env.example"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_assignments(values: Iterable[str]) -> dict[str, str]:
    """`--env KEY=VALUE` options as a mapping; a malformed one is a usage error."""
    found = {}
    for value in values:
        name, equals, text = value.partition("=")
        if not equals or not _NAME.match(name):
            raise UsageError(
                f"--env {value!r}: expected KEY=VALUE, such as --env CHURN_THRESHOLD=0.5"
            )
        found[name] = text
    return found


def read_example(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (`export`, quotes and comments as shells write them)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        text = text.removeprefix("export ").strip()
        name, equals, value = text.partition("=")
        name = name.strip()
        if not equals or not _NAME.match(name):
            continue
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = [value.strip()]
        found[name] = " ".join(words)
    return found


def require_declared(declared: Iterable[str], given: Mapping[str, str]) -> None:
    """Refuse a `--env` value for a variable the contract does not declare."""
    undeclared = sorted(set(given) - set(declared))
    if undeclared:
        raise UsageError(
            f"--env {', '.join(undeclared)}: not declared in the contract's [config].env, so "
            "the clean room does not pass it.\n"
            f"  hint: add {undeclared[0]!r} to [config].env (and document it) if the code reads it"
        )


def room_environment(
    *,
    declared: Iterable[str],
    given: Mapping[str, str],
    example: Mapping[str, str],
    home: Path,
    bin_dir: Path,
    outer: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The room's variables. `outer` is the author's environment (os.environ by default)."""
    outer = os.environ if outer is None else outer
    declared = list(declared)
    require_declared(declared, given)
    env = {name: outer[name] for name in PASSED[1:] if name in outer}
    env["PATH"] = os.pathsep.join([str(bin_dir), *clean_path(outer.get("PATH", ""), outer)])
    env["HOME"] = str(home)
    env["PYTHONNOUSERSITE"] = "1"
    for name in declared:
        if name in given:
            env[name] = given[name]
        elif name in example:
            env[name] = example[name]
    return env


def clean_path(path: str, outer: Mapping[str, str]) -> list[str]:
    """PATH's folders, without virtual or conda environments and the author's home folder."""
    home = outer.get("HOME")
    home_path = Path(home).resolve() if home else None
    kept = []
    for entry in path.split(os.pathsep):
        if not entry or not Path(entry).is_absolute():
            continue
        folder = Path(entry)
        parent = folder.parent
        if (parent / "pyvenv.cfg").is_file() or (parent / "conda-meta").is_dir():
            continue
        if home_path is not None and home_path != Path("/") and _under(folder, home_path):
            continue
        if entry not in kept:
            kept.append(entry)
    return kept


def _under(folder: Path, base: Path) -> bool:
    try:
        return folder.resolve().is_relative_to(base)
    except OSError:
        return False
