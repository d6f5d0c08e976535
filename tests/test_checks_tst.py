"""TST: tests exist (static), and the contract's test command passes and covers enough (dynamic)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, check_project, results_of

from pavedroad.results import Location, Result, Status

Tree = Callable[[Mapping[str, str]], Path]
# pytest's own final line, as `-q` prints it; the duration varies from run to run.
PASSED_IN = r"\d+\.\d+s"

PRICES = """def net(gross, rate):
    if rate < 0:
        raise ValueError("negative rate")
    return gross / (1 + rate)
"""
PRICES_TEST = "from prices.vat import net\n\n\ndef test_net():\n    assert net(120, 0.2) == 100\n"


def _project(contract: str, **files: str) -> dict[str, str]:
    return {
        "handoff.toml": contract,
        "pyproject.toml": "[tool.pytest.ini_options]\n",
        "src/prices/__init__.py": "",
        "src/prices/vat.py": PRICES,
        "tests/test_vat.py": PRICES_TEST,
        **files,
    }


def _rows(results: list[Result]) -> list[tuple[Status, str | None, str, str]]:
    return [(r.status, r.subject, r.message, str(r.location)) for r in results]


# -- TST001 ----------------------------------------------------------------------------------


def test_tst001_evidence_counts_the_test_files_and_functions() -> None:
    assert _rows(results_of(FIXTURES / "tst001" / "pass", "TST001")) == [
        (Status.PASS, "tests/", "1 test file defines 3 test functions (tests/)", "tests")
    ]


def test_tst001_evidence_counts_methods_and_names_each_folder_with_tests(tree: Tree) -> None:
    cases = (
        "import unittest\n\n\nclass VatCase(unittest.TestCase):\n"
        "    def test_a(self):\n        pass\n\n    def test_b(self):\n        pass\n"
    )
    root = tree(
        {
            "handoff.toml": "",
            "tests/test_vat.py": cases,
            "tests/conftest.py": "def helper():\n    return 1\n",  # no test: not counted
            "src/prices/test_rounding.py": "def test_round():\n    pass\n",
        }
    )
    assert _rows(results_of(root, "TST001")) == [
        (Status.PASS, "tests/", "2 test files define 3 test functions (src/, tests/)", "tests")
    ]


@pytest.mark.parametrize(
    "test_file",
    [
        "def test_it():\n    assert True\n",
        "async def test_it():\n    assert True\n",
        "class TestVat:\n    def test_it(self):\n        assert True\n",
        "import unittest\n\n\nclass VatCase(unittest.TestCase):\n    def test_it(self):\n        pass\n",
        "from unittest import TestCase\n\n\nclass Vat(TestCase):\n    def testIt(self):\n        pass\n",
    ],
)
def test_tst001_recognises_the_ways_pytest_collects_tests(tree: Tree, test_file: str) -> None:
    root = tree({"handoff.toml": "", "tests/test_vat.py": test_file})
    [result] = results_of(root, "TST001")
    assert (result.status, result.message) == (
        Status.PASS,
        "1 test file defines 1 test function (tests/)",
    )


@pytest.mark.parametrize(
    "test_file",
    [
        "def helper():\n    return 1\n",
        "class TestData:\n    rows = [1, 2]\n",  # a Test* class with no test method
        "class Vat:\n    def test_it(self):\n        pass\n",  # not Test*, not a TestCase
        "def test_broken(:\n",  # does not parse: pytest cannot collect it either
    ],
)
def test_tst001_files_without_tests_do_not_count(tree: Tree, test_file: str) -> None:
    root = tree({"handoff.toml": "", "tests/test_vat.py": test_file})
    [result] = results_of(root, "TST001")
    assert result.status is Status.FAIL
    assert result.subject == "tests/"
    assert "tests/test_vat.py" in result.message and "none defines a test" in result.message
    assert result.location == Location(path="tests")


def test_tst001_without_any_test_file_names_the_package_in_the_fix(tree: Tree) -> None:
    root = tree({"handoff.toml": '[package]\nname = "prices"\n', "src/prices/__init__.py": ""})
    [result] = results_of(root, "TST001")
    assert result.status is Status.FAIL
    assert result.message == "the project has no test files"
    assert result.location is None
    assert result.fix is not None and "tests/test_prices.py" in result.fix


# -- TST002 ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "command"),
    [("pass", "pytest -q"), ("pass-python-m", "python -m pytest -q tests")],
)
def test_tst002_evidence_is_pytests_own_summary_at_the_command(fixture: str, command: str) -> None:
    [result] = results_of(FIXTURES / "tst002" / fixture, "TST002")
    assert (result.status, result.subject) == (Status.PASS, command)
    assert re.fullmatch(rf"`{re.escape(command)}` passed: 3 passed in {PASSED_IN}", result.message)
    assert result.location == Location(path="handoff.toml", line=5)


@pytest.mark.slow
def test_tst002_evidence_without_a_pytest_summary_is_the_exit_code(tree: Tree) -> None:
    case = (
        "import unittest\n\nfrom prices.vat import net\n\n\nclass NetCase(unittest.TestCase):\n"
        "    def test_net(self):\n        self.assertEqual(net(120, 0.2), 100)\n"
    )
    command = "python -m unittest discover -s tests"
    root = tree(_project(f'[tests]\ncommand = "{command}"\n', **{"tests/test_vat.py": case}))
    assert _rows(results_of(root, "TST002")) == [
        (Status.PASS, command, f"`{command}` passed: exit 0", "handoff.toml:2")
    ]


@pytest.mark.slow
def test_tst002_failing_tests_are_named_with_the_error_the_exit_code_and_the_command() -> None:
    [result] = results_of(FIXTURES / "tst002" / "fail-tests", "TST002")
    assert result.status is Status.FAIL
    assert result.subject == "pytest -q"
    assert result.message == (
        "`pytest -q` exited with code 1 (tests failed): "
        "FAILED tests/check_cart.py::test_discount_of_half: assert 5.0 == 4.0"
    )
    assert result.location == Location(path="tests/check_cart.py", line=24)


@pytest.mark.slow
def test_tst002_a_collection_error_shows_the_error(tree: Tree) -> None:
    broken = "from prices.vat import gross\n\n\ndef test_gross():\n    pass\n"
    root = tree(_project("[tests]\n", **{"tests/test_vat.py": broken}))
    [result] = results_of(root, "TST002")
    assert result.status is Status.FAIL
    assert result.message == (
        "`pytest -q` exited with code 2 (interrupted, often by a test module that cannot be "
        "imported): ERROR tests/test_vat.py: ImportError: cannot import name 'gross' from "
        "'prices.vat' (" + str(root / "src" / "prices" / "vat.py") + ")"
    )
    assert result.location == Location(path="tests/test_vat.py", line=1)  # the import


@pytest.mark.slow
def test_tst002_no_collected_tests_is_a_failure(tree: Tree) -> None:
    root = tree(_project('[tests]\ncommand = "pytest -q -k no_such_test"\n'))
    [result] = results_of(root, "TST002")
    assert result.status is Status.FAIL
    assert "exited with code 5 (no tests were collected)" in result.message
    assert result.location == Location(path="handoff.toml", line=2)


@pytest.mark.slow
def test_tst002_a_command_that_is_not_python_and_measures_nothing() -> None:
    [result] = results_of(FIXTURES / "tst002" / "fail-not-python", "TST002")
    assert result.status is Status.FAIL
    assert "coverage.py measured no Python process" in result.message
    assert result.fix is not None and "pytest -q" in result.fix


def test_tst002_a_command_that_cannot_be_parsed(tree: Tree) -> None:
    root = tree(_project('[tests]\ncommand = "pytest \'tests"\n'))
    [result] = results_of(root, "TST002")
    assert result.status is Status.FAIL
    assert "cannot be parsed" in result.message


def test_tst002_is_dynamic_and_skipped_by_static_runs() -> None:
    [result] = results_of(FIXTURES / "tst002" / "pass", "TST002", static=True)
    assert result.status is Status.SKIP


@pytest.mark.slow
def test_tst002_to_tst004_share_one_run_of_the_command(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "runs.log"
    monkeypatch.setenv("PAVED_TEST_RUNS_LOG", str(log))
    counting = PRICES_TEST + (
        "\n\ndef test_log_run():\n    import os\n\n"
        "    with open(os.environ['PAVED_TEST_RUNS_LOG'], 'a') as f:\n        f.write('run\\n')\n"
    )
    contract = '[tests]\ncoverage_min = 10\ncore_paths = ["src/prices/vat.py"]\n'
    root = tree(_project(contract, **{"tests/test_vat.py": counting}))
    verdict = check_project(root, "TST002,TST003,TST004")
    assert {r.id: r.status for r in verdict.results} == {
        "TST002": Status.PASS,
        "TST003": Status.PASS,
        "TST004": Status.PASS,
    }
    # The evidence of all three comes from that one run.
    messages = {r.id: r.message for r in verdict.results}
    assert re.fullmatch(rf"`pytest -q` passed: 2 passed in {PASSED_IN}", messages["TST002"])
    assert messages["TST003"] == "total coverage 75% of src/ (minimum 10%)"
    assert messages["TST004"] == "src/prices/vat.py: 75% covered (minimum 10%)"
    assert log.read_text(encoding="utf-8") == "run\n"


# -- TST003 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_tst003_evidence_is_the_total_what_it_measured_and_the_minimum() -> None:
    assert _rows(results_of(FIXTURES / "tst003" / "pass", "TST003")) == [
        (
            Status.PASS,
            "coverage",
            "total coverage 100% of src/pricing/ (minimum 90%)",
            "handoff.toml:6",
        )
    ]


@pytest.mark.slow
def test_tst003_below_minimum_gives_the_percent_and_the_least_covered_files() -> None:
    [result] = results_of(FIXTURES / "tst003" / "fail-below-minimum", "TST003")
    assert result.status is Status.FAIL
    assert result.message == "total coverage is 46.1%, below coverage_min = 90%"
    assert result.location == Location(path="handoff.toml", line=6)
    assert result.fix is not None and "src/pricing/rules.py (46.1%, lines 7, 15-20)" in result.fix


@pytest.mark.slow
def test_tst003_needs_coverage_min(tree: Tree) -> None:
    [result] = results_of(tree(_project("[tests]\n")), "TST003")
    assert result.status is Status.SKIP
    assert result.message == "the contract sets no [tests].coverage_min"


@pytest.mark.slow
def test_tst003_tests_that_never_import_the_package(tree: Tree) -> None:
    lonely = "def test_arithmetic():\n    assert 1 + 1 == 2\n"
    root = tree(_project("[tests]\ncoverage_min = 50\n", **{"tests/test_vat.py": lonely}))
    [result] = results_of(root, "TST003")
    assert result.status is Status.FAIL
    assert result.message == "total coverage is 0%, below coverage_min = 50%"
    assert result.fix is not None and "src/prices/vat.py (0%, lines 1-4)" in result.fix


# -- TST004 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_tst004_evidence_is_one_row_per_core_file_at_that_file() -> None:
    assert _rows(results_of(FIXTURES / "tst004" / "pass", "TST004")) == [
        (
            Status.PASS,
            "src/pricing/rules.py",
            "src/pricing/rules.py: 100% covered (minimum 80%)",
            "src/pricing/rules.py",
        )
    ]


@pytest.mark.slow
def test_tst004_covered_and_uncovered_core_files_side_by_side(tree: Tree) -> None:
    contract = (
        '[tests]\ncoverage_min = 50\ncore_paths = ["src/prices/vat.py", "src/prices/fx.py"]\n'
    )
    root = tree(_project(contract, **{"src/prices/fx.py": "RATE = 1.1\n"}))
    assert [(r.status, r.subject, r.message) for r in results_of(root, "TST004")] == [
        (Status.PASS, "src/prices/vat.py", "src/prices/vat.py: 75% covered (minimum 50%)"),
        (
            Status.FAIL,
            "src/prices/fx.py",
            "core path src/prices/fx.py never ran during the tests (0% covered)",
        ),
    ]


@pytest.mark.slow
def test_tst004_one_gap_per_core_path_with_its_uncovered_lines() -> None:
    results = results_of(FIXTURES / "tst004" / "fail-uncovered", "TST004")
    by_subject = {r.subject: r for r in results}
    assert set(by_subject) == {
        "src/pricing/rules.py",
        "src/pricing/discounts.py",
        "src/pricing/taxes.py",
    }
    rules = by_subject["src/pricing/rules.py"]
    assert rules.message == (
        "core path src/pricing/rules.py is 38.4% covered, below 50%: lines 7, 9, 15-20 never ran"
    )
    assert rules.location == Location(path="src/pricing/rules.py", line=7)
    never = by_subject["src/pricing/discounts.py"]
    assert "never ran during the tests" in never.message
    assert never.location == Location(path="src/pricing/discounts.py", line=1)
    missing = by_subject["src/pricing/taxes.py"]
    assert missing.message == "core path src/pricing/taxes.py does not exist"
    assert missing.location is not None and missing.location.path == "handoff.toml"


@pytest.mark.slow
def test_tst004_defaults_to_80_percent_without_coverage_min(tree: Tree) -> None:
    root = tree(_project('[tests]\ncore_paths = ["src/prices/vat.py"]\n'))
    [result] = results_of(root, "TST004")
    assert result.status is Status.FAIL
    assert result.message == (
        "core path src/prices/vat.py is 75% covered, below 80%: lines 3 never ran"
    )
    assert result.location == Location(path="src/prices/vat.py", line=3)


@pytest.mark.slow
def test_tst004_a_core_folder_outside_the_package_is_measured_file_by_file(tree: Tree) -> None:
    contract = '[package]\nname = "prices"\n\n[tests]\ncore_paths = ["jobs"]\n'
    job = "def nightly():\n    return 'done'\n\n\ndef weekly():\n    return 'done'\n"
    job_test = "from nightly import nightly\n\n\ndef test_nightly():\n    assert nightly()\n"
    root = tree(
        _project(
            contract,
            **{
                "jobs/nightly.py": job,
                "jobs/unused.py": "VALUE = 1\n",
                "tests/test_jobs.py": job_test,
                "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["jobs"]\n',
            },
        )
    )
    results = results_of(root, "TST004")
    assert [(r.status, r.subject) for r in results] == [
        (Status.FAIL, "jobs/nightly.py"),
        (Status.FAIL, "jobs/unused.py"),
    ]
    assert results[0].message.endswith("lines 6 never ran")
    assert "never ran during the tests" in results[1].message
