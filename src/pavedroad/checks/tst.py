"""TST: tests exist, the contract's test command passes, and it covers the code that matters.

TST002-TST004 share one run of the test command per Project: running a suite three times would
triple the slowest part of `paved check` for the same evidence.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from pathlib import Path

from pavedroad.coverage_run import TIMEOUT_SECONDS, CoverageRun, FileCoverage, run_tests
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck
from pavedroad.results import Location

family = Family("TST", "Tests", "Tests exist, pass, and cover the code that matters.")

# When the contract sets no coverage_min, a core path must still be mostly exercised: a file the
# contract calls core with a fifth of it never run is a gap whatever the total says.
CORE_COVERAGE_DEFAULT = 80.0
FAILURES_SHOWN = 5
TAIL_SHOWN = 6

_PYTEST_EXIT = {
    1: "tests failed",
    2: "interrupted, often by a test module that cannot be imported",
    3: "pytest hit an internal error",
    4: "pytest was given options it does not understand",
    5: "no tests were collected",
}


@family.check("TST001", "The project has tests")
def tests_exist(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that at least one test file defines a test: a `test*` function, or a method
    `test*` of a `Test*` class or of a `unittest.TestCase` subclass.

    Why: Engineering inherits the code and every future change to it. Without tests, each of
    those changes is a guess about whether the model still computes what was validated; the first
    refactoring for production is where silent breakage starts.

    Example: A project whose only checks of the feature code are cells at the end of
    `notebooks/explore.ipynb`.

    Fix: Add tests under `tests/`, in files named `test_*.py` with functions named `test_*` that
    call the package's code and assert on its results; pytest collects them.
    """
    test_files = project.test_files
    counts = {path: _test_count(project, path) for path in test_files}
    defining = [path for path, count in counts.items() if count]
    tests_dir = project.root / "tests"
    where = project.location(tests_dir) if tests_dir.is_dir() else None
    if defining:
        verb = "defines" if len(defining) == 1 else "define"
        yield Evidence(
            subject="tests/",
            message=f"{_count(len(defining), 'test file')} {verb} "
            f"{_count(sum(counts.values()), 'test function')} ({_folders(project, defining)})",
            location=where or project.location(defining[0]),
        )
        return
    package = project.contract.package.name if project.contract.package else "<package>"
    if test_files:
        names = ", ".join(project.rel(p) for p in test_files[:3])
        message = f"{len(test_files)} test file(s) ({names}) but none defines a test function"
    else:
        message = "the project has no test files"
    yield Gap(
        subject="tests/",
        message=message,
        location=where,
        fix=f"Create tests/test_{package}.py with functions named `test_*` that import {package} "
        "and assert on its results, then run `pytest`.",
    )


@family.check(
    "TST002",
    "The test command passes under coverage",
    section="tests",
    requires=("TST001",),
    dynamic=True,
)
def tests_pass(project: Project) -> Iterator[Gap | Evidence]:
    """Runs `[tests].command` (default `pytest -q`) from the project root, in the current
    environment with the source roots on PYTHONPATH, measured by coverage.py; the command must
    exit 0.

    Why: A suite that fails, or that only passes on one laptop, certifies nothing. Running it
    under coverage.py in the same step is what lets TST003 and TST004 say what it exercised.
    Python commands (`pytest ...`, `python -m X`, `python script.py`) are measured directly; any
    other command is measured through coverage.py's start-up hook, which needs coverage.py in the
    environment that runs the tests.

    Example: `tests/test_features.py::test_scaling` fails since the scaler was refitted, and
    `pytest -q` exits 1.

    Fix: Run the command shown in the gap from the project root, fix the failing tests (or the
    code), and run it again until it exits 0.
    """
    run = _coverage_of(project)
    where = project.contract_location("tests", "command")
    if run.error is not None:
        yield Gap(subject=run.command, message=run.error, location=where, fix=_command_fix())
    elif run.timed_out:
        yield Gap(
            subject=run.command,
            message=f"`{run.command}` did not finish within {_duration()}; "
            f"last output: {_joined(run.tail(TAIL_SHOWN))}",
            location=where,
            fix="Find the test that hangs (`pytest --durations=10`, or run it with `-x -v`) and "
            "make it finish; tests that need the network or big data belong in a separate suite.",
        )
    elif run.returncode != 0:
        yield _failing(project, run)
    elif not run.measured:
        yield Gap(
            subject=run.command,
            message=f"`{run.command}` passed, but coverage.py measured no Python process: "
            "it is not a Python command, and what it runs has no coverage.py to report to",
            location=where,
            fix=_command_fix(),
        )
    else:
        yield Evidence(
            subject=run.command,
            message=f"`{run.command}` passed: {run.summary() or 'exit 0'}",
            location=where,
        )


@family.check(
    "TST003",
    "Total coverage reaches coverage_min",
    section="tests",
    requires=("TST002",),
    dynamic=True,
)
def total_coverage(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that the share of statements the test command runs, over the package's source
    (the `[package]` folder, else `src/` or the project), is at least `[tests].coverage_min`.

    Why: Coverage is a floor, not a proof: code that no test runs is code nobody has seen work
    outside the notebook. Both sides agreeing on a number turns "is it tested enough?" into a
    measurement instead of an argument at every handoff.

    Example: `coverage_min = 80` while the tests only run `churn/features.py`, leaving the
    training and serving code unexecuted: 54.2% total.

    Fix: Add tests for the least covered files listed in the gap (`coverage report -m` shows the
    missing lines), or, if both sides agree the number is wrong, change `coverage_min`.
    """
    tests = project.contract.tests
    if tests is None or tests.coverage_min is None:
        raise SkipCheck("the contract sets no [tests].coverage_min")
    run = _coverage_of(project)
    minimum = tests.coverage_min
    where = project.contract_location("tests", "coverage_min")
    if run.total is None:
        yield Gap(
            subject="coverage",
            message=f"the test command ran none of the code under {_measured_text(project)}: "
            f"0% total, below coverage_min = {_percent(minimum)}",
            location=where,
            fix="Make the tests import and call the package's code (check that the package is "
            "importable from the tests, e.g. with the src/ layout installed or on PYTHONPATH).",
        )
    elif run.total < minimum:
        yield Gap(
            subject="coverage",
            message=f"total coverage is {_percent(run.total)}, below coverage_min = "
            f"{_percent(minimum)}",
            location=where,
            fix="Add tests for the files with the most unrun statements: "
            + _least_covered(project, run)
            + ".",
        )
    else:
        yield Evidence(
            subject="coverage",
            message=f"total coverage {_percent(run.total)} of {_measured_text(project)} "
            f"(minimum {_percent(minimum)})",
            location=where,
        )


@family.check(
    "TST004",
    "Every core path is covered",
    section="tests",
    requires=("TST002",),
    dynamic=True,
)
def core_paths_covered(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each file of `[tests].core_paths` (a folder stands for its .py files) exists,
    runs during the tests, and reaches `coverage_min`, or 80% when the contract sets none.

    Why: A good total can hide a core file nobody tests: the feature engineering or the
    post-processing that turns scores into decisions. The contract names those files so that
    their coverage is enforced one by one, where a regression costs the most.

    Example: `core_paths = ["src/churn/features.py"]` with lines 40-58 (the handling of missing
    tenure) never run by any test.

    Fix: Write tests that drive the uncovered lines listed in the gap (often an error branch or a
    rarely taken `if`), or correct the path in `core_paths`.
    """
    tests = project.contract.tests
    if tests is None or not tests.core_paths:
        raise SkipCheck("the contract lists no [tests].core_paths")
    minimum = tests.coverage_min if tests.coverage_min is not None else CORE_COVERAGE_DEFAULT
    run = _coverage_of(project)
    for index, entry in enumerate(tests.core_paths):
        target = project.root / entry
        if not target.exists():
            yield Gap(
                subject=entry,
                message=f"core path {entry} does not exist",
                location=project.contract_location("tests", "core_paths", index),
                fix="Correct the path in [tests].core_paths (it is relative to the project root).",
            )
            continue
        for path in _python_files(project, target):
            yield _core_file_finding(project, run, path, minimum)


def _core_file_finding(
    project: Project, run: CoverageRun, path: Path, minimum: float
) -> Gap | Evidence:
    measured = run.files.get(path.resolve())
    name = project.rel(path)
    if measured is None or (measured.statements and len(measured.missing) == measured.statements):
        return Gap(
            subject=name,
            message=f"core path {name} never ran during the tests (0% covered)",
            location=project.location(path, 1),
            fix=f"Add tests that import and exercise {name}.",
        )
    if measured.percent < minimum:
        return Gap(
            subject=name,
            message=f"core path {name} is {_percent(measured.percent)} covered, below "
            f"{_percent(minimum)}: lines {measured.missing_text} never ran",
            location=project.location(path, measured.missing[0]),
            fix=f"Add tests that run lines {measured.missing_text} of {name}.",
        )
    return Evidence(
        subject=name,
        message=f"{name}: {_percent(measured.percent)} covered (minimum {_percent(minimum)})",
        location=project.location(path),
    )


def _coverage_of(project: Project) -> CoverageRun:
    """The one run of the test command for this Project, shared by TST002-TST004."""
    return project.fact(_run_tests)


def _run_tests(project: Project) -> CoverageRun:
    tests = project.contract.tests
    return run_tests(
        tests.command if tests is not None else "pytest -q",
        project.root,
        source=_measured(project),
        omit=project.test_files,
        pythonpath=project.source_roots,
    )


def _measured(project: Project) -> list[Path]:
    """What coverage counts: the package if the contract names it, else the src/ folder or the
    project; plus the folder of any core path outside that, so that it is measured too."""
    package = project.contract.package
    package_dir = project.package_dir(package.name) if package else None
    if package_dir is not None:
        folders = [package_dir]
    elif (project.root / "src").is_dir():
        folders = [project.root / "src"]
    else:
        folders = [project.root]
    tests = project.contract.tests
    for entry in tests.core_paths if tests else []:
        target = project.root / entry
        folder = target if target.is_dir() else target.parent
        if target.exists() and not any(folder.resolve().is_relative_to(f) for f in folders):
            folders.append(folder.resolve())
    return folders


def _measured_text(project: Project) -> str:
    return ", ".join(project.rel(p) + "/" for p in _measured(project))


def _python_files(project: Project, target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    return [
        p
        for p in project.source_files
        if p.resolve().is_relative_to(target.resolve()) and p.suffix == ".py"
    ]


def _failing(project: Project, run: CoverageRun) -> Gap:
    failures = run.failures()
    reason = _PYTEST_EXIT.get(run.returncode or 0) if run.pytest else None
    head = f"`{run.command}` exited with code {run.returncode}" + (f" ({reason})" if reason else "")
    if failures:
        shown = "; ".join(
            f"{f.kind} {f.name}" + (f": {f.reason}" if f.reason else "")
            for f in failures[:FAILURES_SHOWN]
        )
        more = len(failures) - FAILURES_SHOWN
        message = f"{head}: {shown}" + (f"; and {more} more" if more > 0 else "")
        location = _failure_location(project, run, failures[0].path)
    else:
        message = f"{head}; last output: {_joined(run.tail(TAIL_SHOWN))}"
        location = project.contract_location("tests", "command")
    return Gap(
        subject=run.command,
        message=message,
        location=location,
        fix=f"Run `{run.command}` from the project root and fix what fails"
        + (f", starting with {failures[0].name}." if failures else "."),
    )


def _failure_location(project: Project, run: CoverageRun, relative: str) -> Location:
    """The failing test's file, at the line pytest's traceback shows for it if it shows one."""
    line = None
    prefix = f"{relative}:"
    for text in run.output.splitlines():
        if text.startswith(prefix):
            number = text[len(prefix) :].split(":", 1)[0]
            if number.isdigit():
                line = int(number)
                break
    return project.location(project.root / relative, line)


def _least_covered(project: Project, run: CoverageRun) -> str:
    worst: list[FileCoverage] = sorted(
        (f for f in run.files.values() if f.missing), key=lambda f: -len(f.missing)
    )
    return ", ".join(
        f"{project.rel(f.path)} ({_percent(f.percent)}, lines {f.missing_text})" for f in worst[:3]
    )


def _command_fix() -> str:
    return (
        "Make [tests].command a Python command that runs the tests, such as `pytest -q`, "
        "`python -m pytest tests/` or `python -m unittest`, so that coverage.py can measure it."
    )


def _percent(value: float) -> str:
    """Rounded down: 79.96% must not print as 80.0% in a gap that says it is below 80%."""
    return f"{math.floor(value * 10) / 10:g}%"


def _duration() -> str:
    return f"{TIMEOUT_SECONDS // 60} minutes"


def _joined(lines: list[str]) -> str:
    return " | ".join(line.strip() for line in lines) or "(no output)"


def _test_count(project: Project, path: Path) -> int:
    """The test functions the file defines, as written (a parametrised test counts once)."""
    tree = project.tree(path)
    if tree is None:
        return 0
    count = 0
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
            "test"
        ):
            count += 1
        elif isinstance(node, ast.ClassDef):
            count += _test_methods(node)
    return count


def _test_methods(node: ast.ClassDef) -> int:
    """The `test*` methods of a `Test*` class, or of a unittest.TestCase subclass (pytest
    collects those by base, not name); 0 for any other class."""
    is_case = any(
        (isinstance(b, ast.Name) and b.id.endswith("TestCase"))
        or (isinstance(b, ast.Attribute) and b.attr.endswith("TestCase"))
        for b in node.bases
    )
    if not (node.name.startswith("Test") or is_case):
        return 0
    return sum(
        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test")
        for item in node.body
    )


def _folders(project: Project, paths: list[Path]) -> str:
    """Where the test files are, by top-level folder: "tests/", or "tests/, src/" when spread."""
    tops = dict.fromkeys(
        parts[0] + "/" if len(parts) > 1 else parts[0]
        for parts in (project.rel(path).split("/") for path in paths)
    )
    return ", ".join(tops)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
