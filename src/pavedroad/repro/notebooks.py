"""The notebooks in the room (`paved repro --notebooks`, REP009): each run top to bottom in a fresh
kernel of the room's interpreter, with the room's variables and HOME, from its folder in the
room's copy.

The kernel is ipykernel, which a project rarely declares: pavedroad provides it as it provides
the evaluation worker's packages, an overlay appended after the room's own packages (`overlay`),
and the kernel keeps a cell from importing what only that overlay holds (`kernel_script`). Its
kernel spec is written inside the room (`jupyter/kernels/paved-room/kernel.json`, the room
interpreter's argv) and handed to the kernel manager, and its connection files go to the room
too: nothing under the user's Jupyter folders is read or written.

A notebook that stops in the room is run again in the author's environment, its cells up to the
one that stopped it, so the gap can say whether they run there: then the difference is the
room's. However the phase ends (a failure, Ctrl-C), the kernels are shut down: the run is
registered with `Processes.stopping`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from pavedroad.distributions import resolve
from pavedroad.notebooks import execute
from pavedroad.notebooks.execute import Kernel, NotebookRun
from pavedroad.notebooks.reader import NotebookError, read_notebook
from pavedroad.project import Project
from pavedroad.repro import kernel_script
from pavedroad.repro.files import Listing
from pavedroad.repro.outcome import NotebookFacts, NotebooksFacts
from pavedroad.repro.processes import Interrupted, Processes
from pavedroad.repro.room import Room

KERNEL_NAME = "paved-room"
# Failures worth running again locally: a timeout would take as long again, a kernel that did
# not start in the room says nothing about the notebook.
RERUN = frozenset({"exception", "died"})
_MISSING = re.compile(r"No module named '([A-Za-z_][\w.]*)'")


def selected(project: Project, listing: Listing) -> tuple[list[str], list[str]]:
    """The notebooks of `[notebooks].paths` (else every one) that a clone holds, and those it
    does not (never committed: the room does not have them)."""
    tracked = set(listing.files)
    chosen = [project.rel(path) for path in project.notebook_files]
    return [r for r in chosen if r in tracked], [r for r in chosen if r not in tracked]


def write_spec(room: Room, python: Path, overlay: Path) -> Path:
    """The room's kernel spec; returns the folder of kernel specs that holds it."""
    specs = room.jupyter / "kernels"
    folder = specs / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [
            str(python),
            kernel_script.__file__,
            str(overlay),
            "--",
            "-f",
            "{connection_file}",
        ],
        "display_name": "paved repro: the clean room",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    return specs


def run(
    project: Project,
    paths: Sequence[str],
    untracked: Sequence[str],
    *,
    room: Room,
    python: Path,
    overlay: Path,
    env: Mapping[str, str],
    processes: Processes,
    options: execute.Options,
    own: set[str],
) -> NotebooksFacts:
    """Run the notebooks `paths` (relative to the root) in the room, and again locally those
    that stop there; `own` are the project's top-level modules."""
    runtime = room.jupyter / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    kernel = Kernel(KERNEL_NAME, write_spec(room, python, overlay), dict(env), runtime)
    others = {rel: _not_python(room.project / rel) for rel in paths}
    python_ones = [rel for rel in paths if others[rel] is None]
    runs = dict(
        zip(
            python_ones,
            _execute([room.project / rel for rel in python_ones], options, kernel, processes),
            strict=True,
        )
    )
    stopped = {
        project.root / rel: found.failure.cell
        for rel, found in runs.items()
        if found.failure is not None
        and found.failure.kind in RERUN
        and found.failure.cell is not None
    }
    local: dict[Path, NotebookRun] = {}
    if stopped:
        here = Kernel(env=_local_env(project))
        again = _execute(list(stopped), options, here, processes, upto=stopped)
        local = dict(zip(stopped, again, strict=True))
    facts = []
    for rel in paths:
        skipped = others[rel]
        if skipped is not None:
            facts.append(NotebookFacts(rel, skipped=skipped))
            continue
        locally = local.get(project.root / rel)
        facts.append(_facts(project, rel, runs[rel], locally, room, own))
    return NotebooksFacts(runs=facts, untracked=list(untracked), timeout=options.timeout)


def _not_python(path: Path) -> str | None:
    """Why a notebook is not run (another language), None to run it (an unreadable one runs, and
    fails saying what nbformat finds wrong)."""
    try:
        notebook = read_notebook(path)
    except NotebookError:
        return None
    if notebook.is_python:
        return None
    return f"a {notebook.language} notebook: only Python notebooks are run"


def _execute(
    paths: list[Path],
    options: execute.Options,
    kernel: Kernel,
    processes: Processes,
    upto: Mapping[Path, int] | None = None,
) -> tuple[NotebookRun, ...]:
    import asyncio

    if not paths:
        return ()
    execution = execute.Execution(options, kernel=kernel)
    with processes.stopping(execution.cancel):
        try:
            return execution.run(paths, upto)
        except asyncio.CancelledError:
            raise Interrupted from None


def _local_env(project: Project) -> dict[str, str]:
    """The author's environment, the project's source folders importable (as for the tests)."""
    roots = [str(p) for p in project.source_roots]
    pythonpath = os.pathsep.join([*roots, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "PYTHONPATH": pythonpath}


def _facts(
    project: Project,
    rel: str,
    found: NotebookRun,
    locally: NotebookRun | None,
    room: Room,
    own: set[str],
) -> NotebookFacts:
    failure = found.failure
    if failure is None:
        return NotebookFacts(rel, found.cells)
    error = failure.error.replace(f"{room.project}{os.sep}", "")  # the room's paths, relative
    module = distribution = None
    missing = _MISSING.search(error) if failure.kind == "exception" else None
    if missing is not None:
        module = missing[1].split(".", 1)[0]
        if module not in own:
            overrides = (
                project.contract.dependencies.import_names if project.contract.dependencies else {}
            )
            distribution = resolve(missing[1], overrides).distributions[0]
    return NotebookFacts(
        rel,
        found.cells,
        cell=failure.cell,
        line=failure.line,
        code=failure.code,
        error=error,
        kind=failure.kind,
        module=module,
        distribution=distribution,
        locally=None if locally is None else "pass" if locally.ran else "fail",
    )
