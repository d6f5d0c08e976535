"""PKG: the package exists, pyproject declares it, and its entry points resolve."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.results import Location, Result, Status

Tree = Callable[[Mapping[str, str]], Path]
PYPROJECT = '[project]\nname = "churn-model"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'


def only_failure(results: list[Result]) -> Result:
    assert [r.status for r in results] == [Status.FAIL], results
    return results[0]


def failures(results: list[Result]) -> dict[str | None, Result]:
    assert all(r.status is Status.FAIL for r in results), results
    return {r.subject: r for r in results}


def evidence(results: list[Result]) -> list[tuple[str | None, str, str]]:
    """The passing rows as (subject, message, location); every row must pass."""
    assert results and all(r.status is Status.PASS for r in results), results
    return [(r.subject, r.message, str(r.location)) for r in results]


# -- PKG001 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "init"), [("pass", "src/churn/__init__.py"), ("pass-flat", "churn/__init__.py")]
)
def test_pkg001_passes_for_src_and_flat_layouts_naming_the_file(layout: str, init: str) -> None:
    assert evidence(results_of(FIXTURES / "pkg001" / layout, "PKG001")) == [
        ("churn", f"churn imports from {init}", init)
    ]


def test_pkg001_a_single_module_is_a_package(tree: Tree) -> None:
    root = tree({"handoff.toml": '[package]\nname = "churn"\n', "src/churn.py": "X = 1\n"})
    assert evidence(results_of(root, "PKG001")) == [
        ("churn", "churn imports from src/churn.py", "src/churn.py")
    ]


def test_pkg001_missing_package_points_at_the_contract_key() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg001" / "fail-missing", "PKG001"))
    assert gap.subject == "churn"
    assert gap.message == "package `churn` not found: there is no churn/__init__.py nor churn.py"
    assert gap.location == Location(path="handoff.toml", line=2)
    assert gap.fix is not None and "churn/__init__.py" in gap.fix


def test_pkg001_says_where_a_package_in_the_wrong_folder_is() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg001" / "fail-notebooks", "PKG001"))
    assert "found notebooks/churn/, outside the import path" in gap.message
    assert gap.fix is not None and gap.fix.startswith("Move notebooks/churn/ to churn/")
    assert gap.location == Location(path="handoff.toml", line=2)


def test_pkg001_a_package_at_the_root_of_a_src_layout_is_misplaced() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg001" / "fail-root-with-src", "PKG001"))
    assert "there is no src/churn/__init__.py" in gap.message
    assert "found churn/ at the root, but the project has a src/ folder" in gap.message
    assert gap.fix is not None and gap.fix.startswith("Move churn/ to src/churn/")


def test_pkg001_a_package_spelt_in_another_case_is_named() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg001" / "fail-case", "PKG001"))
    assert "found src/Churn/, spelt differently (imports are case-sensitive)" in gap.message
    assert gap.fix is not None and gap.fix.startswith("Move src/Churn/ to src/churn/")


def test_pkg001_a_folder_without_init_is_not_a_package() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg001" / "fail-no-init", "PKG001"))
    assert gap.message == "src/churn/ has no __init__.py, so `churn` is not a regular package"
    assert gap.fix == "Create src/churn/__init__.py (it may be empty)."


def test_pkg001_is_skipped_without_a_package_section(tree: Tree) -> None:
    root = tree({"handoff.toml": "", "pyproject.toml": PYPROJECT})
    (result,) = results_of(root, "PKG001")
    assert result.status is Status.SKIP
    assert "no [package] section" in result.message


# -- PKG002 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "version"), [("pass", "0.1.0"), ("pass-dynamic", "(version dynamic)")]
)
def test_pkg002_passes_with_a_static_or_dynamic_version(fixture: str, version: str) -> None:
    assert evidence(results_of(FIXTURES / "pkg002" / fixture, "PKG002")) == [
        (
            "pyproject.toml",
            f"pyproject.toml: churn-model {version}, requires-python >=3.10",
            "pyproject.toml:5",
        )
    ]


def test_pkg002_missing_pyproject() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg002" / "fail-missing", "PKG002"))
    assert gap.subject == "pyproject.toml"
    assert "there is no pyproject.toml" in gap.message
    assert gap.location == Location(path="pyproject.toml")


def test_pkg002_unparseable_pyproject_gives_the_error_and_line() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg002" / "fail-unparseable", "PKG002"))
    assert gap.subject == "pyproject.toml"
    assert gap.message.startswith("pyproject.toml is not valid TOML: ")
    assert "at line" not in gap.message  # the line is in the location, not repeated
    assert gap.location == Location(path="pyproject.toml", line=3)


def test_pkg002_one_gap_per_missing_field_at_the_project_table() -> None:
    gaps = failures(results_of(FIXTURES / "pkg002" / "fail-fields", "PKG002"))
    assert set(gaps) == {"project.version", "project.requires-python"}
    version = gaps["project.version"]
    assert version.message == (
        "pyproject.toml: [project] has no `version`, and `dynamic` does not list it"
    )
    assert version.location == Location(path="pyproject.toml", line=5)
    python = gaps["project.requires-python"]
    assert python.location == Location(path="pyproject.toml", line=5)
    assert (
        python.fix == 'Add `requires-python = ">=3.10"` under [project], the versions you test on.'
    )


def test_pkg002_fixes_reuse_the_contract(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn_model"\n[dependencies]\npython = ">=3.11"\n',
            "pyproject.toml": "[tool.ruff]\nline-length = 100\n",
        }
    )
    gaps = failures(results_of(root, "PKG002"))
    assert set(gaps) == {"project.name", "project.version", "project.requires-python"}
    assert all(g.location == Location(path="pyproject.toml") for g in gaps.values())
    assert gaps["project.name"].fix == 'Add `name = "churn-model"` under [project].'
    assert gaps["project.requires-python"].fix is not None
    assert '">=3.11"' in gaps["project.requires-python"].fix


def test_pkg002_invalid_values_point_at_their_key(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": "",
            "pyproject.toml": (
                '[project]\nname = ""\nversion = "first"\nrequires-python = "3.10+"\n'
            ),
        }
    )
    gaps = failures(results_of(root, "PKG002"))
    assert (
        gaps["project.name"].message
        == "pyproject.toml: project.name must be a non-empty string, not ''"
    )
    assert gaps["project.name"].location == Location(path="pyproject.toml", line=2)
    assert "'first' is not a PEP 440 version" in gaps["project.version"].message
    assert gaps["project.version"].location == Location(path="pyproject.toml", line=3)
    assert "'3.10+' is not a version specifier" in gaps["project.requires-python"].message
    assert gaps["project.requires-python"].location == Location(path="pyproject.toml", line=4)


# -- PKG003 -----------------------------------------------------------------------------------


def test_pkg003_passes_for_definitions_reexports_assignments_and_class_attributes() -> None:
    """One row per entry point, at the statement that defines it, re-exports followed."""
    assert evidence(results_of(FIXTURES / "pkg003" / "pass", "PKG003")) == [
        ("churn.cli:main", "churn.cli:main is defined at src/churn/cli.py:8", "src/churn/cli.py:8"),
        (
            "churn.jobs:score",
            "churn.jobs:score is defined at src/churn/_scoring.py:1",
            "src/churn/_scoring.py:1",
        ),
        (
            "churn.cli:run_batch",
            "churn.cli:run_batch is defined at src/churn/_scoring.py:1",
            "src/churn/_scoring.py:1",
        ),
        (
            "churn.batch:run",
            "churn.batch:run is defined at src/churn/batch.py:3",
            "src/churn/batch.py:3",
        ),
        (
            "churn.gui:App.launch",
            "churn.gui:App.launch is defined at src/churn/gui.py:3",
            "src/churn/gui.py:3",
        ),
    ]


def test_pkg003_names_an_imported_function_and_a_submodule_as_what_they_are(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn"\n'
            'entry_points = ["churn.cli:main", "churn:jobs"]\n',
            "src/churn/__init__.py": "from churn import jobs\n",
            "src/churn/cli.py": '"""CLI."""\n\nfrom click_tools import main\n',
            "src/churn/jobs.py": "",
        }
    )
    assert evidence(results_of(root, "PKG003")) == [
        (
            "churn.cli:main",
            "churn.cli:main is click_tools.main, imported from outside the project at "
            "src/churn/cli.py:3",
            "src/churn/cli.py:3",
        ),
        (
            "churn:jobs",
            "churn:jobs is the module churn.jobs (src/churn/jobs.py)",
            "src/churn/jobs.py",
        ),
    ]


def test_pkg003_an_entry_point_that_resolves_passes_beside_one_that_does_not(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn"\n'
            'entry_points = ["churn.cli:main", "churn.cli:run"]\n',
            "src/churn/__init__.py": "",
            "src/churn/cli.py": "def main(): ...\n",
        }
    )
    rows = {r.subject: r.status for r in results_of(root, "PKG003")}
    assert rows == {"churn.cli:main": Status.PASS, "churn.cli:run": Status.FAIL}


def test_pkg003_module_missing_points_at_the_contract_line() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg003" / "fail-module-missing", "PKG003"))
    assert gap.subject == "churn.commands:main"
    assert gap.message == (
        "[package].entry_points = churn.commands:main: module churn.commands is not in the "
        "project (expected src/churn/commands.py or src/churn/commands/__init__.py)"
    )
    assert gap.location == Location(path="handoff.toml", line=3)


def test_pkg003_name_missing_points_at_the_script_line() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg003" / "fail-name-missing", "PKG003"))
    assert gap.subject == "churn.cli:main"
    assert gap.message == (
        "[project.scripts] churn = churn.cli:main: "
        "`main` is not defined at the top level of src/churn/cli.py"
    )
    assert gap.location == Location(path="pyproject.toml", line=12)


def test_pkg003_a_syntax_error_fails_with_file_and_line() -> None:
    gap = only_failure(results_of(FIXTURES / "pkg003" / "fail-syntax-error", "PKG003"))
    assert gap.subject == "churn.cli:main"
    assert "src/churn/cli.py:4 does not parse" in gap.message
    assert gap.location == Location(path="src/churn/cli.py", line=4)


def test_pkg003_a_reexport_of_a_missing_name_points_at_the_import(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn"\nentry_points = ["churn.cli:main"]\n',
            "src/churn/__init__.py": "",
            "src/churn/cli.py": '"""CLI."""\n\nfrom churn.impl import main\n',
            "src/churn/impl.py": "def run(): ...\n",
        }
    )
    gap = only_failure(results_of(root, "PKG003"))
    assert "not defined at the top level of src/churn/impl.py" in gap.message
    assert "src/churn/cli.py:3 imports it from churn.impl" in gap.message
    assert gap.location == Location(path="src/churn/cli.py", line=3)


def test_pkg003_one_gap_per_entry_point_even_when_declared_twice(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn"\nentry_points = ["churn.cli:main"]\n',
            "pyproject.toml": PYPROJECT
            + '\n[project.scripts]\nchurn = "churn.cli:main"\nbad = "churn.cli"\n'
            + 'extra = "churn.cli:run [gpu]"\n',
            "src/churn/__init__.py": "",
            "src/churn/cli.py": "",
        }
    )
    gaps = failures(results_of(root, "PKG003"))
    assert set(gaps) == {"churn.cli:main", "churn.cli", "churn.cli:run [gpu]"}
    assert gaps["churn.cli:main"].location == Location(path="handoff.toml", line=3)
    assert gaps["churn.cli"].message == (
        "[project.scripts] bad = 'churn.cli' is not of the form module:function"
    )
    assert gaps["churn.cli"].location == Location(path="pyproject.toml", line=8)
    assert "`run` is not defined" in gaps["churn.cli:run [gpu]"].message


def test_pkg003_is_skipped_without_entry_points(tree: Tree) -> None:
    root = tree(
        {"handoff.toml": '[package]\nname = "churn"\n', "pyproject.toml": PYPROJECT, "churn.py": ""}
    )
    (result,) = results_of(root, "PKG003")
    assert result.status is Status.SKIP
    assert result.message == "no entry points declared"


def test_pkg003_does_not_cascade_from_a_missing_package(tree: Tree) -> None:
    root = tree({"handoff.toml": '[package]\nname = "churn"\nentry_points = ["churn.cli:main"]\n'})
    (result,) = results_of(root, "PKG003")
    assert result.status is Status.SKIP
    assert result.message == "requires PKG001, which did not pass"


def test_pkg003_checks_scripts_without_a_package_section(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": "",
            "pyproject.toml": PYPROJECT + '\n[project.gui-scripts]\nviewer = "tools.view:App"\n',
            "tools/__init__.py": "",
            "tools/view.py": "def app(): ...\n",
        }
    )
    gap = only_failure(results_of(root, "PKG003"))
    assert gap.message.startswith("[project.gui-scripts] viewer = tools.view:App: `App` is not")
