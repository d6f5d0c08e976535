"""`paved deps` answers from its result cache only while nothing the report came from changed.

A hit is told from a miss by what the process imported (`-X importtime`): a hit must not load
the contract models or the checks, and a miss must produce the report of the changed project.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import write_tree

MODULE = "import yaml\nimport requests\n"
PROJECT = {
    "pyproject.toml": '[project]\nname = "cached"\nversion = "1.0"\ndependencies = []\n',
    "requirements.txt": "-r ../common.txt\n",
    "src/cached/__init__.py": "",
    "src/cached/core.py": MODULE,
}
COMMON = "pyyaml==6.0.4\nrequests==2.32.5\n"
# the contract models, in `-X importtime`'s last column (not pavedroad.contract_file: a hit needs it)
LOADED_ON_A_MISS = re.compile(r"\|\s+pavedroad\.contract$", re.MULTILINE)


class Run:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.stdout = done.stdout
        self.hit = LOADED_ON_A_MISS.search(done.stderr) is None
        assert "Traceback" not in done.stderr, done.stderr

    def failing(self, check_id: str) -> set[str]:
        data: dict[str, Any] = json.loads(self.stdout)
        return {
            r["subject"] for r in data["results"] if r["id"] == check_id and r["status"] == "fail"
        }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "common.txt").write_text(COMMON, encoding="utf-8")
    return write_tree(tmp_path / "project", PROJECT)


def deps(root: Path, *options: str, env: dict[str, str] | None = None) -> Run:
    # A fixed working folder: `-m` puts it on sys.path, which is part of the environment stamp.
    work = root.parent / "work"
    work.mkdir(exist_ok=True)
    return Run(
        subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "pavedroad", "deps", str(root), *options],
            capture_output=True,
            text=True,
            check=False,
            cwd=work,
            env={**os.environ, **(env or {})},
        )
    )


def results_folder() -> Path:
    return Path(os.environ["PAVED_CACHE_DIR"]) / "results-v1"


def test_an_unchanged_project_is_answered_from_the_cache(project: Path) -> None:
    first, second = deps(project, "--format", "json"), deps(project, "--format", "json")
    assert not first.hit and second.hit
    assert (second.code, second.stdout) == (first.code, first.stdout)
    sarif = deps(project, "--format", "sarif")  # another format is another answer
    assert not sarif.hit and json.loads(sarif.stdout)["version"] == "2.1.0"


def test_an_edited_module_misses(project: Path) -> None:
    assert deps(project, "--format", "json").failing("DEP001") == set()
    (project / "src/cached/core.py").write_text(MODULE + "import tomlkit\n", encoding="utf-8")
    edited = deps(project, "--format", "json")
    assert not edited.hit and edited.failing("DEP001") == {"tomlkit"}


def test_a_new_file_misses(project: Path) -> None:
    deps(project, "--format", "json")
    (project / "src/cached/extra.py").write_text("import tomlkit\n", encoding="utf-8")
    added = deps(project, "--format", "json")
    assert not added.hit and added.failing("DEP001") == {"tomlkit"}


def test_an_included_file_outside_the_tree_misses(project: Path) -> None:
    deps(project, "--format", "json")
    (project.parent / "common.txt").write_text("pyyaml==6.0.4\n", encoding="utf-8")
    edited = deps(project, "--format", "json")
    assert not edited.hit and edited.failing("DEP001") == {"requests"}


def test_a_contract_created_above_misses(project: Path) -> None:
    """Without a contract the search went up to /: a contract created in a parent folder now
    governs the project, and makes it a subfolder of another project."""
    alone = deps(project / "src", "--format", "json")
    (project / "handoff.toml").write_text('[contract]\nname = "governed"\n', encoding="utf-8")
    governed = deps(project / "src", "--format", "json")
    assert not governed.hit and governed.stdout != alone.stdout
    assert json.loads(governed.stdout)["project"] == "governed"


def test_text_files_and_paved_no_cache_are_never_kept(project: Path) -> None:
    deps(project)
    deps(project, "--format", "json", "--output", str(project.parent / "report.json"))
    deps(project, "--format", "json", env={"PAVED_NO_CACHE": "1"})
    assert not results_folder().exists() or not any(
        str(project) in entry.read_text(encoding="utf-8") for entry in results_folder().iterdir()
    )


def test_a_damaged_entry_is_a_miss_not_a_failure(project: Path) -> None:
    first = deps(project, "--format", "json")
    for entry in results_folder().iterdir():
        entry.write_text('{"start": [', encoding="utf-8")
    again = deps(project, "--format", "json")
    assert not again.hit and (again.code, again.stdout) == (first.code, first.stdout)
    assert deps(project, "--format", "json").hit  # and it was kept again
