"""The room's dependencies: built once per lock and Python, then layered under each room.

What is installed comes from the lock when there is one (uv.lock exported with its development
groups, else a pylock.toml or hashed requirements file, `uv pip sync`ed), else from the declared
requirements (runtime and development groups; other extras are left out). The result is a
virtual environment in pavedroad's cache, keyed by the sha256 of what it was built from and the
interpreter's version: a second run with the same lock reuses it instead of installing again.

Each room gets a fresh virtual environment of its own, into which only the project's wheel is
installed; a `.pth` file adds the cached environment's site-packages after the room's own, and
the cached environment's scripts (`pytest`, ...) are copied into the room's `bin/` pointing at
the room's interpreter. So the room sees exactly the lock's packages and the wheel, and the
cached environment is never written by a run: concurrent runs share it (a shared file lock
keeps a pruning run from deleting it under them).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pavedroad.cachedir import cache_root as paved_cache_root
from pavedroad.declared import declarations
from pavedroad.declared.model import DEV_WORDS, RUNTIME, Declared
from pavedroad.project import Project
from pavedroad.repro.interpreters import Interpreter
from pavedroad.repro.processes import Processes
from pavedroad.repro.uvrun import run_uv

LAYOUT = "repro-v1"  # bump when what a cached environment holds changes
KEEP_ENVIRONMENTS = 8  # the most recently used are kept; older ones are pruned
COMPLETE = ".paved-complete"  # written last: an environment without it is a broken build
FROZEN = "paved-frozen.txt"  # `uv pip freeze` of the built environment
LAYER_PTH = "_paved_repro_layer.pth"

Kind = Literal["uv.lock", "pylock", "requirements", "declared"]


@dataclass(frozen=True)
class Plan:
    """What the environment is built from."""

    kind: Kind
    shown: str  # for people: "uv.lock", "the declared requirements of pyproject.toml"
    lock: str | None  # the lock, relative to the project root
    requirements: tuple[str, ...]  # declared requirements installed (on top of a lock: dev ones)
    extras: tuple[str, ...]  # uv.lock: the development extras exported with it
    digest: str  # sha256 of all of the above and the lock's bytes


def plan_for(project: Project) -> Plan:
    """The lock the contract names, else the first one found, else the declared requirements."""
    found = declarations(project)
    own = _own_name(project)
    named = project.contract.dependencies.lock if project.contract.dependencies else None
    locks = sorted(found.locks, key=lambda lock: named is None or project.rel(lock.path) != named)
    if locks:
        lock = locks[0]
        relative = project.rel(lock.path)
        extras = _dev_extras(project) if lock.kind == "uv.lock" else ()
        # Beside a requirements lock or a pylock.toml, the development requirements the tests
        # need; uv.lock exports its own groups.
        dev = () if lock.kind == "uv.lock" else _requirements(found.dependencies, own, dev=True)
        lock_sha256 = hashlib.sha256(lock.path.read_bytes()).hexdigest()
        material = [lock.kind, relative, lock_sha256, *extras, *dev]
        return Plan(lock.kind, relative, relative, dev, extras, _digest(material))
    requirements = _requirements(found.dependencies, own, dev=False)
    sources = sorted({project.rel(d.source) for d in found.dependencies})
    shown = "the declared requirements" + (f" of {', '.join(sources)}" if sources else "")
    return Plan("declared", shown, None, requirements, (), _digest(["declared", *requirements]))


def _requirements(
    dependencies: tuple[Declared, ...], own: str | None, *, dev: bool
) -> tuple[str, ...]:
    """Runtime and development requirements as PEP 508 strings (only development ones when
    `dev`), the project itself and unparsable lines left out, sorted: the key must not depend
    on the order of the files."""
    wanted = set()
    for dependency in dependencies:
        group = dependency.group
        if (group == RUNTIME and not dev) or group.startswith("dev:"):
            try:
                parsed = Requirement(dependency.requirement)
            except InvalidRequirement:
                continue
            if own is None or canonicalize_name(parsed.name) != own:
                wanted.add(str(parsed))
    return tuple(sorted(wanted))


def _own_name(project: Project) -> str | None:
    table = (project.pyproject or {}).get("project")
    name = table.get("name") if isinstance(table, dict) else None
    return canonicalize_name(name) if isinstance(name, str) else None


def _dev_extras(project: Project) -> tuple[str, ...]:
    table = (project.pyproject or {}).get("project")
    extras = table.get("optional-dependencies") if isinstance(table, dict) else None
    if not isinstance(extras, dict):
        return ()
    return tuple(sorted(name for name in extras if canonicalize_name(name) in DEV_WORDS))


def _digest(parts: list[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", errors="surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()


def cache_root() -> Path:
    """Beside the import index: `$PAVED_CACHE_DIR`, else the user's cache folder."""
    return paved_cache_root() / LAYOUT


def environment_key(plan: Plan, interpreter: Interpreter) -> str:
    parts = [plan.digest, interpreter.implementation, interpreter.version_text, sys.platform]
    return _digest(parts)[:24]


@dataclass(frozen=True)
class Built:
    path: Path
    reused: bool
    packages: int


class EnvironmentCache:
    """Cached environments under one folder, each guarded by a file lock: exclusive while it is
    built, shared while a room uses it."""

    def __init__(self, root: Path) -> None:
        self.root = root / "envs"

    @contextlib.contextmanager
    def use(
        self,
        key: str,
        *,
        plan: Plan,
        interpreter: Interpreter,
        project_dir: Path,
        uv: str,
        processes: Processes,
        rebuild: bool = False,
    ) -> Iterator[Built]:
        """The environment of `key`, built first when missing, broken or `rebuild`."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / key
        with _locked(self.root / f"{key}.lock", exclusive=True) as handle:
            reused = (path / COMPLETE).is_file() and not rebuild
            if not reused:
                shutil.rmtree(path, ignore_errors=True)
                _build(path, plan, interpreter, project_dir, uv, processes)
                (path / COMPLETE).write_text(key, encoding="utf-8")
            os.utime(path / COMPLETE)  # the most recently used are the ones pruning keeps
            fcntl.flock(handle, fcntl.LOCK_SH)  # downgrade: other rooms may share it now
            frozen = (path / FROZEN).read_text(encoding="utf-8").splitlines()
            self._prune(keep=key)
            yield Built(path, reused, sum(1 for line in frozen if line and line[0].isalnum()))

    def _prune(self, keep: str) -> None:
        """Remove all but the most recently used environments that no run holds."""
        stamps = sorted(
            self.root.glob(f"*/{COMPLETE}"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for stamp in stamps[KEEP_ENVIRONMENTS:]:
            folder = stamp.parent
            if folder.name == keep:
                continue
            lock_path = self.root / f"{folder.name}.lock"
            with contextlib.suppress(OSError), lock_path.open("a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a room uses it now
                shutil.rmtree(folder, ignore_errors=True)
                lock_path.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path, *, exclusive: bool) -> Iterator[IO[str]]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield handle


def _build(
    path: Path,
    plan: Plan,
    interpreter: Interpreter,
    project_dir: Path,
    uv: str,
    processes: Processes,
) -> None:
    run_uv(
        processes, uv, ["venv", "--quiet", "--python", interpreter.path, str(path)], cwd=project_dir
    )
    python = str(python_of(path))
    if plan.kind == "uv.lock":
        exported = path / "paved-requirements.txt"
        extras = [f"--extra={name}" for name in plan.extras]
        export = ["export", "--frozen", "--no-emit-project", "--no-header", "--all-groups"]
        run_uv(processes, uv, [*export, *extras, "--output-file", str(exported)], cwd=project_dir)
        run_uv(
            processes,
            uv,
            ["pip", "sync", "--python", python, str(exported)],
            cwd=project_dir,
        )
    elif plan.lock is not None:
        lock = str(project_dir / plan.lock)
        run_uv(processes, uv, ["pip", "sync", "--python", python, lock], cwd=project_dir)
    if plan.requirements:
        listed = path / "paved-requirements.in"
        listed.write_text("\n".join(plan.requirements) + "\n", encoding="utf-8")
        run_uv(
            processes,
            uv,
            ["pip", "install", "--python", python, "-r", str(listed)],
            cwd=project_dir,
        )
    frozen = run_uv(processes, uv, ["pip", "freeze", "--python", python], cwd=project_dir)
    lines = [line for line in frozen.output.splitlines() if "==" in line or " @ " in line]
    (path / FROZEN).write_text("\n".join(lines) + "\n", encoding="utf-8")


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python*/site-packages"))
    if found:
        return found[0]
    return venv / "Lib" / "site-packages"


def layer(room_venv: Path, built: Path) -> None:
    """Make the cached environment's packages and scripts the room's, after its own."""
    site = site_packages(room_venv)
    (site / LAYER_PTH).write_text(
        f"import site; site.addsitedir({str(site_packages(built))!r})\n", encoding="utf-8"
    )
    source_bin, target_bin = python_of(built).parent, python_of(room_venv).parent
    old, new = str(source_bin).encode(), str(target_bin).encode()
    for script in sorted(source_bin.iterdir()):
        target = target_bin / script.name
        if target.exists() or not script.is_file() or script.name.startswith("activate"):
            continue
        data = script.read_bytes()
        if data.startswith(b"#!"):  # a shebang, or uv's sh trampoline for a long path
            head = data.split(b"\n", 3)
            data = b"\n".join([line.replace(old, new) for line in head[:3]] + head[3:])
        target.write_bytes(data)
        target.chmod(0o755)


def make_room_venv(
    room_venv: Path, interpreter: Interpreter, uv: str, processes: Processes, cwd: Path
) -> None:
    run_uv(
        processes, uv, ["venv", "--quiet", "--python", interpreter.path, str(room_venv)], cwd=cwd
    )


def install_wheel(room_venv: Path, wheel: Path, uv: str, processes: Processes) -> None:
    """The project itself, from its wheel, never editable: the packaging is part of the proof."""
    python = str(python_of(room_venv))
    run_uv(
        processes,
        uv,
        ["pip", "install", "--no-deps", "--python", python, str(wheel)],
        cwd=wheel.parent,
    )


def frozen_requirements(built: Path) -> list[str]:
    return (built / FROZEN).read_text(encoding="utf-8").splitlines()
