"""Load the trained pipeline once and score customers with it."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from pathlib import Path

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

from churn import settings
from churn.features import FEATURES, matrix, rows_to_table
from churn.schemas import ChurnScore, Customer


class ArtifactError(RuntimeError):
    """The model artifact is missing, unreadable, or not the model this code was written for."""


def predict(customers: Sequence[Customer]) -> list[ChurnScore]:
    """One ChurnScore per customer, in order. An empty batch gives an empty list."""
    if not customers:
        return []
    config = settings.load()
    pipeline = load(config.model_path)
    table = rows_to_table([customer.model_dump() for customer in customers])
    probabilities = pipeline.predict_proba(matrix(table))[:, 1]
    return [
        ChurnScore(probability=float(p), label=bool(p >= config.threshold)) for p in probabilities
    ]


@functools.lru_cache(maxsize=2)
def load(path: Path) -> Pipeline:
    """The pipeline at `path`, loaded once per path and process.

    A pickle written by another scikit-learn version may load and still predict wrongly, so the
    version warning is turned into an error instead of being left in a log nobody reads.
    """
    if not path.is_file():
        raise ArtifactError(f"no model artifact at {path} (set CHURN_MODEL_PATH)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            loaded = joblib.load(path)
        except InconsistentVersionWarning as warning:
            raise ArtifactError(
                f"{path} was saved by scikit-learn {warning.original_sklearn_version}, "
                f"this environment has {sklearn.__version__}: retrain or pin the same version"
            ) from None
        except Exception as error:
            raise ArtifactError(f"cannot load {path}: {type(error).__name__}: {error}") from None
    if not isinstance(loaded, Pipeline) or not hasattr(loaded, "predict_proba"):
        raise ArtifactError(f"{path} holds a {type(loaded).__name__}, not a fitted Pipeline")
    if getattr(loaded, "n_features_in_", None) != len(FEATURES):
        raise ArtifactError(
            f"{path} expects {getattr(loaded, 'n_features_in_', '?')} features, "
            f"this code sends {len(FEATURES)}: artifact and code are from different versions"
        )
    return loaded
