"""The spec of every check: a small real project it passes, and one or more it fails.

Convention: tests/fixtures/<check id, lower case>/pass/ and .../fail*/ are project roots.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.registry import all_checks, builtin_families
from pavedroad.results import Status

CHECK_IDS = [check.id for check in all_checks(builtin_families())]


def _fixture_roots(check_id: str, prefix: str) -> list[Path]:
    folder = FIXTURES / check_id.lower()
    return sorted(p for p in folder.glob(f"{prefix}*") if p.is_dir()) if folder.is_dir() else []


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_has_a_passing_fixture(check_id: str) -> None:
    roots = _fixture_roots(check_id, "pass")
    assert roots, f"tests/fixtures/{check_id.lower()}/pass/ is missing"
    for root in roots:
        results = results_of(root, check_id)
        assert results and all(r.status is Status.PASS for r in results), (root, results)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_has_a_failing_fixture(check_id: str) -> None:
    roots = _fixture_roots(check_id, "fail")
    assert roots, f"tests/fixtures/{check_id.lower()}/fail*/ is missing"
    for root in roots:
        results = results_of(root, check_id)
        failing = [r for r in results if r.status is Status.FAIL]
        assert failing, (root, results)
        assert all(r.message and r.fix for r in failing), failing


def test_every_check_documents_what_why_example_and_fix() -> None:
    for check in all_checks(builtin_families()):
        assert not check.doc.missing(), f"{check.id} lacks {check.doc.missing()}"
