"""MOD: the model artifact shipped is the one whose sha256 the contract recorded."""

from __future__ import annotations

import pytest
from helpers import FIXTURES, results_of

from pavedroad.results import Status


def test_mod001_a_matching_artifact_passes_with_the_hash_it_verified() -> None:
    (result,) = results_of(FIXTURES / "mod001" / "pass", "MOD001")
    assert (result.status, result.subject, result.message, str(result.location)) == (
        Status.PASS,
        "models/m.bin",
        "models/m.bin matches the contract's sha256 (5a3949ca84f7…)",
        "models/m.bin",
    )


@pytest.mark.parametrize("fixture", ["fail-missing", "fail-mismatch"])
def test_mod001_a_missing_or_changed_artifact_is_one_gap_and_no_evidence(fixture: str) -> None:
    results = results_of(FIXTURES / "mod001" / fixture, "MOD001")
    assert [(r.status, r.subject) for r in results] == [(Status.FAIL, "models/m.bin")]
