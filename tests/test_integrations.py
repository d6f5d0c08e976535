"""The integrations pavedroad ships for other tools: pre-commit hooks (.pre-commit-hooks.yaml),
a GitHub composite action (action.yml) and a GitLab CI template (ci/paved.gitlab-ci.yml).

Their shell is run here as the runners run it (the variables GitHub and GitLab set, real files,
`paved` itself), the options they pass are checked against `paved ... --help`, and pre-commit
installs and runs the hooks from a git copy of this checkout (slow).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from pavedroad import __version__

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
BIN = Path(sys.executable).parent
HOOKS = REPO / ".pre-commit-hooks.yaml"
ACTION = REPO / "action.yml"
GITLAB = REPO / "ci" / "paved.gitlab-ci.yml"
README = REPO / "README.md"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A script as a runner runs it: bash, errexit and pipefail (GitHub's `shell: bash`)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def with_paved(**variables: str) -> dict[str, str]:
    """The environment with this venv's `paved` first on the PATH, plus `variables`."""
    path = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, **variables}


# -- every paved option they use exists -------------------------------------------------------


def paved_commands() -> list[tuple[str, str]]:
    """(where, command line) for every `paved ...` the integrations run."""
    found = [(f"{HOOKS.name} {h['id']}", h["entry"]) for h in load(HOOKS)]
    for step in load(ACTION)["runs"]["steps"]:
        found += [(f"action step {step.get('name')}", line) for line in _lines(step.get("run"))]
    found += [(GITLAB.name, line) for line in load(GITLAB)[".paved-check"]["script"]]
    return [(where, line) for where, line in found if re.match(r"\s*paved\b", line)]


def _lines(script: str | None) -> list[str]:
    return [line.strip() for line in (script or "").splitlines()]


def help_of(*subcommand: str) -> str:
    done = subprocess.run(
        [str(BIN / "paved"), *subcommand, "--help"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_every_paved_option_they_use_exists() -> None:
    commands = paved_commands()
    used = {re.match(r"\s*paved\s+([a-z]+)?", line)[1] for _, line in commands}  # type: ignore[index]
    assert used == {"check", "notebooks", None}  # None: `paved --version`
    helps = {name: help_of(*([name] if name else [])) for name in used}
    for where, line in commands:
        name = re.match(r"\s*paved\s+([a-z]+)?", line)[1]  # type: ignore[index]
        for option in re.findall(r"\s(--?[a-z][a-z-]*)", line):
            assert re.search(rf"(\s|,){option}[\s,]", helps[name]), f"{where}: {option}"
        choices = re.search(r"--format \[([a-z|]+)\]", helps[name])
        for value in re.findall(r"--format (\w+)", line):
            assert choices is not None and value in choices[1].split("|"), where


# -- pre-commit hooks -------------------------------------------------------------------------


def test_the_hooks_run_once_on_the_project() -> None:
    hooks = {hook["id"]: hook for hook in load(HOOKS)}
    assert set(hooks) == {"paved-check", "paved-notebooks"}
    for hook in hooks.values():
        assert hook["language"] == "python"  # pre-commit installs pavedroad from the repository
        assert hook["pass_filenames"] is False  # a contract is about the whole project
        assert hook["name"] and hook["description"]
    assert hooks["paved-check"]["entry"] == "paved check --static"  # no project code runs
    assert "files" not in hooks["paved-check"]  # any file can open or close a gap
    assert hooks["paved-notebooks"]["entry"] == "paved notebooks"
    assert hooks["paved-notebooks"]["types"] == ["jupyter"]


def hooks_repository(destination: Path, env: dict[str, str]) -> Path:
    """What pre-commit clones from pavedroad's repository at a tag: the hooks and the package."""
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(REPO / name, destination / name)
    shutil.copytree(REPO / "src", destination / "src", ignore=shutil.ignore_patterns("__pycache__"))
    git_commit(destination, env)
    return destination


def git_commit(root: Path, env: dict[str, str]) -> None:
    for command in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "files"]):
        subprocess.run(["git", *command], cwd=root, env=env, check=True, capture_output=True)


def project_copy(example: str, destination: Path, env: dict[str, str]) -> Path:
    shutil.copytree(EXAMPLES / example, destination, ignore=shutil.ignore_patterns(".paved"))
    git_commit(destination, env)
    return destination


@pytest.mark.slow
def test_pre_commit_try_repo_runs_the_hooks(tmp_path: Path) -> None:
    """pre-commit builds the hooks' own environment from a git copy of this checkout (pavedroad
    and its dependencies, from PyPI through pip's cache) and runs both on two example projects:
    the READY one passes, the one with the designed gaps fails, naming them."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Test\n\temail = test@example.com\n", encoding="utf-8")
    env = with_paved(
        GIT_CONFIG_GLOBAL=str(config),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
    )
    env.pop("VIRTUAL_ENV", None)
    (tmp_path / "pavedroad").mkdir()
    hooks = hooks_repository(tmp_path / "pavedroad", env)
    pre_commit = str(BIN / "pre-commit")

    ready = project_copy("churn-service", tmp_path / "service", env)
    passed = subprocess.run(
        [pre_commit, "try-repo", str(hooks), "--all-files"],
        cwd=ready,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"paved check --static\.+Passed", passed.stdout), passed.stdout
    assert re.search(r"paved notebooks\.+\(no files to check\)Skipped", passed.stdout)

    gaps = project_copy("churn-notebook", tmp_path / "notebook", env)
    failed = subprocess.run(
        [pre_commit, "try-repo", str(hooks), "--all-files"],
        cwd=gaps,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert re.search(r"paved check --static\.+Failed", failed.stdout)
    assert re.search(r"paved notebooks\.+Failed", failed.stdout)
    assert "NOT READY" in failed.stdout and "MOD001" in failed.stdout and "NB00" in failed.stdout


# -- the GitHub composite action --------------------------------------------------------------


def steps() -> list[dict[str, Any]]:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    found: list[dict[str, Any]] = action["runs"]["steps"]
    return found


def step_with(text: str) -> dict[str, Any]:
    [step] = [s for s in steps() if text in str(s.get("run", "")) + str(s.get("uses", ""))]
    return step


def test_the_action_declares_what_it_uses() -> None:
    action = load(ACTION)
    text = ACTION.read_text(encoding="utf-8")
    declared = set(action["inputs"])
    assert declared == {"path", "version", "extras", "python-version", "args", "upload-sarif"}
    assert set(re.findall(r"inputs\.([a-z-]+)", text)) == declared
    for step in steps():
        if "run" in step:
            assert step["shell"] == "bash"  # a composite step must name its shell
            assert "${{" not in step["run"], "inputs reach scripts as variables, not pasted in"
    for output in action["outputs"].values():
        assert output["value"].startswith("${{ steps.check.outputs.")


def test_the_action_uploads_the_reports_before_it_fails_the_job() -> None:
    order = steps()
    check, upload = step_with("--format sarif"), step_with("upload-sarif")
    summary, gate = step_with("GITHUB_STEP_SUMMARY"), order[-1]
    assert check["id"] == "check"
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    assert "always()" in upload["if"] and "always()" in summary["if"]
    assert gate["if"] == "always()" and "exit 1" in gate["run"]
    assert order.index(check) < order.index(summary) < order.index(upload) < order.index(gate)
    setup = order[0]
    assert (
        setup["uses"] == "actions/setup-python@v5" and setup["if"] == "inputs.python-version != ''"
    )


def github_runner(tmp_path: Path, **inputs: str) -> dict[str, str]:
    """The variables a GitHub runner gives a composite step, with the step's `env:`."""
    for name in ("output", "summary", "temp"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "temp").mkdir(exist_ok=True)
    return with_paved(
        GITHUB_OUTPUT=str(tmp_path / "output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
        RUNNER_TEMP=str(tmp_path / "temp"),
        **inputs,
    )


def outputs(tmp_path: Path) -> dict[str, str]:
    text = (
        (tmp_path / "output").read_text(encoding="utf-8") if (tmp_path / "output").exists() else ""
    )
    return dict(line.split("=", 1) for line in text.splitlines())


@pytest.mark.parametrize(
    ("example", "code", "verdict"),
    [("churn-service", "0", "ready"), ("churn-notebook", "1", "not_ready")],
)
def test_the_action_scripts_report_and_gate(
    tmp_path: Path, example: str, code: str, verdict: str
) -> None:
    """The action's own shell, run with the runner's variables on an example: SARIF for the
    upload, Markdown on the summary page, and the gate's exit code."""
    env = github_runner(tmp_path, PAVED_PATH=str(EXAMPLES / example), PAVED_ARGS="--static")
    checked = bash(step_with("--format sarif")["run"], tmp_path, env)
    assert checked.returncode == 0, checked.stderr  # the gate comes last, after the uploads
    found = outputs(tmp_path)
    assert found == {
        "exit-code": code,
        "verdict": verdict,
        "sarif-file": str(tmp_path / "temp/paved.sarif"),
    }
    sarif = json.loads(Path(found["sarif-file"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert bool(sarif["runs"][0]["results"]) is (verdict == "not_ready")

    summary = bash(step_with("GITHUB_STEP_SUMMARY")["run"], tmp_path, env)
    assert summary.returncode == 0, summary.stderr
    page = (tmp_path / "summary").read_text(encoding="utf-8")
    assert ("NOT READY" in page) is (verdict == "not_ready") and "READY" in page

    gate = bash(steps()[-1]["run"], tmp_path, {**env, "STATUS": found["exit-code"]})
    assert gate.returncode == int(code)
    if code == "1":
        assert gate.stdout.startswith("::error title=paved check::NOT READY")


def test_a_contract_error_fails_the_gate_with_its_exit_code(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "handoff.toml").write_text("[owners]\nenginering = 'me'\n", encoding="utf-8")
    env = github_runner(tmp_path, PAVED_PATH=str(project), PAVED_ARGS="")
    checked = bash(step_with("--format sarif")["run"], tmp_path, env)
    assert checked.returncode == 0
    assert "did you mean 'engineering'" in checked.stderr
    assert outputs(tmp_path) == {"exit-code": "2"}  # no verdict, no SARIF to upload
    gate = bash(steps()[-1]["run"], tmp_path, {**env, "STATUS": "2"})
    assert gate.returncode == 2 and "usage or contract error" in gate.stdout


# -- the GitLab CI template -------------------------------------------------------------------


def test_the_gitlab_template_is_a_hidden_job_with_a_junit_report() -> None:
    template = load(GITLAB)
    assert list(template) == [".paved-check"]  # hidden: it runs only where a job extends it
    job = template[".paved-check"]
    assert job["variables"]["PAVED_VERSION"] == __version__
    [check] = [line for line in job["script"] if line.startswith("paved check")]
    report = re.search(r"--format junit --output (\S+)", check)
    assert report is not None
    assert job["artifacts"]["reports"]["junit"] == report[1]
    assert job["artifacts"]["when"] == "always"


def test_the_gitlab_script_writes_the_junit_report(tmp_path: Path) -> None:
    """The template's `paved check` line, run by sh with its variables, as a job would."""
    job = load(GITLAB)[".paved-check"]
    [check] = [line for line in job["script"] if line.startswith("paved check")]
    variables = {**job["variables"], "PAVED_PATH": str(EXAMPLES / "churn-notebook")}
    variables["PAVED_ARGS"] = "--static --only NB,MOD"
    done = subprocess.run(
        ["sh", "-c", check], cwd=tmp_path, env=with_paved(**variables), capture_output=True
    )
    assert done.returncode == 1  # NOT READY fails the job
    junit = ET.parse(tmp_path / job["artifacts"]["reports"]["junit"]).getroot()
    failed = {
        case.get("name", "") for case in junit.iter("testcase") if case.find("failure") is not None
    }
    assert any("MOD001" in name for name in failed) and any("NB" in name for name in failed)


# -- documented with copy-paste examples ------------------------------------------------------


def readme_yaml(after: str) -> list[Any]:
    """The YAML blocks of the README's section `after`."""
    section = README.read_text(encoding="utf-8").split(after, 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)]


def test_the_readme_shows_each_integration_ready_to_paste() -> None:
    blocks = readme_yaml("## CI and pre-commit")
    text = json.dumps(blocks)
    release = f"v{__version__}"
    hooks = next(b for b in blocks if isinstance(b, dict) and "repos" in b)["repos"][0]
    assert hooks["rev"] == release and {h["id"] for h in hooks["hooks"]} == {
        "paved-check",
        "paved-notebooks",
    }
    assert f"pavedroad/pavedroad@{release}" in text
    assert f"pavedroad/{release}/ci/paved.gitlab-ci.yml" in text
    assert '"extends": ".paved-check"' in text
