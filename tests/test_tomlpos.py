"""tomlpos: the line of a key in TOML text, which every contract error and CON001 points at."""

from __future__ import annotations

import sys

import pytest

from pavedroad.tomlpos import locate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONTRACT = """\
# a comment with [brackets] and key = "value"
[contract]
name = "churn"

[owners]   # who answers
data_science = "alice"
"on_call" = ["bob", "carol"]

[performance]
metrics = { roc_auc = { min = 0.85 } }
core = [
  [1, 2],
  ["[fake]", "x = 1"],
]
notes = \"\"\"
[not_a_table]
target = "no"
\"\"\"
target = "churned"

[[waivers]]
check = "DEP002"
reason = "r"

[[waivers]]
check = "DEP003"

[tool.paved.dependencies]
python = ">=3.10"
dotted.inner = 1
"""


def test_the_sample_is_valid_toml() -> None:
    """Guards the other tests: every line they expect must exist in a file tomllib accepts."""
    assert tomllib.loads(CONTRACT)["performance"]["target"] == "churned"


@pytest.mark.parametrize(
    ("key_path", "line"),
    [
        (("contract",), 2),
        (("contract", "name"), 3),
        (("owners",), 5),
        (("owners", "data_science"), 6),
        (("owners", "on_call"), 7),
        (("owners", "on_call", 1), 7),
        (("owners", "engineering"), 5),  # absent: the table that should hold it
        (("performance", "metrics", "roc_auc", "min"), 10),  # inside an inline table
        (("performance", "core"), 11),
        (("performance", "target"), 19),  # not the look-alikes inside the array and string
        (("waivers", 0), 21),
        (("waivers", 0, "reason"), 23),
        (("waivers", 1), 25),
        (("waivers", 1, "check"), 26),
        (("waivers", 1, "reason"), 25),
        (("tool", "paved", "dependencies", "python"), 29),
        (("tool", "paved", "dependencies", "dotted", "inner"), 30),
    ],
)
def test_locate_finds_the_line_of_a_key(key_path: tuple[str | int, ...], line: int) -> None:
    assert locate(CONTRACT, key_path) == line


def test_lines_inside_multiline_values_are_not_headers() -> None:
    assert locate(CONTRACT, ("not_a_table",)) is None
    assert locate(CONTRACT, ("fake",)) is None


def test_unknown_top_level_key_has_no_line() -> None:
    assert locate(CONTRACT, ("nowhere", "at_all")) is None


def test_a_subtable_of_an_array_of_tables_belongs_to_its_last_element() -> None:
    text = '[[waivers]]\ncheck = "A"\n[[waivers]]\ncheck = "B"\n[waivers.extra]\nx = 1\n'
    assert locate(text, ("waivers", 1, "extra", "x")) == 6
    assert locate(text, ("waivers", 0, "extra")) == 1


def test_nested_arrays_of_tables_count_per_parent() -> None:
    text = "[[a]]\n[[a.b]]\n[[a]]\n[[a.b]]\nk = 1\n"
    assert tomllib.loads(text)["a"][1]["b"][0]["k"] == 1
    assert locate(text, ("a", 1, "b", 0, "k")) == 5


def test_quoted_keys_and_escapes() -> None:
    text = '[t]\n"a.b" = "x\\"y = z"\n\'lit\' = 2\nafter = 3\n'
    assert tomllib.loads(text)["t"] == {"a.b": 'x"y = z', "lit": 2, "after": 3}
    assert locate(text, ("t", "a.b")) == 2
    assert locate(text, ("t", "lit")) == 3
    assert locate(text, ("t", "after")) == 4


def test_multiline_literal_string_with_trailing_quotes() -> None:
    text = "[t]\ns = '''one\n[x]\ntwo'''''\nafter = 1\n"
    assert tomllib.loads(text)["t"]["after"] == 1
    assert locate(text, ("t", "after")) == 5
    assert locate(text, ("x",)) is None


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_only_newline_ends_a_line(separator: str) -> None:
    """tomllib counts lines by "\\n"; other separators in a comment must not shift the count."""
    text = f"# a note{separator}with a separator\n[owners]\nx = 1\n"
    assert tomllib.loads(text) == {"owners": {"x": 1}}
    assert locate(text, ("owners", "x")) == 3


def test_windows_line_endings() -> None:
    text = "[owners]\r\n\r\nx = 1\r\n[[waivers]]\r\ncheck = 'A'\r\n"
    assert locate(text, ("owners", "x")) == 3
    assert locate(text, ("waivers", 0, "check")) == 5


def test_an_array_element_is_located_at_the_line_where_it_starts() -> None:
    text = (
        "[tests]\n"
        "core_paths = [\n"
        '  "a.py",   # a comment, with a comma\n'
        '  "b.py",\n'
        '  ["x", "y"],\n'
        "  { k = 1 },\n"
        "]\n"
        'other = ["p", "q"]\n'
    )
    assert [locate(text, ("tests", "core_paths", i)) for i in range(4)] == [3, 4, 5, 6]
    assert locate(text, ("tests", "core_paths", 9)) == 2  # no such element: the key's line
    assert locate(text, ("tests", "other", 1)) == 8
