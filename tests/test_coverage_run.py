"""Running a test command under coverage.py: real commands, real subprocesses, real data."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from pavedroad.coverage_run import (
    TIMEOUT_SECONDS,
    CoverageRun,
    has_pytest_config,
    parse_failures,
    parse_summary,
    run_tests,
)

Tree = Callable[[Mapping[str, str]], Path]

CALC = """def add(a, b):
    return a + b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("b is zero")
    return a / b
"""
CALC_TESTS = "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
PROJECT = {"src/calc/__init__.py": "", "src/calc/ops.py": CALC, "tests/test_ops.py": CALC_TESTS}


def _run(root: Path, command: str = "pytest -q", timeout: float = TIMEOUT_SECONDS) -> CoverageRun:
    source = [root / "src" / "calc"]
    return run_tests(command, root, source=source, pythonpath=[root / "src"], timeout=timeout)


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.mark.slow
def test_pytest_runs_under_coverage_and_reports_missing_lines(tree: Tree) -> None:
    root = tree(PROJECT)
    before = _files(root)
    run = _run(root)
    assert run.passed and run.measured and run.pytest and run.python
    assert run.argv[:4] == (sys.executable, "-m", "coverage", "run")
    assert "-p" in run.argv and "no:cacheprovider" in run.argv
    ops = run.files[(root / "src" / "calc" / "ops.py").resolve()]
    assert (ops.statements, ops.missing, ops.missing_text) == (6, (6, 7, 8), "6-8")
    assert run.total == pytest.approx(50.0)
    summary = run.summary()
    assert summary is not None and summary.startswith("1 passed in ")
    assert _files(root) == before, "the run wrote into the project"


@pytest.mark.slow
def test_failing_tests_are_named_with_their_first_error_line(tree: Tree) -> None:
    failing = CALC_TESTS + "\n\ndef test_divide():\n    from calc.ops import divide\n"
    failing += "    assert divide(1, 0) == 0\n"
    root = tree({**PROJECT, "tests/test_ops.py": failing})
    run = run_tests("pytest -q", root, source=[root / "src"], pythonpath=[root / "src"])
    assert run.returncode == 1 and not run.passed
    [failure] = run.failures()
    assert failure.name == "tests/test_ops.py::test_divide"
    assert failure.reason == "ZeroDivisionError: b is zero"
    assert failure.path == "tests/test_ops.py"


@pytest.mark.slow
def test_config_and_conftest_above_the_project_are_not_used(tree: Tree) -> None:
    """pytest looks upwards for a configuration and for conftest.py files; the project must be
    tested as it is handed over, alone."""
    root = tree(PROJECT)
    parent = root.parent
    (parent / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n", encoding="utf-8")
    (parent / "conftest.py").write_text("raise RuntimeError('parent conftest')\n", encoding="utf-8")
    run = _run(root)
    assert run.passed, run.output
    assert f"--rootdir={root}" in run.argv and f"--confcutdir={root}" in run.argv


@pytest.mark.slow
def test_the_projects_own_pytest_config_is_used(tree: Tree) -> None:
    root = tree(
        {
            **{k: v for k, v in PROJECT.items() if not k.startswith("tests/")},
            "checks/check_ops.py": CALC_TESTS,
            "pytest.ini": "[pytest]\ntestpaths = checks\npython_files = check_*.py\n",
        }
    )
    run = _run(root)
    assert run.passed, run.output
    assert "1 passed" in run.output
    assert "--rootdir" not in " ".join(run.argv)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        "python -m pytest -q tests",
        "python3 -m unittest discover -s tests -p case_*.py",
        "python run_tests.py",
        "GREETING=hello python run_tests.py",
    ],
)
def test_python_commands_are_measured(tree: Tree, command: str) -> None:
    script = (
        "import os, sys\nfrom calc.ops import add\n"
        "assert os.environ.get('GREETING', 'hello') == 'hello'\nsys.exit(0 if add(1, 1) == 2 else 1)\n"
    )
    case = (
        "import unittest\nfrom calc.ops import add\n\n\nclass AddCase(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(1, 1), 2)\n"
    )
    root = tree({**PROJECT, "tests/case_ops.py": case, "run_tests.py": script})
    run = _run(root, command)
    assert run.passed, run.output
    assert run.python and run.measured
    assert run.files[(root / "src" / "calc" / "ops.py").resolve()].missing == (6, 7, 8)


@pytest.mark.slow
def test_code_run_only_in_a_subprocess_of_the_tests_is_measured(tree: Tree) -> None:
    spawning = (
        "import subprocess, sys\n\n\ndef test_cli():\n"
        "    code = 'from calc.ops import divide; print(divide(4, 2))'\n"
        "    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)\n"
        "    assert out.stdout.strip() == '2.0', out.stderr\n"
    )
    root = tree({**PROJECT, "tests/test_ops.py": spawning})
    run = _run(root)
    assert run.passed, run.output
    assert run.files[(root / "src" / "calc" / "ops.py").resolve()].missing == (2, 7)


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="uses sh")
def test_other_commands_are_measured_through_coverages_startup_hook(tree: Tree) -> None:
    root = tree({**PROJECT, "run.sh": "set -e\npython -m pytest -q -p no:cacheprovider tests\n"})
    run = _run(root, "sh run.sh")
    assert not run.python
    assert run.passed and run.measured, run.output
    assert run.total == pytest.approx(50.0)


def test_a_command_that_runs_no_python_is_not_measured(tree: Tree) -> None:
    run = _run(tree(PROJECT), "echo the tests run elsewhere")
    assert run.passed and not run.measured and run.total is None


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ('pytest "unclosed', "cannot be parsed"),
        ("FOO=1", "empty"),
        ("no-such-program-for-paved --flag", "cannot run"),
    ],
)
def test_commands_that_cannot_run(tree: Tree, command: str, error: str) -> None:
    run = _run(tree(PROJECT), command)
    assert run.error is not None and error in run.error
    assert not run.passed


@pytest.mark.slow
def test_a_hanging_suite_is_stopped_at_the_timeout(tree: Tree) -> None:
    hanging = "import threading\n\n\ndef test_wait():\n    threading.Event().wait()\n"
    root = tree({**PROJECT, "tests/test_ops.py": hanging})
    run = _run(root, timeout=1)
    assert run.timed_out and run.returncode is None and not run.passed


def test_parse_failures_reads_pytests_short_summary() -> None:
    output = (
        "..F\n=== short test summary info ===\n"
        "FAILED tests/test_a.py::test_x[a - b] - assert 1 == 2\n"
        "ERROR tests/test_b.py - ModuleNotFoundError: No module named 'churn'\n"
        "FAILED tests/test_c.py::TestK::test_y\n"
        "1 failed, 2 passed in 0.1s\n"
    )
    assert [(f.kind, f.name, f.reason) for f in parse_failures(output)] == [
        ("FAILED", "tests/test_a.py::test_x[a - b]", "assert 1 == 2"),
        ("ERROR", "tests/test_b.py", "ModuleNotFoundError: No module named 'churn'"),
        ("FAILED", "tests/test_c.py::TestK::test_y", None),
    ]


@pytest.mark.parametrize(
    ("output", "summary"),
    [
        ("...\n3 passed in 0.12s\n", "3 passed in 0.12s"),
        (
            "=== 1 failed, 2 passed, 1 warning in 1.05s ===\n",
            "1 failed, 2 passed, 1 warning in 1.05s",
        ),
        ("35 passed in 65.20s (0:01:05)\n", "35 passed in 65.20s (0:01:05)"),
        ("\x1b[32m\x1b[1m2 passed\x1b[0m\x1b[32m in 0.01s\x1b[0m\n", "2 passed in 0.01s"),
        ("=== no tests ran in 0.01s ===\n", "no tests ran in 0.01s"),
        ("1 passed in 0.1s\nmake: ok\n2 passed in 0.2s\n", "2 passed in 0.2s"),  # the last
        ("Ran 3 tests in 0.001s\n\nOK\n", None),  # unittest's is not pytest's
        ("test passed in CI\n", None),
    ],
)
def test_parse_summary_reads_pytests_final_line(output: str, summary: str | None) -> None:
    assert parse_summary(output) == summary


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("pytest.ini", "", True),
        ("pyproject.toml", "[tool.pytest.ini_options]\naddopts = '-q'\n", True),
        ("pyproject.toml", "[tool.pytest]\nminversion = '9.0'\n", True),
        ("pyproject.toml", "[project]\nname = 'x'\n", False),
        ("tox.ini", "[pytest]\naddopts = -q\n", True),
        ("tox.ini", "[tox]\nenvlist = py311\n", False),
        ("setup.cfg", "[tool:pytest]\naddopts = -q\n", True),
        ("setup.cfg", "[metadata]\nname = x\n", False),
    ],
)
def test_has_pytest_config(tmp_path: Path, name: str, text: str, expected: bool) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert has_pytest_config(tmp_path) is expected
