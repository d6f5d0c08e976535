"""DOC: the resource requirements and failure modes are written where the contract points."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.results import Location, Result, Status

Tree = Callable[[Mapping[str, str]], Path]

REAL = "It needs 2 GB of memory and one CPU core per worker.\n"


def _doc(tree: Tree, key: str, value: str, files: Mapping[str, str]) -> Result:
    root = tree({"handoff.toml": f'[docs]\n{key} = "{value}"\n', **files})
    check_id = "DOC001" if key == "resources" else "DOC002"
    [result] = results_of(root, check_id)
    return result


@pytest.mark.parametrize(
    ("fixture", "check_id", "subject", "message", "location"),
    [
        (
            "doc001/pass",
            "DOC001",
            "README.md#resource-requirements",
            "README.md#resource-requirements: 52 words",
            "README.md:5",
        ),
        (
            "doc001/pass-whole-file",
            "DOC001",
            "docs/RESOURCES.md",
            "docs/RESOURCES.md: 19 words",
            "docs/RESOURCES.md",
        ),
        (
            "doc002/pass",
            "DOC002",
            "README.md#failure-modes",
            "README.md#failure-modes: 28 words",
            "README.md:17",
        ),
        (
            "doc002/pass-rst",
            "DOC002",
            "docs/operations.rst#failure-modes",
            "docs/operations.rst#failure-modes: 34 words",
            "docs/operations.rst:6",
        ),
    ],
)
def test_the_evidence_is_the_section_its_heading_line_and_its_word_count(
    fixture: str, check_id: str, subject: str, message: str, location: str
) -> None:
    [result] = results_of(FIXTURES / fixture, check_id)
    assert (result.status, result.subject, result.message, str(result.location)) == (
        Status.PASS,
        subject,
        message,
        location,
    )


@pytest.mark.parametrize("key", ["resources", "failure_modes"])
def test_a_missing_file_points_at_the_contract_key(tree: Tree, key: str) -> None:
    result = _doc(tree, key, "docs/ops.md#limits", {"README.md": REAL})
    assert result.status is Status.FAIL
    assert result.subject == "docs/ops.md#limits"
    assert result.message == f"[docs].{key} names docs/ops.md, which does not exist"
    assert result.location == Location(path="handoff.toml", line=2)


def test_a_missing_heading_suggests_the_closest_one(tree: Tree) -> None:
    readme = f"# Model\n\n## Resource needs\n\n{REAL}\n## Failure modes\n\n{REAL}"
    result = _doc(tree, "resources", "README.md#resource-requirements", {"README.md": readme})
    assert result.status is Status.FAIL
    assert result.message == (
        "README.md has no heading with anchor #resource-requirements "
        "(the closest heading is #resource-needs)"
    )
    assert result.location == Location(path="README.md")
    assert result.fix == (
        "Point [docs].resources at README.md#resource-needs, or add the heading to README.md."
    )


def test_a_missing_heading_with_nothing_close(tree: Tree) -> None:
    result = _doc(tree, "failure_modes", "README.md#failure-modes", {"README.md": "# X\n\nY.\n"})
    assert result.status is Status.FAIL
    assert (
        result.fix == "Add a heading for the failure modes to README.md, with a section under it."
    )


@pytest.mark.parametrize(
    ("body", "state"),
    [
        ("", "is empty"),
        ("TODO\n", "holds only a placeholder"),
        ("TBD: fill in after the load test on the staging cluster.\n", "holds only a placeholder"),
        ("Coming soon: a table of limits per batch size.\n", "holds only a placeholder"),
        ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", "holds only a placeholder"),
        ("<!-- describe the memory and the CPU needed to serve -->\n", "is empty"),
        ("N/A\n\n...\n", "is empty"),
        ("Needs a GPU.\n", "says almost nothing (3 words)"),
        ("### Memory\n\n### CPU\n", "is empty"),  # sub-headings alone say nothing
    ],
)
def test_sections_without_real_content(tree: Tree, body: str, state: str) -> None:
    readme = f"# Model\n\nIntro text.\n\n## Resource requirements\n\n{body}\n## Next\n\n{REAL}"
    result = _doc(tree, "resources", "README.md#resource-requirements", {"README.md": readme})
    assert result.status is Status.FAIL
    assert result.message == (
        f"section #resource-requirements of README.md {state}: "
        "the resource requirements need at least 5 words of real content"
    )
    assert result.location == Location(path="README.md", line=5)


def test_a_section_with_real_content_under_a_sub_heading_passes(tree: Tree) -> None:
    readme = f"## Resource requirements\n\n### Memory\n\n{REAL}\n## Next\n"
    result = _doc(tree, "resources", "README.md#resource-requirements", {"README.md": readme})
    assert result.status is Status.PASS
    # The sub-heading is not counted, the sentence is: 12 words.
    assert result.message == "README.md#resource-requirements: 12 words"
    assert result.location == Location(path="README.md", line=1)


def test_the_evidence_names_the_heading_by_its_anchor_when_the_contract_spells_it_out(
    tree: Tree,
) -> None:
    readme = f"# Ops\n\n## Resource Requirements\n\n{REAL}"
    result = _doc(tree, "resources", "README.md#Resource Requirements", {"README.md": readme})
    assert (result.status, result.subject, result.message, result.location) == (
        Status.PASS,
        "README.md#Resource Requirements",
        "README.md#resource-requirements: 12 words",
        Location(path="README.md", line=3),
    )


def test_the_section_ends_at_the_next_heading_of_its_level(tree: Tree) -> None:
    """Content after the section belongs to another topic and must not make it pass."""
    readme = f"## Failure modes\n\nTODO\n\n## Monitoring\n\n{REAL}"
    result = _doc(tree, "failure_modes", "README.md#failure-modes", {"README.md": readme})
    assert result.status is Status.FAIL


def test_a_heading_inside_a_code_block_is_not_the_section(tree: Tree) -> None:
    readme = f"# Ops\n\n```markdown\n## Failure modes\n\n{REAL}```\n"
    result = _doc(tree, "failure_modes", "README.md#failure-modes", {"README.md": readme})
    assert result.status is Status.FAIL
    assert "no heading with anchor #failure-modes" in result.message


def test_a_whole_file_is_checked_when_no_heading_is_given(tree: Tree) -> None:
    assert _doc(tree, "resources", "RESOURCES.md", {"RESOURCES.md": REAL}).status is Status.PASS
    result = _doc(tree, "resources", "RESOURCES.md", {"RESOURCES.md": "# Resources\n\nTODO\n"})
    assert result.status is Status.FAIL
    assert result.message.startswith("RESOURCES.md holds only a placeholder")
    assert result.location == Location(path="RESOURCES.md")


def test_duplicate_headings_are_addressed_like_github(tree: Tree) -> None:
    readme = f"## Notes\n\nTODO\n\n## Notes\n\n{REAL}"
    assert _doc(tree, "resources", "README.md#notes-1", {"README.md": readme}).status is Status.PASS
    assert _doc(tree, "resources", "README.md#notes", {"README.md": readme}).status is Status.FAIL


def test_setext_and_rst_headings(tree: Tree) -> None:
    markdown = f"Failure modes\n-------------\n\n{REAL}"
    assert _doc(tree, "failure_modes", "OPS.md#failure-modes", {"OPS.md": markdown}).status is (
        Status.PASS
    )
    rst = f"Failure modes\n=============\n\n.. TODO: more\n\n{REAL}"
    assert _doc(tree, "failure_modes", "ops.rst#failure-modes", {"ops.rst": rst}).status is (
        Status.PASS
    )


def test_a_file_that_is_not_text(tree: Tree) -> None:
    root = tree({"handoff.toml": '[docs]\nresources = "README.md"\n'})
    (root / "README.md").write_bytes(b"\xff\xfe\x00binary")
    [result] = results_of(root, "DOC001")
    assert result.message == "[docs].resources names README.md, which is not readable UTF-8 text"


def test_a_document_outside_the_project() -> None:
    [result] = results_of(FIXTURES / "doc002" / "fail-outside-project", "DOC002")
    assert result.status is Status.FAIL
    assert result.message.endswith("which is outside the project")
    assert result.fix == (
        "Move the failure modes into a document of the project and point [docs].failure_modes at it."
    )


def test_an_unset_key_skips_its_check(tree: Tree) -> None:
    root = tree({"handoff.toml": '[docs]\nresources = "README.md"\n', "README.md": REAL})
    [result] = results_of(root, "DOC002")
    assert result.status is Status.SKIP
    assert result.message == "the contract sets no [docs].failure_modes"
