"""Third-party families through the `pavedroad.checks` entry-point group, really installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers import write_tree

Tree = Callable[[Mapping[str, str]], Path]
PAVED = Path(sys.executable).with_name("paved")
CONTRACT = '[contract]\nname = "svc"\n'

BROKEN_PLUGIN = {
    "pyproject.toml": """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "paved-broken"
version = "0.1.0"

[project.entry-points."pavedroad.checks"]
broken = "paved_broken:family"

[tool.hatch.build.targets.wheel]
packages = ["src/paved_broken"]
""",
    "src/paved_broken/__init__.py": (
        '"""A plugin whose module was renamed under it."""\n\n'
        "from paved_broken.renamed_away import family  # noqa: F401\n"
    ),
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broken_site(
    install_plugin: Callable[[Path], Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    source = write_tree(tmp_path_factory.mktemp("broken-plugin"), BROKEN_PLUGIN)
    return install_plugin(source)


def paved(
    *args: str, sites: tuple[Path, ...], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(site) for site in sites)}
    return subprocess.run(
        [str(PAVED), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=120,
    )


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in done.stderr, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def results(data: dict[str, Any], id: str) -> list[dict[str, Any]]:
    return [r for r in data["results"] if r["id"] == id]


def test_the_installed_family_is_discovered_and_fails_without_security_md(
    tree: Tree, plugin_site: Path
) -> None:
    root = tree({"handoff.toml": CONTRACT})
    done = paved("check", str(root), "--only", "ACME", "--format", "json", sites=(plugin_site,))
    assert done.returncode == 1
    [acme] = results(report(done), "ACME001")
    assert (acme["status"], acme["family"], acme["message"]) == (
        "fail",
        "ACME",
        "SECURITY.md is missing",
    )
    assert acme["fix"] == "Add SECURITY.md with the security contact and the disclosure process."


def test_the_installed_family_passes_with_security_md(tree: Tree, plugin_site: Path) -> None:
    root = tree({"handoff.toml": CONTRACT, "SECURITY.md": "# Security\nmail sec@acme.example\n"})
    done = paved("check", str(root), "--only", "ACME001", "--format", "json", sites=(plugin_site,))
    assert done.returncode == 0, done.stdout
    [acme] = results(report(done), "ACME001")
    assert (acme["status"], acme["subject"]) == ("pass", "SECURITY.md")
    assert acme["message"] == "SECURITY.md names the security contact"


def test_without_the_plugin_its_check_is_unknown(tree: Tree) -> None:
    done = paved("check", str(tree({"handoff.toml": CONTRACT})), "--only", "ACME001", sites=())
    assert done.returncode == 2
    assert "unknown check or family 'ACME001'" in done.stderr


def test_explain_an_installed_check(plugin_site: Path) -> None:
    done = paved("explain", "acme001", sites=(plugin_site,))
    assert done.returncode == 0, done.stderr
    assert "ACME001: The project has a SECURITY.md" in done.stdout
    assert "Why it matters. Acme's incident process starts" in done.stdout
    listed = paved("explain", sites=(plugin_site,))
    assert "ACME001  The project has a SECURITY.md" in listed.stdout


def test_a_broken_plugin_is_a_con002_error_and_the_run_goes_on(
    tree: Tree, plugin_site: Path, broken_site: Path
) -> None:
    root = tree({"handoff.toml": CONTRACT, "SECURITY.md": "# Security\n"})
    done = paved(
        "check",
        str(root),
        "--format",
        "json",
        "--only",
        "ACME,CON",
        sites=(plugin_site, broken_site),
    )
    assert done.returncode == 1
    data = report(done)
    [broken] = results(data, "CON002")
    assert (broken["status"], broken["subject"]) == ("error", "broken")
    assert broken["message"].startswith(
        "check plugin 'broken' (paved_broken:family) failed to load: ModuleNotFoundError: "
        "No module named 'paved_broken.renamed_away'"
    )
    assert [r["status"] for r in results(data, "ACME001")] == ["pass"]  # the good plugin ran
    assert (data["verdict"], data["certifiable"]) == ("not_ready", False)


def test_a_broken_plugin_shows_in_the_text_report(tree: Tree, broken_site: Path) -> None:
    root = tree({"handoff.toml": CONTRACT})
    done = paved("check", str(root), "--only", "CON", sites=(broken_site,))
    assert done.returncode == 1
    assert "! CON002  check plugin 'broken'" in done.stdout
    assert "NOT READY (cannot certify)" in done.stdout
