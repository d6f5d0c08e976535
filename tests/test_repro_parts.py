"""The clean room's parts, each on real files, real processes and real git: fast enough for the
quick suite. `test_repro.py` runs the whole command."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import write_tree

from pavedroad.contract import load_contract
from pavedroad.errors import UsageError
from pavedroad.notebooks import execute
from pavedroad.project import Project
from pavedroad.repro import (
    attestation,
    audit,
    diagnose,
    dockerfile,
    environment,
    files,
    interpreters,
    kernel_script,
    notebooks,
    overlay,
    probe_script,
    record,
    suite,
    variables,
)
from pavedroad.repro.outcome import FailedTest, Outcome
from pavedroad.repro.places import Places
from pavedroad.repro.processes import Interrupted, Processes
from pavedroad.repro.room import Room
from pavedroad.repro.uvrun import find_uv

GIT = ["git", "-c", "user.name=paved", "-c", "user.email=paved@example.com"]


def git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True)


def project_of(root: Path) -> Project:
    return Project(root, load_contract(root / "handoff.toml"))


# -- files --------------------------------------------------------------------------------------


def test_in_git_the_room_holds_what_git_tracks(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "handoff.toml": "",
            "src/a.py": "",
            ".gitignore": "# data stays local\ndata/\n",
            "data/big.csv": "x\n",
            "notes.txt": "never added\n",
        },
    )
    git(root, "init", "-q")
    git(root, "add", "handoff.toml", "src/a.py", ".gitignore")
    found = files.listing(root)
    assert found.in_git and found.files == (".gitignore", "handoff.toml", "src/a.py")
    assert found.absent_reason("data/big.csv") == "ignored by .gitignore:2 (`data/`)"
    assert found.absent_reason("notes.txt") == "untracked: never committed"


def test_outside_git_every_file_but_ignored_ones_and_environments(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            ".gitignore": "*.log\n/secrets/\n!keep.log\n",
            "a.py": "",
            "run.log": "",
            "keep.log": "",
            "secrets/key.txt": "",
            "pkg/__pycache__/a.cpython-311.pyc": "",
            "pkg/b.py": "",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/site.py": "",
            ".paved/history.db": "",
        },
    )
    found = files.listing(root)
    assert not found.in_git
    assert found.files == (".gitignore", "a.py", "keep.log", "pkg/b.py")
    assert found.absent_reason("run.log") == "ignored by .gitignore:1 (`*.log`)"


def test_copy_keeps_inner_links_and_copies_what_outer_ones_name(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"shared.csv": "a,b\n"})
    root = write_tree(tmp_path / "p", {"data/real.csv": "x\n"})
    (root / "data/alias.csv").symlink_to("real.csv")
    (root / "data/shared.csv").symlink_to(outside / "shared.csv")
    listing = files.Listing(root, ("data/alias.csv", "data/real.csv", "data/shared.csv"), False)
    target = tmp_path / "room"
    assert files.copy_into(listing, target) == 3
    assert (target / "data/alias.csv").is_symlink()
    assert not (target / "data/shared.csv").is_symlink()
    assert (target / "data/shared.csv").read_text() == "a,b\n"


def test_changes_since_a_fingerprint(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"a.py": "1", "b.py": "2", ".paved/repro.json": "{}"})
    recorded = files.fingerprint(files.listing(root))
    assert set(recorded) == {"a.py", "b.py"}
    (root / "a.py").write_text("changed")
    (root / "b.py").unlink()
    (root / "c.py").write_text("new")
    assert files.changes(files.listing(root), recorded) == [
        "changed: a.py",
        "removed: b.py",
        "added: c.py",
    ]


# -- variables ---------------------------------------------------------------------------------


def test_the_room_passes_only_the_allowlist_and_declared_variables(tmp_path: Path) -> None:
    venv = tmp_path / "dev"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    home = tmp_path / "alice"
    (home / ".local/bin").mkdir(parents=True)
    outer = {
        "PATH": os.pathsep.join([str(venv / "bin"), str(home / ".local/bin"), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": "/somewhere",
        "AWS_SECRET_ACCESS_KEY": "shh",
        "CHURN_THRESHOLD": "0.9",
    }
    env = variables.room_environment(
        declared=["CHURN_THRESHOLD", "CHURN_MODEL_PATH"],
        given={"CHURN_MODEL_PATH": "models/churn.joblib"},
        example={"CHURN_THRESHOLD": "0.5", "OTHER": "x"},
        home=tmp_path / "room-home",
        bin_dir=tmp_path / "room/bin",
        outer=outer,
    )
    assert env == {
        "LANG": "C.UTF-8",
        "PATH": os.pathsep.join([str(tmp_path / "room/bin"), "/usr/bin", "/bin"]),
        "HOME": str(tmp_path / "room-home"),
        "PYTHONNOUSERSITE": "1",
        "CHURN_THRESHOLD": "0.5",  # the committed example's, never the author's shell's
        "CHURN_MODEL_PATH": "models/churn.joblib",
    }


def test_env_options_must_be_declared_and_well_formed(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--env SECRET: not declared in the contract"):
        variables.room_environment(
            declared=[], given={"SECRET": "1"}, example={}, home=tmp_path, bin_dir=tmp_path
        )
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        variables.parse_assignments(["JUSTANAME"])
    assert variables.parse_assignments(["A=1=2", "B="]) == {"A": "1=2", "B": ""}


def test_env_example_is_read_as_shells_write_it(tmp_path: Path) -> None:
    example = tmp_path / ".env.example"
    example.write_text(
        '# settings\nexport A="quoted value"\nB=plain # comment\nnot a line\nC=\n', encoding="utf-8"
    )
    assert variables.read_example(example) == {"A": "quoted value", "B": "plain", "C": ""}


# -- interpreters -------------------------------------------------------------------------------


def test_the_running_interpreter_is_chosen_when_allowed() -> None:
    here = ".".join(str(p) for p in sys.version_info[:2])
    chosen = interpreters.choose(interpreters.allowed_versions(f">={here}", None))
    assert chosen.path == sys.executable
    by_path = interpreters.choose(interpreters.allowed_versions(None), sys.executable)
    assert by_path.version == tuple(sys.version_info[:3])


def test_no_interpreter_fits_lists_those_found() -> None:
    with pytest.raises(UsageError) as raised:
        interpreters.choose(interpreters.allowed_versions(">=3.99"))
    message = str(raised.value)
    assert "no interpreter on this machine is a Python allowed by >=3.99; found:" in message
    assert sys.executable in message and "uv python install 3.99" in message
    with pytest.raises(UsageError, match="not a Python version specifier"):
        interpreters.allowed_versions("three point ten")


# -- processes ----------------------------------------------------------------------------------


def test_a_command_ends_with_what_it_left_running(tmp_path: Path) -> None:
    """The command exits while a child it started keeps the output open: the run ends at once,
    and the child with it."""
    marker = tmp_path / "child-ran-to-its-end"
    child = tmp_path / "child.py"
    child.write_text(f"import time\ntime.sleep(30)\nopen({str(marker)!r}, 'w').close()\n")
    parent = tmp_path / "parent.py"
    parent.write_text(
        f"import subprocess, sys\nsubprocess.Popen([sys.executable, {str(child)!r}])\n"
        "print('parent done')\n"
    )
    started = time.monotonic()
    done = Processes().run([sys.executable, str(parent)], cwd=tmp_path, timeout=60)
    assert done.ok and "parent done" in done.output
    assert time.monotonic() - started < 20  # not the child's 30 s
    time.sleep(0.5)
    listed = subprocess.run(
        ["ps", "-ww", "-eo", "args="], capture_output=True, text=True, check=True
    )
    assert str(child) not in listed.stdout


def test_timeouts_missing_commands_and_stop(tmp_path: Path) -> None:
    processes = Processes()
    slow = processes.run(
        [sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path, timeout=0.5
    )
    assert slow.timed_out and slow.returncode is None
    missing = processes.run(["no-such-command-here"], cwd=tmp_path, timeout=5)
    assert missing.error == "`no-such-command-here` is not installed (no such command)"
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            processes.run(
                [sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path, timeout=60
            )
        except Interrupted as stopped:
            outcome.append(stopped)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.5)
    processes.stop()
    waiter.join(timeout=10)
    assert not waiter.is_alive() and len(outcome) == 1
    with pytest.raises(Interrupted):
        processes.run([sys.executable, "-c", "pass"], cwd=tmp_path, timeout=5)


def test_stop_also_stops_the_work_registered_with_it(tmp_path: Path) -> None:
    """A notebook's kernel is no subprocess of Processes: its run registers how to stop it."""
    processes = Processes()
    stopped: list[str] = []
    with processes.stopping(lambda: stopped.append("kernels")):
        processes.stop()
    assert stopped == ["kernels"]
    with pytest.raises(Interrupted), processes.stopping(lambda: None):
        pass  # a run already stopped starts no more work


# -- the audit hook, in a real environment ---------------------------------------------------------


def test_the_audit_records_the_project_s_reads_only(tmp_path: Path) -> None:
    venv, log = tmp_path / "venv", tmp_path / "audit.jsonl"
    subprocess.run([find_uv(), "venv", "--quiet", str(venv)], check=True, capture_output=True)
    top = Room(tmp_path / "top")
    room = write_tree(
        top.project,
        {
            "src/app/__init__.py": "",
            "src/app/settings.py": (
                "import os\n"
                "def load(author):\n"
                "    a = os.environ.get('APP_MODE', 'dev')\n"
                "    b = 'APP_TOKEN' in os.environ\n"
                "    c = os.getenv('APP_LEVEL')\n"
                "    for path in ('data/lookup.csv', author):\n"
                "        try:\n"
                "            open(path).close()\n"
                "        except OSError:\n"
                "            pass\n"
                "    open('out.txt', 'w').close()  # a write, not a read\n"
            ),
            "tests/test_settings.py": "import os\nTEST_ONLY = os.environ.get('TEST_ONLY')\n",
        },
    )
    author = write_tree(tmp_path / "author", {"data/lookup.csv": "x\n"})
    audit.install(
        environment.site_packages(venv),
        log=log,
        code=[room],
        room=room,
        author=author,
        not_author=[],
    )
    script = (
        "import sys; sys.path[:0] = ['src', 'tests']; "
        "import test_settings; from app.settings import load; "
        f"load({str(author / 'data/lookup.csv')!r})"
    )
    subprocess.run([str(venv / "bin/python"), "-c", script], cwd=room, check=True)
    reads, opened = audit.read(log)
    assert [(r.name, Path(r.file).name, r.line) for r in reads] == [
        ("APP_MODE", "settings.py", 3),
        ("APP_TOKEN", "settings.py", 4),
        ("APP_LEVEL", "settings.py", 5),
    ]
    assert {(Path(o.path).relative_to(tmp_path).as_posix(), o.author) for o in opened} == {
        ("top/project/data/lookup.csv", False),
        ("author/data/lookup.csv", True),
    }
    # both are the author's untracked data/lookup.csv: one gap, read by its absolute path
    author_project = project_of(write_tree(author, {"handoff.toml": ""}))
    places = Places(top, environment.site_packages(venv), author_project)
    found = diagnose.file_reads(files.Listing(author, (), False), places, opened, [])
    assert [(f.path, f.absolute) for f in found] == [("data/lookup.csv", True)]


# -- the probe, in a subprocess -------------------------------------------------------------------


def test_the_probe_imports_and_calls_each_entry_point(tmp_path: Path) -> None:
    code = write_tree(
        tmp_path / "code",
        {
            "app/__init__.py": "",
            "app/cli.py": (
                "import argparse, sys, time\n"
                "def good():\n"
                "    argparse.ArgumentParser(prog='good').parse_args()\n"
                "def failing():\n"
                "    raise SystemExit('cannot start: no model')\n"
                "def crashing():\n"
                "    import missing_module\n"
                "def hanging():\n"
                "    time.sleep(30)\n"
                "class NotCallable: pass\n"
                "value = 3\n"
            ),
        },
    )
    calls = [
        ("good", "app.cli:good"),
        ("failing", "app.cli:failing"),
        ("crashing", "app.cli:crashing"),
        ("hanging", "app.cli:hanging"),
        ("value", "app.cli:value"),
    ]
    request, result = tmp_path / "request.json", tmp_path / "result.json"
    request.write_text(
        json.dumps(
            {
                "modules": ["app", "absent"],
                "entry_points": [{"name": n, "target": t} for n, t in calls],
                "timeout": 1,
                "code": [str(code)],
            }
        )
    )
    subprocess.run(
        [sys.executable, probe_script.__file__, str(request), str(result)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(code)},
        check=True,
        timeout=60,
    )
    found = json.loads(result.read_text())
    assert [(i["module"], i["error"]) for i in found["imports"]] == [
        ("app", None),
        ("absent", "ModuleNotFoundError: No module named 'absent'"),
    ]
    by_name = {e["name"]: e for e in found["entry_points"]}
    assert by_name["good"]["status"] == 0 and "usage: good" in by_name["good"]["output"]
    assert by_name["failing"]["status"] == 1 and "no model" in by_name["failing"]["output"]
    assert by_name["crashing"]["error"] == "ModuleNotFoundError: No module named 'missing_module'"
    assert by_name["crashing"]["where"] == f"{code / 'app/cli.py'}:7"
    assert (by_name["hanging"]["status"], by_name["hanging"]["error"]) == (
        None,
        "did not return within 1 s",
    )
    assert by_name["value"]["error"] == "TypeError: app.cli:value is a int, not a callable"


# -- the tests' failures ---------------------------------------------------------------------------


def test_a_missing_module_names_what_provides_it(tmp_path: Path) -> None:
    project = project_of(write_tree(tmp_path / "p", {"handoff.toml": ""}))
    output = (
        "ERROR tests/test_a.py - ModuleNotFoundError: No module named 'yaml'\n"
        "E   ModuleNotFoundError: No module named 'sklearn.ensemble'\n"
        "E   ModuleNotFoundError: No module named 'app.helpers'\n"
    )
    failures = [
        FailedTest("tests/test_a.py", "ModuleNotFoundError: No module named 'yaml'", "pass")
    ]
    found = suite.missing_modules(project, output, failures, own={"app"})
    assert [(m.module, m.distribution, m.tests) for m in found] == [
        ("yaml", "pyyaml", ["tests/test_a.py"]),
        ("sklearn", "scikit-learn", []),
    ]
    assert suite.missing_own_modules(output, {"app"}) == ["app.helpers"]


# -- the record and the attestation ----------------------------------------------------------------


def test_the_recorded_run_holds_only_for_its_tree(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"handoff.toml": '[contract]\nname = "p"\n', "a.py": "1"})
    assert record.recorded_outcome(project_of(root)).reason == (
        "no clean-room run is recorded: `paved repro` runs one"
    )
    outcome = Outcome(
        created="2026-01-01T00:00:00+00:00", files=files.fingerprint(files.listing(root))
    )
    record.write(root, outcome)
    assert record.recorded_outcome(project_of(root)).outcome == outcome
    (root / "a.py").write_text("2")
    stale = record.recorded_outcome(project_of(root))
    assert stale.outcome is None and "(changed: a.py)" in str(stale.reason)
    (root / record.RECORD).write_text("{not json")
    assert "cannot be read" in str(record.recorded_outcome(project_of(root)).reason)


def test_the_attestation_names_what_changed(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "handoff.toml": '[contract]\nname = "p"\n\n[model]\nartifact = "m.bin"\n',
            "m.bin": "weights",
            "uv.lock": "version = 1\n",
            "src/p.py": "x = 1\n",
        },
    )
    project = project_of(root)
    outcome = Outcome(
        created="2026-01-01T00:00:00+00:00", files=files.fingerprint(files.listing(root))
    )
    path = attestation.write(
        project, attestation.build(project, outcome, lock="uv.lock", frozen=[])
    )
    assert attestation.verify(project, path.read_text()).mismatches == []
    (root / "m.bin").write_text("retrained")
    (root / "uv.lock").write_text("version = 2\n")
    (root / "src/p.py").write_text("x = 2\n")
    (root / "handoff.toml").write_text(
        '[contract]\nname = "p"\n\n[model]\nartifact = "m.bin"\n# edited\n'
    )
    found = attestation.verify(project_of(root), path.read_text())
    assert found.mismatches == [
        "the lock uv.lock changed",
        "the model artifact m.bin changed",
        "the contract handoff.toml changed",
        "changed: src/p.py",
    ]
    with pytest.raises(ValueError, match="not an attestation"):
        attestation.verify(project, "{}")


# -- what the environment is built from, and the Dockerfile ---------------------------------------


def test_the_plan_prefers_the_lock_and_keys_by_its_bytes(tmp_path: Path) -> None:
    pyproject = (
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["pydantic==2.14.4"]\n'
        '[project.optional-dependencies]\ntest = ["pytest==9.2.0"]\ngpu = ["torch"]\n'
    )
    root = write_tree(tmp_path / "p", {"handoff.toml": "", "pyproject.toml": pyproject})
    declared = environment.plan_for(project_of(root))
    assert (declared.kind, declared.requirements) == (
        "declared",
        ("pydantic==2.14.4", "pytest==9.2.0"),
    )
    lock = 'version = 1\n\n[[package]]\nname = "pydantic"\nversion = "2.14.4"\nsource = { registry = "https://pypi.org/simple" }\n'
    (root / "uv.lock").write_text(lock)
    locked = environment.plan_for(project_of(root))
    assert (locked.kind, locked.lock, locked.extras) == ("uv.lock", "uv.lock", ("test",))
    (root / "uv.lock").write_text(lock + "\n")
    assert environment.plan_for(project_of(root)).digest != locked.digest


def test_the_dockerfile_mirrors_the_room(tmp_path: Path) -> None:
    interpreter = interpreters.Interpreter((3, 11, 7), "CPython", "/usr/bin/python3.11")
    plan = environment.Plan(
        "declared",
        "the declared requirements of pyproject.toml",
        None,
        ("pydantic==2.14.4",),
        (),
        "d",
    )
    text = dockerfile.render(
        interpreter=interpreter,
        uv_version="0.13.9",
        plan=plan,
        frozen=["pydantic==2.14.4", "pydantic-core==2.50.5"],
        wheel_name="app-1-py3-none-any.whl",
        data=["models/m.bin"],
        env=["APP_MODE"],
        entry_point="app",
        created="2026-01-01",
    )
    assert text.startswith("# syntax=docker/dockerfile")
    for line in (
        "FROM python:3.11.7-slim-bookworm AS build",
        "COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv",
        "RUN uv build --wheel --out-dir /dist .",
        "pydantic-core==2.50.5",
        "RUN uv pip install --constraint /dist/constraints.txt /dist/app-1-py3-none-any.whl && rm -rf /dist",
        "RUN useradd --create-home --uid 10001 app",
        "COPY --from=build --chown=app:app /src/models/m.bin /app/models/m.bin",
        "# The deployment sets the contract's settings: APP_MODE",
        "USER app",
        'CMD ["app", "--help"]',
    ):
        assert line in text.splitlines(), line
    locked = environment.Plan("uv.lock", "uv.lock", "uv.lock", (), (), "d")
    text = dockerfile.render(
        interpreter=interpreter,
        uv_version="0.13.9",
        plan=locked,
        frozen=[],
        wheel_name="w.whl",
        data=[],
        env=[],
        entry_point=None,
        created="2026-01-01",
    )
    assert (
        "RUN uv export --frozen --no-emit-project --no-dev --no-header --output-file /dist/requirements.txt"
        in text
    )
    assert (
        "RUN uv pip sync /dist/requirements.txt && uv pip install --no-deps /dist/w.whl && rm -rf /dist"
        in text
    )


# -- the command's usage errors --------------------------------------------------------------------


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"handoff.toml": '[contract]\nname = "p"\n'})
    for args, expected in (
        (["--env", "SECRET=1"], "--env SECRET: not declared in the contract's [config].env"),
        (["--python", "3.99"], "no interpreter on this machine is Python 3.99"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "pavedroad", "repro", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr
        assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("p/.paved/*"))


# -- the evaluation's overlay -----------------------------------------------------------------------


def test_the_overlay_links_the_worker_s_packages_and_nothing_else(tmp_path: Path) -> None:
    """For pavedroad's own Python, the overlay is links into the environment beside it: the
    evaluate extra and what it requires, never the rest (a model's undeclared pandas must fail)."""
    folder = overlay.ensure(
        tmp_path, interpreters.current(), find_uv(), Processes(), overlay.pins(mlflow=False)
    )
    names = {path.name for path in folder.iterdir()}
    assert {"numpy", "pyarrow", "sklearn", "scipy", "pydantic", "pydantic_core"} <= names
    assert all((folder / name).is_symlink() for name in ("numpy", "pyarrow", "sklearn"))
    assert not names & {"pandas", "pytest", "pavedroad", "rich"}
    assert (
        overlay.ensure(
            tmp_path, interpreters.current(), find_uv(), Processes(), overlay.pins(mlflow=False)
        )
        == folder
    )


# -- the notebooks' kernel ----------------------------------------------------------------------


def test_a_cell_cannot_import_what_only_the_kernel_brings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay_folder = write_tree(
        tmp_path / "overlay", {"brought/__init__.py": "", "brought/x.py": ""}
    )
    monkeypatch.syspath_prepend(str(overlay_folder))
    import_ = kernel_script.guarded(builtins.__import__, (f"{overlay_folder}{os.sep}",))
    cell = {"__name__": "__main__"}
    try:
        with pytest.raises(ModuleNotFoundError, match="No module named 'brought'"):
            import_("brought.x", cell, None, (), 0)
        assert import_("brought", {"__name__": "a_library"}).__name__ == "brought"
        assert import_("json", cell).__name__ == "json"  # not from the overlay
    finally:
        for name in ("brought", "brought.x"):
            sys.modules.pop(name, None)


def test_a_path_a_notebook_names_is_relative_to_its_folder(tmp_path: Path) -> None:
    author = write_tree(tmp_path / "author", {"handoff.toml": "", "data/regions.csv": "x\n"})
    places = Places(Room(tmp_path / "top"), tmp_path / "site", project_of(author))
    said = diagnose.Said(
        "FileNotFoundError: [Errno 2] No such file or directory: '../data/regions.csv'",
        "notebooks/regions.ipynb cell 1",
        "notebooks",
    )
    listing = files.Listing(author, ("handoff.toml",), False)
    found = diagnose.file_reads(listing, places, [], [said])
    assert [(f.path, f.seen) for f in found] == [
        ("data/regions.csv", "named by notebooks/regions.ipynb cell 1")
    ]


SEEN = (
    "import json, os, sys\n"
    "seen = {'prefix': sys.prefix, 'home': os.environ['HOME'], 'cwd': os.getcwd(),\n"
    "        'variables': sorted(os.environ)}\n"
    "with open('seen.json', 'w') as handle:\n"
    "    json.dump(seen, handle)"
)


def test_a_notebook_runs_in_a_kernel_of_the_room_s_python(tmp_path: Path) -> None:
    """A real kernel of a real venv's interpreter, from the room's kernel spec: the room's
    variables only, its HOME, the notebook's folder; IPython importable, dateutil (which only
    the kernel brings) not; the same cells run locally; no kernel left, no connection file."""
    cells = [SEEN, "from IPython.display import display", "import dateutil"]
    document = {
        "cells": [
            {
                "cell_type": "code",
                "id": f"c{n}",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": text,
            }
            for n, text in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(document)
    author = write_tree(tmp_path / "author", {"handoff.toml": "", "notebooks/n.ipynb": text})
    room = Room(tmp_path / "room")
    write_tree(room.project, {"notebooks/n.ipynb": text})
    room.home.mkdir()
    uv = find_uv()
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(room.venv)],
        check=True,
        capture_output=True,
    )
    python = environment.python_of(room.venv)
    env = variables.room_environment(
        declared=[],
        given={},
        example={},
        home=room.home,
        bin_dir=python.parent,
        outer={"PATH": os.environ["PATH"], "PAVED_SECRET": "not for the room"},
    )
    processes = Processes()
    found = notebooks.run(
        project_of(author),
        ["notebooks/n.ipynb"],
        [],
        room=room,
        python=python,
        overlay=overlay.ensure(
            tmp_path / "cache", interpreters.current(), uv, processes, overlay.kernel_pins()
        ),
        env=env,
        processes=processes,
        options=execute.Options(timeout=60, jobs=1),
        own=set(),
    )
    (run,) = found.runs
    assert (run.cell, run.line, run.error) == (
        2,
        1,
        "ModuleNotFoundError: No module named 'dateutil'",
    )
    assert (run.module, run.distribution, run.locally) == ("dateutil", "python-dateutil", "pass")
    seen = json.loads((room.project / "notebooks/seen.json").read_text(encoding="utf-8"))
    assert seen["prefix"] == str(room.venv)
    assert (seen["home"], seen["cwd"]) == (str(room.home), str(room.project / "notebooks"))
    assert "PAVED_SECRET" not in seen["variables"]
    assert (author / "notebooks/seen.json").is_file()  # run again locally, from its folder there
    spec = json.loads((room.jupyter / "kernels/paved-room/kernel.json").read_text(encoding="utf-8"))
    assert spec["argv"][0] == str(python) and spec["argv"][-1] == "{connection_file}"
    assert list((room.jupyter / "runtime").iterdir()) == []
    listed = subprocess.run(
        ["ps", "-ww", "-eo", "args="], capture_output=True, text=True, check=True
    )
    assert str(room.top) not in listed.stdout


def test_a_cancelled_run_leaves_no_kernel_even_one_still_starting(tmp_path: Path) -> None:
    """Cancelled while its kernel starts (nbclient then leaves it running), or later: the run
    raises CancelledError and no kernel is left."""
    import asyncio

    notebook = tmp_path / "n.ipynb"
    notebook.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "id": "c",
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "source": "import time\ntime.sleep(300)",
                    }
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        ),
        encoding="utf-8",
    )
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    execution = execute.Execution(
        execute.Options(timeout=60, jobs=1), kernel=execute.Kernel(runtime=runtime)
    )
    raised: list[BaseException] = []

    def run() -> None:
        try:
            execution.run([notebook])
        except BaseException as error:  # what the run raised is what the test looks at
            raised.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not list(runtime.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.005)  # until the connection file is written: the kernel is launched
    execution.cancel()
    thread.join(timeout=30)
    assert not thread.is_alive() and isinstance(raised[0], asyncio.CancelledError)
    listed = subprocess.run(
        ["ps", "-ww", "-eo", "args="], capture_output=True, text=True, check=True
    )
    assert str(runtime) not in listed.stdout
