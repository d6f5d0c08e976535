from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from churn import data
from churn.features import FEATURES, TARGET
from churn.train import main, train


def test_simulation_is_seeded_and_plausible() -> None:
    first, second = data.simulate(2000, seed=3), data.simulate(2000, seed=3)
    assert all(np.array_equal(first[k], second[k]) for k in first)
    assert 0.18 < first[TARGET].mean() < 0.34
    month_to_month = first["contract"] == "month-to-month"
    assert first[TARGET][month_to_month].mean() > 3 * first[TARGET][~month_to_month].mean()


def test_golden_csv_round_trip(tmp_path: Path) -> None:
    table = data.simulate(5, seed=1)
    data.write_csv(table, tmp_path / "g.csv")
    rows = data.read_csv(tmp_path / "g.csv")
    assert list(rows[0]) == [*FEATURES, TARGET]
    assert [int(r[TARGET]) for r in rows] == table[TARGET].astype(int).tolist()


def test_training_is_byte_reproducible(tmp_path: Path) -> None:
    digests = []
    for run in ("a", "b"):
        auc = train(tmp_path / run / "m.joblib", tmp_path / run / "g.csv", rows=800, seed=5)
        assert auc > 0.7
        digests.append(hashlib.sha256((tmp_path / run / "m.joblib").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--model", str(tmp_path / "m.joblib"), "--golden", str(tmp_path / "g.csv")]
    assert main([*args, "--rows", "600"]) == 0
    assert "held-out ROC AUC" in capsys.readouterr().out
    assert len(data.read_csv(tmp_path / "g.csv")) == 120
