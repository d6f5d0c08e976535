"""Runtime settings, from the environment only (the contract's [config] lists each variable).

Every environment read of the package is in this module, so that what can be configured is
written down in one place and in README.md#configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_PATH = PROJECT_ROOT / "models" / "churn.joblib"
DEFAULT_THRESHOLD = 0.5


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    model_path: Path
    threshold: float


def load() -> Settings:
    """The settings now in force; read on each call so tests and operators can change them."""
    model_path = os.environ.get("CHURN_MODEL_PATH") or str(DEFAULT_MODEL_PATH)
    raw_threshold = os.environ.get("CHURN_THRESHOLD") or str(DEFAULT_THRESHOLD)
    try:
        threshold = float(raw_threshold)
    except ValueError:
        raise SettingsError(f"CHURN_THRESHOLD={raw_threshold!r} is not a number") from None
    if not 0.0 < threshold < 1.0:
        raise SettingsError(f"CHURN_THRESHOLD={threshold} must be between 0 and 1, exclusive")
    return Settings(model_path=Path(model_path), threshold=threshold)
