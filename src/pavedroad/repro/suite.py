"""The contract's test command in the room (REP003), and what its failures say.

The command runs as written, from the copied project, with the room's `bin/` first on PATH: the
test runner must be one the project declares. pavedroad never adds pytest to the room; when the
project does not declare it, the command cannot start there, and that is the gap (tests handed
over with a runner nobody wrote down).

Variables assigned at the head of the command (`CI=1 pytest`) are the command's own and pass;
so does COLUMNS, wide, so that pytest does not cut the reasons of its summary lines.

A failing test is run again in the author's environment (only the failing ones, with pytest), so
the gap can say "passes locally": then the difference is the room's, which is the point.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from pavedroad.coverage_run import TIMEOUT_SECONDS, parse_failures, parse_summary
from pavedroad.distributions import resolve
from pavedroad.project import Project
from pavedroad.repro.outcome import FailedTest, MissingModule, SuiteFacts
from pavedroad.repro.processes import Completed, Processes

PYTESTS = frozenset({"pytest", "py.test"})
RERUN_LIMIT = 30  # failing tests run again locally, at most
SUMMARY_WIDTH = "200"
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_MISSING = re.compile(r"No module named '([A-Za-z_][\w.]*)'")


def run(
    project: Project,
    room_project: Path,
    env: Mapping[str, str],
    processes: Processes,
    *,
    own: set[str],
) -> tuple[SuiteFacts, Completed | None]:
    """Run the test command in the room; `own` are the project's top-level modules (a missing
    one is a file the room lacks, not a package to declare)."""
    command = project.contract.tests.command if project.contract.tests else "pytest -q"
    try:
        words = shlex.split(command)
    except ValueError as error:
        return SuiteFacts(command, error=f"the command cannot be parsed: {error}"), None
    assignments = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    if not words:
        return SuiteFacts(command, error="the command is empty"), None
    # COLUMNS: pytest cuts its summary lines to the terminal's width, and the reasons they
    # carry are what the gap shows
    done = processes.run(
        words,
        cwd=room_project,
        env={**env, "COLUMNS": SUMMARY_WIDTH, **assignments},
        timeout=TIMEOUT_SECONDS,
    )
    if done.error is not None:
        return SuiteFacts(command, error=_not_started(words, done.error)), done
    if done.timed_out:
        return SuiteFacts(
            command, error=f"did not finish within {TIMEOUT_SECONDS // 60} minutes"
        ), done
    failures = parse_failures(done.output)
    if done.returncode != 0 and _runner_missing(words, done.output):
        return SuiteFacts(command, returncode=done.returncode, error=_NO_PYTEST), done
    locally = _rerun_locally(project, words, [f.name for f in failures], processes)
    found = [FailedTest(f.name, f.reason, locally.get(f.name)) for f in failures]
    return (
        SuiteFacts(
            command,
            returncode=done.returncode,
            summary=parse_summary(done.output),
            failures=found,
            missing=missing_modules(project, done.output, found, own),
            tail=done.tail(8) if done.returncode != 0 and not found else "",
        ),
        done,
    )


_NO_PYTEST = (
    "pytest is not installed there: the project does not declare it, so the "
    "tests cannot run from what is declared"
)


def _not_started(words: list[str], error: str) -> str:
    if words[0] in PYTESTS:
        return _NO_PYTEST
    return error


def _runner_missing(words: list[str], output: str) -> bool:
    """`python -m pytest` in a room without pytest."""
    return "-m" in words and "pytest" in words and "No module named pytest" in output


def missing_modules(
    project: Project, output: str, failures: list[FailedTest], own: set[str]
) -> list[MissingModule]:
    """Third-party modules the tests could not import, each with what provides it."""
    overrides = project.contract.dependencies.import_names if project.contract.dependencies else {}
    found: dict[str, MissingModule] = {}
    for module in dict.fromkeys(_MISSING.findall(output)):
        top = module.split(".", 1)[0]
        if top in own or top in found:
            continue
        distribution = resolve(module, overrides).distributions[0]
        tests = [f.name for f in failures if f.reason and f"'{module}'" in f.reason]
        found[top] = MissingModule(module=top, distribution=distribution, tests=tests)
    return list(found.values())


def _rerun_locally(
    project: Project, words: list[str], names: list[str], processes: Processes
) -> dict[str, str]:
    """name -> "pass" or "fail" in the author's environment, for pytest commands only."""
    if not names or not (words[0] in PYTESTS or "pytest" in words[:3]):
        return {}
    unique = list(dict.fromkeys(names))[:RERUN_LIMIT]
    pythonpath = os.pathsep.join(
        [*(str(p) for p in project.source_roots), os.environ.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    done = processes.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *unique],
        cwd=project.root,
        env={**os.environ, "PYTHONPATH": pythonpath},
        timeout=TIMEOUT_SECONDS,
    )
    if done.returncode not in (0, 1):
        return {}
    failing = {f.name for f in parse_failures(done.output)}
    return {name: "fail" if name in failing else "pass" for name in unique}


def missing_own_modules(output: str, own: set[str]) -> list[str]:
    """The project's own modules the tests could not import: files the room may lack."""
    return [m for m in dict.fromkeys(_MISSING.findall(output)) if m.split(".", 1)[0] in own]
