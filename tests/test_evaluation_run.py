"""The tool's side of an evaluation: a real worker subprocess that hangs, dies or reports progress,
and the judgement of its numbers against thresholds and a baseline."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.contract import Threshold, find_contract, load_contract
from pavedroad.errors import UsageError
from pavedroad.evaluation import run
from pavedroad.evaluation.judge import MetricRow, higher_is_better, metric_rows
from pavedroad.evaluation.protocol import MetricValue, Outcome, SliceOutcome
from pavedroad.history import EvaluationRecord
from pavedroad.project import Project
from pavedroad.results import Status

SCORER = FIXTURES / "prf001" / "pass"


def scorer(tmp_path: Path, predict_body: str | None = None) -> Path:
    """A copy of the scorer fixture, its predict replaced by `predict_body` when given."""
    root = Path(shutil.copytree(SCORER, tmp_path / "scorer"))
    if predict_body is not None:
        model = root / "src" / "scorer" / "model.py"
        text = model.read_text()
        model.write_text(
            text.replace("    scores = []\n", f"    {predict_body}\n    scores = []\n")
        )
    return root


def project_at(root: Path) -> Project:
    return Project(root, load_contract(find_contract(root)))


@pytest.mark.slow
def test_a_hanging_model_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    root = scorer(tmp_path, "import time; time.sleep(60)")
    found = run.run_evaluation(project_at(root), timeout=3)
    assert found.outcome is None
    assert found.error == "the evaluation did not finish within 3 s"


@pytest.mark.slow
def test_a_worker_that_dies_is_reported_with_its_stderr(tmp_path: Path) -> None:
    root = scorer(tmp_path, "import os, sys; print('segfault-ish', file=sys.stderr); os._exit(3)")
    [result] = results_of(root, "MOD002")
    assert result.status is Status.FAIL
    assert "exited with status 3" in result.message and "segfault-ish" in result.message


@pytest.mark.slow
def test_progress_reaches_every_row(tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    found = run.run_evaluation(
        project_at(SCORER), progress=lambda done, total: seen.append((done, total))
    )
    assert found.outcome is not None and found.outcome.rows == 240
    assert seen and seen[-1][0] == 240
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert found.dataset_sha256 is not None and len(found.dataset_sha256) == 64


def test_a_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(run.EXTRA_MODULES, "pavedroad_no_such_module", "no-such-dist")
    with pytest.raises(UsageError, match=r"(?s)no-such-dist.*pavedroad\[evaluate\]"):
        run.run_evaluation(project_at(SCORER))


def test_nothing_to_evaluate_is_blocked_not_run(tmp_path: Path) -> None:
    (tmp_path / "handoff.toml").write_text('[model]\nartifact = "m.pkl"\n')
    found = run.run_evaluation(project_at(tmp_path))
    assert found.outcome is None and found.blocked == "the contract names no [model].predict"


def test_directions_of_built_in_and_custom_metrics() -> None:
    assert higher_is_better("roc_auc", None) and not higher_is_better("rmse", None)
    custom = "scorer.metrics:profit"
    assert higher_is_better("profit", Threshold(function=custom, min=0))
    assert not higher_is_better("cost", Threshold(function=custom, max=10))
    assert not higher_is_better("cost", Threshold(function=custom, higher_is_better=False, min=1))


def test_a_regression_is_a_loss_beyond_the_tolerance_in_the_metrics_direction() -> None:
    auc = MetricRow("roc_auc", "roc_auc", 0.88, Threshold(min=0.8), baseline=0.91)
    assert auc.regression(0.01) == pytest.approx(0.03) and auc.status(0.01) == "regressed"
    assert auc.regression(0.05) is None and auc.status(0.05) == "pass"
    rmse = MetricRow("rmse", "rmse", 2.5, Threshold(max=3), baseline=2.0)
    assert rmse.regression(0.1) == pytest.approx(0.5)
    better = MetricRow("rmse", "rmse", 1.5, Threshold(max=3), baseline=2.0)
    assert better.regression(0.0) is None
    nan = MetricRow("roc_auc", "roc_auc", math.nan, Threshold(min=0.8), baseline=0.9)
    assert nan.outside and nan.regression(0.0) is None


def test_small_slices_are_not_judged_and_baselines_are_matched_by_key() -> None:
    performance = load_contract(find_contract(SCORER)).contract.performance
    outcome = Outcome(
        rows=240,
        metrics={"roc_auc": MetricValue(0.9), "accuracy": MetricValue(0.8)},
        slices=[
            SliceOutcome(
                "region", "north", 115, {"roc_auc": MetricValue(0.85), "accuracy": MetricValue(0.7)}
            ),
            SliceOutcome("region", "east", 10, {}),
        ],
    )
    baseline = EvaluationRecord(
        project="scorer",
        commit=None,
        contract_sha256="0" * 64,
        dataset_sha256=None,
        artifact_sha256=None,
        metrics={"roc_auc": 0.95, "roc_auc/region=north": 0.85},
        budgets={},
        created=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    )
    rows = {row.key: row for row in metric_rows(outcome, performance, baseline)}
    assert set(rows) == {"roc_auc", "accuracy", "roc_auc/region=north", "accuracy/region=north"}
    assert rows["roc_auc"].baseline == 0.95 and rows["roc_auc"].status(0.01) == "regressed"
    assert rows["roc_auc/region=north"].status(0.01) == "pass"
    assert rows["accuracy"].baseline is None and rows["accuracy"].status(0.01) == "pass"
