"""`[model] mlflow = "DIR"`: a real MLflow pyfunc model, saved here around a scikit-learn model
trained here, evaluated by `paved evaluate` and served by `paved serve` as a user runs them."""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import write_tree
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from test_serving import serve

from pavedroad.contract import load_contract
from pavedroad.errors import ContractErrors, UsageError
from pavedroad.evaluation import run
from pavedroad.evaluation.protocol import Outcome
from pavedroad.project import Project

PACKAGE = "flowchurn"  # the project's package: its PythonModel class unpickles from src/
CONTRACT = f"""\
[model]
mlflow = "models/churn"
input_schema = "{PACKAGE}.schemas:Customer"
output_schema = "{PACKAGE}.schemas:Score"
artifact = "models/churn/python_model.pkl"
sha256 = "SHA256"

[performance]
dataset = "data/golden.csv"
target = "churned"
prediction = "churned"
score = "probability"

[performance.metrics]
roc_auc = {{ min = 0.6 }}
accuracy = {{ min = 0.6 }}
"""
SOURCES = {
    f"src/{PACKAGE}/__init__.py": "",
    f"src/{PACKAGE}/schemas.py": """\
from pydantic import BaseModel, Field


class Customer(BaseModel):
    tenure: int
    charges: float


class Score(BaseModel):
    churned: bool
    probability: float = Field(ge=0, le=1)
""",
    f"src/{PACKAGE}/pyfunc.py": """\
from typing import Any

import mlflow.pyfunc
import pandas as pd


class ChurnModel(mlflow.pyfunc.PythonModel):
    \"\"\"The classifier's probability of churn, and the label at 0.5.\"\"\"

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        probability = self.classifier.predict_proba(model_input[["tenure", "charges"]])[:, 1]
        return pd.DataFrame({"churned": probability >= 0.5, "probability": probability})
""",
}


def customers(rows: int, seed: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Tenure and charges, and churn more likely for short tenure and high charges."""
    rng = np.random.default_rng(seed)
    features = np.column_stack([rng.integers(0, 72, rows), rng.uniform(20, 120, rows).round(2)])
    logit = -0.06 * features[:, 0] + 0.04 * features[:, 1] - 1.5
    churned = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return features, churned


def save_pyfunc(root: Path, classifier: LogisticRegression) -> None:
    """mlflow.pyfunc.save_model with the project's own PythonModel, imported from its src/."""
    sys.path.insert(0, str(root / "src"))
    try:
        with warnings.catch_warnings():  # mlflow's import-time and serialisation notices
            warnings.simplefilter("ignore")
            import mlflow.pyfunc

            wrapper = importlib.import_module(f"{PACKAGE}.pyfunc")
            mlflow.pyfunc.save_model(
                str(root / "models" / "churn"), python_model=wrapper.ChurnModel(classifier)
            )
    finally:
        sys.path.remove(str(root / "src"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LogisticRegression]:
    """The project: its package, a model trained and saved as pyfunc, a golden CSV, a contract
    recording the sha256 of the pickled model."""
    root = write_tree(tmp_path_factory.mktemp("mlflow") / "churn", SOURCES)
    features, churned = customers(400, seed=1)
    classifier = LogisticRegression().fit(features, churned)
    save_pyfunc(root, classifier)
    golden, truth = customers(300, seed=2)
    (root / "data").mkdir()
    with (root / "data" / "golden.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tenure", "charges", "churned"])
        writer.writerows(
            [int(t), repr(float(c)), int(y)] for (t, c), y in zip(golden, truth, strict=True)
        )
    pickled = root / "models" / "churn" / "python_model.pkl"
    digest = hashlib.sha256(pickled.read_bytes()).hexdigest()
    (root / "handoff.toml").write_text(CONTRACT.replace("SHA256", digest), encoding="utf-8")
    return root, classifier


def expected(root: Path, classifier: LogisticRegression) -> tuple[list[int], NDArray[Any]]:
    """The target and the classifier's probabilities, from the golden CSV as written."""
    with (root / "data" / "golden.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    features = np.array([[int(r["tenure"]), float(r["charges"])] for r in rows])
    return [int(r["churned"]) for r in rows], classifier.predict_proba(features)[:, 1]


def paved(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pavedroad", *args], capture_output=True, text=True, check=False
    )


def evaluate_json(root: Path, history: Path) -> dict[str, Any]:
    done = paved("evaluate", str(root), "--format", "json", "--history", str(history))
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    data["exit"] = done.returncode
    return data


def results(data: dict[str, Any], check_id: str) -> list[dict[str, Any]]:
    return [r for r in data["results"] if r["id"] == check_id]


def broken_copy(tmp_path: Path, contract: str) -> Path:
    """A project whose contract names an MLflow directory that is not there."""
    return write_tree(
        tmp_path / "broken",
        {
            **SOURCES,
            "data/golden.csv": "tenure,charges,churned\n3,99.5,1\n60,20.0,0\n",
            "handoff.toml": contract,
        },
    )


# -- the contract ---------------------------------------------------------------------------------


def test_an_mlflow_model_takes_pandas_and_is_named_by_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "handoff.toml"
    path.write_text('[model]\nmlflow = "models/churn"\n', encoding="utf-8")
    model = load_contract(path).contract.model
    assert model is not None
    assert (model.batch_format, model.label, model.predict) == (
        "pandas",
        "mlflow:models/churn",
        None,
    )


def test_a_predict_model_keeps_its_batch_format_and_name(tmp_path: Path) -> None:
    path = tmp_path / "handoff.toml"
    path.write_text('[model]\npredict = "churn.model:predict"\n', encoding="utf-8")
    model = load_contract(path).contract.model
    assert model is not None
    assert (model.batch_format, model.label) == ("records", "churn.model:predict")


@pytest.mark.parametrize(
    ("body", "line", "key", "words"),
    [
        (
            '[model]\npredict = "churn.model:predict"\nmlflow = "models/churn"\n',
            3,
            "model.mlflow",
            "`predict` and `mlflow` are both set",
        ),
        (
            '[model]\nmlflow = "models/churn"\nbatch_format = "numpy"\n',
            3,
            "model.batch_format",
            "an MLflow pyfunc model takes a pandas DataFrame",
        ),
    ],
)
def test_contradictions_are_contract_errors_at_their_key(
    tmp_path: Path, body: str, line: int, key: str, words: str
) -> None:
    path = tmp_path / "handoff.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ContractErrors) as raised:
        load_contract(path)
    [error] = raised.value.errors
    assert (error.line, error.key) == (line, key)
    assert words in str(error)


def test_both_predict_and_mlflow_exit_2_naming_file_line_and_key(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {"handoff.toml": '[model]\npredict = "m:predict"\nmlflow = "models/churn"\n'},
    )
    done = paved("evaluate", str(root))
    assert done.returncode == 2, done.stderr
    assert "handoff.toml:3" in done.stderr and "model.mlflow" in done.stderr
    assert "`predict` and `mlflow` are both set" in done.stderr
    assert "Traceback" not in done.stderr


def test_neither_predict_nor_mlflow_exit_2_naming_both_ways(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"handoff.toml": '[model]\nartifact = "m.pkl"\n'})
    done = paved("evaluate", str(root))
    assert done.returncode == 2, done.stderr
    assert "names no [model].predict" in done.stderr and 'mlflow = "DIR"' in done.stderr


def test_the_mlflow_extra_is_demanded_only_of_mlflow_contracts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(run.MLFLOW_MODULES, "pavedroad_no_such_module", "no-such-dist")
    run.require_extra()
    with pytest.raises(UsageError, match=r"(?s)no-such-dist.*pavedroad\[evaluate,mlflow\]"):
        run.require_extra(mlflow=True)


# -- paved evaluate and the checks ----------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_gives_scikit_learns_values_for_the_pyfunc_model(
    project: tuple[Path, LogisticRegression], tmp_path: Path
) -> None:
    root, classifier = project
    data = evaluate_json(root, tmp_path / "history.db")
    assert data["exit"] == 0, data
    truth, probability = expected(root, classifier)
    metrics = data["metrics"]
    assert metrics["roc_auc"]["value"] == pytest.approx(
        roc_auc_score(truth, probability), abs=1e-12
    )
    assert metrics["accuracy"]["value"] == accuracy_score(truth, probability >= 0.5)
    [artifact] = results(data, "MOD001")
    assert artifact["status"] == "pass"
    [loads] = results(data, "MOD002")
    assert loads["status"] == "pass" and "mlflow:models/churn loaded" in loads["message"]
    assert {r["status"] for r in results(data, "MOD004")} == {"pass"}


@pytest.mark.slow
def test_a_missing_directory_fails_mod001_when_its_artifact_is_named(tmp_path: Path) -> None:
    contract = CONTRACT.replace("models/churn", "models/gone").replace("SHA256", "0" * 64)
    data = evaluate_json(broken_copy(tmp_path, contract), tmp_path / "history.db")
    assert data["exit"] == 1
    [artifact] = results(data, "MOD001")
    assert artifact["status"] == "fail"
    assert "models/gone/python_model.pkl does not exist" in artifact["message"]
    assert {r["status"] for r in results(data, "MOD002")} == {"skip"}


@pytest.mark.slow
def test_a_missing_directory_fails_mod002_saying_so(tmp_path: Path) -> None:
    contract = "\n".join(
        line
        for line in CONTRACT.replace("models/churn", "models/gone").splitlines()
        if not line.startswith(("artifact", "sha256"))
    )
    data = evaluate_json(broken_copy(tmp_path, contract), tmp_path / "history.db")
    assert data["exit"] == 1
    [loads] = results(data, "MOD002")
    assert loads["status"] == "fail"
    assert "mlflow:models/gone does not load and predict" in loads["message"]
    assert "the MLflow model directory models/gone does not exist" in loads["message"]
    assert loads["fix"]


@pytest.mark.slow
def test_without_mlflow_the_worker_fails_the_load_with_the_install_command(
    project: tuple[Path, LogisticRegression], tmp_path: Path
) -> None:
    root, _ = project
    request, outcome = tmp_path / "request.json", tmp_path / "outcome.json"
    run.build_request(Project(root, load_contract(root / "handoff.toml"))).write(request)
    # None in sys.modules makes `import mlflow` fail as if it were not installed
    code = (
        "import sys; sys.modules['mlflow'] = None\n"
        "from pavedroad.evaluation.worker import main\n"
        f"sys.exit(main([{str(request)!r}, {str(outcome)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    [failure] = Outcome.read(outcome).failures
    assert (failure.stage, failure.kind) == ("load", "ModuleNotFoundError")
    assert 'pip install "pavedroad[mlflow]"' in failure.message
    assert "models/churn is an MLflow model" in failure.message


# -- paved serve ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_answers_predict_with_the_pyfunc_model(
    project: tuple[Path, LogisticRegression],
) -> None:
    root, classifier = project
    customers_in = [{"tenure": 2, "charges": 110.0}, {"tenure": 70, "charges": 25.5}]
    probability = classifier.predict_proba(
        np.array([[c["tenure"], c["charges"]] for c in customers_in])
    )[:, 1]
    with serve(root) as server, server.client() as client:
        single = client.post("/predict", json=customers_in[0])
        batch = client.post("/predict/batch", json=customers_in)
        info = client.get("/info").json()
    assert single.status_code == 200, single.text
    assert single.json() == {
        "churned": bool(probability[0] >= 0.5),
        "probability": pytest.approx(probability[0], abs=1e-12),
    }
    assert [row["probability"] for row in batch.json()] == pytest.approx(
        list(probability), abs=1e-12
    )
    assert info["predict"] == "mlflow:models/churn" and info["batch_format"] == "pandas"
    assert info["artifact_sha256"] is not None
