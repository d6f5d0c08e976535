"""The contract: loading, `extends`, and errors that name the file, the line and the key."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import FIXTURES

from pavedroad.contract import (
    Contract,
    empty_contract,
    find_contract,
    json_schema,
    load_contract,
)
from pavedroad.errors import ContractError, ContractErrors, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Tree = Callable[[Mapping[str, str]], Path]
DESIGN_SAMPLE = FIXTURES / "contracts" / "design-sample.toml"
SHA = "9f2c" + "0" * 60


def errors_of(path: Path) -> list[ContractError]:
    """The errors loading `path` raises: one (a file that cannot be read) or several."""
    with pytest.raises((ContractError, ContractErrors)) as caught:
        load_contract(path)
    error = caught.value
    if isinstance(error, ContractErrors):
        return error.errors
    assert isinstance(error, ContractError)
    return [error]


def only_error(path: Path) -> ContractError:
    found = errors_of(path)
    assert len(found) == 1, [e.render() for e in found]
    return found[0]


# -- loading -------------------------------------------------------------------------------


def test_every_section_is_optional(tree: Tree) -> None:
    root = tree({"handoff.toml": "# nothing enforced yet\n"})
    contract = load_contract(root / "handoff.toml").contract
    assert contract == Contract()
    assert contract.package is None and contract.waivers == []


def test_a_project_without_a_contract_is_held_to_the_empty_one(tmp_path: Path) -> None:
    """empty_contract constructs the model without validating it (a cold `paved deps` saves
    the validator's build): it must be the contract an empty file validates to."""
    loaded = empty_contract(tmp_path)
    assert loaded.contract == Contract()
    assert loaded.contract.model_dump(mode="json") == Contract().model_dump(mode="json")
    assert loaded.path == tmp_path / "handoff.toml" and not loaded.path.exists()


def test_a_full_contract_loads_into_the_model(tree: Tree) -> None:
    text = DESIGN_SAMPLE.read_text(encoding="utf-8").replace('"9f2c..."', f'"{SHA}"')
    text = text.replace('extends = "../platform/base-handoff.toml"', "")
    root = tree({"handoff.toml": text})
    contract = load_contract(root / "handoff.toml").contract
    assert contract.package is not None and contract.package.name == "churn"
    assert contract.owners is not None and contract.owners.named("serving") == ["ml-platform"]
    assert contract.performance is not None
    assert contract.performance.metrics["roc_auc"].min == 0.85
    assert contract.waivers[0].expires == dt.date(2027, 3, 31)


def test_a_present_section_is_enforced(tree: Tree) -> None:
    root = tree({"handoff.toml": "[contract]\nname = 'x'\n\n[package]\nentry_points = []\n"})
    error = only_error(root / "handoff.toml")
    assert (error.line, error.key, error.message) == (
        4,
        "package.name",
        "missing required key 'name'",
    )


def test_pyproject_tool_paved_is_the_contract_when_there_is_no_handoff_toml(tree: Tree) -> None:
    root = tree({"pyproject.toml": '[project]\nname = "x"\n\n[tool.paved.package]\nname = "x"\n'})
    path = find_contract(root)
    assert path.name == "pyproject.toml"
    contract = load_contract(path).contract
    assert contract.package is not None and contract.package.name == "x"


def test_the_contract_is_found_from_any_folder_of_the_project(tree: Tree) -> None:
    root = tree({"handoff.toml": "", "src/churn/__init__.py": ""})
    assert find_contract(root / "src" / "churn") == (root / "handoff.toml").resolve()


def test_a_pyproject_without_tool_paved_does_not_stop_the_search(tree: Tree) -> None:
    root = tree({"pyproject.toml": "[tool.paved]\n", "lib/pyproject.toml": "[project]\n"})
    assert find_contract(root / "lib") == (root / "pyproject.toml").resolve()


def test_handoff_toml_wins_over_pyproject(tree: Tree) -> None:
    root = tree({"handoff.toml": "", "pyproject.toml": "[tool.paved]\n"})
    assert find_contract(root).name == "handoff.toml"


@pytest.mark.parametrize("pyproject", ['[project]\nname = "x"\n', "tool = 3\n", 'tool = "paved"\n'])
def test_no_contract_is_a_usage_error(tree: Tree, pyproject: str) -> None:
    root = tree({"pyproject.toml": pyproject})
    with pytest.raises(UsageError, match=r"create handoff\.toml"):
        find_contract(root)


def test_a_byte_order_mark_is_tolerated(tree: Tree) -> None:
    root = tree({"handoff.toml": "\ufeff[package]\nname = 'x'\n"})
    assert load_contract(root / "handoff.toml").contract.package is not None


# -- extends -------------------------------------------------------------------------------

BASE = """\
[contract]
name = "platform"

[owners]
engineering = "ml-platform"
required = ["engineering", "on_call"]

[tests]
command = "pytest"
coverage_min = 80
core_paths = ["base.py"]

[package]
name = "shared"
"""


def test_extends_merges_tables_and_local_keys_win(tree: Tree) -> None:
    root = tree(
        {
            "platform/base.toml": BASE,
            "team/churn/handoff.toml": (
                '[contract]\nextends = "../../platform/base.toml"\nname = "churn"\n\n'
                '[owners]\ndata_science = "alice"\nrequired = ["data_science"]\n\n'
                '[tests]\ncoverage_min = 90\ncore_paths = ["src/churn/model.py"]\n\n'
                '[package]\nentry_points = ["churn.cli:main"]\n'
            ),
        }
    )
    loaded = load_contract(root / "team/churn/handoff.toml")
    contract = loaded.contract
    assert contract.contract is not None and contract.contract.name == "churn"
    assert contract.owners is not None
    assert contract.owners.named("engineering") == ["ml-platform"]  # table merged
    assert contract.owners.named("data_science") == ["alice"]
    # a base's required roles stay required: the union, base first
    assert contract.owners.required == ["engineering", "on_call", "data_science"]
    assert contract.tests is not None
    assert contract.tests.command == "pytest"  # inherited
    assert contract.tests.coverage_min == 90  # overridden
    assert contract.tests.core_paths == ["src/churn/model.py"]  # arrays are replaced
    # `name` is required in [package]: the base gives it, so the local table need not
    assert contract.package is not None
    assert (contract.package.name, contract.package.entry_points) == ("shared", ["churn.cli:main"])
    assert [s.path.name for s in loaded.sources] == ["handoff.toml", "base.toml"]


def test_loading_does_not_change_what_was_read(tree: Tree) -> None:
    root = tree({"base.toml": BASE, "handoff.toml": '[contract]\nextends = "base.toml"\n'})
    loaded = load_contract(root / "handoff.toml")
    assert loaded.sources[0].data == {"contract": {"extends": "base.toml"}}
    assert loaded.sources[1].data == tomllib.loads(BASE)


def test_extends_chains_are_relative_to_each_file(tree: Tree) -> None:
    root = tree(
        {
            "org/base.toml": '[owners]\nrequired = ["drift"]\n',
            "org/ml/base.toml": '[contract]\nextends = "../base.toml"\n[owners]\nrequired = ["serving"]\n',
            "handoff.toml": '[contract]\nextends = "org/ml/base.toml"\n',
        }
    )
    owners = load_contract(root / "handoff.toml").contract.owners
    assert owners is not None and owners.required == ["drift", "serving"]


def test_a_required_key_no_file_gives_points_at_the_local_table(tree: Tree) -> None:
    root = tree(
        {
            "base.toml": "[owners]\nengineering = 'x'\n",
            "handoff.toml": "[contract]\nextends = 'base.toml'\n\n[package]\nentry_points = []\n",
        }
    )
    error = only_error(root / "handoff.toml")
    assert (Path(error.path).name, error.line, error.key) == ("handoff.toml", 4, "package.name")


def test_a_required_key_missing_in_the_base_points_at_the_base(tree: Tree) -> None:
    root = tree(
        {
            "base.toml": "# org policy\n[package]\nentry_points = []\n",
            "handoff.toml": "[contract]\nextends = 'base.toml'\n",
        }
    )
    error = only_error(root / "handoff.toml")
    assert (Path(error.path).name, error.line, error.key) == ("base.toml", 2, "package.name")


def test_where_names_the_file_that_defines_a_key(tree: Tree) -> None:
    root = tree(
        {
            "base.toml": '# org\n\n[[waivers]]\ncheck = "DEP002"\nreason = "r"\nexpires = 2030-01-01\n',
            "handoff.toml": "[contract]\nextends = 'base.toml'\n\n[owners]\nengineering = 'x'\n",
        }
    )
    loaded = load_contract(root / "handoff.toml")
    assert loaded.where("waivers", 0, "check") == (root.resolve() / "base.toml", 4)
    assert loaded.where("owners", "engineering") == (root.resolve() / "handoff.toml", 5)


def test_missing_extends_file(tree: Tree) -> None:
    root = tree({"handoff.toml": '# org\n[contract]\nextends = "../platform/base.toml"\n'})
    error = only_error(root / "handoff.toml")
    assert error.path == str(root / "handoff.toml")
    assert (error.line, error.key) == (3, "contract.extends")
    assert "'../platform/base.toml', which does not exist" in error.message
    assert error.hint == "the path is relative to the file that extends it"


def test_extends_itself_is_a_cycle(tree: Tree) -> None:
    root = tree({"handoff.toml": '[contract]\nextends = "handoff.toml"\n'})
    error = only_error(root / "handoff.toml")
    path = root.resolve() / "handoff.toml"
    assert error.message == f"`extends` forms a cycle: {path} -> {path}"
    assert (error.line, error.key) == (2, "contract.extends")


def test_extends_cycle_through_two_files_names_the_chain(tree: Tree) -> None:
    root = tree(
        {
            "a.toml": '[contract]\nextends = "sub/b.toml"\n',
            "sub/b.toml": '# b\n\n[contract]\nextends = "../a.toml"\n',
        }
    ).resolve()
    error = only_error(root / "a.toml")
    assert error.message == (
        f"`extends` forms a cycle: {root / 'a.toml'} -> {root / 'sub/b.toml'} -> {root / 'a.toml'}"
    )
    assert (error.path, error.line) == (str(root / "sub/b.toml"), 4)


def test_an_error_in_the_base_points_at_the_base(tree: Tree) -> None:
    root = tree(
        {
            "platform/base.toml": "[tests]\n\ncoverage_min = 'high'\n",
            "handoff.toml": "[contract]\nextends = 'platform/base.toml'\n[tests]\ncoverage_min = 90\n",
        }
    )
    error = only_error(root / "handoff.toml")
    assert error.path == str(root.resolve() / "platform/base.toml")
    assert (error.line, error.key) == (3, "tests.coverage_min")


# -- errors: file, line, key, hint ---------------------------------------------------------


def test_bad_toml_has_the_line_from_tomllib(tree: Tree) -> None:
    root = tree({"handoff.toml": "[package]\nname = 'x'\n\nentry_points = [oops]\n"})
    error = only_error(root / "handoff.toml")
    assert error.line == 4
    assert error.message.startswith("not valid TOML: ")
    assert "line" not in error.message  # the line is said once, in the location


def test_truncated_toml_points_at_its_last_line(tree: Tree) -> None:
    root = tree({"handoff.toml": '[package]\nname = "x"\nentry_points = ["a:b",\n'})
    error = only_error(root / "handoff.toml")
    assert error.line == 3
    assert error.message.startswith("not valid TOML")


def test_duplicate_table_is_bad_toml(tree: Tree) -> None:
    root = tree({"handoff.toml": "[owners]\n\n[owners]\n"})
    assert only_error(root / "handoff.toml").line == 3


def test_a_file_that_is_not_utf8(tree: Tree) -> None:
    root = tree({})
    (root / "handoff.toml").parent.mkdir(parents=True, exist_ok=True)
    (root / "handoff.toml").write_bytes(b"[package]\nname = '\xff'\n")
    assert only_error(root / "handoff.toml").message == "the contract is not UTF-8 text"


def test_wrong_type(tree: Tree) -> None:
    root = tree({"handoff.toml": '[tests]\ncommand = "pytest"\ncoverage_min = "high"\n'})
    error = only_error(root / "handoff.toml")
    assert (error.line, error.key) == (3, "tests.coverage_min")
    assert "valid number" in error.message and "(got 'high')" in error.message


@pytest.mark.parametrize(
    ("text", "line", "key", "hint"),
    [
        ('[packge]\nname = "x"\n', 1, "packge", "did you mean 'package'?"),
        (
            '[owners]\ndata_science = "a"\nenginering = "b"\n',
            3,
            "owners.enginering",
            "did you mean 'engineering'?",
        ),
        (
            '[[waivers]]\ncheck = "DEP002"\nreason = "r"\nexpires = 2030-01-01\n\n'
            '[[waivers]]\nchek = "DEP003"\ncheck = "DEP003"\nreason = "r"\nexpires = 2030-01-01\n',
            7,
            "waivers[1].chek",
            "did you mean 'check'?",
        ),
        (
            "[performance.metrics.auc]\nmn = 0.8\n",
            2,
            "performance.metrics.auc.mn",
            "did you mean 'min'?",
        ),
        ("[contract]\nzzz = 1\n", 2, "contract.zzz", "known keys here: version, name, extends"),
    ],
)
def test_unknown_key_suggests_the_closest(
    tree: Tree, text: str, line: int, key: str, hint: str
) -> None:
    error = only_error(tree({"handoff.toml": text}) / "handoff.toml")
    assert (error.line, error.key, error.hint) == (line, key, hint)
    assert error.message == f"unknown key {key.rsplit('.', 1)[-1]!r}"


def test_a_waiver_needs_a_reason_and_an_expiry(tree: Tree) -> None:
    root = tree({"handoff.toml": '[tests]\n\n[[waivers]]\ncheck = "DEP002"\nsubject = "flask"\n'})
    found = errors_of(root / "handoff.toml")
    assert [(e.key, e.line, e.message) for e in found] == [
        ("waivers[0].reason", 3, "missing required key 'reason'"),
        ("waivers[0].expires", 3, "missing required key 'expires'"),
    ]


@pytest.mark.parametrize(
    ("text", "key", "message", "hint"),
    [
        (
            '[model]\nsha256 = "9f2c..."\n',
            "model.sha256",
            "not a sha256 digest (got '9f2c...')",
            "64 lowercase hex digits, as printed by `sha256sum FILE`",
        ),
        (
            '[model]\npredict = "churn.model.predict"\n',
            "model.predict",
            "not an importable reference (got 'churn.model.predict')",
            "did you mean 'churn.model:predict'?",
        ),
        (
            '[model]\npredict = "churn model"\n',
            "model.predict",
            "not an importable reference (got 'churn model')",
            "write it as 'package.module:name', e.g. 'churn.model:predict'",
        ),
        (
            '[dependencies]\npython = "3.10+"\n',
            "dependencies.python",
            "not a version specifier: Invalid specifier: '3.10+' (got '3.10+')",
            None,
        ),
        (
            '[config]\nenv = ["OK", "1BAD"]\n',
            "config.env[1]",
            "not a valid name (got '1BAD')",
            "letters, digits and underscores, not starting with a digit",
        ),
    ],
)
def test_invalid_values_say_what_is_expected(
    tree: Tree, text: str, key: str, message: str, hint: str | None
) -> None:
    error = only_error(tree({"handoff.toml": text}) / "handoff.toml")
    assert (error.line, error.key, error.message, error.hint) == (2, key, message, hint)


@pytest.mark.parametrize(
    ("value", "key", "message"),
    [
        ("3", "owners.engineering", "Input should be a valid string or a valid list (got 3)"),
        ('""', "owners.engineering", "String should have at least 1 character (got '')"),
        ('["a", 3]', "owners.engineering[1]", "Input should be a valid string (got 3)"),
    ],
)
def test_a_union_reports_one_error_for_the_member_meant(
    tree: Tree, value: str, key: str, message: str
) -> None:
    root = tree({"handoff.toml": f"[owners]\nengineering = {value}\n"})
    error = only_error(root / "handoff.toml")
    assert (error.line, error.key, error.message) == (2, key, message)


@pytest.mark.parametrize("name", ["str", "date", "none", "int", "list[x]"])
def test_a_metric_named_like_a_type_keeps_its_name(tree: Tree, name: str) -> None:
    root = tree({"handoff.toml": f'[performance.metrics."{name}"]\nmn = 1\n'})
    error = only_error(root / "handoff.toml")
    assert error.message == "unknown key 'mn'"
    assert error.line == 2
    assert error.key is not None and name in error.key


def test_pyproject_errors_point_at_the_pyproject_line(tree: Tree) -> None:
    root = tree(
        {
            "pyproject.toml": (
                '[project]\nname = "x"\n\n[tool.paved.tests]\ncoverage_min = 80\n\n'
                '[tool.paved.owners]\nenginering = "b"\n'
            )
        }
    )
    error = only_error(find_contract(root))
    assert (Path(error.path).name, error.line, error.key) == (
        "pyproject.toml",
        8,
        "owners.enginering",
    )


def test_tool_paved_must_be_a_table(tree: Tree) -> None:
    root = tree({"pyproject.toml": '[tool]\npaved = "yes"\n'})
    error = only_error(root / "pyproject.toml")
    assert (error.line, error.key) == (2, "tool.paved")


def test_errors_are_in_file_order_and_all_reported_at_once(tree: Tree) -> None:
    text = '[tests]\ncoverage_min = "x"\n[model]\nsha256 = "z"\n[packge]\n[owners]\nfoo = 1\n'
    found = errors_of(tree({"handoff.toml": text}) / "handoff.toml")
    assert [e.line for e in found] == [2, 4, 5, 7]


def test_many_errors_stay_on_one_screen(tree: Tree) -> None:
    text = "".join(f"[unknown{n}]\n" for n in range(40))
    with pytest.raises(ContractErrors) as caught:
        load_contract(tree({"handoff.toml": text}) / "handoff.toml")
    assert len(caught.value.errors) == 40
    lines = str(caught.value).splitlines()
    assert len(lines) <= 2 * ContractErrors.SHOWN + 1
    assert lines[-1] == f"... and {40 - ContractErrors.SHOWN} more errors in the contract"


def test_render_names_file_line_key_and_hint() -> None:
    error = ContractError(
        "unknown key 'x'", path="a/handoff.toml", line=3, key="owners.x", hint="h"
    )
    assert error.render() == "a/handoff.toml:3: [owners.x] unknown key 'x'\n  hint: h"
    assert ContractError("m", path="p").render() == "p: m"


# -- JSON Schema ---------------------------------------------------------------------------


def _as_json(value: Any) -> Any:
    """TOML data as the JSON an editor would validate: dates become ISO strings."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _schema_errors(data: dict[str, Any]) -> list[str]:
    """Where the schema rejects `data`: the deepest path of each error (through `anyOf`)."""
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = validator.iter_errors(_as_json(data))
    return [jsonschema.exceptions.best_match([error]).json_path for error in errors]


def test_the_schema_is_valid_json_schema() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert "waivers" in schema["properties"]


def test_the_design_sample_validates_once_its_elided_hash_is_written_out() -> None:
    """DESIGN.md abbreviates the sha256 as "9f2c..."; with a real 64-digit value it is valid."""
    data = tomllib.loads(DESIGN_SAMPLE.read_text(encoding="utf-8"))
    assert data["model"]["sha256"] == "9f2c..."
    assert _schema_errors(data) == ["$.model.sha256"]
    data["model"]["sha256"] = SHA
    assert _schema_errors(data) == []
    assert Contract.model_validate(data).model is not None


def test_the_schema_rejects_what_the_model_rejects() -> None:
    assert _schema_errors({"packge": {"name": "x"}}) == ["$"]
    assert _schema_errors({"tests": {"coverage_min": "high"}}) == ["$.tests.coverage_min"]
    assert _schema_errors({"waivers": [{"check": "DEP002", "reason": "r"}]}) == ["$.waivers[0]"]
