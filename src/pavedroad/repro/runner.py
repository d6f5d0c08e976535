"""One clean-room run, phase by phase, into an Outcome.

    copy ─ python ─┬─ environment ─┬─ install ─┬─ import and entry points
                   └─ wheel ───────┘           ├─ tests
                                               ├─ evaluation (the local metrics meanwhile)
                                               └─ notebooks (with --notebooks)

Phases that do not depend on each other run at once, up to `jobs` (the wheel builds while the
environment is made; the tests, the entry points and the evaluation share the cores). A phase
whose input is missing is skipped, and says so. Whatever ends the run (the end, a failure,
Ctrl-C), every process it started is killed and the room removed, unless it is kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import pavedroad
from pavedroad.git import git_commit
from pavedroad.notebooks import execute
from pavedroad.project import Project
from pavedroad.repro import (
    audit,
    diagnose,
    environment,
    files,
    interpreters,
    notebooks,
    overlay,
    probe,
    suite,
    variables,
    wheel,
)
from pavedroad.repro import evaluate as evaluation
from pavedroad.repro.diagnose import Said
from pavedroad.repro.interpreters import Interpreter
from pavedroad.repro.outcome import (
    EntryPointFacts,
    EnvironmentFacts,
    EvaluationFacts,
    NotebooksFacts,
    Outcome,
    PackageFacts,
    Phase,
)
from pavedroad.repro.places import Places
from pavedroad.repro.processes import Processes
from pavedroad.repro.room import Room
from pavedroad.repro.uvrun import UvFailed, find_uv

T = TypeVar("T")
THREADS = 8  # they mostly wait on subprocesses: the phases, the local metrics, the overlays
SHARING = frozenset({"import", "tests", "evaluation", "notebooks"})  # bounded by --jobs


class Listener(Protocol):
    """Told of each phase as it starts and ends (from several threads: must be thread-safe)."""

    def started(self, name: str, text: str) -> None: ...

    def finished(self, phase: Phase) -> None: ...

    def warn(self, text: str) -> None: ...

    def room_created(self, room: Room) -> None: ...


@dataclass(frozen=True)
class Options:
    python: str | None = None  # a version or a path; None: the contract's, as `choose` picks
    env: dict[str, str] = field(default_factory=dict)  # --env values for [config].env
    keep: bool = False
    rebuild: bool = False
    jobs: int = 2
    tolerance: float = 1e-6
    history: str | None = None
    notebooks: bool = False  # run the notebooks too
    notebook_timeout: int = execute.DEFAULT_TIMEOUT_S  # seconds per cell


@dataclass
class Run:
    """The outcome, and what the attestation and the Dockerfile need from the run."""

    outcome: Outcome
    room: Room | None  # kept on request, else removed
    interpreter: Interpreter | None = None
    plan: environment.Plan | None = None
    frozen: list[str] = field(default_factory=list)  # the environment's `uv pip freeze`
    wheel_name: str | None = None
    scripts: list[str] = field(default_factory=list)  # the wheel's console scripts


def reproduce(project: Project, options: Options, listener: Listener) -> Run:
    outcome = Outcome(created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    processes = Processes()
    room = Room.create()
    listener.room_created(room)
    steps = _Steps(outcome, listener, threading.Semaphore(options.jobs))
    run = Run(outcome, room if options.keep else None)
    try:
        with (
            ThreadPoolExecutor(max_workers=THREADS) as pool,
            contextlib.ExitStack() as stack,
        ):
            try:
                _run(project, options, room, processes, pool, stack, steps, run)
            except BaseException:
                processes.stop()  # the threads' commands end now; the pool then drains
                raise
    finally:
        if not options.keep:
            room.remove()
    return run


def _run(
    project: Project,
    options: Options,
    room: Room,
    processes: Processes,
    pool: ThreadPoolExecutor,
    stack: contextlib.ExitStack,
    steps: _Steps,
    run: Run,
) -> None:
    outcome = run.outcome
    uv = find_uv()
    with steps.phase("copy", "copying the files git tracks") as note:
        listing = files.listing(project.root)
        copied = files.copy_into(listing, room.project)
        outcome.files = files.fingerprint(listing)
        outcome.commit = git_commit(project.root)
        note(
            f"{copied} files" + (" tracked by git" if listing.in_git else " (not a git repository)")
        )
    if not listing.in_git:
        steps.listener.warn(
            f"{project.root} is not in a git repository: the room holds every file but the "
            "ignored ones and virtual environments; commit the project so that it holds exactly "
            "what a clone would"
        )
    with steps.phase("python", "choosing the interpreter") as note:
        interpreter = _interpreter(project, options)
        note(f"{interpreter.label} ({interpreter.path})")
    run.interpreter, outcome.python = interpreter, interpreter.label
    plan = environment.plan_for(project)
    run.plan = plan
    performance, model = project.contract.performance, project.contract.model
    evaluating = performance is not None and model is not None and model.label is not None
    local: Future[evaluation.Local] | None = None
    layer: Future[Path] | None = None
    if evaluating:
        mlflow = model is not None and model.mlflow is not None
        wanted = overlay.pins(mlflow=mlflow)  # a missing `evaluate` extra is a usage error, now
        local = pool.submit(evaluation.local_metrics, project, options.history, processes)
        # the worker's own packages download while the environment is built
        layer = pool.submit(
            overlay.ensure, environment.cache_root(), interpreter, uv, processes, wanted
        )
    chosen, untracked = notebooks.selected(project, listing)
    kernel_layer: Future[Path] | None = None
    if options.notebooks and chosen:
        kernel_layer = pool.submit(
            overlay.ensure,
            environment.cache_root(),
            interpreter,
            uv,
            processes,
            overlay.kernel_pins(),  # a missing `notebooks` extra is a usage error, now
        )
    built_wheel = pool.submit(
        steps.timed, "wheel", "building the wheel", _build_wheel, room, interpreter, uv, processes
    )
    facts, built = _environment(
        project, options, room, plan, interpreter, uv, processes, stack, steps
    )
    outcome.environment = facts
    wheel_facts, wheel_path = built_wheel.result()
    outcome.package = wheel_facts
    run.wheel_name = wheel_facts.wheel
    if built is None:
        steps.skip("install", "the environment could not be built")
        return
    run.frozen = environment.frozen_requirements(built.path)
    contents = wheel.contents(wheel_path) if wheel_path is not None else wheel.Contents((), {})
    run.scripts = sorted(contents.scripts)
    site = environment.site_packages(room.venv)
    places = Places(room, site, project)
    with steps.phase("install", "installing the wheel") as note:
        if wheel_path is not None:
            environment.install_wheel(room.venv, wheel_path, uv, processes)
            note(wheel_path.name)
        else:
            note("no wheel to install")
    package = project.contract.package
    modules = [package.name] if package is not None else list(contents.modules)
    log = room.work / "audit.jsonl"
    audit.install(
        site,
        log=log,
        code=[room.project, *_installed(site, contents.modules)],
        room=room.project,
        author=project.root,
        not_author=[
            built.path,
            environment.cache_root(),
            Path(pavedroad.__file__).resolve().parent,
            Path(interpreter.path).resolve().parents[1],
        ],
    )
    env = variables.room_environment(
        declared=project.contract.config.env if project.contract.config else [],
        given=options.env,
        example=variables.read_example(room.project / variables.EXAMPLE_FILE),
        home=room.home,
        bin_dir=environment.python_of(room.venv).parent,
    )
    python = environment.python_of(room.venv)
    calls = probe.entry_points(package.entry_points if package else [], contents.scripts)
    probed = pool.submit(
        steps.timed,
        "import",
        "importing the package, calling the entry points",
        probe.run,
        python,
        modules=modules,
        calls=calls,
        places=places,
        code=[room.project, *_installed(site, contents.modules)],
        env=env,
        processes=processes,
    )
    own = diagnose.own_modules(project, [*modules, *contents.modules])
    tested = pool.submit(
        steps.timed,
        "tests",
        "running the tests",
        suite.run,
        project,
        room.project,
        env,
        processes,
        own=own,
    )
    evaluated: Future[tuple[EvaluationFacts, dict[str, float | None]]] | None = None
    if local is not None and layer is not None:
        evaluated = pool.submit(
            steps.timed,
            "evaluation",
            "evaluating the model",
            _evaluate,
            project,
            room,
            processes,
            env,
            local,
            layer,
            options.tolerance,
        )
    ran: Future[NotebooksFacts] | None = None
    if kernel_layer is not None:
        ran = pool.submit(
            steps.timed,
            "notebooks",
            "running the notebooks",
            _notebooks,
            project,
            chosen,
            untracked,
            room,
            processes,
            env,
            kernel_layer,
            execute.Options(timeout=options.notebook_timeout, jobs=options.jobs),
            own,
        )
    elif options.notebooks:
        outcome.notebooks = NotebooksFacts(untracked=untracked, timeout=options.notebook_timeout)
        steps.skip("notebooks", "no notebook that git tracks")
    elif chosen:
        steps.skip("notebooks", f"{len(chosen)} notebook(s) not run: --notebooks runs them")
    imports, called = probed.result()
    wheel_facts = PackageFacts(
        wheel=wheel_facts.wheel,
        wheel_sha256=wheel_facts.wheel_sha256,
        build_error=wheel_facts.build_error,
        imports=imports,
    )
    outcome.package = wheel_facts
    outcome.entry_points = (
        called
        if isinstance(called, list)
        else [EntryPointFacts(name, target, None, error=called) for name, target in calls]
    )
    suite_facts, suite_run = tested.result()
    outcome.tests = suite_facts
    texts = [Said(suite_run.output, "the tests")] if suite_run and not suite_run.ok else []
    texts += [Said(f"{i.error}", f"the import of {i.module}") for i in imports if i.error]
    texts += [
        Said(f"{e.error or ''}\n{e.output}", f"{e.name} --help")
        for e in outcome.entry_points
        if e.status
    ]
    if evaluated is not None:
        outcome.evaluation, _ = evaluated.result()
        if outcome.evaluation.error:
            texts.append(Said(outcome.evaluation.error, "the evaluation"))
    missing_own = suite.missing_own_modules(suite_run.output if suite_run else "", own)
    if ran is not None:
        outcome.notebooks = ran.result()
        for found in outcome.notebooks.runs:
            if found.error is not None:
                where = f"{found.path} cell {found.cell}"
                texts.append(Said(found.error, where, str(Path(found.path).parent)))
            if found.module is not None and found.distribution is None:
                missing_own.append(found.module)
    env_seen, opened = audit.read(log)
    outcome.file_reads = diagnose.file_reads(listing, places, opened, texts, missing_own)
    outcome.env_reads = diagnose.env_reads(env_seen, places)


def _notebooks(
    project: Project,
    chosen: list[str],
    untracked: list[str],
    room: Room,
    processes: Processes,
    env: dict[str, str],
    layer: Future[Path],
    options: execute.Options,
    own: set[str],
) -> NotebooksFacts:
    try:
        folder = layer.result()
    except UvFailed as failed:
        return NotebooksFacts(
            untracked=untracked,
            timeout=options.timeout,
            error=f"the kernel's own packages could not be installed: {failed.explanation}",
        )
    return notebooks.run(
        project,
        chosen,
        untracked,
        room=room,
        python=environment.python_of(room.venv),
        overlay=folder,
        env=env,
        processes=processes,
        options=options,
        own=own,
    )


def _interpreter(project: Project, options: Options) -> Interpreter:
    pyproject = project.pyproject or {}
    table = pyproject.get("project")
    requires = table.get("requires-python") if isinstance(table, dict) else None
    declared = project.contract.dependencies.python if project.contract.dependencies else None
    allowed = interpreters.allowed_versions(
        declared, requires if isinstance(requires, str) else None
    )
    return interpreters.choose(allowed, options.python)


def _environment(
    project: Project,
    options: Options,
    room: Room,
    plan: environment.Plan,
    interpreter: Interpreter,
    uv: str,
    processes: Processes,
    stack: contextlib.ExitStack,
    steps: _Steps,
) -> tuple[EnvironmentFacts, environment.Built | None]:
    key = environment.environment_key(plan, interpreter)
    facts = EnvironmentFacts(
        python=interpreter.label, interpreter=interpreter.path, source=plan.shown, key=key
    )
    cache = environment.EnvironmentCache(environment.cache_root())
    with steps.phase("environment", f"installing from {plan.shown}") as note:
        try:
            built = stack.enter_context(
                cache.use(
                    key,
                    plan=plan,
                    interpreter=interpreter,
                    project_dir=room.project,
                    uv=uv,
                    processes=processes,
                    rebuild=options.rebuild,
                )
            )
            environment.make_room_venv(room.venv, interpreter, uv, processes, room.top)
            environment.layer(room.venv, built.path)
        except UvFailed as failed:
            note.fail(f"uv failed: {failed.explanation.splitlines()[0]}")
            return EnvironmentFacts(**{**facts.__dict__, "error": failed.explanation}), None
        reused = "reused" if built.reused else "built"
        note(f"{built.packages} packages from {plan.shown} ({reused})")
    return (
        EnvironmentFacts(**{**facts.__dict__, "reused": built.reused, "packages": built.packages}),
        built,
    )


def _build_wheel(
    room: Room, interpreter: Interpreter, uv: str, processes: Processes
) -> tuple[PackageFacts, Path | None]:
    built = wheel.build(room, interpreter, uv, processes)
    name = built.path.name if built.path is not None else None
    return PackageFacts(wheel=name, wheel_sha256=built.sha256, build_error=built.error), built.path


def _evaluate(
    project: Project,
    room: Room,
    processes: Processes,
    env: dict[str, str],
    local: Future[evaluation.Local],
    layer: Future[Path],
    tolerance: float,
) -> tuple[EvaluationFacts, dict[str, float | None]]:
    try:
        folder = layer.result()
    except UvFailed as failed:
        return EvaluationFacts(
            local="",
            error=f"the evaluation's own packages could not be installed: {failed.explanation}",
        ), {}
    command = overlay.worker_command(
        environment.python_of(room.venv), [folder, overlay.tool_folder(room.tool)]
    )
    found, error = evaluation.room_evaluation(
        room.project, project, command, env, room.work, processes
    )
    return evaluation.compare(project, found, error, local.result(), tolerance)


class _Note:
    """What a phase says when it ends: `note(text)`, or `note.fail(text)`."""

    def __init__(self) -> None:
        self.text = ""
        self.failed = False

    def __call__(self, text: str) -> None:
        self.text = text

    def fail(self, text: str) -> None:
        self.text, self.failed = text, True


@dataclass
class _Steps:
    outcome: Outcome
    listener: Listener
    slots: threading.Semaphore  # the phases that run project code, at most `jobs` at once

    @contextlib.contextmanager
    def phase(self, name: str, text: str) -> Iterator[_Note]:
        note = _Note()
        self.listener.started(name, text)
        started = time.perf_counter()
        status = "failed"
        try:
            yield note
            status = "failed" if note.failed else "done"
        finally:
            phase = Phase(name, status, round(time.perf_counter() - started, 3), note.text)
            self.outcome.phases.append(phase)
            self.listener.finished(phase)

    def timed(
        self, name: str, text: str, function: Callable[..., T], *args: object, **kwargs: object
    ) -> T:
        with (
            self.slots if name in SHARING else contextlib.nullcontext(),
            self.phase(name, text) as note,
        ):
            result = function(*args, **kwargs)
            summary, failed = _summary(name, result)
            (note.fail if failed else note)(summary)
            return result

    def skip(self, name: str, reason: str) -> None:
        phase = Phase(name, "skipped", 0.0, reason)
        self.outcome.phases.append(phase)
        self.listener.finished(phase)


def _summary(name: str, result: object) -> tuple[str, bool]:
    """One line of what a phase produced, for the progress display, and whether it failed."""
    if isinstance(result, NotebooksFacts):
        if result.error:
            return f"failed: {result.error.splitlines()[0]}", True
        ran = [n for n in result.runs if n.skipped is None]
        stopped = sum(n.error is not None for n in ran)
        if stopped:
            return f"{len(ran)} notebook(s), {stopped} failed", True
        return f"{len(ran)} notebook(s) ran top to bottom", False
    if not isinstance(result, tuple):
        return "", False
    if name == "wheel":
        facts = result[0]
        if facts.build_error:
            return f"failed: {facts.build_error.splitlines()[0]}", True
        return facts.wheel or "", False
    if name == "tests":
        facts = result[0]
        text = facts.error or facts.summary or f"exit {facts.returncode}"
        return text, facts.error is not None or facts.returncode != 0
    if name == "import":
        imports, called = result
        failed = [i.module for i in imports if i.error]
        calls = called if isinstance(called, list) else []
        broken = [c.name for c in calls if c.status != 0]
        head = f"import {', '.join(i.module for i in imports) or 'nothing'}"
        text = f"{head}{' failed' if failed else ''}; {len(calls)} entry point(s) --help"
        text += f", {len(broken)} failed" if broken else ""
        return text, bool(failed or broken or not isinstance(called, list))
    if name == "evaluation":
        facts = result[0]
        if facts.error:
            return f"failed: {facts.error.splitlines()[0]}", True
        differ = sum(evaluation.differs(m.room, m.local, facts.tolerance) for m in facts.metrics)
        return f"{len(facts.metrics)} metrics, {differ} differ from the local run", differ > 0
    return "", False


def _installed(site: Path, modules: tuple[str, ...]) -> list[Path]:
    """Where the wheel's top-level modules are installed: a package folder or a module file."""
    return [site / m for m in modules] + [site / f"{m}.py" for m in modules]
