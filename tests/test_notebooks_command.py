"""`paved notebooks` as a user runs it, and secrets: never in any report, whatever the format.

The secrets planted in tests/fixtures/nb004/fail are fake but well formed (each provider's token
shape, a PEM block, a password in a connection URL); every reporter renders the audit of that
project and of the exploratory notebook, and none of the secret strings may appear.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES

from pavedroad.commands.notebooks import audit
from pavedroad.contract import find_contract, load_contract
from pavedroad.project import Project
from pavedroad.reporters import Format, renderer

LEAKY = FIXTURES / "nb004" / "fail"
EXPLORATORY = FIXTURES / "nb0-exploratory"
# every secret planted in the fixtures, whole, and the parts of the PEM block
SECRETS = (
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_4xK9mPq2Lw7Rt8Yv3Nb6Hc1Jd5Fg0Se2Ua7Zi",
    "xoxb-2048123456-4096123456789-AbCdEfGhIjKlMnOpQrStUvWx",
    "sk-proj-Q7fX2mL9pR4tV8wY1zB6nC3kD5hJ0sGa",
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    "postgres://user:pass@host",
    "hunter2-but-longer",
    "S3cr3tPassw0rd",
)


def paved_notebooks(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pavedroad", "notebooks", str(root), *options],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_fixtures_really_hold_the_secrets() -> None:
    """The test below could not fail if the secrets were not in the notebooks."""
    text = (LEAKY / "notebooks" / "leaky.ipynb").read_text(encoding="utf-8")
    text += (EXPLORATORY / "notebooks" / "explore.ipynb").read_text(encoding="utf-8")
    assert all(secret in text for secret in SECRETS)


@pytest.mark.parametrize("root", [LEAKY, EXPLORATORY], ids=["leaky", "exploratory"])
@pytest.mark.parametrize("format_", list(Format), ids=[f.value for f in Format])
def test_no_reporter_ever_shows_a_secret(root: Path, format_: Format) -> None:
    report = audit(Project(root, load_contract(find_contract(root))))
    assert any(r.id == "NB004" and r.status.value == "fail" for r in report.verdict.results)
    rendered = renderer(format_)(report)
    assert "NB004" in rendered
    leaked = [secret for secret in SECRETS if secret in rendered]
    assert not leaked, leaked


def test_the_terminal_report_shows_no_secret_either() -> None:
    done = paved_notebooks(LEAKY)
    assert done.returncode == 1, done.stderr
    assert "NB004" in done.stdout
    assert not [secret for secret in SECRETS if secret in done.stdout + done.stderr]


def test_json_report_and_exit_codes(tmp_path: Path) -> None:
    done = paved_notebooks(EXPLORATORY, "--format", "json")
    assert done.returncode == 1, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert data["verdict"] == "not_ready"
    assert {r["family"] for r in data["results"]} == {"NB"}
    clean = paved_notebooks(FIXTURES / "nb007" / "pass", "--format", "json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["verdict"] == "ready"


def test_works_without_a_contract_and_writes_sarif(tmp_path: Path) -> None:
    notebook = (EXPLORATORY / "notebooks" / "explore.ipynb").read_bytes()
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "explore.ipynb").write_bytes(notebook)
    output = tmp_path / "report.sarif"
    done = paved_notebooks(tmp_path, "--format", "sarif", "--output", str(output))
    assert done.returncode == 1, done.stderr
    sarif = json.loads(output.read_text(encoding="utf-8"))
    locations = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert locations == {"nb/explore.ipynb"}
    assert "Traceback" not in done.stderr


def test_a_project_without_notebooks_is_ready() -> None:
    done = paved_notebooks(FIXTURES / "mod001" / "pass", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert {r["status"] for r in json.loads(done.stdout)["results"]} == {"skip"}
