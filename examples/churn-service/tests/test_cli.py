from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from churn.cli import EXIT_INVALID_INPUT, EXIT_OK, EXIT_UNAVAILABLE, main
from churn.schemas import Customer

EXAMPLE = Customer.model_json_schema()["examples"][0]


def write_lines(path: Path, *records: object) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    return path


def test_scores_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "in.jsonl", EXAMPLE, {**EXAMPLE, "contract": "two-year"})
    assert main([str(path)]) == EXIT_OK
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [sorted(line) for line in lines] == [["label", "probability"]] * 2
    assert lines[0]["probability"] > lines[1]["probability"]


def test_invalid_line_scores_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "in.jsonl", EXAMPLE, {**EXAMPLE, "senior": "maybe"})
    assert main([str(path)]) == EXIT_INVALID_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "line 2: senior:" in captured.err


def test_unusable_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHURN_MODEL_PATH", str(tmp_path / "missing.joblib"))
    assert main([str(write_lines(tmp_path / "in.jsonl", EXAMPLE))]) == EXIT_UNAVAILABLE
    assert "no model artifact" in capsys.readouterr().err


def test_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(EXAMPLE) + "\n"))
    assert main([]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["label"] is True


def test_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent.jsonl")]) == EXIT_INVALID_INPUT
    assert "absent.jsonl" in capsys.readouterr().err
