"""`paved new`: the bundled Copier template, rendered for real, and what the new project holds.

These tests need no virtual environment: they read the rendered files (TOML, YAML, notebook
JSON, the contract through its loader), lint the rendered Python with ruff, and run the static
checks. test_new_project.py sets a rendered project up in a fresh environment (slow).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from helpers import check_project

from pavedroad import __version__, cli
from pavedroad.contract import load_contract
from pavedroad.results import Status
from pavedroad.scaffold import new as scaffold

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RUFF = Path(sys.executable).with_name("ruff")
# What every rendered project holds, whatever the answers (package "demo").
COMMON = {
    ".copier-answers.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "CODEOWNERS",
    "Makefile",
    "README.md",
    "handoff.toml",
    "notebooks/explore.ipynb",
    "pyproject.toml",
    "scripts/record_sha256.py",
    "src/demo/__init__.py",
    "src/demo/data.py",
    "src/demo/model.py",
    "src/demo/schemas.py",
    "src/demo/settings.py",
    "src/demo/train.py",
    "tests/conftest.py",
    "tests/test_data.py",
    "tests/test_model.py",
    "tests/test_schemas.py",
    "tests/test_settings.py",
    "tests/test_train.py",
}
# The gaps of a project as rendered: the lock and the artifact, which `make setup` writes.
BEFORE_SETUP = {"DEP005", "MOD001"}


def invoke(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    assert isinstance(exited.value.code, int)
    return exited.value.code


def render(tmp_path: Path, name: str = "demo", *data: str) -> Path:
    destination = tmp_path / name
    pairs = [arg for pair in data for arg in ("--data", pair)]
    assert invoke("new", str(destination), "--defaults", *pairs) == 0
    return destination


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def yaml_of(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def failing(root: Path) -> set[str]:
    verdict = check_project(root, static=True)
    return {r.id for r in verdict.results if r.status in (Status.FAIL, Status.ERROR)}


def test_the_template_installs_this_pavedroad_release() -> None:
    config = yaml_of(scaffold.TEMPLATE / "copier.yml")
    assert config["paved_version"]["default"] == __version__


def test_defaults_render_a_complete_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = render(tmp_path)
    out = capsys.readouterr().out
    assert f"created {root} (classification, GitHub Actions, served)" in out
    assert "make setup" in out
    python = f"{sys.version_info.major}.{sys.version_info.minor}"  # the running one
    assert files_of(root) == COMMON | {
        ".dockerignore",
        "Dockerfile",
        ".github/workflows/paved.yml",
    }

    contract = load_contract(root / "handoff.toml").contract
    assert contract.package is not None and contract.package.name == "demo"
    assert contract.model is not None and contract.model.predict == "demo.model:predict"
    assert contract.model.sha256 is None  # recorded by `make accept`, once the model exists
    assert contract.owners is not None
    assert set(contract.owners.required) == {"data_science", "engineering", "on_call"}
    assert contract.config is not None
    assert contract.config.env == ["DEMO_MODEL_PATH", "DEMO_THRESHOLD"]
    assert contract.performance is not None
    assert set(contract.performance.metrics) == {"roc_auc", "brier", "recall"}
    assert contract.dependencies is not None and contract.dependencies.lock == "uv.lock"
    assert contract.dependencies.python == f">={python}"

    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["requires-python"] == f">={python}"
    runtime = pyproject["project"]["dependencies"]
    assert runtime and all("==" in requirement for requirement in runtime)
    assert pyproject["project"]["scripts"] == {"demo-train": "demo.train:main"}

    answers = yaml_of(root / ".copier-answers.yml")
    # the template's home and release, so that `copier update` can find both (test_drift*.py)
    assert answers["_src_path"] == "https://github.com/pavedroad/pavedroad.git"
    assert answers["_commit"] == f"v{__version__}"
    assert answers["task"] == "classification" and answers["python_version"] == python
    assert "paved_version" not in answers  # not a question: the release decides it

    notebook = nbformat.read(root / "notebooks/explore.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert "from demo import data, train" in code[0].source


def test_the_github_workflow_gates_on_paved_check_and_publishes_its_report(tmp_path: Path) -> None:
    root = render(tmp_path)
    workflow = yaml_of(root / ".github/workflows/paved.yml")
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["paved"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "uv sync --locked --extra test" in runs
    assert f'"pavedroad[evaluate]=={__version__}"' in runs
    assert "paved check --format sarif --output paved.sarif" in runs
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action"))
    assert upload["uses"].endswith("/upload-sarif@v3")
    assert upload["with"]["sarif_file"] == "paved.sarif"
    gate = steps[-1]
    assert "paved check --format markdown --output paved.md" in gate["run"]
    assert 'cat paved.md >> "$GITHUB_STEP_SUMMARY"' in gate["run"]
    assert gate["run"].rstrip().endswith("exit $status")  # NOT READY fails the job


def test_the_project_tooling_files(tmp_path: Path) -> None:
    root = render(tmp_path)
    hooks = yaml_of(root / ".pre-commit-config.yaml")["repos"]
    ids = {hook["id"]: hook for repo in hooks for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "nbstripout", "paved-check"} <= set(ids)
    assert ids["paved-check"]["entry"] == "paved check --static"
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    for target in ("setup:", "install:", "lock:", "train:", "accept:", "test:", "check:", "serve:"):
        assert f"\n{target}" in makefile
    assert f"pavedroad[evaluate,lock,serve]=={__version__}" in makefile
    dockerfile = (root / "Dockerfile").read_text(encoding="utf-8")
    assert (
        dockerfile.splitlines()[2]
        == f"FROM python:{sys.version_info.major}.{sys.version_info.minor}-slim"
    )
    assert 'CMD ["paved", "serve", "/app"]' in dockerfile
    assert "pip install --require-hashes -r requirements.txt" in dockerfile
    ignored = (root / ".gitignore").read_text(encoding="utf-8").split()
    assert ".venv/" in ignored and "models/" not in ignored  # the artifact is committed
    owners = (root / "CODEOWNERS").read_text(encoding="utf-8")
    assert "/src/demo/" in owners and "@ml-on-call" in owners


def test_as_rendered_the_only_gaps_are_what_make_setup_writes(tmp_path: Path) -> None:
    assert failing(render(tmp_path)) == BEFORE_SETUP


def test_a_regression_project_without_serving_on_gitlab(tmp_path: Path) -> None:
    root = render(
        tmp_path, "demo", "task=regression", "serving=no", "ci=gitlab", "python_version=3.10"
    )
    assert files_of(root) == COMMON | {".gitlab-ci.yml"}
    gitlab = yaml_of(root / ".gitlab-ci.yml")["paved"]
    assert gitlab["image"] == "python:3.10-slim"
    assert gitlab["artifacts"]["reports"]["junit"] == "paved.xml"
    assert gitlab["artifacts"]["when"] == "always"
    assert any("paved check --format junit --output paved.xml" in line for line in gitlab["script"])
    contract = load_contract(root / "handoff.toml").contract
    assert contract.performance is not None
    assert set(contract.performance.metrics) == {"rmse", "mae", "r2"}
    assert contract.performance.target == contract.performance.prediction == "progression"
    assert contract.config is not None and contract.config.env == ["DEMO_MODEL_PATH"]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert "\nserve:" not in makefile and f"pavedroad[evaluate,lock]=={__version__}" in makefile
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "## Serving" not in readme and "GitLab CI" in readme
    assert failing(root) == BEFORE_SETUP


def test_no_ci_means_no_ci_files(tmp_path: Path) -> None:
    root = render(tmp_path, "demo", "ci=none")
    assert not (root / ".github").exists() and not (root / ".gitlab-ci.yml").exists()
    assert "GitHub" not in (root / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "data",
    [
        ("package_name=customer_lifetime_value_estimator",),
        ("task=regression", "package_name=customer_lifetime_value_estimator"),
    ],
    ids=["classification", "regression"],
)
def test_the_rendered_python_is_ruff_clean(tmp_path: Path, data: tuple[str, ...]) -> None:
    root = render(tmp_path, "demo", *data)
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        ran = subprocess.run(
            [str(RUFF), *command], cwd=root, capture_output=True, text=True, check=False
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr


def test_the_record_script_writes_the_artifacts_sha256_into_the_contract(tmp_path: Path) -> None:
    root = render(tmp_path)
    script = [sys.executable, "scripts/record_sha256.py"]
    missing = subprocess.run(script, cwd=root, capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "run `make train` first" in missing.stderr
    for weights in (b"first model", b"retrained model"):
        (root / "models").mkdir(exist_ok=True)
        (root / "models/model.joblib").write_bytes(weights)
        subprocess.run(script, cwd=root, check=True, capture_output=True)
        model = load_contract(root / "handoff.toml").contract.model
        assert model is not None and model.sha256 == hashlib.sha256(weights).hexdigest()
    text = (root / "handoff.toml").read_text(encoding="utf-8")
    assert text.count("sha256 = ") == 1 and "# `make accept`" not in text


# -- refusals: exit 2, nothing written --------------------------------------------------------


def test_a_folder_that_holds_files_is_refused_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    destination = tmp_path / "demo"
    destination.mkdir()
    (destination / "notes.txt").write_text("mine\n", encoding="utf-8")
    (destination / "Makefile").write_text("all:\n", encoding="utf-8")
    assert invoke("new", str(destination), "--defaults") == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert files_of(destination) == {"notes.txt", "Makefile"}
    assert invoke("new", str(destination), "--defaults", "--force") == 0
    assert (destination / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert "setup:" in (destination / "Makefile").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "tsk=regression"], "the template asks no such question"),
        (["--data", "task"], "is not KEY=VALUE"),
        (["--data", "task=clustering"], "Invalid choice for 'task'"),
        (["--data", "package_name=2fast"], "Validation error for question 'package_name'"),
        (["--data", "owner_engineering=two people"], "one handle or address"),
    ],
)
def test_bad_answers_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert invoke("new", str(tmp_path / "demo"), "--defaults", *args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()


def test_a_name_that_is_no_project_name_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke("new", str(tmp_path / "My Model"), "--defaults") == 2
    assert "Validation error for question 'project_name'" in capsys.readouterr().err
    assert invoke("new", str(tmp_path / "My Model"), "--defaults", "-d", "project_name=mine") == 0


def test_a_destination_under_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes").write_text("", encoding="utf-8")
    assert invoke("new", str(tmp_path / "notes" / "demo"), "--defaults") == 2
    assert "notes exists and is not a folder" in capsys.readouterr().err


def test_questions_need_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("new", str(tmp_path / "demo")) == 2  # pytest's stdin is no terminal
    assert "pass --defaults" in capsys.readouterr().err


def test_without_copier_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "copier", None)  # `import copier` raises ImportError
    assert invoke("new", str(tmp_path / "demo"), "--defaults") == 2
    assert 'pip install "pavedroad[new]"' in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()


def test_help_lists_every_question(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("new", "--help") == 0
    out = capsys.readouterr().out
    asked = scaffold.questions()
    assert [q.key for q in asked][:3] == ["project_name", "package_name", "task"]
    for question in asked:
        assert f"    {question.key}" in out
    assert "ci=github|gitlab|none" in out and "serving=yes|no" in out
    assert "paved_version" not in out
