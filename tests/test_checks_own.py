"""OWN: required roles are named, and the named owners agree with CODEOWNERS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.checks.own import is_placeholder
from pavedroad.results import Result, Status

Tree = Callable[[Mapping[str, str]], Path]


def failures(root: Path, check_id: str) -> list[Result]:
    results = results_of(root, check_id)
    assert all(r.status in (Status.FAIL, Status.PASS) for r in results), results
    return [r for r in results if r.status is Status.FAIL]


def evidence(root: Path, check_id: str) -> list[tuple[str | None, str, str]]:
    """The passing rows as (subject, message, location), in the order the check yields them."""
    results = results_of(root, check_id)
    return [(r.subject, r.message, str(r.location)) for r in results if r.status is Status.PASS]


# -- OWN001 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["TBD", "tbd", " todo ", "?", "???", "-", "none", "N/A", "unknown", "someone", "<name>"],
)
def test_placeholders_name_nobody(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    "value", ["alice@example.com", "@acme/ml-platform", "ml-platform", "Alice Martin", "@tbd-team"]
)
def test_real_owners_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_own001_names_each_required_role_at_its_key_placeholders_left_out() -> None:
    assert evidence(FIXTURES / "own001" / "pass", "OWN001") == [
        ("data_science", "data_science: alice@example.com", "handoff.toml:6"),
        ("engineering", "engineering: @acme/ml-platform", "handoff.toml:7"),
        ("on_call", "on_call: @acme/ml-oncall", "handoff.toml:8"),
    ]


def test_own001_placeholder_points_at_the_key_and_absent_role_at_the_table() -> None:
    gaps = failures(FIXTURES / "own001" / "fail-missing", "OWN001")
    assert [(g.subject, g.message, str(g.location)) for g in gaps] == [
        (
            "data_science",
            "role data_science is required but only has a placeholder: TBD",
            "handoff.toml:5",
        ),
        ("engineering", "role engineering is required but names no owner", "handoff.toml:4"),
    ]
    assert gaps[1].fix is not None and 'engineering = "..."' in gaps[1].fix


def test_own001_a_base_contract_keeps_its_roles_required() -> None:
    (gap,) = failures(FIXTURES / "own001" / "fail-base", "OWN001")
    assert gap.subject == "on_call"
    assert gap.message == "role on_call is required but names no owner"
    assert str(gap.location) == "handoff.toml:5"  # the local [owners] table


def test_own001_one_real_owner_in_a_list_names_the_role(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[owners]\ndata_science = ["TBD", "alice@example.com"]\n'
            'engineering = ["?"]\n'
        }
    )
    (gap,) = failures(root, "OWN001")
    assert gap.subject == "engineering"
    assert str(gap.location) == "handoff.toml:3"
    assert evidence(root, "OWN001") == [
        ("data_science", "data_science: alice@example.com", "handoff.toml:2")
    ]


def test_own001_is_skipped_without_an_owners_section(tree: Tree) -> None:
    root = tree({"handoff.toml": '[contract]\nname = "x"\n'})
    (result,) = results_of(root, "OWN001")
    assert result.status is Status.SKIP
    assert "[owners]" in result.message


# -- OWN002 ------------------------------------------------------------------------------------


def test_own002_owners_absent_from_codeowners_point_at_the_package_rule() -> None:
    gaps = failures(FIXTURES / "own002" / "fail-owner", "OWN002")
    assert [(g.subject, g.message, str(g.location)) for g in gaps] == [
        (
            "bob@example.com",
            "bob@example.com (engineering) is an owner in the contract but appears nowhere "
            "in CODEOWNERS",
            "CODEOWNERS:2",
        ),
        (
            "@acme/sre",
            "@acme/sre (on_call) is an owner in the contract but appears nowhere in CODEOWNERS",
            "CODEOWNERS:2",
        ),
    ]
    assert gaps[0].fix is not None and "the rule `/src/churn/` (line 2)" in gaps[0].fix
    assert evidence(FIXTURES / "own002" / "fail-owner", "OWN002") == [
        (
            "@acme/data-science",
            "@acme/data-science (data_science) is named in CODEOWNERS:2",
            "CODEOWNERS:2",
        ),
        (
            "src/churn",
            "`/src/churn/` (CODEOWNERS:2) gives src/churn to @acme/data-science",
            "CODEOWNERS:2",
        ),
    ]


def test_own002_a_package_no_rule_covers() -> None:
    (gap,) = failures(FIXTURES / "own002" / "fail-uncovered", "OWN002")
    assert gap.subject == "src/churn"
    assert gap.message == (
        "no CODEOWNERS rule covers the package src/churn (src/churn/__init__.py and 1 more)"
    )
    assert str(gap.location) == "docs/CODEOWNERS"
    assert gap.fix == "Add a rule such as `/src/churn/ @acme/data-science @acme/ml-platform`."


def test_own002_the_last_matching_rule_decides() -> None:
    (gap,) = failures(FIXTURES / "own002" / "fail-last-match", "OWN002")
    assert gap.subject == "src/churn"
    assert "the CODEOWNERS rule `*.py` (line 5)" in gap.message
    assert "to @acme/web, none of whom is an owner in the contract" in gap.message
    assert str(gap.location) == ".github/CODEOWNERS:5"
    owners = [
        subject for subject, _, _ in evidence(FIXTURES / "own002" / "fail-last-match", "OWN002")
    ]
    assert owners == ["@acme/data-science", "@acme/ml-platform"]  # no evidence for src/churn


def test_own002_says_where_each_owner_and_the_package_rule_are() -> None:
    """A bare team name is found under its handle; free text is not compared, so not shown."""
    assert evidence(FIXTURES / "own002" / "pass", "OWN002") == [
        (
            "alice@example.com",
            "alice@example.com (data_science) is named in .github/CODEOWNERS:5",
            ".github/CODEOWNERS:5",
        ),
        (
            "@acme/data-science",
            "@acme/data-science (data_science) is named in .github/CODEOWNERS:5",
            ".github/CODEOWNERS:5",
        ),
        (
            "ml-platform",
            "ml-platform (engineering) is named as @acme/ml-platform in .github/CODEOWNERS:5",
            ".github/CODEOWNERS:5",
        ),
        (
            "src/churn",
            "`/src/churn/` (.github/CODEOWNERS:5) gives src/churn to @acme/data-science, "
            "@acme/ml-platform, alice@example.com",
            ".github/CODEOWNERS:5",
        ),
    ]


def test_own002_gitlab_sections_add_up_to_the_package_owners() -> None:
    root = FIXTURES / "own002" / "pass-gitlab"
    assert failures(root, "OWN002") == []
    assert evidence(root, "OWN002") == [
        (
            "@acme/data-science",
            "@acme/data-science (data_science) is named in .gitlab/CODEOWNERS:6",
            ".gitlab/CODEOWNERS:6",
        ),
        (
            "@acme/platform",
            "@acme/platform (engineering) is named in .gitlab/CODEOWNERS:3",
            ".gitlab/CODEOWNERS:3",
        ),
        (
            "src/churn",
            "all 2 files of src/churn have a contract owner (.gitlab/CODEOWNERS:3, 6)",
            ".gitlab/CODEOWNERS:6",
        ),
    ]


def test_own002_many_package_rules_are_shown_as_line_spans(tree: Tree) -> None:
    rules = "".join(f"/src/churn/{name}.py @ds\n" for name in ("a", "b", "c", "e"))
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn"\n[owners]\ndata_science = "@ds"\n',
            "CODEOWNERS": "* @ds\n# d is the default's\n" + rules,
            **{f"src/churn/{name}.py": "" for name in ("__init__", "a", "b", "c", "d", "e")},
        }
    )
    assert evidence(root, "OWN002")[-1] == (
        "src/churn",
        "all 6 files of src/churn have a contract owner (CODEOWNERS:1, 3-6)",
        "CODEOWNERS:1",
    )


def test_own002_explicitly_unowned_package(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn"\n[owners]\ndata_science = "@ds"\n',
            "CODEOWNERS": "* @ds\n/src/churn/\n",
            "src/churn/__init__.py": "",
        }
    )
    (gap,) = failures(root, "OWN002")
    assert gap.message == (
        "the CODEOWNERS rule `/src/churn/` (line 2) leaves src/churn/__init__.py of src/churn "
        "without owners"
    )
    assert str(gap.location) == "CODEOWNERS:2"


def test_own002_tests_of_the_package_do_not_count_as_its_source(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[package]\nname = "churn"\n[owners]\ndata_science = "@ds"\n',
            "CODEOWNERS": "/src/churn/ @ds\n/src/churn/tests/ @qa\n",
            "src/churn/__init__.py": "",
            "src/churn/tests/test_model.py": "",
        }
    )
    assert evidence(root, "OWN002") == [
        ("@ds", "@ds (data_science) is named in CODEOWNERS:1", "CODEOWNERS:1"),
        ("src/churn", "`/src/churn/` (CODEOWNERS:1) gives src/churn to @ds", "CODEOWNERS:1"),
    ]


def test_own002_without_a_package_only_compares_names(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[owners]\ndata_science = "@ds"\nengineering = "@eng"\n',
            ".github/CODEOWNERS": "/docs/ @ds\n",
        }
    )
    (gap,) = failures(root, "OWN002")
    assert gap.subject == "@eng"
    assert str(gap.location) == ".github/CODEOWNERS"  # no package rule to point at


def test_own002_free_text_names_are_not_compared(tree: Tree) -> None:
    root = tree(
        {
            "handoff.toml": '[owners]\ndata_science = "Alice Martin"\nengineering = "@eng"\n',
            "CODEOWNERS": "* @eng\n",
        }
    )
    assert evidence(root, "OWN002") == [
        ("@eng", "@eng (engineering) is named in CODEOWNERS:1", "CODEOWNERS:1")
    ]
    assert failures(root, "OWN002") == []


def test_own002_is_skipped_without_codeowners(tree: Tree) -> None:
    root = tree({"handoff.toml": '[owners]\ndata_science = "@ds"\n'})
    (result,) = results_of(root, "OWN002")
    assert (result.status, result.message) == (Status.SKIP, "no CODEOWNERS file")


def test_own002_is_skipped_when_no_owner_is_named(tree: Tree) -> None:
    root = tree({"handoff.toml": '[owners]\ndata_science = "TBD"\n', "CODEOWNERS": "* @x\n"})
    (result,) = results_of(root, "OWN002")
    assert (result.status, result.message) == (Status.SKIP, "the contract names no owners")
