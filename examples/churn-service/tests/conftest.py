"""Each test starts from the committed artifact and default settings, with no cached model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from churn import model


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CHURN_MODEL_PATH", raising=False)
    monkeypatch.delenv("CHURN_THRESHOLD", raising=False)
    model.load.cache_clear()
    yield
    model.load.cache_clear()
