"""The DEP checks on real small projects: the fixtures under tests/fixtures/dep00*/ and trees
written inline for the messy cases public ML repositories really have."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import version
from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.results import Location, Result, Status

Tree = Callable[[Mapping[str, str]], Path]
CONTRACT = "[dependencies]\npinned = true\n"


def failing(root: Path, check_id: str) -> dict[str, Result]:
    """Subject -> the failing result, asserting there is one result per subject."""
    found = [r for r in results_of(root, check_id) if r.status is Status.FAIL]
    subjects = [r.subject for r in found]
    assert len(subjects) == len(set(subjects)), subjects
    return {str(r.subject): r for r in found}


# -- DEP001 missing --------------------------------------------------------------------------


def test_missing_names_the_package_the_import_and_the_pinned_fix() -> None:
    gaps = failing(FIXTURES / "dep001" / "fail", "DEP001")
    assert set(gaps) == {"pyyaml"}  # numpy is declared
    gap = gaps["pyyaml"]
    assert "`yaml`" in gap.message and "src/churn/features.py:2" in gap.message
    assert gap.location is not None and gap.location.path == "src/churn/features.py"
    assert (
        gap.fix is not None
        and f'"pyyaml=={version("pyyaml")}"' in gap.fix
        and "[project]" in gap.fix
    )


def test_optional_imports_are_not_missing() -> None:
    # dep001/pass imports `ujson` inside try/except ImportError; it is installed nowhere
    results = results_of(FIXTURES / "dep001" / "pass", "DEP001")
    assert [r.status for r in results] == [Status.PASS]


def test_without_any_dependency_file_every_import_is_missing_and_the_fix_says_where(
    tree: Tree,
) -> None:
    root = tree(
        {
            "handoff.toml": CONTRACT,
            "train.py": "import numpy\nimport yaml\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import pandas\n",
        }
    )
    gaps = failing(root, "DEP001")
    assert set(gaps) == {"numpy", "pyyaml"}
    for gap in gaps.values():
        assert gap.fix is not None and "create pyproject.toml" in gap.fix


def test_the_build_script_needs_what_building_needs_not_the_package(tree: Tree) -> None:
    """setup.py at the root imports setuptools (and Cython, numpy for extensions) to build; a
    setup.py anywhere else is an ordinary module."""
    build = "import numpy\nfrom Cython.Build import cythonize\nfrom setuptools import setup\n"
    root = tree(
        {
            "handoff.toml": CONTRACT,
            "requirements.txt": "pyyaml==6.0.4\n",
            "setup.py": build,
            "scorer/__init__.py": "import yaml\n",
            "scorer/setup.py": "import numpy\n",
        }
    )
    assert set(failing(root, "DEP001")) == {"numpy"}  # scorer/setup.py's, not the build's
    assert failing(root, "DEP001")["numpy"].location == Location(path="scorer/setup.py", line=1)


def test_an_import_several_distributions_provide_names_them_all(tree: Tree) -> None:
    root = tree({"handoff.toml": CONTRACT, "requirements.txt": "", "vision.py": "import cv2\n"})
    gap = failing(root, "DEP001")["cv2"]
    assert "none of opencv-python, opencv-python-headless" in gap.message
    assert "is declared" in gap.message
    assert gap.fix is not None and "`opencv-python`" in gap.fix


def test_non_normalised_and_utf16_declarations_count(tree: Tree) -> None:
    root = tree({"handoff.toml": CONTRACT, "train.py": "import sklearn\nimport numpy\n"})
    text = "Scikit_Learn==1.7.2\nNUMPY==2.2.6\n"
    (root / "requirements.txt").write_bytes(text.encode("utf-16"))  # with its byte-order mark
    assert (root / "requirements.txt").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    for check_id in ("DEP001", "DEP002", "DEP004", "DEP009"):
        assert {r.status for r in results_of(root, check_id)} == {Status.PASS}, check_id


# -- DEP002 unused ---------------------------------------------------------------------------


def test_unused_points_at_the_declaration() -> None:
    gaps = failing(FIXTURES / "dep002" / "fail", "DEP002")
    assert set(gaps) == {"flask"}
    location = gaps["flask"].location
    assert location is not None and (location.path, location.line) == ("pyproject.toml", 6)


def test_a_package_only_the_model_artifact_needs_is_used() -> None:
    # dep007/pass declares scikit-learn; no line of code imports sklearn, the pickle does
    assert {r.status for r in results_of(FIXTURES / "dep007" / "pass", "DEP002")} == {Status.PASS}


# -- DEP003 transitive -----------------------------------------------------------------------


def test_transitive_names_the_package_that_brings_it() -> None:
    gaps = failing(FIXTURES / "dep003" / "fail", "DEP003")
    assert set(gaps) == {"scipy", "threadpoolctl"}
    assert "dependency of scikit-learn" in gaps["scipy"].message
    assert gaps["scipy"].fix is not None and "scipy==1.15.3" in gaps["scipy"].fix
    # a transitive package is DEP003's gap, not DEP001's as well
    assert not failing(FIXTURES / "dep003" / "fail", "DEP001")


# -- DEP004 unpinned -------------------------------------------------------------------------


def test_unpinned_suggests_the_installed_version() -> None:
    gaps = failing(FIXTURES / "dep004" / "fail", "DEP004")
    assert set(gaps) == {"numpy", "scikit-learn"}
    assert (
        gaps["scikit-learn"].fix is not None and "scikit-learn==1.7.2" in gaps["scikit-learn"].fix
    )


def test_unpinned_is_skipped_when_the_contract_says_so(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": "[dependencies]\npinned = false\n",
            "requirements.txt": "numpy\n",
            "train.py": "import numpy\n",
        }
    )
    assert {r.status for r in results_of(root, "DEP004")} == {Status.SKIP}


def test_a_lock_covers_an_unpinned_requirement() -> None:
    assert {r.status for r in results_of(FIXTURES / "dep005" / "pass", "DEP004")} == {Status.PASS}


# -- DEP005 lock stale -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "subjects", "words"),
    [
        ("fail-stale-uv-lock", {"uv.lock: numpy"}, "pins numpy 1.26.4, outside the declared >=2.0"),
        ("fail-requirements-changed", {"uv.lock: numpy"}, "now declares numpy>=2.1"),
        ("fail-missing-lock", {"uv.lock"}, "does not exist"),
        (
            "fail-hashed-requirements",
            {"requirements.lock.txt: numpy", "requirements.lock.txt: pyyaml"},
            "numpy 1.26.4",
        ),
    ],
)
def test_a_stale_lock_is_reported_per_package(case: str, subjects: set[str], words: str) -> None:
    gaps = failing(FIXTURES / "dep005" / case, "DEP005")
    assert set(gaps) == subjects
    assert any(words in gap.message for gap in gaps.values()), gaps


# -- DEP006 dev-only -------------------------------------------------------------------------


def test_dev_only_concerns_runtime_code_not_tests() -> None:
    gaps = failing(FIXTURES / "dep006" / "fail", "DEP006")
    assert set(gaps) == {"pyyaml"}  # pytest is dev-only too, but only the tests import it
    assert "dev:dev" in gaps["pyyaml"].message


# -- DEP007 artifact -------------------------------------------------------------------------


def test_the_artifact_needs_scikit_learn_to_load() -> None:
    results = results_of(FIXTURES / "dep007" / "fail", "DEP007")
    by_subject = {r.subject: r for r in results}
    assert by_subject["scikit-learn"].status is Status.FAIL
    assert "sklearn.preprocessing" in by_subject["scikit-learn"].message
    assert by_subject["numpy"].status is Status.PASS  # declared: evidence, no gap


def test_an_artifact_that_is_no_pickle_is_skipped_with_the_reason(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[model]\nartifact = "model.pkl"\n',
            "model.pkl": "this is not a pickle\n",
        }
    )
    [result] = results_of(root, "DEP007")
    assert result.status is Status.SKIP and "model.pkl" in result.message


# -- DEP008 / DEP009 -------------------------------------------------------------------------


def test_a_syntax_error_is_reported_with_its_line_and_the_rest_is_indexed() -> None:
    root = FIXTURES / "dep008" / "fail"
    gaps = failing(root, "DEP008")
    assert set(gaps) == {"scripts/backfill.py"}
    location = gaps["scripts/backfill.py"].location
    assert location is not None and location.line == 2
    assert {r.status for r in results_of(root, "DEP001")} == {Status.PASS}


def test_a_notebook_cell_that_does_not_parse_is_named() -> None:
    gap = failing(FIXTURES / "dep008" / "fail-notebook", "DEP008")["notebooks/explore.ipynb"]
    assert "cell 1 line 1" in gap.message


def test_a_symlink_to_itself_is_unreadable_not_a_crash(tree: Tree) -> None:
    root = tree({"handoff.toml": CONTRACT, "requirements.txt": "numpy==2.2.6\n"})
    (root / "loop.py").symlink_to("loop.py")
    (root / "loopdir").symlink_to("loopdir")
    (root / "train.py").write_text("import numpy\n", encoding="utf-8")
    gap = failing(root, "DEP008")["loop.py"]
    assert "cannot be read" in gap.message and gap.fix is not None and "symlink" in gap.fix
    assert {r.status for r in results_of(root, "DEP001")} == {Status.PASS}


def test_an_invalid_requirement_line_is_reported_with_its_line() -> None:
    gaps = failing(FIXTURES / "dep009" / "fail", "DEP009")
    assert set(gaps) == {"requirements.txt:2"}
    assert "scikit-learn=1.3" in gaps["requirements.txt:2"].message


def test_a_fresh_uv_lock_with_an_extra_recorded_passes(tree: Tree) -> None:
    lock = (FIXTURES / "dep005" / "pass" / "uv.lock").read_text(encoding="utf-8")
    lock = lock.replace(
        'requires-dist = [{ name = "numpy", specifier = ">=2.0" }]',
        'requires-dist = [\n    { name = "numpy", specifier = ">=2.0" },\n'
        '    { name = "rich", marker = "extra == \'report\'", specifier = ">=13" },\n]',
    )
    assert "extra ==" in lock
    root = tree(
        {
            "handoff.toml": '[dependencies]\nlock = "uv.lock"\n',
            "pyproject.toml": '[project]\nname = "churn"\nversion = "0.1.0"\n'
            'dependencies = [" NumPy >= 2.0"]\n'
            '[project.optional-dependencies]\nreport = ["rich>=13"]\n',
            "uv.lock": lock,
            "train.py": "import numpy\n",
        }
    )
    assert {r.status for r in results_of(root, "DEP005")} == {Status.PASS}
