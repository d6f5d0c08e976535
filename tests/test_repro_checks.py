"""The REP checks on recorded clean-room runs: tests/fixtures/rep00N/{pass,fail}/.

REP001-REP007 and REP009 judge the outcome `paved repro` records in `.paved/repro.json`, with the hash of
every file of the tree it ran on; REP008 an attestation. The fixtures are written from the specs
below: after changing a spec or a fixture's files, run `python tests/test_repro_checks.py` to
write them again (a test fails while they differ from their spec).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, results_of

from pavedroad.contract import load_contract
from pavedroad.project import Project
from pavedroad.repro import attestation, files, record
from pavedroad.repro.outcome import (
    EntryPointFacts,
    EnvironmentFacts,
    EnvReadFacts,
    EvaluationFacts,
    FailedTest,
    FileRead,
    ImportFacts,
    MetricFacts,
    MissingModule,
    NotebookFacts,
    NotebooksFacts,
    Outcome,
    PackageFacts,
    SuiteFacts,
)
from pavedroad.results import Status

CREATED = "2026-01-15T10:00:00+00:00"
COMMIT = "1f0e" + "0" * 36
ENVIRONMENT = EnvironmentFacts(
    python="CPython 3.11.7", interpreter="/usr/bin/python3.11", source="uv.lock", packages=12
)
WHEEL = "scorer-0.1.0-py3-none-any.whl"
PACKAGE = PackageFacts(
    wheel=WHEEL,
    wheel_sha256="0" * 64,
    imports=[ImportFacts("scorer", file="src/scorer/__init__.py")],
)
TESTS = '\n[tests]\ncommand = "pytest -q"\n'
PERFORMANCE = (
    '\n[performance]\ndataset = "data/golden.csv"\ntarget = "churned"\n'
    "metrics = { roc_auc = { min = 0.6 } }\n"
)
CONFIG = '\n[config]\nenv = ["SCORER_BIAS"]\n'
NOTEBOOKS = '\n[notebooks]\npaths = ["notebooks"]\n'
LOCAL = "`paved evaluate` run 3 of 2026-01-15 09:58 UTC"

# (check, variant) -> (what the fixture shows, extra contract tables, the recorded facts)
RECORDED: dict[tuple[str, str], tuple[str, str, dict[str, Any]]] = {
    ("rep001", "pass"): (
        "A run whose environment was built from uv.lock.",
        "",
        {"environment": ENVIRONMENT},
    ),
    ("rep001", "fail"): (
        "A run where uv could not resolve the requirements.",
        "",
        {
            "environment": EnvironmentFacts(
                python="CPython 3.11.7",
                interpreter="/usr/bin/python3.11",
                source="the declared requirements of pyproject.toml",
                error="No solution found when resolving dependencies:\n  Because there is no "
                "version of torch==9.9.0 and you require torch==9.9.0, we can conclude that your "
                "requirements are unsatisfiable.",
            )
        },
    ),
    ("rep002", "pass"): (
        "A run whose wheel imported.",
        "",
        {"environment": ENVIRONMENT, "package": PACKAGE},
    ),
    ("rep002", "fail"): (
        "A run whose wheel holds no module: `import scorer` fails.",
        "",
        {
            "environment": ENVIRONMENT,
            "package": PackageFacts(
                wheel=WHEEL,
                wheel_sha256="0" * 64,
                imports=[
                    ImportFacts("scorer", error="ModuleNotFoundError: No module named 'scorer'")
                ],
            ),
        },
    ),
    ("rep003", "pass"): (
        "A run whose tests passed.",
        TESTS,
        {
            "environment": ENVIRONMENT,
            "tests": SuiteFacts("pytest -q", returncode=0, summary="4 passed in 0.10s"),
        },
    ),
    ("rep003", "fail"): (
        "A run whose tests fail there: yaml is not declared.",
        TESTS,
        {
            "environment": ENVIRONMENT,
            "tests": SuiteFacts(
                "pytest -q",
                returncode=2,
                summary="1 error in 0.08s",
                failures=[
                    FailedTest(
                        "tests/test_settings.py",
                        "ModuleNotFoundError: No module named 'yaml'",
                        "pass",
                    )
                ],
                missing=[MissingModule("yaml", "pyyaml", ["tests/test_settings.py"])],
            ),
        },
    ),
    ("rep004", "pass"): (
        "A run whose metrics match the local run's.",
        PERFORMANCE,
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "evaluation": EvaluationFacts(
                local=LOCAL,
                metrics=[MetricFacts("roc_auc", 0.8831, 0.8831)],
                budgets={"latency_p99_ms": 0.2},
            ),
        },
    ),
    ("rep004", "fail"): (
        "A run whose roc_auc differs from the local run's (other library versions).",
        PERFORMANCE,
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "evaluation": EvaluationFacts(
                local=LOCAL, metrics=[MetricFacts("roc_auc", 0.8112, 0.8454)]
            ),
        },
    ),
    ("rep005", "pass"): (
        "A run that read no untracked file.",
        "",
        {"environment": ENVIRONMENT, "package": PACKAGE},
    ),
    ("rep005", "fail"): (
        "A run whose code read data/regions.csv, which .gitignore ignores.",
        "",
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "file_reads": [
                FileRead(
                    "data/regions.csv",
                    "ignored by .gitignore:2 (`data/`)",
                    "opened in the clean room",
                )
            ],
        },
    ),
    ("rep006", "pass"): (
        "A run whose code read only the declared SCORER_BIAS.",
        CONFIG,
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "env_reads": [EnvReadFacts("SCORER_BIAS", "src/scorer/model.py:10")],
        },
    ),
    ("rep006", "fail"): (
        "A run whose code read SCORER_CUTOFF, which [config].env does not declare.",
        CONFIG,
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "env_reads": [
                EnvReadFacts("SCORER_BIAS", "src/scorer/model.py:10"),
                EnvReadFacts("SCORER_CUTOFF", "src/scorer/model.py:12"),
            ],
        },
    ),
    ("rep007", "pass"): (
        "A run whose entry point shows its help.",
        "",
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "entry_points": [
                EntryPointFacts("scorer", "scorer.cli:main", 0, output="usage: scorer [-h]\n")
            ],
        },
    ),
    ("rep007", "fail"): (
        "A run whose entry point raises at import: matplotlib is not declared.",
        "",
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "entry_points": [
                EntryPointFacts(
                    "scorer-train",
                    "scorer.train:main",
                    1,
                    error="ModuleNotFoundError: No module named 'matplotlib'",
                    where="src/scorer/train.py:3",
                )
            ],
        },
    ),
    ("rep009", "pass"): (
        "A run whose notebook ran top to bottom in the clean room.",
        NOTEBOOKS,
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "notebooks": NotebooksFacts(runs=[NotebookFacts("notebooks/explore.ipynb", 4)]),
        },
    ),
    ("rep009", "fail"): (
        "A run whose notebook stops at `import yaml`: PyYAML was installed by hand.",
        NOTEBOOKS,
        {
            "environment": ENVIRONMENT,
            "package": PACKAGE,
            "notebooks": NotebooksFacts(
                runs=[
                    NotebookFacts(
                        "notebooks/explore.ipynb",
                        4,
                        cell=2,
                        line=1,
                        code="import yaml",
                        error="ModuleNotFoundError: No module named 'yaml'",
                        kind="exception",
                        module="yaml",
                        distribution="pyyaml",
                        locally="pass",
                    )
                ]
            ),
        },
    ),
}
ATTESTED = {
    "handoff.toml": '[model]\nartifact = "models/weights.json"\n',
    "models/weights.json": '{"bias": 0.4}\n',
    "src/scorer/__init__.py": '"""Scores."""\n',
    "src/scorer/model.py": "BIAS = 0.4\n",
}
CHANGED_SINCE = {"src/scorer/model.py": "BIAS = 0.5\n", "models/weights.json": '{"bias": 0.5}\n'}


def _contract(name: str, comment: str, tables: str) -> str:
    return f'# {comment}\n[contract]\nversion = 1\nname = "{name}"\n{tables}'


def _every_file(folder: Path) -> files.Listing:
    """The fixture's files as a clone holds them, whether or not they are committed yet."""
    found = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and files.TOOL_STATE not in p.parts
    )
    return files.Listing(root=folder, files=tuple(found), in_git=False)


def write_fixtures(root: Path = FIXTURES) -> None:
    for (check, variant), (comment, tables, facts) in RECORDED.items():
        folder = root / check / variant
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        text = _contract(f"{check}-{variant}", f"Recorded clean room: {comment}", tables)
        (folder / "handoff.toml").write_text(text, encoding="utf-8")
        fingerprint = files.fingerprint(_every_file(folder))
        outcome = Outcome(
            created=CREATED, python="CPython 3.11.7", commit=COMMIT, files=fingerprint, **facts
        )
        record.write(folder, outcome)
    for variant in ("pass", "fail"):
        folder = root / "rep008" / variant
        shutil.rmtree(folder, ignore_errors=True)
        comment = (
            "An attestation that matches the tree."
            if variant == "pass"
            else "An attestation made before src/scorer/model.py and the model artifact changed."
        )
        for relative, text in ATTESTED.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if relative == "handoff.toml":
                text = _contract(f"rep008-{variant}", comment, "\n" + text)
            path.write_text(text, encoding="utf-8")
        project = Project(folder, load_contract(folder / "handoff.toml"))
        outcome = Outcome(
            created=CREATED,
            python="CPython 3.11.7",
            commit=COMMIT,
            files=files.fingerprint(_every_file(folder)),
            package=PACKAGE,
        )
        attestation.write(
            project, attestation.build(project, outcome, lock=None, frozen=["pydantic==2.14.4"])
        )
        if variant == "fail":
            for relative, text in CHANGED_SINCE.items():
                (folder / relative).write_text(text, encoding="utf-8")


def test_the_fixtures_are_what_their_specs_write(tmp_path: Path) -> None:
    write_fixtures(tmp_path)
    for written in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        relative = written.relative_to(tmp_path)
        fixture = FIXTURES / relative
        assert fixture.is_file(), f"{relative} is missing: run `python tests/test_repro_checks.py`"
        assert fixture.read_bytes() == written.read_bytes(), (
            f"{relative} differs from its spec: run `python tests/test_repro_checks.py`"
        )


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("REP001", "No solution found when resolving dependencies"),
        ("REP002", "`import scorer` fails in the clean room: ModuleNotFoundError"),
        (
            "REP003",
            "yaml is imported but not installed from the declared dependencies (it is provided by pyyaml)",
        ),
        ("REP004", "roc_auc is 0.8112 in the clean room but 0.8454 in the local run"),
        (
            "REP005",
            "data/regions.csv is read but git does not track it (ignored by .gitignore:2 (`data/`)",
        ),
        ("REP006", "SCORER_CUTOFF is read at src/scorer/model.py:12 in the clean room"),
        (
            "REP007",
            "`scorer-train (scorer.train:main) --help` exits 1 in the clean room: ModuleNotFoundError",
        ),
        (
            "REP008",
            "no longer matches the tree: the model artifact models/weights.json changed; changed: src/scorer/model.py",
        ),
        (
            "REP009",
            "notebooks/explore.ipynb cell 2 line 1 fails in the clean room: ModuleNotFoundError: "
            "No module named 'yaml' at `import yaml`; the same cells run locally",
        ),
    ],
)
def test_each_gap_says_what_and_where(check: str, expected: str) -> None:
    (gap,) = [
        r for r in results_of(FIXTURES / check.lower() / "fail", check) if r.status is Status.FAIL
    ]
    assert expected in gap.message


def test_the_notebook_gap_says_what_to_declare() -> None:
    (gap,) = [r for r in results_of(FIXTURES / "rep009/fail", "REP009") if r.status is Status.FAIL]
    assert gap.subject == "notebooks/explore.ipynb"
    assert gap.location is not None and gap.location.path == "notebooks/explore.ipynb"
    assert gap.fix is not None and gap.fix.startswith("Declare pyyaml (it provides yaml;")


def test_notebooks_not_run_in_the_room_are_skipped_saying_how(tmp_path: Path) -> None:
    """A recorded run without --notebooks: REP009 is skipped, never failed, and says why."""
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES / "rep009/pass", folder)
    (folder / "notebooks").mkdir()
    shutil.copy(
        FIXTURES / "repro-notebooks/notebooks/runs.ipynb", folder / "notebooks/explore.ipynb"
    )
    outcome = Outcome(
        created=CREATED,
        python="CPython 3.11.7",
        commit=COMMIT,
        files=files.fingerprint(_every_file(folder)),
        environment=ENVIRONMENT,
        package=PACKAGE,
    )
    record.write(folder, outcome)
    (result,) = results_of(folder, "REP009")
    assert result.status is Status.SKIP
    assert result.message.startswith(
        "the clean room did not run the notebooks: `paved repro --notebooks` runs them"
    )
    (folder / "notebooks/explore.ipynb").unlink()
    outcome.files = files.fingerprint(_every_file(folder))
    record.write(folder, outcome)
    (result,) = results_of(folder, "REP009")
    assert result.status is Status.SKIP and result.message.startswith("no notebooks")


def test_a_recorded_run_of_another_tree_is_not_judged(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES / "rep003/fail", folder)
    (folder / "handoff.toml").write_text(
        (folder / "handoff.toml").read_text(encoding="utf-8") + "# edited\n", encoding="utf-8"
    )
    (result,) = results_of(folder, "REP003")
    assert result.status is Status.SKIP
    assert result.message.startswith(
        "the last clean-room run (2026-01-15T10:00:00+00:00) was of another tree"
    )
    assert "changed: handoff.toml" in result.message


def test_the_attestation_evidence_names_when_and_what() -> None:
    (result,) = results_of(FIXTURES / "rep008/pass", "REP008")
    assert result.message == (
        "attested by `paved repro` on 2026-01-15T10:00:00+00:00 (CPython 3.11.7, commit "
        "1f0e00000000): 4 files unchanged"
    )
    data = json.loads(
        (FIXTURES / "rep008/pass/.paved/attestation.json").read_text(encoding="utf-8")
    )
    assert set(data) >= {
        "lock",
        "wheel",
        "artifact",
        "dataset",
        "contract",
        "python",
        "commit",
        "metrics",
        "budgets",
        "files",
    }


if __name__ == "__main__":
    write_fixtures()
    sys.stdout.write("REP fixtures written under tests/fixtures/rep00N/\n")
