"""Find the line of a key in TOML text, so that contract errors can say where to look.

`tomllib` gives values without positions. Contract files are small and hand-written, so a line
scan that follows table headers, arrays of tables and dotted keys finds the line a user expects;
a key inside an inline table resolves to the line of the inline table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")

Path_ = tuple[str | int, ...]


def _split(dotted: str) -> list[str]:
    return [part.strip("\"'") for part in _PART.findall(dotted)]


def _index(text: str) -> list[tuple[Path_, int]]:
    """Every table header and key in the text, as (full key path, 1-based line)."""
    entries: list[tuple[Path_, int]] = []
    current: Path_ = ()
    array_counts: dict[tuple[str, ...], int] = {}
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if match := _ARRAY_HEADER.match(line):
            names = tuple(_split(match.group(1)))
            position = array_counts.get(names, -1) + 1
            array_counts[names] = position
            current = (*names, position)
            entries.append((current, number))
        elif match := _TABLE_HEADER.match(line):
            current = tuple(_split(match.group(1)))
            entries.append((current, number))
        elif match := _KEY.match(line):
            entries.append(((*current, *_split(match.group(1))), number))
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
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
