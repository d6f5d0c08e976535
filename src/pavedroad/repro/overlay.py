"""What pavedroad's own processes in the room need beyond the project, added *after* the room's
own packages and only for them: for the evaluation worker, pavedroad and its `evaluate` extra;
for the notebooks' kernels, ipykernel (the `notebooks` extra), which projects rarely declare.

The worker is pavedroad's code (it reads the golden dataset with pyarrow, computes the metrics
with scikit-learn), so it cannot run from the project's dependencies alone. Rather than install
those into the room, which would hide an undeclared import of numpy or pydantic from the tests,
the worker's process alone appends two folders to `sys.path`, after the room's site-packages:
the overlay, and a folder holding a link to pavedroad's own package (pure Python). Where the
project declares numpy, scikit-learn or pydantic, its own versions come first and are the ones
its model runs with.

An overlay holds the extra's distributions and what they require, nothing else (so a model
that imports pandas undeclared still fails). For an interpreter of pavedroad's own Python
version, it is a folder of links to those distributions as installed beside pavedroad: nothing
to download or install. For another version, a cached `uv pip install --target` of the same
versions.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import platform
import shutil
import sys
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pavedroad
from pavedroad.distributions import canonical, requires_of
from pavedroad.errors import UsageError
from pavedroad.repro.interpreters import Interpreter
from pavedroad.repro.processes import Processes
from pavedroad.repro.uvrun import run_uv

WORKER_DISTRIBUTIONS = ("numpy", "pyarrow", "scikit-learn", "pydantic")
MLFLOW_DISTRIBUTIONS = ("mlflow-skinny", "pandas")
KERNEL_DISTRIBUTIONS = ("ipykernel",)
COMPLETE = ".paved-complete"
# Runs the worker with the overlay appended; the project's folder never on sys.path (the model
# imports from the installed wheel, as a deployment would).
BOOTSTRAP = (
    "import os, runpy, sys; here = os.getcwd(); "
    "sys.path[:] = [p for p in sys.path if p not in ('', here)] + {paths!r}; "
    "runpy.run_module('pavedroad.evaluation.worker', run_name='__main__', alter_sys=True)"
)


def pins(*, mlflow: bool) -> list[str]:
    """`name==version` of what the worker imports, as installed beside pavedroad here."""
    extras = "evaluate,mlflow" if mlflow else "evaluate"
    wanted = WORKER_DISTRIBUTIONS + (MLFLOW_DISTRIBUTIONS if mlflow else ())
    return _pinned(wanted, "evaluating the model in the clean room", extras)


def kernel_pins() -> list[str]:
    """`name==version` of the notebooks' kernel, as installed beside pavedroad here."""
    return _pinned(KERNEL_DISTRIBUTIONS, "running the notebooks in the clean room", "notebooks")


def _pinned(names: Iterable[str], purpose: str, extras: str) -> list[str]:
    found = []
    for name in names:
        try:
            found.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            raise UsageError(
                f"{purpose} needs {name} beside pavedroad.\n"
                f"  hint: pip install 'pavedroad[{extras}]'"
            ) from None
    return found


def ensure(
    cache: Path, interpreter: Interpreter, uv: str, processes: Processes, wanted: list[str]
) -> Path:
    """The overlay folder of `wanted` (`pins`, `kernel_pins`) for this interpreter, made once
    and reused."""
    linked = _same_python(interpreter)
    origin = sys.prefix if linked else "uv"
    material = "\0".join(
        [*wanted, interpreter.implementation, interpreter.minor, sys.platform, origin]
    )
    folder = cache / "overlays" / hashlib.sha256(material.encode()).hexdigest()[:24]
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not (folder / COMPLETE).is_file() or not _links_hold(folder):
            shutil.rmtree(folder, ignore_errors=True)
            if linked:
                folder.mkdir()
                _link(folder, [name.partition("==")[0] for name in wanted])
            else:
                args = ["pip", "install", "--quiet", "--python", interpreter.path, "--target"]
                run_uv(processes, uv, [*args, str(folder), *wanted], cwd=folder.parent)
            (folder / COMPLETE).write_text("\n".join(wanted), encoding="utf-8")
    return folder


def _same_python(interpreter: Interpreter) -> bool:
    """Compiled extensions installed beside pavedroad load in this interpreter too."""
    here = sys.version_info
    return (
        interpreter.implementation == platform.python_implementation()
        and interpreter.minor == f"{here.major}.{here.minor}"
    )


def _link(folder: Path, names: Iterable[str]) -> None:
    """A link to each top-level file and folder of the distributions and what they require."""
    for name in sorted(_closure(names)):
        try:
            distribution = importlib.metadata.distribution(name)
        except PackageNotFoundError:
            continue  # required only under a marker that does not hold here
        for file in distribution.files or []:
            top = file.parts[0] if file.parts else ""
            if top in ("", "..", "__pycache__") or top.endswith(".data"):
                continue  # scripts and data installed outside site-packages; bytecode caches
            target = folder / top
            source = Path(str(distribution.locate_file(top)))
            if source.exists() and not target.is_symlink():
                target.symlink_to(source, target_is_directory=source.is_dir())


def _closure(names: Iterable[str]) -> set[str]:
    found: set[str] = set()
    todo = [canonical(name) for name in names]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(requires_of(name))
    return found


def _links_hold(folder: Path) -> bool:
    """False when a link points at nothing any more (the environment it points into changed)."""
    return all(path.exists() for path in folder.iterdir())


def tool_folder(room_tool: Path) -> Path:
    """A folder holding only a link to pavedroad's package, for the worker to import."""
    room_tool.mkdir(parents=True, exist_ok=True)
    link = room_tool / "pavedroad"
    with contextlib.suppress(FileExistsError):
        link.symlink_to(Path(pavedroad.__file__).resolve().parent, target_is_directory=True)
    return room_tool


def worker_command(python: Path, paths: list[Path]) -> list[str]:
    """The room's interpreter running the worker with `paths` after its own site-packages; the
    request and outcome files follow. -I: no user site, no PYTHON* variables."""
    code = BOOTSTRAP.format(paths=[str(p) for p in paths])
    return [str(python), "-I", "-u", "-c", code]
