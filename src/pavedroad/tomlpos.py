"""Find the line of a key in TOML text, so that contract errors can say where to look.

`tomllib` gives values without positions. Contract files are small and hand-written, so a line
scan that follows table headers, arrays of tables and dotted keys finds the line a user expects;
a key inside an inline table resolves to the line of the inline table, and an element of an
array to the line where the element starts. Values that span lines (arrays, multi-line strings)
are scanned as values, so a line such as `  [1, 2],` inside an array is never mistaken for a
table header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r""""(?:[^"\\]|\\.)*"|'[^']*'"""
_PART = re.compile(rf"{_BARE}|{_QUOTED}")
_DOTTED = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")

Path_ = tuple[str | int, ...]


def _split(dotted: str) -> tuple[str, ...]:
    return tuple(part[1:-1] if part[0] in "\"'" else part for part in _PART.findall(dotted))


@dataclass
class _ValueScanner:
    """Tracks whether a value is still open at the end of a line (brackets, multi-line strings)
    and, for an array, the line on which each of its elements starts."""

    key: Path_ = ()
    depth: int = 0
    string: str | None = None  # the delimiter of an open multi-line string
    expect_element: bool = False  # inside the array, after its `[` or a `,`
    element_lines: list[int] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.depth > 0 or self.string is not None

    def elements(self) -> list[tuple[Path_, int]]:
        return [((*self.key, i), line) for i, line in enumerate(self.element_lines)]

    def feed(self, text: str, line: int) -> None:
        i = 0
        while i < len(text):
            if self.string is not None:
                i = self._close_multiline(text, i)
                continue
            char = text[i]
            if char == "#":
                return  # a comment runs to the end of the line
            if self.depth == 1 and self.expect_element and char not in " \t,]":
                self.element_lines.append(line)
                self.expect_element = False
            if char == "," and self.depth == 1:
                self.expect_element = True
            if text.startswith(('"""', "'''"), i):
                self.string = text[i : i + 3]
                i += 3
            elif char in "\"'":
                i = self._skip_string(text, i)
            else:
                if char == "[" and self.depth == 0:
                    self.expect_element = True  # the value is an array: index its elements
                if char in "[{":
                    self.depth += 1
                elif char in "]}":
                    self.depth = max(0, self.depth - 1)
                i += 1

    def _close_multiline(self, text: str, i: int) -> int:
        assert self.string is not None
        while i < len(text):
            if self.string == '"""' and text[i] == "\\":
                i += 2
            elif text.startswith(self.string, i):
                # A delimiter may be followed by up to two more quotes that belong to the string.
                end = i + 3
                while end < len(text) and text[end] == self.string[0] and end < i + 5:
                    end += 1
                self.string = None
                return end
            else:
                i += 1
        return i

    @staticmethod
    def _skip_string(text: str, i: int) -> int:
        quote, i = text[i], i + 1
        while i < len(text) and text[i] != quote:
            i += 2 if quote == '"' and text[i] == "\\" else 1
        return i + 1


def _resolve(names: tuple[str, ...], arrays: dict[tuple[str, ...], int]) -> Path_:
    """A header's key path, with the current index after each array of tables it passes through
    (`[waivers.x]` after the first `[[waivers]]` is ("waivers", 0, "x"))."""
    path: list[str | int] = []
    for depth, name in enumerate(names, start=1):
        path.append(name)
        if names[:depth] in arrays and depth < len(names):
            path.append(arrays[names[:depth]])
    return tuple(path)


def _index(text: str) -> list[tuple[Path_, int]]:
    """Every table header and key in the text, as (full key path, 1-based line)."""
    entries: list[tuple[Path_, int]] = []
    current: Path_ = ()
    arrays: dict[tuple[str, ...], int] = {}  # header names -> index of its last element
    counts: dict[Path_, int] = {}  # resolved array path -> elements so far
    value = _ValueScanner()
    # TOML ends lines at "\n" only; str.splitlines() would also split at \u2028, \x0c and
    # others that a comment or a string may hold, and every line number after them would drift.
    for number, line in enumerate(text.split("\n"), start=1):
        if value.open:
            value.feed(line, number)
            if not value.open:
                entries.extend(value.elements())
            continue
        if match := _ARRAY_HEADER.match(line):
            names = _split(match.group(1))
            parent = _resolve(names, arrays)
            position = counts.get(parent, 0)
            counts[parent] = position + 1
            arrays = {k: v for k, v in arrays.items() if k[: len(names)] != names}
            arrays[names] = position
            current = (*parent, position)
            entries.append((current, number))
        elif match := _TABLE_HEADER.match(line):
            current = _resolve(_split(match.group(1)), arrays)
            entries.append((current, number))
        elif match := _KEY.match(line):
            key = (*current, *_split(match.group(1)))
            entries.append((key, number))
            value = _ValueScanner(key=key)
            value.feed(line[match.end() :], number)
            if not value.open:
                entries.extend(value.elements())
    return entries


def locate(text: str, key_path: Sequence[str | int]) -> int | None:
    """The line that best explains `key_path`: the deepest header or key that is a prefix of it."""
    target = tuple(key_path)
    best_line: int | None = None
    best_depth = 0
    for path, line in _index(text):
        depth = len(path)
        if depth > best_depth and target[:depth] == path:
            best_line, best_depth = line, depth
    return best_line
