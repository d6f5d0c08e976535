"""Headings, GitHub anchors and sections of Markdown and reStructuredText documents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pavedroad.markdown_sections import (
    closest_anchor,
    content_words,
    find_section,
    headings,
    slug,
    whole_document,
)


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        ("Resource requirements", "resource-requirements"),
        ("Inputs & outputs", "inputs--outputs"),  # GitHub keeps both hyphens around a dropped '&'
        ("What's new in v2.0?", "whats-new-in-v20"),
        ("The `predict` function", "the-predict-function"),
        ("See [the docs](https://example.com/x)", "see-the-docs"),
        ("snake_case and kebab-case", "snake_case-and-kebab-case"),
        ("Überblick für Ärzte", "überblick-für-ärzte"),
        ("<em>Failure</em> modes", "failure-modes"),
    ],
)
def test_slug_follows_githubs_rule(title: str, anchor: str) -> None:
    assert slug(title) == anchor


def test_atx_and_setext_headings_with_levels_and_lines() -> None:
    text = "Title\n=====\n\nintro\n\n## Usage ##\n\nSub part\n--------\n\n###### Deep\n"
    found = [(h.level, h.text, h.line, h.end_line, h.anchor) for h in headings(text)]
    assert found == [
        (1, "Title", 1, 2, "title"),
        (2, "Usage", 6, 6, "usage"),
        (2, "Sub part", 8, 9, "sub-part"),
        (6, "Deep", 11, 11, "deep"),
    ]


def test_headings_inside_fenced_code_are_not_headings() -> None:
    text = "# Real\n\n```bash\n# a shell comment\n```\n\n~~~~\n```\n## still code\n~~~~\n\n## Also real\n"
    assert [h.text for h in headings(text)] == ["Real", "Also real"]


def test_not_headings_hash_without_space_thematic_break_and_list_lines() -> None:
    text = "#hashtag\n\n---\n\n- item\n---\n\n    # indented code\n"
    assert headings(text) == []


def test_duplicate_headings_get_numbered_anchors_like_github() -> None:
    text = "## Notes\n\n## Notes\n\n## Notes\n"
    assert [h.anchor for h in headings(text)] == ["notes", "notes-1", "notes-2"]


def test_section_runs_to_the_next_heading_of_same_or_higher_level() -> None:
    text = (
        "# Model\n\n## Failure modes\n\nFirst.\n\n### Missing input\n\nSecond.\n\n"
        "## Monitoring\n\nNot this.\n"
    )
    section = find_section(text, "failure-modes")
    assert section is not None and section.heading is not None
    assert section.heading.line == 3
    assert [line for line in section.lines if line] == ["First.", "Second."]


def test_section_of_the_last_heading_runs_to_the_end() -> None:
    section = find_section("# A\n\none\n\n## B\n\ntwo three\n", "b")
    assert section is not None and section.text.split() == ["two", "three"]


def test_an_anchor_written_as_heading_text_finds_the_heading() -> None:
    assert find_section("## Failure modes\n\ntext\n", "Failure modes") is not None


def test_missing_anchor_gives_none_and_a_close_suggestion() -> None:
    text = "## Failure modes\n\n## Resources\n"
    assert find_section(text, "failure-mode") is None
    assert closest_anchor(text, "failure-mode") == "failure-modes"
    assert closest_anchor(text, "completely-unrelated") is None


def test_rst_headings_levels_follow_the_order_styles_appear_in() -> None:
    text = (
        "=======\nProject\n=======\n\nIntro.\n\nFailure modes\n-------------\n\n"
        "Text about failures here.\n\nDetails\n~~~~~~~\n\nMore.\n\nMonitoring\n----------\n\nNo.\n"
    )
    found = [(h.level, h.text, h.line, h.anchor) for h in headings(text, rst=True)]
    assert found == [
        (1, "Project", 1, "project"),
        (2, "Failure modes", 7, "failure-modes"),
        (3, "Details", 12, "details"),
        (2, "Monitoring", 17, "monitoring"),
    ]
    section = find_section(text, "failure-modes", rst=True)
    assert section is not None
    assert section.words() == ["Text", "about", "failures", "here", "More"]


def test_content_words_drop_markup_comments_urls_and_placeholders() -> None:
    text = (
        "<!-- write the memory limits here once measured -->\n"
        "TODO: measure the peak memory of the batch job\n"
        "**Memory**: see [the dashboard](https://grafana.example.com/d/abc) — N/A ...\n"
        "| GPU | N/A |\n|-----|-----|\n"
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n"
        "Coming soon: a table of limits per batch size\n"
    )
    assert content_words(text) == ["Memory", "see", "the", "dashboard", "GPU"]


def test_placeholder_markers_are_upper_case_words_not_substrings() -> None:
    assert content_words("A todo list of XXXL shirts, TODOS aside.") == [
        "A",
        "todo",
        "list",
        "of",
        "XXXL",
        "shirts",
        "TODOS",
        "aside",
    ]


def test_whole_document_leaves_out_headings() -> None:
    section = whole_document("# Resources\n\n## Memory\n\n4 GB at peak.\n")
    assert section.heading is None
    assert section.words() == ["4", "GB", "at", "peak"]


def test_placeholder_detection() -> None:
    assert whole_document("TBD\n").has_placeholder()
    assert whole_document("<!-- TODO -->\n").has_placeholder() is False
    assert not whole_document("Two GPUs.\n").has_placeholder()


_title = st.text(alphabet=st.sampled_from("abcXYZ019 -_&.?é"), min_size=1, max_size=20).filter(
    lambda t: t.strip(" -") and not t.strip().startswith("-")
)


@given(st.lists(_title, min_size=1, max_size=6))
def test_every_heading_is_found_again_by_its_own_anchor(titles: list[str]) -> None:
    text = "".join(f"## {title}\n\nbody of {index}\n\n" for index, title in enumerate(titles))
    found = headings(text)
    assert len(found) == len(titles)
    assert len({h.anchor for h in found}) == len(found)
    for index, heading in enumerate(found):
        section = find_section(text, heading.anchor)
        assert section is not None and section.heading == heading
        assert section.words() == ["body", "of", str(index)]
