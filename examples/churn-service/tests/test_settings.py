from __future__ import annotations

from pathlib import Path

import pytest

from churn import settings


def test_defaults() -> None:
    loaded = settings.load()
    assert loaded.model_path == settings.DEFAULT_MODEL_PATH
    assert loaded.model_path.is_file()
    assert loaded.threshold == 0.5


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHURN_MODEL_PATH", "/srv/models/churn-2.joblib")
    monkeypatch.setenv("CHURN_THRESHOLD", "0.3")
    assert settings.load() == settings.Settings(Path("/srv/models/churn-2.joblib"), 0.3)


@pytest.mark.parametrize(("value", "message"), [("high", "not a number"), ("1.5", "between")])
def test_bad_threshold(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("CHURN_THRESHOLD", value)
    with pytest.raises(settings.SettingsError, match=message):
        settings.load()
