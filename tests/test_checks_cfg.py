"""CFG: declared settings are read and documented, and settings read are declared."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.results import Result, Status

Tree = Callable[[Mapping[str, str]], Path]


def failures(root: Path, check_id: str) -> list[Result]:
    results = results_of(root, check_id)
    assert all(r.status in (Status.FAIL, Status.PASS) for r in results), results
    failing = [r for r in results if r.status is Status.FAIL]
    passing = {r.subject for r in results if r.status is Status.PASS}
    assert not passing & {r.subject for r in failing}, "evidence for a subject with a gap"
    return failing


def evidence(root: Path, check_id: str) -> list[tuple[str | None, str, str]]:
    """The passing rows: (subject, message, location)."""
    results = results_of(root, check_id)
    return [(r.subject, r.message, str(r.location)) for r in results if r.status is Status.PASS]


# -- CFG001 ------------------------------------------------------------------------------------


def test_cfg001_passes_through_aliases_settings_classes_and_a_broken_file() -> None:
    # pass/ reads through pydantic-settings (prefix, inherited prefix, alias), `from os import
    # environ as env`, `import os as system`, and holds a file that does not parse.
    results = results_of(FIXTURES / "cfg001" / "pass", "CFG001")
    assert {r.status for r in results} == {Status.PASS}
    via = "via pydantic-settings field"
    assert evidence(FIXTURES / "cfg001" / "pass", "CFG001") == [
        (
            "CHURN_MODEL_PATH",
            f"CHURN_MODEL_PATH is read at src/churn/settings.py:11 {via} Settings.model_path",
            "src/churn/settings.py:11",
        ),
        (
            "CHURN_THRESHOLD",
            f"CHURN_THRESHOLD is read at src/churn/settings.py:12 {via} Settings.threshold",
            "src/churn/settings.py:12",
        ),
        (
            "CHURN_API_KEY",
            f"CHURN_API_KEY is read at src/churn/settings.py:18 {via} ServingSettings.token",
            "src/churn/settings.py:18",
        ),
        (
            "CHURN_LOG_LEVEL",
            "CHURN_LOG_LEVEL is read at src/churn/logs.py:8 via os.environ.get()",
            "src/churn/logs.py:8",
        ),
        (
            "CHURN_BATCH_SIZE",
            "CHURN_BATCH_SIZE is read at src/churn/batch.py:7 via os.getenv()",
            "src/churn/batch.py:7",
        ),
    ]


def test_cfg001_evidence_counts_every_place_that_reads_the_variable(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[config]\nenv = ["APP_MODE"]\n',
            "src/app/cli.py": "import os\n\nMODE = os.getenv('APP_MODE')\n",
            "src/app/serve.py": "import os\nos.environ['APP_MODE']\nos.environ.get('APP_MODE')\n",
            "tests/test_mode.py": "import os\nos.getenv('APP_MODE')\n",  # tests are not counted
        }
    )
    assert evidence(root, "CFG001") == [
        (
            "APP_MODE",
            "APP_MODE is read in 3 places in 2 files, first at src/app/cli.py:3 via os.getenv()",
            "src/app/cli.py:3",
        )
    ]


def test_cfg001_reports_each_unread_variable_with_what_came_close() -> None:
    gaps = failures(FIXTURES / "cfg001" / "fail-unread", "CFG001")
    assert [g.subject for g in gaps] == ["CHURN_THRESHOLD", "CHURN_RETRIES"]
    assert evidence(FIXTURES / "cfg001" / "fail-unread", "CFG001") == [
        (
            "CHURN_MODEL_PATH",
            "CHURN_MODEL_PATH is read at src/churn/model.py:5 via os.getenv()",
            "src/churn/model.py:5",
        )
    ]
    assert {str(g.location) for g in gaps} == {"handoff.toml:5"}
    threshold, retries = gaps
    assert threshold.message == (
        "CHURN_THRESHOLD is declared in [config].env but no production code reads it; "
        "src/churn/settings.py:9 reads CHURN_threshold (pydantic-settings field "
        "Settings.threshold), which differs in case; "
        "src/churn/legacy.py could not be parsed and was not searched"
    )
    assert retries.message == (
        "CHURN_RETRIES is declared in [config].env but no production code reads it; "
        "only tests read it (tests/retry_checks.py:6); "
        "src/churn/legacy.py could not be parsed and was not searched"
    )
    assert retries.fix is not None and 'os.environ.get("CHURN_RETRIES")' in retries.fix


def test_cfg001_reads_in_real_test_files_do_not_count(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[config]\nenv = ["CHURN_SEED"]\n',
            "src/churn/__init__.py": "",
            "tests/test_seed.py": "import os\n\nSEED = os.environ['CHURN_SEED']\n",
            "src/churn/test_helpers.py": "import os\nos.getenv('CHURN_SEED')\n",
        }
    )
    (gap,) = failures(root, "CFG001")
    assert gap.subject == "CHURN_SEED"
    assert "only tests read it (src/churn/test_helpers.py:2)" in gap.message


def test_cfg001_is_skipped_without_a_config_section(tree: Tree) -> None:
    root = tree({"handoff.toml": '[contract]\nname = "x"\n'})
    (result,) = results_of(root, "CFG001")
    assert (result.status, result.message) == (Status.SKIP, "no [config] section in the contract")


# -- CFG002 ------------------------------------------------------------------------------------


def test_cfg002_passes_with_the_readme_and_docs_together() -> None:
    results = results_of(FIXTURES / "cfg002" / "pass", "CFG002")
    assert {r.status for r in results} == {Status.PASS}
    assert evidence(FIXTURES / "cfg002" / "pass", "CFG002") == [
        ("CHURN_MODEL_PATH", "CHURN_MODEL_PATH is documented in README.md:5", "README.md:5"),
        (
            "CHURN_THRESHOLD",
            "CHURN_THRESHOLD is documented in docs/operations.md:3",
            "docs/operations.md:3",
        ),
    ]


def test_cfg002_evidence_is_the_first_whole_word_mention(tree: Tree) -> None:
    readme = "# App\n\nSet APP_MODE_EXTRA for tracing.\n\n## Configuration\n\n- `APP_MODE`: dev or prod\n"
    root = tree({"handoff.toml": '[config]\nenv = ["APP_MODE"]\n', "README.md": readme})
    assert evidence(root, "CFG002") == [
        ("APP_MODE", "APP_MODE is documented in README.md:7", "README.md:7")
    ]


def test_cfg002_a_longer_name_does_not_document_a_shorter_one() -> None:
    (gap,) = failures(FIXTURES / "cfg002" / "fail-undocumented", "CFG002")
    assert evidence(FIXTURES / "cfg002" / "fail-undocumented", "CFG002") == [
        ("CHURN_MODEL_PATH", "CHURN_MODEL_PATH is documented in README.md:5", "README.md:5")
    ]
    assert gap.subject == "CHURN_THRESHOLD"
    assert gap.message == (
        "CHURN_THRESHOLD is declared in [config].env but not documented in README.md"
    )
    assert str(gap.location) == "handoff.toml:4"  # its own entry of the env array
    assert gap.fix is not None and gap.fix.startswith("Describe CHURN_THRESHOLD in README.md")


def test_cfg002_without_any_document(tree: Tree) -> None:
    root = tree({"handoff.toml": '[config]\nenv = ["A", "B"]\n'})
    gaps = failures(root, "CFG002")
    assert [g.subject for g in gaps] == ["A", "B"]
    assert gaps[0].message == (
        "A is declared in [config].env but not documented in any document "
        "(there is no README and no docs/)"
    )


# -- CFG003 ------------------------------------------------------------------------------------


def test_cfg003_passes_with_machine_variables_dynamic_names_tests_and_a_broken_file() -> None:
    results = results_of(FIXTURES / "cfg003" / "pass", "CFG003")
    assert {r.status for r in results} == {Status.PASS}
    via = "via pydantic-settings field Settings"
    assert evidence(FIXTURES / "cfg003" / "pass", "CFG003") == [
        (
            "CHURN_MODEL_PATH",
            "CHURN_MODEL_PATH is declared in [config].env and read at "
            f"src/churn/settings.py:8 {via}.model_path",
            "handoff.toml:2",
        ),
        (
            "CHURN_THRESHOLD",
            "CHURN_THRESHOLD is declared in [config].env and read at "
            f"src/churn/settings.py:9 {via}.threshold",
            "handoff.toml:2",
        ),
    ]


def test_cfg003_evidence_points_at_the_declaration_of_each_variable_read(tree: Tree) -> None:
    # In the order the code reads them; each at its own entry of [config].env.
    root = tree(
        {
            "handoff.toml": '[config]\nenv = [\n  "APP_MODE",\n  "APP_UNUSED",\n  "APP_PORT",\n]\n',
            "src/app.py": "import os\nos.getenv('APP_PORT')\nos.getenv('APP_MODE')\n",
        }
    )
    assert evidence(root, "CFG003") == [
        (
            "APP_PORT",
            "APP_PORT is declared in [config].env and read at src/app.py:2 via os.getenv()",
            "handoff.toml:5",
        ),
        (
            "APP_MODE",
            "APP_MODE is declared in [config].env and read at src/app.py:3 via os.getenv()",
            "handoff.toml:3",
        ),
    ]


def test_cfg003_code_that_reads_no_setting_says_so(tree: Tree) -> None:
    root = tree(
        {"handoff.toml": "[config]\nenv = []\n", "src/app.py": "import os\nos.getenv('HOME')\n"}
    )
    assert evidence(root, "CFG003") == [
        (None, "production code reads no configuration from the environment", "None")
    ]


def test_cfg003_one_gap_per_undeclared_variable_at_its_first_read() -> None:
    root = FIXTURES / "cfg003" / "fail-undeclared"
    gaps = failures(root, "CFG003")
    assert [(g.subject, str(g.location)) for g in gaps] == [
        ("CHURN_DEBUG_SAMPLE", "src/churn/features.py:3"),
        ("CHURN_CACHE_DIR", "src/churn/model.py:12"),
    ]
    assert [subject for subject, _, _ in evidence(root, "CFG003")] == ["CHURN_MODEL_PATH"]
    debug, cache = gaps
    assert debug.message == (
        "CHURN_DEBUG_SAMPLE is read by the code but not declared in [config].env: read in 3 "
        "places in 2 files, first at src/churn/features.py:3 via os.getenv()"
    )
    assert cache.message == (
        "CHURN_CACHE_DIR is read by the code but not declared in [config].env: read at "
        "src/churn/model.py:12 via pydantic-settings field Cache.cache_dir"
    )
    assert (
        debug.fix == 'Add "CHURN_DEBUG_SAMPLE" to [config].env and document it, or stop reading it.'
    )


@pytest.mark.parametrize("name", ["HOME", "PATH", "TMPDIR", "LANG", "TZ", "CI"])
def test_cfg003_machine_variables_are_not_configuration(tree: Tree, name: str) -> None:
    root = tree(
        {
            "handoff.toml": "[config]\nenv = []\n",
            "src/app.py": f"import os\nos.environ.get('{name}')\nos.getenv('APP_MODE')\n",
        }
    )
    (gap,) = failures(root, "CFG003")
    assert gap.subject == "APP_MODE"


def test_cfg003_declared_names_match_settings_case_insensitively(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[config]\nenv = ["CHURN_MODEL_PATH"]\n',
            "src/churn/settings.py": (
                "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n"
                "class Settings(BaseSettings):\n"
                "    model_config = SettingsConfigDict(env_prefix='churn_')\n"
                "    model_path: str = ''\n"
            ),
        }
    )
    (result,) = results_of(root, "CFG003")
    assert (result.status, result.subject) == (Status.PASS, "CHURN_MODEL_PATH")


def test_cfg003_a_waiver_accepts_one_variable(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[config]\nenv = []\n\n[[waivers]]\ncheck = "CFG003"\n'
            'subject = "LEGACY_MODE"\nreason = "removed with the v1 endpoint"\n'
            "expires = 2099-01-01\n",
            "src/app.py": "import os\nos.getenv('LEGACY_MODE')\nos.getenv('APP_MODE')\n",
        }
    )
    results = {r.subject: r.status for r in results_of(root, "CFG003")}
    assert results == {"LEGACY_MODE": Status.WAIVED, "APP_MODE": Status.FAIL}
