"""`paved evaluate` as a user runs it: a real subprocess on real fixture projects, the metrics
checked against scikit-learn's own values, baselines accepted and regressions caught."""

from __future__ import annotations

import csv
import json
import math
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, write_tree
from sklearn.metrics import accuracy_score, roc_auc_score

pytestmark = pytest.mark.slow  # every test runs the evaluation worker in a subprocess

SCORER = FIXTURES / "prf001" / "pass"  # a logistic scorer with a golden CSV and slices


def paved_evaluate(root: Path, history: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pavedroad",
            "evaluate",
            str(root),
            "--history",
            str(history),
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def report(root: Path, history: Path, *options: str) -> dict[str, Any]:
    done = paved_evaluate(root, history, "--format", "json", *options)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    data["exit"] = done.returncode
    data["stderr"] = done.stderr
    return data


def status(data: dict[str, Any], check_id: str) -> set[str]:
    return {r["status"] for r in data["results"] if r["id"] == check_id}


def scorer_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SCORER, tmp_path / "scorer"))


def expected_scores(root: Path) -> tuple[list[int], list[float], list[bool]]:
    """The fixture model's formula, recomputed here from the golden CSV."""
    truth, scores = [], []
    with (root / "data" / "golden.csv").open() as handle:
        for row in csv.DictReader(handle):
            logit = -0.06 * int(row["tenure"]) + 0.08 * float(row["charges"]) - 2.0
            scores.append(1 / (1 + math.exp(-logit)))
            truth.append(int(row["churned"]))
    return truth, scores, [s >= 0.5 for s in scores]


def test_metrics_equal_scikit_learns_own_values(tmp_path: Path) -> None:
    data = report(SCORER, tmp_path / "history.db")
    assert data["exit"] == 0, data
    truth, scores, labels = expected_scores(SCORER)
    metrics = data["metrics"]
    assert metrics["roc_auc"]["value"] == pytest.approx(roc_auc_score(truth, scores), abs=1e-12)
    assert metrics["accuracy"]["value"] == accuracy_score(truth, labels)
    assert metrics["roc_auc"]["min"] == 0.7 and metrics["roc_auc"]["status"] == "pass"
    assert metrics["roc_auc"]["baseline"] is None
    # slices: north and south are judged; east (about 10 rows) is under slice_min_rows
    assert {"roc_auc/region=north", "roc_auc/region=south"} <= set(metrics)
    assert not any(key.endswith("region=east") for key in metrics)
    budgets = data["budgets"]
    assert budgets["latency_p99_ms"]["value"] > 0 and budgets["latency_p99_ms"]["status"] is None
    assert budgets["throughput_rows_s"]["value"] > 0
    assert budgets["peak_memory_mb"]["value"] > 0
    assert data["evaluation"]["rows"] == 240 and data["evaluation"]["accepted"] is False


def test_a_slice_that_fails_its_threshold(tmp_path: Path) -> None:
    data = report(FIXTURES / "prf001" / "fail-slice", tmp_path / "history.db")
    assert data["exit"] == 1
    failed = {r["subject"] for r in data["results"] if r["status"] == "fail"}
    assert failed == {"roc_auc/region=north"}
    assert data["metrics"]["roc_auc"]["status"] == "pass"
    assert data["metrics"]["roc_auc/region=north"]["status"] == "fail"


def test_accept_then_a_worse_model_regresses(tmp_path: Path) -> None:
    root, history = scorer_copy(tmp_path), tmp_path / "history.db"
    accepted = report(root, history, "--accept")
    assert accepted["exit"] == 0 and accepted["evaluation"]["accepted"] is True
    assert status(accepted, "PRF002") == {"skip"}
    same = report(root, history)
    assert status(same, "PRF002") == {"pass"}
    assert same["metrics"]["roc_auc"]["baseline"] == accepted["metrics"]["roc_auc"]["value"]
    model = root / "src" / "scorer" / "model.py"
    # the retrained model lost the charges feature: still above the 0.7 floor, but worse
    model.write_text(model.read_text().replace("WEIGHTS = (-0.06, 0.08", "WEIGHTS = (-0.06, 0.01"))
    worse = report(root, history)
    assert worse["exit"] == 1
    regressed = {
        r["subject"] for r in worse["results"] if r["id"] == "PRF002" and r["status"] == "fail"
    }
    assert "roc_auc" in regressed
    assert worse["metrics"]["roc_auc"]["status"] in ("regressed", "fail")
    with sqlite3.connect(history) as db:
        assert db.execute("select count(*) from runs").fetchone()[0] == 3


def test_accept_is_refused_when_a_threshold_is_missed(tmp_path: Path) -> None:
    history = tmp_path / "history.db"
    data = report(FIXTURES / "prf001" / "fail-overall", history, "--accept")
    assert data["exit"] == 1
    assert data["evaluation"]["accepted"] is False
    assert "not accepted as the baseline" in data["stderr"]


def test_text_report_shows_the_measures(tmp_path: Path) -> None:
    done = paved_evaluate(SCORER, tmp_path / "history.db")
    assert done.returncode == 0, done.stderr
    assert "measured" in done.stdout
    assert "roc_auc" in done.stdout and "latency_p99_ms" in done.stdout


def test_a_run_without_numbers_leaves_no_history(tmp_path: Path) -> None:
    history = tmp_path / "history.db"
    data = report(FIXTURES / "mod002" / "fail-import", history)
    assert data["exit"] == 1
    assert status(data, "MOD002") == {"fail"}
    assert not history.exists()


def test_no_predict_is_a_usage_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"handoff.toml": "[contract]\nversion = 1\n"})
    done = paved_evaluate(tmp_path, tmp_path / "history.db")
    assert done.returncode == 2
    assert "names no [model].predict" in done.stderr and "Traceback" not in done.stderr


def test_an_unsupported_history_fails_before_evaluating(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pavedroad",
            "evaluate",
            str(SCORER),
            "--history",
            "postgresql://u:secret@db/h",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "not supported" in done.stderr and "secret" not in done.stderr
