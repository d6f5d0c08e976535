"""`paved repro` end to end: the real command, real uv, real git repositories of fixture projects.

Each fixture is copied to a temporary folder and committed there. The environments and the
evaluation overlay are cached in one folder for the whole module (PAVED_CACHE_DIR), as they are
between a user's runs; uv's own cache is the machine's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, write_tree

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("paved-cache")


@pytest.fixture
def env(cache: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of the `paved` process: its own cache, its own temporary folder (so a
    test sees every room it leaves behind)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return {**os.environ, "PAVED_CACHE_DIR": str(cache), "TMPDIR": str(scratch)}


def committed(fixture: str, target: Path) -> Path:
    """The fixture as a git repository; its `gitignore.txt`, if any, becomes `.gitignore`."""
    shutil.copytree(FIXTURES / fixture, target)
    if (target / "gitignore.txt").is_file():
        (target / "gitignore.txt").rename(target / ".gitignore")
    git = ["git", "-c", "user.name=paved", "-c", "user.email=paved@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "handoff"]):
        subprocess.run([*git, *command], cwd=target, check=True, capture_output=True)
    return target


def paved(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pavedroad", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=600,
    )


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode in (0, 1), done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def rows(data: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [r for r in data["results"] if r["id"] == check]


def rooms(env: dict[str, str]) -> list[Path]:
    return sorted(Path(env["TMPDIR"]).glob("paved-repro-*"))


def test_a_sound_project_passes_and_its_metrics_match(tmp_path: Path, env: dict[str, str]) -> None:
    project = committed("repro-sound", tmp_path / "sound")
    done = paved("repro", str(project), "--format", "json", "--dockerfile", env=env)
    data = report(done)
    assert (done.returncode, data["verdict"]) == (0, "ready"), done.stdout + done.stderr
    assert {r["status"] for r in data["results"] if r["id"] != "REP009"} == {"pass"}
    (notebooks,) = rows(data, "REP009")  # it has none, and none were asked for
    assert (notebooks["status"], notebooks["message"]) == (
        "skip",
        "no notebooks (under [notebooks].paths, else anywhere in the project)",
    )
    assert rows(data, "REP004")[0]["message"].startswith("1 metric(s) match the local run")
    metric = data["metrics"]["roc_auc"]
    assert metric["value"] == metric["baseline"] and metric["value"] > 0.6
    assert data["compared_with"] == "local run"  # what `baseline` holds here; the text header
    # the phases, each with its duration, on stderr
    for phase in (
        "copy",
        "python",
        "environment",
        "wheel",
        "install",
        "import",
        "tests",
        "evaluation",
    ):
        assert f" {phase} " in done.stderr
    assert rooms(env) == []  # the room is gone
    attested = json.loads((project / ".paved/attestation.json").read_text(encoding="utf-8"))
    assert attested["wheel"]["name"] == "scorer-0.1.0-py3-none-any.whl"
    assert attested["artifact"]["path"] == "src/scorer/weights.json"
    assert attested["metrics"]["roc_auc"] == metric["value"]
    assert "pydantic==2.14.4" in attested["environment"]["packages"]
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    major_minor_micro = ".".join(str(p) for p in sys.version_info[:3])
    assert f"FROM python:{major_minor_micro}-slim-bookworm" in dockerfile
    assert "USER app" in dockerfile and "scorer-0.1.0-py3-none-any.whl" in dockerfile
    # the environment is reused, keyed by what it was built from and the interpreter
    again = report(paved("repro", str(project), "--format", "json", env=env))
    assert "(reused from the cache)" in rows(again, "REP001")[0]["message"]
    # `paved check` shows the recorded run and verifies the attestation, until a file changes
    checked = report(paved("check", str(project), "--only", "REP", "--format", "json", env=env))
    assert {r["status"] for r in checked["results"] if r["id"] != "REP009"} == {"pass"}
    model = project / "src/scorer/model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\n# retuned\n", encoding="utf-8")
    checked = report(paved("check", str(project), "--only", "REP", "--format", "json", env=env))
    (stale,) = rows(checked, "REP008")
    assert stale["status"] == "fail" and "changed: src/scorer/model.py" in stale["message"]
    assert rows(checked, "REP003")[0]["status"] == "skip"  # the recorded run was of another tree


def test_an_undeclared_import_fails_the_tests_there_and_dep001_agrees(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = committed("repro-undeclared", tmp_path / "undeclared")
    local = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert local.returncode == 0, local.stdout  # yaml is installed here, beside pavedroad
    data = report(paved("repro", str(project), "--format", "json", env=env))
    assert data["verdict"] == "not_ready"
    (gap,) = [r for r in rows(data, "REP003") if r["status"] == "fail"]
    assert gap["subject"] == "pyyaml"
    assert "yaml is imported but not installed" in gap["message"]
    assert "tests/test_settings.py" in gap["message"] and "pass locally" in gap["message"]
    assert not (project / ".paved/attestation.json").exists()  # nothing passed, nothing attested
    dep = report(paved("check", str(project), "--only", "DEP001", "--format", "json", env=env))
    assert {(r["status"], r["subject"]) for r in rows(dep, "DEP001")} == {("fail", "pyyaml")}


def test_a_file_git_ignores_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    project = committed("repro-ignored", tmp_path / "ignored")
    data = report(paved("repro", str(project), "--format", "json", env=env))
    (gap,) = rows(data, "REP005")
    assert (gap["status"], gap["subject"]) == ("fail", "data/regions.csv")
    assert "ignored by .gitignore:2 (`data/`)" in gap["message"]
    (tests,) = rows(data, "REP003")
    assert tests["status"] == "fail" and "FileNotFoundError" in tests["message"]


def test_each_notebook_runs_in_the_room_or_says_where_and_why_not(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = committed("repro-notebooks", tmp_path / "notebooks")
    done = paved("repro", str(project), "--notebooks", "--format", "json", env=env)
    data = report(done)
    assert data["verdict"] == "not_ready"
    assert " notebooks " in done.stderr and "4 notebook(s), 3 failed" in done.stderr
    found = {r["subject"]: r for r in rows(data, "REP009")}
    assert found["notebooks/runs.ipynb"]["status"] == "pass"  # pydantic, declared; IPython
    assert found["notebooks/settings.ipynb"]["message"] == (
        "notebooks/settings.ipynb cell 1 line 2 fails in the clean room: ModuleNotFoundError: "
        "No module named 'yaml' at `import yaml`; the same cells run locally"
    )
    assert found["notebooks/settings.ipynb"]["fix"].startswith("Declare pyyaml (it provides yaml;")
    # only the kernel's own packages (ipykernel's) bring dateutil: a cell may not import it
    assert found["notebooks/kernel.ipynb"]["message"].startswith(
        "notebooks/kernel.ipynb cell 0 line 1 fails in the clean room: ModuleNotFoundError: "
        "No module named 'dateutil'"
    )
    assert "Declare python-dateutil" in found["notebooks/kernel.ipynb"]["fix"]
    regions = found["notebooks/regions.ipynb"]
    assert regions["message"].startswith(
        "notebooks/regions.ipynb cell 1 line 1 fails in the clean room: FileNotFoundError"
    )
    assert regions["fix"].startswith("Commit data/regions.csv (`git add -f data/regions.csv`")
    (read,) = rows(data, "REP005")
    assert (read["status"], read["subject"]) == ("fail", "data/regions.csv")
    assert rows(data, "REP003")[0]["status"] == "pass"
    assert rooms(env) == [] and kernels(env) == []
    # `paved check` shows the recorded run's rows
    checked = report(paved("check", str(project), "--only", "REP009", "--format", "json", env=env))
    assert {(r["subject"], r["status"]) for r in rows(checked, "REP009")} == {
        (subject, row["status"]) for subject, row in found.items()
    }


def kernels(env: dict[str, str]) -> list[str]:
    """The notebook kernels of this test's rooms still running."""
    listed = subprocess.run(
        ["ps", "-ww", "-eo", "args="], capture_output=True, text=True, check=True
    )
    return [
        line
        for line in listed.stdout.splitlines()
        if "kernel_script.py" in line and env["TMPDIR"] in line
    ]


SLOW_SUITE = {
    "pyproject.toml": (FIXTURES / "repro-ignored/pyproject.toml").read_text(encoding="utf-8"),
    "handoff.toml": '[contract]\nversion = 1\nname = "slow"\n\n[tests]\ncommand = "pytest -q"\n',
    "src/scorer/__init__.py": "",
    # a test that starts a process of its own, then takes its time
    "tests/test_slow.py": (
        "import subprocess, sys, time\n\n\n"
        "def test_slow() -> None:\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', 'paved-stray'])\n"
        "    time.sleep(300)\n"
    ),
}


@pytest.fixture
def slow_project(tmp_path: Path) -> Iterator[Path]:
    project = write_tree(tmp_path / "slow", SLOW_SUITE)
    git = ["git", "-c", "user.name=paved", "-c", "user.email=paved@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "slow"]):
        subprocess.run([*git, *command], cwd=project, check=True, capture_output=True)
    yield project
    for pid in strays():  # only when the test failed: the processes its project started
        os.kill(pid, signal.SIGKILL)


def interrupt_during_tests(project: Path, env: dict[str, str], *options: str) -> tuple[int, str]:
    """Start `paved repro`, press Ctrl-C once its tests (or its notebooks) run; its exit code
    and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pavedroad", "repro", str(project), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not strays() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)  # until the project's test has started its process and sleeps
    assert strays(), "the project's test never started"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def strays() -> list[int]:
    """The processes the slow project's test starts, by their id."""
    listed = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True, check=True
    )
    return [
        int(line.split(None, 1)[0])
        for line in listed.stdout.splitlines()
        if "paved-stray" in line and "time.sleep(300)" in line
    ]


def test_ctrl_c_removes_the_room_and_every_process(slow_project: Path, env: dict[str, str]) -> None:
    code, stderr = interrupt_during_tests(slow_project, env)
    assert code == 130, stderr
    assert "interrupted" in stderr
    assert rooms(env) == []
    assert strays() == []
    assert not (slow_project / ".paved").exists()  # no half-written record or attestation


def test_keep_leaves_the_room_and_says_where(slow_project: Path, env: dict[str, str]) -> None:
    code, stderr = interrupt_during_tests(slow_project, env, "--keep")
    assert code == 130
    (room,) = rooms(env)
    assert f"room kept at {room}" in stderr
    assert (room / "project/tests/test_slow.py").is_file() and (room / "venv").is_dir()
    assert strays() == []


SLEEPING_NOTEBOOK = {
    "pyproject.toml": SLOW_SUITE["pyproject.toml"],
    "handoff.toml": '[contract]\nversion = 1\nname = "sleeps"\n',
    "src/scorer/__init__.py": "",
    # a cell that starts a process of its own, then takes its time
    "notebooks/sleeps.ipynb": json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "id": "sleeps",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                    "source": (
                        "import subprocess, sys, time\n\n"
                        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', "
                        "'paved-stray'])\n"
                        "time.sleep(300)\n"
                    ),
                }
            ],
            "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ),
}


def test_ctrl_c_during_a_notebook_stops_its_kernel(tmp_path: Path, env: dict[str, str]) -> None:
    project = write_tree(tmp_path / "sleeps", SLEEPING_NOTEBOOK)
    git = ["git", "-c", "user.name=paved", "-c", "user.email=paved@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "sleeps"]):
        subprocess.run([*git, *command], cwd=project, check=True, capture_output=True)
    try:
        code, stderr = interrupt_during_tests(project, env, "--notebooks")
        assert code == 130, stderr
        assert rooms(env) == []
        assert strays() == [] and kernels(env) == []
        assert not (project / ".paved").exists()
    finally:
        for pid in strays():
            os.kill(pid, signal.SIGKILL)
