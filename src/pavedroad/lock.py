"""`paved lock`: pin what the project needs, with hashes, through uv. uv resolves; we never do.

Which lock is written, decided from the project's files (and its contract, when it names one):

- pyproject.toml with a [project] table: `uv lock` writes uv.lock. When the contract's
  `[dependencies].lock` names another file (pylock.toml, or a requirements file), uv.lock is then
  exported to it, hashed, so the lock the contract promises is the one on disk.
- requirements.in, else an unpinned requirements.txt: `uv pip compile --generate-hashes
  --universal` writes a requirements file where every line is `==` with `--hash`, the shape
  the DEP checks take for a lock. Universal, because the engineer's machine is rarely the data
  scientist's: a lock resolved for one platform misses another's packages.

The user's input files are never written. Every lock but uv.lock (which uv writes itself) is
written in a temporary folder beside it and renamed over it, so an interrupted or failed run
leaves the previous lock whole.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from pavedroad.contract import Dependencies, load_contract
from pavedroad.contract_file import search_contract
from pavedroad.errors import PavedError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
UV_LOCK = "uv.lock"
REQUIREMENTS_IN = "requirements.in"
REQUIREMENTS_TXT = "requirements.txt"
# The lock of an unpinned requirements.txt, which stays the user's: still matched by the
# `requirements*.txt` pattern that tools (and the DEP checks) look for.
REQUIREMENTS_LOCK = "requirements.lock.txt"
INSTALL_HINT = 'pip install "pavedroad[lock]"'
# What uv prints when the resolver proves the requirements unsatisfiable (uv 0.4 to 0.13).
NO_SOLUTION = "No solution found"
# A uv failure that is not a resolution shows this many of its last lines, at most.
TAIL = 20


class LockFailed(PavedError):
    """uv could not write the lock: the project's requirements are the user's to change (exit 1)."""

    exit_code = 1


class Format(Enum):
    """The three lock formats uv writes; the file name decides, as it does for uv."""

    UV = "uv.lock"
    PYLOCK = "pylock.toml"
    REQUIREMENTS = "requirements.txt"  # the spelling both `pip compile` and `export` accept

    @classmethod
    def of(cls, path: Path) -> Format:
        if path.name == UV_LOCK:
            return cls.UV
        # PEP 751: pylock.toml or pylock.<name>.toml
        if re.fullmatch(r"pylock(\.[^.]+)?\.toml", path.name):
            return cls.PYLOCK
        return cls.REQUIREMENTS


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What one `paved lock` run does: lock `source` into `output` for `python`."""

    root: Path
    source: Path  # pyproject.toml, or the requirements file that declares what is needed
    output: Path
    python: str | None  # the target Python version, None: uv's default
    command: str = "paved lock"  # what makes this lock again, for the lock's header

    @property
    def from_pyproject(self) -> bool:
        return self.source.name == PYPROJECT


@dataclass(frozen=True)
class Outcome:
    path: Path
    packages: int
    warnings: tuple[str, ...]  # what uv warned about on the way, for the user to read


# -- deciding ---------------------------------------------------------------------------------


def project_root(path: Path) -> tuple[Path, Dependencies | None]:
    """The contract's folder and its [dependencies], as `paved check` finds them. A lock does
    not need a contract: without one, the project is the nearest folder with something to lock."""
    contract_path = search_contract(path)
    if contract_path is None:
        return nearest_lockable(path.resolve()), None
    return contract_path.parent, load_contract(contract_path).contract.dependencies


def nearest_lockable(start: Path) -> Path:
    """`start` or the nearest folder above it that declares dependencies, as uv finds its
    project; the search stops at the repository's root, so a stray file above is never locked."""
    for folder in (start, *start.parents):
        if any(
            (folder / name).is_file() for name in (PYPROJECT, REQUIREMENTS_IN, REQUIREMENTS_TXT)
        ):
            return folder
        if (folder / ".git").exists():
            break
    return start


def plan(path: Path, *, python: str | None = None) -> Plan:
    """Decide what to lock and where, from the files of the project at `path`."""
    root, dependencies = project_root(path)
    named = dependencies.lock if dependencies else None
    if has_project_table(root / PYPROJECT):
        # requires-python in pyproject.toml is uv's target: `python` only picks the interpreter.
        output = root / (named or UV_LOCK)
        _refuse_hand_written(output)
        return Plan(root=root, source=root / PYPROJECT, output=output, python=python)
    source = requirements_source(root)
    output = root / (named or default_requirements_lock(source))
    if Format.of(output) is Format.UV:
        raise UsageError(
            f"the contract names {named} as the lock, but uv.lock needs a [project] table in "
            f"{PYPROJECT} and {root} declares its requirements in {source.name}.\n"
            f'  hint: set `lock = "{default_requirements_lock(source)}"` in [dependencies], or '
            "move the requirements to [project].dependencies"
        )
    if output.resolve() == source.resolve():
        raise UsageError(
            f"the contract names {named} as the lock, but it is also the file that declares the "
            "requirements, which paved lock never overwrites.\n"
            f"  hint: move the requirements to {REQUIREMENTS_IN}, then run paved lock again"
        )
    _refuse_hand_written(output)
    command = "paved lock" + (f" --python {python}" if python else "")
    if python is None and dependencies and dependencies.python:
        python = minimum_python(dependencies.python)
    return Plan(root=root, source=source, output=output, python=python, command=command)


def _refuse_hand_written(output: Path) -> None:
    """A requirements file that is not fully pinned was written by a person: never replaced."""
    if Format.of(output) is Format.REQUIREMENTS and output.is_file() and not is_pinned(output):
        raise UsageError(
            f"{output} holds requirements that are not all pinned: a file a person wrote, which "
            "paved lock never overwrites.\n"
            f"  hint: move them to {REQUIREMENTS_IN} (or pyproject.toml), then run paved lock again"
        )


def has_project_table(pyproject: Path) -> bool:
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{pyproject} is not valid TOML: {error}") from None
    return isinstance(data.get("project"), dict)


def requirements_source(root: Path) -> Path:
    """requirements.in (the pip-tools convention), else a requirements.txt that is not a lock."""
    if (root / REQUIREMENTS_IN).is_file():
        return root / REQUIREMENTS_IN
    txt = root / REQUIREMENTS_TXT
    if not txt.is_file():
        raise UsageError(
            f"nothing to lock in {root}: no [project] table in {PYPROJECT}, no {REQUIREMENTS_IN} "
            f"and no {REQUIREMENTS_TXT}.\n"
            f"  hint: declare the dependencies in {PYPROJECT} [project].dependencies"
        )
    if is_hashed_lock(txt):
        raise UsageError(
            f"{txt} is already a lock (every requirement pinned with hashes), and there is no "
            f"{REQUIREMENTS_IN} to lock again from.\n"
            f"  hint: write the direct requirements to {REQUIREMENTS_IN}, then run paved lock"
        )
    return txt


def default_requirements_lock(source: Path) -> str:
    """requirements.in compiles to requirements.txt (the pip-tools convention) unless that file is
    hand-written (not fully pinned): a person's file is never overwritten."""
    txt = source.parent / REQUIREMENTS_TXT
    if source.name == REQUIREMENTS_IN and (not txt.exists() or is_pinned(txt)):
        return REQUIREMENTS_TXT
    return REQUIREMENTS_LOCK


def minimum_python(specifier: str) -> str | None:
    """The lowest Python a `>=3.10,<3.13` style specifier allows: the version a universal lock
    must support, so that the oldest supported interpreter gets its backports (tomli, ...)."""
    try:
        specs = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    floors = [s.version.removesuffix(".*") for s in specs if s.operator in {">=", "~=", "=="}]
    return max(floors, key=_release, default=None)


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


# -- requirements files -----------------------------------------------------------------------


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file, continuations joined, comments and options
    (`-r`, `--index-url`, ...) left out; an editable line is kept: it is a requirement."""
    data = path.read_bytes()
    is_utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    text = data.decode("utf-16" if is_utf16 else "utf-8-sig", errors="replace")
    lines = []
    for line in re.sub(r"\\\r?\n", " ", text).splitlines():
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if line and (not line.startswith("-") or line.startswith(("-e", "--editable"))):
            lines.append(line)
    return lines


def _pinned(line: str) -> bool:
    try:
        requirement = Requirement(line.split(" -", 1)[0])
    except InvalidRequirement:
        return False
    specs = list(requirement.specifier)
    return len(specs) == 1 and specs[0].operator in {"==", "==="} and "*" not in specs[0].version


def is_pinned(path: Path) -> bool:
    """Every requirement `==`: a compiled file (pip-compile, uv pip compile), not a person's."""
    lines = requirement_lines(path)
    return bool(lines) and all(_pinned(line) for line in lines)


def is_hashed_lock(path: Path) -> bool:
    """Every requirement `==` and with `--hash`: what pip's hash-checking mode installs."""
    lines = requirement_lines(path)
    return is_pinned(path) and all("--hash" in line for line in lines)


def count_packages(path: Path) -> int:
    """How many packages a lock pins; the project itself and its workspace members are not
    pinned from an index, so they do not count."""
    match Format.of(path):
        case Format.UV:
            packages = _toml(path).get("package", [])
            return sum(
                1 for p in packages if not {"editable", "virtual"} & set(p.get("source", {}))
            )
        case Format.PYLOCK:
            return sum(1 for p in _toml(path).get("packages", []) if "directory" not in p)
        case Format.REQUIREMENTS:
            return len(requirement_lines(path))


def _toml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    return data


# -- running uv -------------------------------------------------------------------------------


def find_uv() -> str:
    """The uv binary of the `uv` package installed with pavedroad[lock], else `uv` on PATH."""
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        raise PavedError(f"paved lock needs uv, which is not installed: {INSTALL_HINT}")
    return found


def run(
    plan: Plan,
    *,
    uv: str,
    upgrade: bool = False,
    on_progress: Callable[[str], None] = lambda _: None,
) -> Outcome:
    """Write the lock `plan` describes; raise LockFailed with uv's explanation when uv fails."""
    warnings: list[str] = []
    if plan.from_pyproject:
        args = ["lock", *_python("--python", plan.python), *_upgrade(upgrade)]
        warnings += _uv(uv, args, plan, on_progress)
        uv_lock = plan.root / UV_LOCK
        if not uv_lock.is_file():
            raise LockFailed(f"uv wrote no {UV_LOCK} in {plan.root}: is it a workspace member?")
        if Format.of(plan.output) is not Format.UV:
            on_progress(f"exporting {UV_LOCK} to {plan.output.name}")
            with _replacing(plan.output) as temporary:
                warnings += _uv(uv, _export(plan.output, temporary), plan, on_progress)
    else:
        with _replacing(plan.output) as temporary:
            args = _compile(plan, temporary, upgrade=upgrade)
            warnings += _uv(uv, args, plan, on_progress)
    return Outcome(path=plan.output, packages=count_packages(plan.output), warnings=tuple(warnings))


def _python(flag: str, python: str | None) -> list[str]:
    return [flag, python] if python else []


def _upgrade(upgrade: bool) -> list[str]:
    return ["--upgrade"] if upgrade else []


def _compile(plan: Plan, output: Path, *, upgrade: bool) -> list[str]:
    return [
        "pip",
        "compile",
        plan.source.name,
        "--generate-hashes",
        "--universal",
        "--format",
        Format.of(plan.output).value,
        # The header then tells the next reader how to make it again, not our temporary path.
        "--custom-compile-command",
        plan.command,
        "-o",
        str(output),
        *_python("--python-version", plan.python),
        *_upgrade(upgrade),
    ]


def _export(lock: Path, output: Path) -> list[str]:
    # Without the project: pip's hash-checking mode refuses the editable `-e .` line, and a lock
    # pins what comes from an index. Without header: it would name the temporary file.
    return [
        "export",
        "--frozen",
        "--no-emit-project",
        "--no-header",
        "--format",
        Format.of(lock).value,
        "-o",
        str(output),
    ]


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A path for uv to write, in a temporary folder beside `path`, moved over it on success.

    The lock's own name, so uv infers the format (and accepts a pylock name); a copy of the
    current lock, because uv keeps the versions it pins unless told to upgrade. The same folder,
    so the move is an atomic rename.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".paved-lock-") as folder:
        temporary = Path(folder) / path.name
        if path.is_file():
            shutil.copyfile(path, temporary)
        yield temporary
        temporary.replace(path)


def _uv(uv: str, args: list[str], plan: Plan, on_progress: Callable[[str], None]) -> list[str]:
    """Run uv in the project, passing each line it prints to `on_progress`; its warnings."""
    command = [uv, *args, "--color", "never"]
    on_progress(f"uv {' '.join(args[:2])}")
    with subprocess.Popen(
        command,
        cwd=plan.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # uv repeats the lock on stdout; the file is what counts
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stderr is not None  # stderr=PIPE
        lines = []
        for line in process.stderr:
            lines.append(line.rstrip())
            if line.strip():
                on_progress(line.strip())
        returncode = process.wait()
    if returncode != 0:
        raise LockFailed(explain_failure(lines, source=plan.source.name))
    return warning_blocks(lines)


def explain_failure(lines: list[str], *, source: str) -> str:
    """A headline, then the part of uv's stderr that explains (from its first `error:` on)."""
    start = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
    relevant = lines[start:] if start is not None else lines[-TAIL:]
    if relevant and relevant[0].startswith("error:"):
        relevant = [relevant[0].removeprefix("error:").strip(), *relevant[1:]]
    body = "\n".join(f"  {line}" for line in relevant if line.strip())
    if any(NO_SOLUTION in line for line in lines):
        return (
            f"uv could not resolve the dependencies:\n{body}\n"
            f"  hint: change the requirements of {source} that uv names above, then run paved lock again"
        )
    return f"uv could not write the lock:\n{body}"


def warning_blocks(lines: list[str]) -> list[str]:
    """uv's `warning:` lines, each with the indented lines that continue it."""
    blocks: list[list[str]] = []
    inside = False
    for line in lines:
        if line.startswith("warning:"):
            blocks.append([line])
            inside = True
        elif inside and (line.startswith(" ") or not line.strip()):
            blocks[-1].append(line)
        else:
            inside = False
    return ["\n".join(block).rstrip() for block in blocks]
