"""A project made by `paved new` is READY after its own `make setup`, in a fresh virtual env.

Everything is real: the environment is made by uv, packages come from PyPI through uv's cache
(so a second run takes seconds), and the generated Makefile does the rest as a user would run it
in an activated environment. pavedroad is installed from this checkout, since the release the
template pins may not be published yet: `make setup PAVEDROAD=...` is the Makefile's own knob.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import uv

import pavedroad
from pavedroad import cli

REPO = Path(pavedroad.__file__).resolve().parents[2]
VARIANTS = {
    "classification-github-served": (),
    "regression-gitlab-unserved": ("task=regression", "serving=no", "ci=gitlab"),
}


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The variables of a shell with nothing of the development environment on its PATH but uv
    (from the `uv` package, linked alone into a folder of its own). uv keeps its own cache, so
    packages downloaded once are reused by later runs."""
    tools = tmp_path_factory.mktemp("tools")
    (tools / "uv").symlink_to(uv.find_uv_bin())
    ours = Path(sys.executable).parent.resolve()
    path = [
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != ours
    ]
    # nothing of the development environment, nor of an outer make (`make test` runs this
    # suite: its MAKELEVEL would have the project's make print "Entering directory" lines)
    hidden = {"VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME"}
    hidden |= {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PATH"] = os.pathsep.join([str(tools), *path])
    env["PAVED_CACHE_DIR"] = str(tmp_path_factory.mktemp("paved-cache"))  # not ~/.cache
    return env


def run(command: list[str], root: Path, env: dict[str, str]) -> str:
    ran = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert ran.returncode == 0, (
        f"{' '.join(command)} exited {ran.returncode}:\n{ran.stdout}\n{ran.stderr}"
    )
    return ran.stdout


@pytest.mark.slow
@pytest.mark.parametrize("data", VARIANTS.values(), ids=VARIANTS.keys())
def test_a_new_project_is_ready_after_make_setup(
    tmp_path: Path, environment: dict[str, str], data: tuple[str, ...]
) -> None:
    root = tmp_path / "demo"
    with pytest.raises(SystemExit) as exited:
        cli.main(["new", str(root), "--defaults", *(arg for d in data for arg in ("--data", d))])
    assert exited.value.code == 0
    venv = root / ".venv"
    run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], root, environment)
    activated = {
        **environment,
        "VIRTUAL_ENV": str(venv),
        "PATH": os.pathsep.join([str(venv / "bin"), environment["PATH"]]),
    }

    setup = run(["make", "setup", f"PAVEDROAD=-e {REPO}[evaluate,lock]"], root, activated)
    assert "recorded in handoff.toml" in setup and "READY" in setup  # paved evaluate --accept
    for written in ("uv.lock", "models/model.joblib", "data/golden.csv", ".paved/history.db"):
        assert (root / written).is_file(), written

    check = run(["make", "check"], root, activated)
    assert check.rstrip().splitlines()[-1].startswith("READY")
    assert "PRF002" in check  # judged against the baseline `make setup` accepted
    tests = run(["make", "test"], root, activated)
    assert " passed" in tests.splitlines()[-1] and "failed" not in tests.splitlines()[-1]

    # Training is byte-reproducible here: a retrained model is still the one the contract names.
    run(["make", "train"], root, activated)
    run(["paved", "check", "--only", "MOD001"], root, activated)
