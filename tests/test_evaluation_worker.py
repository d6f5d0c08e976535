"""The evaluation worker, run as the real subprocess on a real project with a real model.

One project is built per module: a package with pydantic schemas, a decision tree trained here
on generated data and saved with joblib, predict functions for every batch format (and broken
ones), and the same golden dataset as CSV and as Parquet. A tree's outputs do not depend on how
rows are batched, so the metrics scikit-learn gives here on the whole file must be the worker's,
exactly.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import write_tree
from sklearn import metrics as skm
from sklearn.tree import DecisionTreeClassifier

from pavedroad.evaluation.outputs import compare, normalise
from pavedroad.evaluation.protocol import (
    ColumnProblem,
    Failure,
    MetricRequest,
    MetricValue,
    Outcome,
    Request,
)
from pavedroad.evaluation.worker import RowVector

ROWS = 3000
BATCH = 700
CLASSIFICATION = ["roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "balanced_accuracy"]
CLASSIFICATION += ["precision", "recall", "f1", "mcc"]
REGRESSION = ["rmse", "mse", "mae", "median_ae", "max_error", "r2", "explained_variance", "mape"]

SCHEMAS = """\
from pydantic import BaseModel, ConfigDict, Field


class Input(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"age": 40, "income": 52000.0, "region": "north"}]}
    )

    age: int
    income: float
    region: str


class Output(BaseModel):
    label: int
    proba: float = Field(ge=0, le=1)
"""

MODEL = """\
import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa

from churn.schemas import Input, Output

MODEL = joblib.load(Path(__file__).parents[2] / "models" / "model.joblib")


def _features(age, income):
    return np.column_stack([np.asarray(age, dtype=float), np.asarray(income, dtype=float)])


def _answer(X):
    return MODEL.predict(X).astype(int), MODEL.predict_proba(X)[:, 1]


def predict_records(rows: list[Input]) -> list[Output]:
    label, proba = _answer(_features([r.age for r in rows], [r.income for r in rows]))
    return [Output(label=int(a), proba=float(b)) for a, b in zip(label, proba)]


def predict_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    label, proba = _answer(_features(frame["age"], frame["income"]))
    return pd.DataFrame({"label": label, "proba": proba})


def predict_arrow(table: pa.Table) -> pa.Table:
    label, proba = _answer(_features(table["age"].to_numpy(), table["income"].to_numpy()))
    return pa.table({"label": label, "proba": proba})


def predict_numpy(batch: dict) -> dict:
    label, proba = _answer(_features(batch["age"], batch["income"]))
    return {"label": label, "proba": proba}


def predict_worse_in_south(frame: pd.DataFrame) -> pd.DataFrame:
    out = predict_pandas(frame)
    south = (frame["region"] == "south").to_numpy()
    out.loc[south, "label"] = 1 - out.loc[south, "label"]
    return out


def predict_raises(frame: pd.DataFrame) -> pd.DataFrame:
    raise RuntimeError("the model file is for another feature set")  # RAISES


def predict_raises_later(frame: pd.DataFrame) -> pd.DataFrame:
    if (frame["age"] == 99).any():
        raise ValueError("age 99 is out of range")  # RAISES LATER
    return predict_pandas(frame)


def predict_bad_outputs(frame: pd.DataFrame) -> pd.DataFrame:
    out = predict_pandas(frame)
    out["proba"] = out["proba"] * 2
    return out


def predict_noisy(frame: pd.DataFrame) -> pd.DataFrame:
    out = predict_pandas(frame)
    out["proba"] = out["proba"] + np.random.default_rng().normal(0, 1e-6, len(out))
    return out


def predict_chatty(frame: pd.DataFrame) -> pd.DataFrame:
    print("hello from predict", len(frame))
    os.write(1, b"raw bytes on fd 1\\n")
    return predict_pandas(frame)


def predict_proba_only(frame: pd.DataFrame) -> np.ndarray:
    return _answer(_features(frame["age"], frame["income"]))[1]


def predict_wrong_length(frame: pd.DataFrame) -> np.ndarray:
    return np.zeros(len(frame) + 1)
"""

METRICS_MODULE = """\
import numpy as np


def positive_rate(y_true, y_pred):
    return float(np.mean(y_pred))


def not_a_number(y_true, y_pred):
    return "high"


def target_itemsize(y_true, y_pred):
    return float(y_true.dtype.itemsize)
"""

BROKEN = '''\
"""A module whose dependency is not installed."""

import not_a_real_package_xyz  # MISSING

predict = None
'''


@dataclass(frozen=True)
class Golden:
    root: Path
    frame: pd.DataFrame  # the golden dataset as written
    label: np.ndarray  # the model's outputs on it, computed here
    proba: np.ndarray

    @property
    def parquet(self) -> str:
        return str(self.root / "data" / "golden.parquet")

    @property
    def csv(self) -> str:
        return str(self.root / "data" / "golden.csv")

    def line(self, relative: str, marker: str) -> int:
        text = (self.root / relative).read_text(encoding="utf-8").splitlines()
        return next(i for i, line in enumerate(text, 1) if marker in line)


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Golden:
    root = tmp_path_factory.mktemp("evaluation") / "project"
    write_tree(
        root,
        {
            "src/churn/__init__.py": "",
            "src/churn/schemas.py": SCHEMAS,
            "src/churn/model.py": MODEL,
            "src/churn/metrics.py": METRICS_MODULE,
            "src/churn/broken.py": BROKEN,
        },
    )
    rng = np.random.default_rng(7)
    regions = np.array(["north"] * 1400 + ["south"] * 1400 + ["east"] * 195 + ["tiny"] * 5)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, ROWS),
            "income": rng.normal(50_000, 15_000, ROWS).round(2),
            "region": rng.permutation(regions),
        }
    )
    frame.loc[2500, "age"] = 99  # only here: predict_raises_later fails on the fourth batch
    noise = rng.normal(0, 1, ROWS)
    frame["churned"] = ((frame["age"] < 35) ^ (noise > 1.2)).astype(np.int64)
    features = frame[["age", "income"]].to_numpy(dtype=float)
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(features, frame["churned"])
    (root / "models").mkdir()
    joblib.dump(model, root / "models" / "model.joblib")
    (root / "data").mkdir()
    # an extra column, as golden datasets have (ids, timestamps): reported, dropped, harmless
    written = frame.assign(note="x")
    written.to_csv(root / "data" / "golden.csv", index=False)
    pq.write_table(
        pa.Table.from_pandas(written), root / "data" / "golden.parquet", row_group_size=1000
    )
    return Golden(
        root=root,
        frame=frame,
        label=model.predict(features).astype(int),
        proba=model.predict_proba(features)[:, 1],
    )


def request(golden: Golden, **changes: Any) -> Request:
    base = Request(
        root=str(golden.root),
        source_roots=[str(golden.root / "src")],
        predict="churn.model:predict_pandas",
        batch_format="pandas",
        input_schema="churn.schemas:Input",
        output_schema="churn.schemas:Output",
        dataset=golden.parquet,
        target="churned",
        prediction="label",
        score="proba",
        metrics=[MetricRequest(name) for name in CLASSIFICATION],
        slices=[],
        slice_min_rows=30,
        batch_size=BATCH,
        latency_calls=20,
        latency_warmup=2,
    )
    return replace(base, **changes)


@dataclass(frozen=True)
class Run:
    outcome: Outcome
    progress: list[dict[str, Any]]
    stderr: str


def run_worker(golden: Golden, tmp_path: Path, **changes: Any) -> Run:
    """The worker as `paved evaluate` starts it; every stdout line must be a progress event."""
    request_path, outcome_path = tmp_path / "request.json", tmp_path / "outcome.json"
    request(golden, **changes).write(request_path)
    done = subprocess.run(
        [sys.executable, "-m", "pavedroad.evaluation.worker", str(request_path), str(outcome_path)],
        cwd=golden.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    progress = [json.loads(line) for line in done.stdout.splitlines()]
    return Run(Outcome.read(outcome_path), progress, done.stderr)


def expected_classification(
    y: np.ndarray, label: np.ndarray, proba: np.ndarray
) -> dict[str, float]:
    return {
        "roc_auc": skm.roc_auc_score(y, proba),
        "pr_auc": skm.average_precision_score(y, proba),
        "log_loss": skm.log_loss(y, proba),
        "brier": skm.brier_score_loss(y, proba),
        "accuracy": skm.accuracy_score(y, label),
        "balanced_accuracy": skm.balanced_accuracy_score(y, label),
        "precision": skm.precision_score(y, label),
        "recall": skm.recall_score(y, label),
        "f1": skm.f1_score(y, label),
        "mcc": skm.matthews_corrcoef(y, label),
    }


def values(metrics: dict[str, MetricValue]) -> dict[str, float | None]:
    assert all(m.error is None for m in metrics.values()), metrics
    return {name: m.value for name, m in metrics.items()}


# -- metrics: exact, whatever the format -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("batch_format", "dataset"),
    [("records", "parquet"), ("pandas", "csv"), ("arrow", "parquet"), ("numpy", "csv")],
)
def test_every_batch_format_gives_scikit_learns_own_metrics_exactly(
    golden: Golden, tmp_path: Path, batch_format: str, dataset: str
) -> None:
    run = run_worker(
        golden,
        tmp_path,
        predict=f"churn.model:predict_{batch_format}",
        batch_format=batch_format,
        dataset=getattr(golden, dataset),
    )
    assert run.outcome.failures == []
    assert run.outcome.rows == ROWS
    expected = expected_classification(
        golden.frame["churned"].to_numpy(), golden.label, golden.proba
    )
    assert values(run.outcome.metrics) == expected  # ==: the same function on the same vectors
    assert run.outcome.columns == [
        ColumnProblem("note", "extra", "neither a field of Input, the target nor a slice")
    ]
    assert run.outcome.outputs == []
    assert run.outcome.determinism is not None
    assert (run.outcome.determinism.rows, run.outcome.determinism.differing) == (100, 0)
    total = ROWS if dataset == "parquet" else None  # Parquet's metadata counts rows, CSV has none
    assert [(p["event"], p["rows"], p["total"]) for p in run.progress] == [
        ("progress", rows, total) for rows in [700, 1400, 2100, 2800, 3000]
    ]
    assert run.outcome.latency is not None
    assert run.outcome.latency.calls == 20
    assert (
        0 < run.outcome.latency.p50_ms <= run.outcome.latency.p95_ms <= run.outcome.latency.p99_ms
    )
    assert run.outcome.throughput_rows_s is not None and run.outcome.throughput_rows_s > 0
    assert run.outcome.peak_memory_mb is not None and run.outcome.peak_memory_mb > 0
    assert run.outcome.load_seconds is not None and run.outcome.load_seconds > 0


@pytest.mark.slow
def test_regression_metrics_and_a_custom_metric_equal_their_functions_on_the_same_data(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(
        golden,
        tmp_path,
        prediction="proba",
        metrics=[
            *(MetricRequest(name) for name in REGRESSION),
            MetricRequest("positive_rate", "churn.metrics:positive_rate", "prediction"),
            MetricRequest("label_rate", "churn.metrics:positive_rate", "score"),
            MetricRequest("wordy", "churn.metrics:not_a_number"),
            MetricRequest("absent", "churn.metrics:nope"),
            MetricRequest("target_bytes", "churn.metrics:target_itemsize"),
        ],
    )
    y, proba = golden.frame["churned"].to_numpy(), golden.proba
    metrics = run.outcome.metrics
    assert values({n: metrics[n] for n in REGRESSION}) == {
        "rmse": skm.root_mean_squared_error(y, proba),
        "mse": skm.mean_squared_error(y, proba),
        "mae": skm.mean_absolute_error(y, proba),
        "median_ae": skm.median_absolute_error(y, proba),
        "max_error": skm.max_error(y, proba),
        "r2": skm.r2_score(y, proba),
        "explained_variance": skm.explained_variance_score(y, proba),
        "mape": skm.mean_absolute_percentage_error(y, proba),
    }
    assert metrics["positive_rate"] == MetricValue(float(np.mean(proba)))
    assert metrics["label_rate"] == MetricValue(float(np.mean(proba)))
    assert metrics["wordy"] == MetricValue(None, error="wordy returned str 'high', not a float")
    assert metrics["absent"].value is None
    assert "cannot import churn.metrics:nope" in str(metrics["absent"].error)
    # the worker keeps the 0/1 int64 target in one byte a row; a custom function gets it as
    # the file has it
    assert metrics["target_bytes"] == MetricValue(8.0)


@pytest.mark.slow
def test_a_metric_without_its_input_says_which_key_to_set(golden: Golden, tmp_path: Path) -> None:
    run = run_worker(
        golden,
        tmp_path,
        predict="churn.model:predict_proba_only",
        output_schema=None,
        prediction=None,
        score=None,
        metrics=[MetricRequest("roc_auc"), MetricRequest("rmse")],
    )
    assert run.outcome.metrics["roc_auc"] == MetricValue(
        None,
        error="roc_auc needs a score: set [performance].score to the output field holding the "
        "positive-class probability",
    )
    # a bare array is the only output column, so it is the prediction
    assert run.outcome.metrics["rmse"] == MetricValue(
        skm.root_mean_squared_error(golden.frame["churned"], golden.proba)
    )


# -- slices -----------------------------------------------------------------------------------------


def per_region(golden: Golden, label: np.ndarray) -> dict[str, dict[str, float]]:
    found = {}
    for region in ["east", "north", "south"]:
        mask = (golden.frame["region"] == region).to_numpy()
        y = golden.frame["churned"].to_numpy()[mask]
        found[region] = {
            "accuracy": skm.accuracy_score(y, label[mask]),
            "roc_auc": skm.roc_auc_score(y, golden.proba[mask]),
        }
    return found


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["parquet", "csv"])
def test_slices_get_the_metrics_of_their_rows_and_a_small_slice_only_its_count(
    golden: Golden, tmp_path: Path, dataset: str
) -> None:
    run = run_worker(
        golden,
        tmp_path,
        dataset=getattr(golden, dataset),
        metrics=[MetricRequest("accuracy"), MetricRequest("roc_auc")],
        slices=["region"],
    )
    assert run.outcome.failures == []
    slices = {s.value: (s.rows, values(s.metrics)) for s in run.outcome.slices}
    expected = per_region(golden, golden.label)
    assert slices == {
        "east": (195, expected["east"]),
        "north": (1400, expected["north"]),
        "south": (1400, expected["south"]),
        "tiny": (5, {}),
    }
    assert [s.value for s in run.outcome.slices] == ["east", "north", "south", "tiny"]
    assert {s.column for s in run.outcome.slices} == {"region"}


@pytest.mark.slow
def test_a_model_good_on_average_but_bad_in_one_region_shows_it_in_that_slice(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(
        golden,
        tmp_path,
        predict="churn.model:predict_worse_in_south",
        metrics=[MetricRequest("accuracy"), MetricRequest("roc_auc")],
        slices=["region"],
    )
    south = (golden.frame["region"] == "south").to_numpy()
    label = np.where(south, 1 - golden.label, golden.label)
    expected = per_region(golden, label)
    slices = {s.value: values(s.metrics) for s in run.outcome.slices}
    assert slices["south"] == expected["south"]
    assert slices["north"] == expected["north"]
    assert slices["south"]["accuracy"] < 0.5 < slices["north"]["accuracy"]
    assert run.outcome.metrics["accuracy"].value == skm.accuracy_score(
        golden.frame["churned"], label
    )


# -- columns (MOD003) and the dataset ---------------------------------------------------------------


@pytest.mark.slow
def test_extra_and_mistyped_columns_are_reported_by_column(golden: Golden, tmp_path: Path) -> None:
    frame = golden.frame.copy()
    frame["customer_id"] = range(ROWS)  # an extra column
    frame["age"] = frame["age"].astype(str)
    frame.loc[[3, 10, 700], "age"] = "abc"
    path = tmp_path / "golden.csv"
    frame.to_csv(path, index=False)
    run = run_worker(
        golden,
        tmp_path,
        dataset=str(path),
        batch_format="records",
        predict="churn.model:predict_records",
    )
    assert run.outcome.columns == [
        ColumnProblem("customer_id", "extra", "neither a field of Input, the target nor a slice"),
        ColumnProblem(
            "age",
            "type",
            "3 of 1000 sampled rows: Input should be a valid integer, unable to parse string as "
            "an integer, got 'abc'",
        ),
    ]
    # the rows that do not validate cannot be handed to a records model: one dataset failure
    (failure,) = run.outcome.failures
    assert (failure.stage, failure.kind) == ("dataset", "RowsInvalid")
    assert "3 rows do not validate against Input" in failure.message


@pytest.mark.slow
def test_a_missing_input_column_stops_after_the_columns_report(
    golden: Golden, tmp_path: Path
) -> None:
    path = tmp_path / "golden.parquet"
    pq.write_table(pa.Table.from_pandas(golden.frame.drop(columns=["income"])), path)
    run = run_worker(golden, tmp_path, dataset=str(path), slices=["segment"])
    assert run.outcome.columns == [
        ColumnProblem("income", "missing", "Input requires income; the file has no such column"),
        ColumnProblem(
            "segment", "missing", "[performance].slices names it; the file has no such column"
        ),
    ]
    assert run.outcome.failures == [
        Failure("dataset", "MissingColumns", "the golden dataset lacks the input column(s) income")
    ]
    assert run.outcome.metrics == {}
    assert run.outcome.load_seconds is None


@pytest.mark.slow
def test_a_missing_target_column_is_a_dataset_failure(golden: Golden, tmp_path: Path) -> None:
    run = run_worker(golden, tmp_path, target="label")
    (failure,) = run.outcome.failures
    assert failure.stage == "dataset"
    assert "no target column 'label'" in failure.message


@pytest.mark.slow
def test_a_missing_dataset_is_one_dataset_failure(golden: Golden, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.parquet"
    run = run_worker(golden, tmp_path, dataset=str(missing))
    assert run.outcome.failures == [
        Failure("dataset", "FileNotFoundError", f"the golden dataset {missing} does not exist")
    ]
    assert run.outcome.columns is None


@pytest.mark.slow
def test_a_truncated_parquet_file_is_pyarrows_message_without_a_traceback(
    golden: Golden, tmp_path: Path
) -> None:
    data = Path(golden.parquet).read_bytes()
    path = tmp_path / "golden.parquet"
    path.write_bytes(data[: len(data) // 2])
    run = run_worker(golden, tmp_path, dataset=str(path))
    (failure,) = run.outcome.failures
    assert (failure.stage, failure.kind, failure.path) == ("dataset", "ArrowInvalid", None)
    assert "golden.parquet: Parquet magic bytes not found in footer" in failure.message
    assert "Traceback" not in failure.message


def test_a_dataset_of_another_format_is_refused_by_its_suffix(
    golden: Golden, tmp_path: Path
) -> None:
    from pavedroad.evaluation.batches import DatasetError, open_dataset

    path = tmp_path / "golden.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"golden\.json is neither CSV .* nor Parquet"):
        open_dataset(path)


# -- import, load, predict, outputs -----------------------------------------------------------------


@pytest.mark.slow
def test_a_predict_module_whose_import_fails_is_located_at_the_projects_line(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(golden, tmp_path, predict="churn.broken:predict")
    assert run.outcome.failures == [
        Failure(
            "import",
            "ModuleNotFoundError",
            "cannot import churn.broken:predict: No module named 'not_a_real_package_xyz'",
            "src/churn/broken.py",
            golden.line("src/churn/broken.py", "# MISSING"),
        )
    ]
    assert run.outcome.load_seconds is None


@pytest.mark.slow
def test_a_predict_module_that_does_not_exist_has_no_project_line(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(
        golden, tmp_path, predict="churn.nowhere:predict", input_schema="churn.schemas:Nope"
    )
    assert run.outcome.failures == [
        Failure(
            "import",
            "ModuleNotFoundError",
            "cannot import churn.nowhere:predict: No module named 'churn.nowhere'",
        )
    ]


@pytest.mark.slow
def test_a_schema_that_is_not_a_pydantic_model_is_an_import_failure(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(golden, tmp_path, output_schema="churn.model:predict_pandas")
    (failure,) = run.outcome.failures
    assert (failure.stage, failure.kind) == ("import", "TypeError")
    assert "not a pydantic BaseModel subclass" in failure.message


@pytest.mark.slow
def test_a_model_that_raises_on_its_first_call_does_not_load(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(golden, tmp_path, predict="churn.model:predict_raises")
    assert run.outcome.failures == [
        Failure(
            "load",
            "RuntimeError",
            "the first call failed: the model file is for another feature set",
            "src/churn/model.py",
            golden.line("src/churn/model.py", "# RAISES"),
        )
    ]


@pytest.mark.slow
def test_a_model_that_raises_on_a_later_batch_names_its_rows(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(golden, tmp_path, predict="churn.model:predict_raises_later")
    assert run.outcome.failures == [
        Failure(
            "predict",
            "ValueError",
            "rows 2100-2799: age 99 is out of range",
            "src/churn/model.py",
            golden.line("src/churn/model.py", "# RAISES LATER"),
        )
    ]
    assert run.outcome.rows == 2100
    assert run.outcome.metrics == {}


@pytest.mark.slow
def test_outputs_outside_the_output_schema_are_counted_per_field(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(golden, tmp_path, predict="churn.model:predict_bad_outputs")
    over = int((golden.proba[:1000] * 2 > 1).sum())
    assert over > 0
    assert run.outcome.outputs is not None
    ((problem),) = run.outcome.outputs
    assert (problem.field, problem.count) == ("proba", over)
    assert problem.message.startswith("Input should be less than or equal to 1, got ")


@pytest.mark.slow
def test_outputs_of_the_wrong_length_are_an_outputs_failure(golden: Golden, tmp_path: Path) -> None:
    run = run_worker(golden, tmp_path, predict="churn.model:predict_wrong_length")
    (failure,) = run.outcome.failures
    assert failure.stage == "outputs"
    assert "rows 0-999: predict returned a numpy.ndarray of shape (1001,)" in failure.message


@pytest.mark.slow
def test_a_noisy_model_is_not_deterministic(golden: Golden, tmp_path: Path) -> None:
    run = run_worker(golden, tmp_path, predict="churn.model:predict_noisy")
    determinism = run.outcome.determinism
    assert determinism is not None
    assert determinism.rows == 100
    assert determinism.differing > 0
    assert str(determinism.example).startswith("row 0: proba ")


# -- the progress channel and the budgets -----------------------------------------------------------


@pytest.mark.slow
def test_prints_of_the_model_go_to_stderr_and_progress_lines_count_rows(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(golden, tmp_path, predict="churn.model:predict_chatty", dataset=golden.csv)
    assert "hello from predict" in run.stderr
    assert "raw bytes on fd 1" in run.stderr
    # run_worker parsed every stdout line as JSON: nothing else reached stdout
    assert [p["rows"] for p in run.progress] == [700, 1400, 2100, 2800, 3000]


@pytest.mark.slow
def test_without_a_dataset_the_model_loads_and_is_timed_on_the_schemas_examples(
    golden: Golden, tmp_path: Path
) -> None:
    run = run_worker(
        golden,
        tmp_path,
        dataset=None,
        predict="churn.model:predict_records",
        batch_format="records",
    )
    outcome = run.outcome
    assert outcome.failures == []
    assert outcome.latency is not None and outcome.latency.p99_ms > 0
    assert outcome.outputs == []
    assert outcome.rows == 0 and outcome.metrics == {} and run.progress == []


def test_an_unreadable_request_still_gives_an_outcome(tmp_path: Path) -> None:
    (tmp_path / "request.json").write_text("{not json", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pavedroad.evaluation.worker", "request.json", "outcome.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "")
    (failure,) = Outcome.read(tmp_path / "outcome.json").failures
    assert failure.kind == "JSONDecodeError"


# -- outputs.py on its own --------------------------------------------------------------------------


def test_every_shape_predict_may_return_becomes_the_same_columns() -> None:
    from pydantic import BaseModel

    class Out(BaseModel):
        label: int
        proba: float

    expected = {"label": [1, 0], "proba": [0.9, 0.2]}
    shapes: list[Any] = [
        [Out(label=1, proba=0.9), Out(label=0, proba=0.2)],
        [{"label": 1, "proba": 0.9}, {"label": 0, "proba": 0.2}],
        pd.DataFrame(expected),
        pa.table(expected),
        {"label": np.array([1, 0]), "proba": [0.9, 0.2]},
    ]
    for shape in shapes:
        columns = normalise(shape, 2, Out)
        assert {k: v.tolist() for k, v in columns.items()} == expected, shape
    for single in ([0.9, 0.2], np.array([[0.9], [0.2]]), pd.Series([0.9, 0.2])):
        assert normalise(single, 2, None)["prediction"].tolist() == [0.9, 0.2]


def test_compare_counts_differing_rows_and_nan_equals_nan() -> None:
    first = {"p": np.array([1.0, math.nan, 3.0]), "t": np.array(["a", "b", "c"])}
    same = {"p": np.array([1.0, math.nan, 3.0]), "t": np.array(["a", "b", "c"])}
    other = {"p": np.array([1.0, math.nan, 3.5]), "t": np.array(["a", "x", "c"])}
    assert compare(first, same) == (0, None)
    assert compare(first, other) == (2, "row 1: t 'b' then 'x'")


# -- the per-row vectors on their own ---------------------------------------------------------------


def test_with_the_row_count_known_a_vector_is_allocated_once_and_the_target_narrowed() -> None:
    target = RowVector(6, narrow=True)
    target.add(np.array([0, 1, 1], dtype=np.int64))
    allocated = target.vector
    assert allocated is not None and allocated.dtype == np.int8 and len(allocated) == 6
    target.add(np.array([1, 0, 0], dtype=np.int64))
    assert target.vector is allocated  # filled in place: no pieces, no concatenation
    joined = target.joined()
    assert joined is not None and joined.dtype == np.int8
    assert joined.tolist() == [0, 1, 1, 1, 0, 0]
    assert target.dtype == np.int64  # what the file has, for the metrics that need it


def test_a_narrowed_target_widens_when_a_later_batch_needs_it_and_keeps_every_value() -> None:
    target = RowVector(5, narrow=True)
    target.add(np.array([0, 1], dtype=np.int64))
    target.add(np.array([300, -2], dtype=np.int64))
    assert target.vector is not None and target.vector.dtype == np.int16
    target.add(np.array([2**40], dtype=np.int64))
    joined = target.joined()
    assert joined is not None and joined.dtype == np.int64
    assert joined.tolist() == [0, 1, 300, -2, 2**40]
    with_nulls = RowVector(4, narrow=True)  # an integer column with nulls reads as float
    with_nulls.add(np.array([0, 1], dtype=np.int64))
    with_nulls.add(np.array([math.nan, 1.0]))
    floats = with_nulls.joined()
    assert floats is not None and floats.dtype == np.float64
    assert np.array_equal(floats, [0.0, 1.0, math.nan, 1.0], equal_nan=True)
    assert with_nulls.dtype == np.float64  # not narrowed: the metrics take it as it is


def test_a_vector_takes_more_rows_than_announced_and_keeps_other_types_as_they_are() -> None:
    score = RowVector(2)
    score.add(np.array([0.25, 0.5]))
    score.add(np.array([0.75]))
    joined = score.joined()
    assert joined is not None and joined.tolist() == [0.25, 0.5, 0.75]
    for values in (np.array([True, False]), np.array([0, 1], dtype=np.int64)):
        kept = RowVector(2)  # only the target is narrowed
        kept.add(values)
        assert kept.vector is not None and kept.vector.dtype == values.dtype
    labels = RowVector(3, narrow=True)
    labels.add(np.array(["a", "bb"]))
    labels.add(np.array(["ccc"]))
    text = labels.joined()
    assert text is not None and text.tolist() == ["a", "bb", "ccc"]


def test_without_a_row_count_pieces_are_copies_joined_once() -> None:
    proba = np.arange(10.0).reshape(5, 2)
    score = RowVector(None)
    score.add(proba[:, 1])  # a view: kept as is, it would hold the whole 2-D output alive
    assert not np.shares_memory(score.pieces[0], proba)
    target = RowVector(None, narrow=True)
    target.add(np.array([0, 1], dtype=np.int64))
    target.add(np.array([1000], dtype=np.int64))
    assert [piece.dtype for piece in target.pieces] == [np.int8, np.int16]
    joined = target.joined()
    assert joined is not None and joined.tolist() == [0, 1, 1000] and target.pieces == []
