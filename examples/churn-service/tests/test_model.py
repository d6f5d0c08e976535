from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from churn import model
from churn.data import read_csv
from churn.features import TARGET
from churn.schemas import Customer
from churn.settings import PROJECT_ROOT
from churn.train import build

RISKY = Customer(
    tenure_months=2,
    monthly_charges=99.0,
    contract="month-to-month",
    support_calls=6,
    payment_method="electronic-check",
    internet_service="fiber",
    senior=True,
)
LOYAL = Customer(
    tenure_months=70,
    monthly_charges=25.0,
    contract="two-year",
    support_calls=0,
    payment_method="credit-card",
    internet_service="none",
    senior=False,
)


def test_scores_one_per_customer_in_order() -> None:
    scores = model.predict([RISKY, LOYAL, RISKY])
    assert len(scores) == 3
    assert scores[0] == scores[2]
    assert scores[0].probability > 0.8 > 0.05 > scores[1].probability
    assert (scores[0].label, scores[1].label) == (True, False)


def test_empty_batch() -> None:
    assert model.predict([]) == []


def test_threshold_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHURN_THRESHOLD", "0.99")
    [score] = model.predict([RISKY])
    assert score.probability < 0.99
    assert score.label is False


def test_meets_the_contract_metric_on_the_golden_dataset() -> None:
    rows = read_csv(PROJECT_ROOT / "data" / "golden.csv")
    customers = [Customer.model_validate({k: v for k, v in r.items() if k != TARGET}) for r in rows]
    scores = model.predict(customers)
    auc = roc_auc_score([int(r[TARGET]) for r in rows], [s.probability for s in scores])
    assert auc >= 0.80


def test_artifact_is_loaded_once() -> None:
    model.predict([RISKY])
    model.predict([LOYAL])
    assert model.load.cache_info().misses == 1


def test_missing_artifact(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHURN_MODEL_PATH", str(tmp_path / "nope.joblib"))
    with pytest.raises(model.ArtifactError, match="no model artifact"):
        model.predict([RISKY])


def test_artifact_that_is_not_a_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    joblib.dump({"coef": [1, 2]}, path)
    with pytest.raises(model.ArtifactError, match="holds a dict"):
        model.load(path)


def test_artifact_that_is_not_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    path.write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(model.ArtifactError, match="cannot load"):
        model.load(path)


def test_artifact_trained_on_other_features(tmp_path: Path) -> None:
    older = Pipeline([("classifier", LogisticRegression())])
    older.fit(np.arange(20.0).reshape(4, 5), [0, 1, 0, 1])
    path = tmp_path / "m.joblib"
    joblib.dump(older, path)
    with pytest.raises(model.ArtifactError, match="expects 5 features"):
        model.load(path)


def test_artifact_from_another_sklearn_version(tmp_path: Path) -> None:
    data = pickle.dumps(build())
    version = sklearn.__version__.encode()
    other = b"0" * len(version)
    assert version in data
    path = tmp_path / "m.pkl"
    path.write_bytes(data.replace(version, other))
    with pytest.raises(model.ArtifactError, match="saved by scikit-learn"):
        model.load(path)
