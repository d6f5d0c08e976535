"""REP: the project runs off the author's machine, from what is declared and committed only.

REP001-REP007 judge a clean-room run (`paved repro`, see pavedroad.repro): the environment built
from the lock, the wheel, the tests, the metrics, the files and settings the code reads, the
entry points. Building a clean room takes from seconds to minutes, so `paved check` never builds
one: it judges the last run recorded in `.paved/repro.json`, as long as that run was of this
very tree (every file's hash as recorded), and otherwise skips them saying to run `paved repro`.
`paved repro` hands its fresh outcome to the same checks, so both show the same rows. Keeping
them registered in `paved check` (rather than only in `paved repro`) puts a recorded clean-room
failure into the verdict, and keeps `paved explain REP00x` and the SARIF rules complete.

REP009 judges the notebooks run in the room (`paved repro --notebooks`), each a row of its own.
It is a check apart from REP003, not a part of it: the tests are the contract's command, run on
every `paved repro`; the notebooks run only when asked (running one runs its code), so REP009 is
skipped, saying how to run them, where REP003 would otherwise pass on half its evidence. It is
NB009's question (does the notebook run top to bottom?) asked of the clean room instead of the
author's environment, and its gaps read the same way: the notebook, the cell, the line, the
exception.

REP008 is static: an attestation `.paved/attestation.json` (written by a passing `paved repro`)
must still match the tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pavedroad.checks.cfg import NOT_CONFIGURATION
from pavedroad.notebooks.secrets import redact
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck
from pavedroad.repro import attestation
from pavedroad.repro.evaluate import differs
from pavedroad.repro.outcome import FailedTest, FileRead, NotebookFacts, Outcome
from pavedroad.repro.record import describe, recorded_outcome
from pavedroad.repro.variables import ALWAYS
from pavedroad.results import Location

family = Family(
    "REP",
    "Reproducibility",
    "The project builds, passes its tests and reproduces its metrics in a clean room.",
)

SHOWN = 5


def _outcome(project: Project) -> Outcome:
    recorded = project.fact(recorded_outcome)
    if recorded.outcome is None:
        raise SkipCheck(recorded.reason or "no clean-room run")
    return recorded.outcome


def _located(project: Project, where: str | None) -> Location | None:
    """A `file:line` of the project as a Location."""
    if not where:
        return None
    path, _, line = where.rpartition(":")
    if not path or not line.isdigit():
        path, line = where, ""
    if path.startswith("/"):
        return None
    return Location(path=path, line=int(line) if line else None)


@family.check("REP001", "The environment builds from the declared dependencies", dynamic=True)
def environment_builds(project: Project) -> Iterator[Gap | Evidence]:
    """Builds a fresh virtual environment with uv for the contract's Python, from the lock when
    there is one (`uv pip sync`), else from the declared requirements, and reports uv's own
    explanation when that fails.

    Why: An environment that only exists on the author's laptop (packages installed by hand,
    a resolution that no longer holds, a wheel that only exists for their platform) cannot be
    rebuilt by the engineer, by CI, or by the author in six months.

    Example: `uv.lock` pins `torch==2.1.0+cu118` from an index the lock does not name, so uv
    cannot find it: "No solution found when resolving dependencies".

    Fix: Run `paved lock` to pin what the project declares, fix the requirement uv names, and
    run `paved repro` again.
    """
    outcome = _outcome(project)
    facts = outcome.environment
    if facts is None:
        raise SkipCheck("the clean room stopped before its environment was built")
    if facts.error is not None:
        yield Gap(
            subject=facts.source,
            message=f"the environment cannot be built from {facts.source} for {facts.python}: "
            f"{facts.error}",
            fix="Change the requirement uv names above (or run `paved lock` to pin what the "
            "project declares), then run `paved repro` again.",
        )
        return
    how = "reused from the cache" if facts.reused else "built"
    yield Evidence(
        subject=facts.source,
        message=f"{facts.python} environment from {facts.source}: {facts.packages} packages "
        f"({how})",
    )


@family.check("REP002", "The package builds as a wheel and imports from it", dynamic=True)
def package_imports(project: Project) -> Iterator[Gap | Evidence]:
    """Builds the project as a wheel from the copied files (`uv build --wheel`), installs it
    (not editable) into the clean environment, and imports the package from it.

    Why: The engineer installs what the packaging produces, not the author's source folder. A
    module missing from the wheel's configuration, a file the build needs that is not
    committed, or an import that only works with the project folder on the path all break the
    first deployment, never the author's notebook.

    Example: `[tool.hatch.build.targets.wheel] packages = ["src/churn"]` while the code lives in
    `churn/`: the wheel is empty and `import churn` fails in the clean room.

    Fix: Build the wheel yourself (`uv build --wheel`), look at what it holds
    (`unzip -l dist/*.whl`), and fix the packaging configuration or the import the gap names.
    """
    outcome = _outcome(project)
    package = outcome.package
    if package is None:
        raise SkipCheck("the clean room stopped before the wheel was built")
    if package.build_error is not None:
        yield Gap(
            subject="wheel",
            message=f"the project does not build as a wheel: {package.build_error}",
            location=Location(path="pyproject.toml")
            if (project.root / "pyproject.toml").is_file()
            else None,
            fix="Run `uv build --wheel` in a clean checkout and fix what the build backend "
            "reports (a [build-system] table, the package folders it includes).",
        )
    for found in package.imports:
        if found.error is not None:
            yield Gap(
                subject=found.module,
                message=f"`import {found.module}` fails in the clean room: {found.error}",
                location=_located(project, found.where),
                fix="Make the import work from the installed wheel alone: declare what it "
                "imports, and include every module in the wheel's configuration.",
            )
        else:
            yield Evidence(
                subject=found.module,
                message=f"{found.module} imports from the built wheel {package.wheel}",
            )


@family.check("REP003", "The tests pass in the clean room", dynamic=True, requires=("REP001",))
def tests_pass(project: Project) -> Iterator[Gap | Evidence]:
    """Runs `[tests].command` (default `pytest -q`) from the copied project, in the clean
    environment, with only the allowed environment variables; a failing test is run again in
    the author's environment, to tell what only fails in the clean room.

    Why: Tests that pass on the author's machine because of something nobody wrote down (a
    package installed by hand, an untracked file, a variable in their shell) prove nothing to
    the engineer who inherits them. The test runner itself must be declared too.

    Example: `tests/test_features.py` passes locally but fails in the clean room with
    `ModuleNotFoundError: No module named 'yaml'`: PyYAML was installed by hand.

    Fix: Declare the package the gap names (`paved deps --fix`, then `paved lock`), or fix the
    test; run `paved repro` again.
    """
    outcome = _outcome(project)
    facts = outcome.tests
    if facts is None:
        raise SkipCheck("the clean room stopped before the tests ran")
    if facts.error is not None:
        yield Gap(
            subject=facts.command,
            message=f"`{facts.command}` cannot run in the clean room: {facts.error}",
            location=project.contract_location("tests", "command")
            if project.contract.tests
            else None,
            fix="Declare the test runner (e.g. pytest in a `test` extra or a `dev` dependency "
            "group) and make the command run from a fresh clone.",
        )
        return
    if facts.returncode == 0:
        yield Evidence(
            subject=facts.command,
            message=f"`{facts.command}` passed in the clean room: {facts.summary or 'exit 0'}",
        )
        return
    explained: set[str] = set()
    for missing in facts.missing:
        tests = ", ".join(missing.tests[:SHOWN]) or "the tests"
        explained.update(missing.tests)
        yield Gap(
            subject=missing.distribution,
            message=f"{missing.module} is imported but not installed from the declared "
            f"dependencies (it is provided by {missing.distribution}): {tests} fail in the "
            "clean room"
            + (" and pass locally" if _all_pass_locally(facts.failures, missing.tests) else ""),
            fix=f"Declare {missing.distribution} (`paved deps --fix` adds it pinned), then "
            "`paved lock` and `paved repro` again.",
        )
    others = [f for f in facts.failures if f.name not in explained]
    if others or not facts.missing:
        shown = "; ".join(
            f"{f.name}" + (f": {f.reason}" if f.reason else "") + _local(f.locally)
            for f in others[:SHOWN]
        )
        more = len(others) - SHOWN
        message = f"`{facts.command}` fails in the clean room (exit {facts.returncode})"
        message += f": {shown}" if shown else f"; last output: {facts.tail}"
        message += f"; and {more} more" if more > 0 else ""
        yield Gap(
            subject=facts.command,
            message=message,
            location=Location(path=others[0].name.split("::", 1)[0]) if others else None,
            fix="Run the failing tests in a fresh clone with only the declared dependencies; "
            "what they need beyond those (a package, a file, a variable) is what to declare.",
        )


def _all_pass_locally(failures: list[FailedTest], names: list[str]) -> bool:
    return bool(names) and all(f.locally == "pass" for f in failures if f.name in names)


def _local(locally: str | None) -> str:
    if locally == "pass":
        return " (passes locally)"
    if locally == "fail":
        return " (fails locally too)"
    return ""


@family.check(
    "REP004",
    "The metrics in the clean room match the local run's",
    section="performance",
    dynamic=True,
    requires=("REP002",),
)
def metrics_match(project: Project) -> Iterator[Gap | Evidence]:
    """Evaluates the model on the golden dataset in the clean room (the model imported from the
    wheel) and compares each metric, overall and per slice, with the local run's (the latest
    `paved evaluate` of the same artifact, dataset and contract, else one run now).

    Why: The numbers of the handoff were measured on the author's machine, with whatever
    versions they had. If the declared environment gives other numbers, the model that ships
    is not the one that was validated, even with the same artifact.

    Example: scikit-learn 1.3 locally, 1.5 from the lock: the pickled pipeline loads with a
    warning and roc_auc drops from 0.845 to 0.811.

    Fix: Pin the versions the model was validated with (`paved lock` from the environment
    that produced the numbers), or re-validate with the declared ones and accept the new
    baseline (`paved evaluate --accept`).
    """
    outcome = _outcome(project)
    facts = outcome.evaluation
    if facts is None:
        raise SkipCheck("the clean room did not evaluate the model (no [model].predict)")
    where = (
        project.contract_location("performance", "metrics")
        if project.contract.performance
        else None
    )
    if facts.error is not None and all(m.room is None for m in facts.metrics):
        yield Gap(
            subject="evaluation",
            message=f"the model cannot be evaluated in the clean room: {facts.error}",
            location=where,
            fix="Run `paved evaluate` locally: if it passes there, the difference is what the "
            "clean room lacks (a file, a package, a setting: see REP005 and REP006). The model "
            "imports from the installed wheel, so a path built from `__file__` points into "
            "site-packages: give it a declared setting (`--env KEY=VALUE` or .env.example).",
        )
        return
    if facts.local_error is not None and not any(m.local is not None for m in facts.metrics):
        yield Gap(
            subject="evaluation",
            message=f"no local metrics to compare with ({facts.local}): {facts.local_error}",
            location=where,
            fix="Run `paved evaluate` in the author's environment until it produces metrics.",
        )
        return
    matching = []
    for metric in facts.metrics:
        if differs(metric.room, metric.local, facts.tolerance):
            yield Gap(
                subject=metric.key,
                message=f"{metric.key} is {_number(metric.room)} in the clean room but "
                f"{_number(metric.local)} in the local run ({facts.local})"
                + (f": {metric.error}" if metric.error else ""),
                location=where,
            )
        else:
            matching.append(metric.key)
    if matching:
        names = ", ".join(matching[:SHOWN]) + (", ..." if len(matching) > SHOWN else "")
        yield Evidence(
            subject="metrics",
            message=f"{len(matching)} metric(s) match the local run within {facts.tolerance:g} "
            f"({names}); local: {facts.local}",
        )


def _number(value: float | None) -> str:
    return "not computed" if value is None else f"{value:.6g}"


@family.check("REP005", "The project reads no file that git does not track", dynamic=True)
def untracked_files(project: Project) -> Iterator[Gap | Evidence]:
    """Finds the files the project read in the clean room that are in the author's tree but
    not committed (untracked or ignored by .gitignore), from what the code opened and from the
    paths its failures name; and the files it opened by absolute path in the author's tree.

    Why: A data file in .gitignore, a config never added, a path to the author's disk: the
    project works for its author and nobody else. The engineer receives a clone.

    Example: `features.py` reads `data/lookup.csv`, which `.gitignore` ignores with `data/`;
    the tests fail in the clean room with FileNotFoundError.

    Fix: Commit the file if it belongs to the project (`git add -f` it if ignored), or make
    the code fetch it from where it lives (object storage, DVC, a download step), documented.
    """
    outcome = _outcome(project)
    for read in outcome.file_reads:
        how = (
            "by its absolute path in the author's tree"
            if read.absolute
            else "but git does not track it"
        )
        yield Gap(
            subject=read.path,
            message=f"{read.path} is read {how} ({read.reason}; {read.seen})",
            location=Location(path=read.path),
            fix=f"Commit {read.path} (`git add -f {read.path}` when ignored) if it belongs to the "
            "project, or have the code fetch it from where it lives; never read the author's "
            "tree by absolute path.",
        )


@family.check(
    "REP006", "The code reads no environment variable the contract does not declare", dynamic=True
)
def undeclared_variables(project: Project) -> Iterator[Gap | Evidence]:
    """Records, in the clean room, each environment variable the project's own code reads
    (not its tests, not its libraries), and reports those not in `[config].env`.

    Why: The clean room passes only PATH, LANG, TZ and the declared variables. A setting read
    from the environment but not declared is one the engineer will not set in production: the
    code then silently takes its default, or fails at the first request.

    Example: `model.py` reads `os.environ.get("CHURN_CUTOFF", "0.5")`; the author exports
    `CHURN_CUTOFF=0.35` in their shell, production runs with 0.5.

    Fix: Declare the variable in `[config].env` and document it (CFG002), or stop reading it.
    """
    outcome = _outcome(project)
    declared = set(project.contract.config.env) if project.contract.config else set()
    quiet = declared | ALWAYS | NOT_CONFIGURATION
    for read in outcome.env_reads:
        if read.name in quiet:
            continue
        yield Gap(
            subject=read.name,
            message=f"{read.name} is read at {read.where} in the clean room but the contract "
            "does not declare it in [config].env",
            location=_located(project, read.where),
            fix=f'Add "{read.name}" to [config].env and document it, or stop reading it.',
        )


@family.check("REP007", "Every entry point runs with --help", dynamic=True, requires=("REP002",))
def entry_points_run(project: Project) -> Iterator[Gap | Evidence]:
    """Calls every entry point, the contract's `[package].entry_points` and the wheel's
    console scripts, with `--help` in the clean room, from the installed wheel.

    Why: An entry point is what a scheduler, a container or an operator runs. One that cannot
    even show its help (an import that fails, a path resolved at import time, a missing
    dependency) fails at the first deployment.

    Example: `churn-train` imports `matplotlib` at module level for a plot, and matplotlib is
    not declared: `churn-train --help` raises ModuleNotFoundError.

    Fix: Run the entry point with `--help` from a fresh install and fix what it raises; keep
    heavy or optional imports inside the functions that need them.
    """
    outcome = _outcome(project)
    if outcome.entry_points is None:
        raise SkipCheck("the clean room stopped before the entry points were called")
    if not outcome.entry_points:
        raise SkipCheck("no entry point: neither [package].entry_points nor console scripts")
    for entry in outcome.entry_points:
        shown = entry.name if entry.name == entry.target else f"{entry.name} ({entry.target})"
        if entry.status == 0:
            yield Evidence(subject=entry.name, message=f"`{shown} --help` exits 0")
            continue
        why = entry.error or (entry.output.strip().splitlines() or ["no output"])[-1]
        status = "did not end" if entry.status is None else f"exits {entry.status}"
        yield Gap(
            subject=entry.name,
            message=f"`{shown} --help` {status} in the clean room: {why}",
            location=_located(project, entry.where),
            fix="Run it with --help from a fresh install of the wheel and fix what it raises.",
        )


@family.check("REP008", "The attestation matches the tree")
def attestation_matches(project: Project) -> Iterator[Gap | Evidence]:
    """Recomputes the hashes recorded in `.paved/attestation.json` (the lock, the model
    artifact, the golden dataset, the contract and every file the clean room held) and reports
    what changed since `paved repro` proved them.

    Why: The attestation tells the engineer that what they received is what passed the clean
    room. Once a file changes, it describes another project; trusting it would be trusting a
    proof of something else.

    Example: the model artifact was retrained after `paved repro` passed and committed along
    with the old attestation.

    Fix: Run `paved repro` again on the tree to hand over, and commit the new attestation (or
    restore the files it names).
    """
    path = project.root / attestation.ATTESTATION
    if not path.is_file():
        raise SkipCheck(
            f"no {attestation.ATTESTATION}: `paved repro` writes one when the clean room passes"
        )
    try:
        found = attestation.verify(project, path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        yield Gap(
            subject=attestation.ATTESTATION,
            message=f"{attestation.ATTESTATION} cannot be read: {error}",
            location=Location(path=attestation.ATTESTATION),
            fix="Run `paved repro` again to write a valid attestation.",
        )
        return
    if found.mismatches:
        yield Gap(
            subject=attestation.ATTESTATION,
            message=f"the attestation of {found.created} no longer matches the tree: "
            f"{describe(found.mismatches)}",
            location=Location(path=attestation.ATTESTATION),
            fix="Run `paved repro` again to prove this tree and commit the new attestation, or "
            "restore the files it names.",
        )
        return
    commit = f", commit {found.commit[:12]}" if found.commit else ""
    yield Evidence(
        subject=attestation.ATTESTATION,
        message=f"attested by `paved repro` on {found.created} ({found.python}{commit}): "
        f"{found.files} files unchanged",
        location=Location(path=attestation.ATTESTATION),
    )


@family.check("REP009", "The notebooks run in the clean room", dynamic=True, requires=("REP001",))
def notebooks_run(project: Project) -> Iterator[Gap | Evidence]:
    """With `paved repro --notebooks`, runs each Python notebook that git tracks (under
    `[notebooks].paths`, else every one) top to bottom in a fresh kernel of the clean room's
    interpreter, from its folder in the room, with only the allowed environment variables; a
    notebook that stops there is run again locally up to that cell, to tell what only fails in
    the clean room. ipykernel is provided after the project's own packages, and a cell cannot
    import from it what the project does not declare.

    Why: A notebook is often the handoff's explanation of the model: how the data was prepared,
    why this threshold. If it only runs on the author's machine (a package installed by hand, a
    data file never committed, a variable in their shell), the engineer cannot rerun it, and
    nobody can tell whether its numbers still hold.

    Example: `notebooks/explore.ipynb` cell 2 line 1 raises `ModuleNotFoundError: No module
    named 'yaml'` at `import yaml` in the clean room, while the same cells run locally: PyYAML
    was installed by hand.

    Fix: Declare the package the gap names (`paved deps --fix`, then `paved lock`), commit the
    file the notebook reads (REP005 names it), or fix the cell; run `paved repro --notebooks`
    again.
    """
    outcome = _outcome(project)
    facts = outcome.notebooks
    if facts is None:
        if not project.notebook_files:
            raise SkipCheck("no notebooks (under [notebooks].paths, else anywhere in the project)")
        raise SkipCheck(
            "the clean room did not run the notebooks: `paved repro --notebooks` runs them "
            "(opt-in, since running a notebook runs its code)"
        )
    if facts.error is not None:
        yield Gap(
            subject="notebooks",
            message=f"the notebooks cannot run in the clean room: {facts.error}",
            fix="Run `paved repro --notebooks` again once uv can install ipykernel for the "
            "room's Python (network or uv's cache), or declare ipykernel yourself.",
        )
        return
    for relative in facts.untracked:
        yield Evidence(
            subject=relative,
            message=f"{relative}: not committed, so not in the clean room (not run)",
            location=Location(path=relative),
        )
    if not facts.runs:
        if facts.untracked:
            return
        raise SkipCheck("no notebook that git tracks")
    for run in facts.runs:
        if run.skipped is not None:
            yield Evidence(subject=run.path, message=f"{run.path}: {run.skipped}")
        elif run.error is None:
            yield Evidence(
                subject=run.path,
                message=f"{run.path} ran top to bottom in the clean room ({run.cells} code cells)",
                location=Location(path=run.path),
            )
        else:
            yield _notebook_gap(run, facts.timeout, outcome.file_reads)


def _notebook_gap(run: NotebookFacts, timeout: int, reads: list[FileRead]) -> Gap:
    """Where the notebook stopped, why, and what to do; redacted, as it echoes the notebook."""
    where = run.path if run.cell is None else f"{run.path} cell {run.cell}"
    where += f" line {run.line}" if run.line is not None else ""
    at = f" at `{_shortened(run.code)}`" if run.code else ""
    local = {
        "pass": "; the same cells run locally",
        "fail": "; it fails locally too (NB009)",
    }.get(run.locally or "", "")
    read = next((r for r in reads if Path(r.path).name in (run.error or "")), None)
    cell = f"cell {run.cell}"
    if run.distribution is not None:
        fix = (
            f"Declare {run.distribution} (it provides {run.module}; `paved deps --fix` adds it "
            "pinned), then `paved lock` and `paved repro --notebooks` again."
        )
    elif read is not None:
        fix = (
            f"Commit {read.path} (`git add -f {read.path}` when ignored) if it belongs to the "
            "project, or have the notebook fetch it from where it lives (REP005 names the read)."
        )
    elif run.kind == "timeout":
        fix = (
            f"Make {cell} faster (a sample of the data, results cached to a file) or raise the "
            f"timeout ({timeout} s per cell): `paved repro --notebooks --notebook-timeout "
            "SECONDS`."
        )
    elif run.kind == "start" and (run.error or "").startswith("nbformat"):
        fix = "Open the notebook in Jupyter and save it again (NB001 says what does not read)."
    elif run.kind == "died":
        fix = (
            f"Find what ends the kernel's process in {cell} (`os._exit`, a crash in a native "
            "library, running out of memory) in the clean room's environment."
        )
    elif run.kind == "start":
        fix = (
            "The kernel did not start in the clean room: ipykernel is added after the project's "
            "packages, so a pin of one it needs (traitlets, tornado, pyzmq, jupyter-client) "
            "that it cannot use stops it. Relax that pin, or declare ipykernel (a notebooks "
            "extra) so that the lock resolves them together."
        )
    else:
        fix = (
            f"Run the notebook from a fresh clone with only the declared dependencies and fix "
            f"{cell} or what it relies on beyond them: a package, a file, a variable."
        )
    return Gap(
        subject=run.path,
        message=redact(f"{where} fails in the clean room: {run.error}{at}{local}"),
        location=Location(path=run.path),
        fix=redact(fix),
    )


def _shortened(text: str, longest: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= longest else text[: longest - 1] + "…"
