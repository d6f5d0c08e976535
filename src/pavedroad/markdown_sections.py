"""Headings, their anchors and their sections in Markdown (and reStructuredText) documents.

The contract points at documentation as `FILE#anchor`, the anchor GitHub shows for a heading. To
check that the section says something, we find the heading the way GitHub names it and take the
text up to the next heading of the same or a higher level. A full Markdown parser would be
heavier than the question: headings, fenced code blocks and paragraphs are all that matter here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MIN_WORDS = 5  # "Needs a GPU." is not enough to plan a deployment on; five words start to be

_ATX = re.compile(r"^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_OTHER_BLOCK = re.compile(r"^ {0,3}(?:[-+*][ \t]|\d{1,9}[.)][ \t]|>|\||<|(?:[-*_][ \t]*){3,}$)")
_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1+[ \t]*$")
_RST_COMMENT = re.compile(r"^\.\.(?:[ \t]|$)(?!.*::)")

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# A line that holds one of these is a reminder that the text is not written yet, whatever else
# it says: "TODO: describe the memory needs of the batch job" documents nothing.
_PLACEHOLDER_LINE = re.compile(
    r"\b(?:TODO|TBD|FIXME|XXX)\b|(?i:\bcoming soon\b|\bto be (?:written|done|added)\b|"
    r"\blorem ipsum\b)"
)
_PLACEHOLDER_TOKEN = re.compile(r"(?i)(?<!\w)n/a(?!\w)|\.{3,}|…")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:.*$", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
_WORD = re.compile(r"[^\W_](?:[\w'\u2019.-]*[^\W_])?")


@dataclass(frozen=True)
class Heading:
    level: int  # 1 for `#` (or the first reStructuredText adornment style), 6 for `######`
    text: str
    line: int  # 1-based line where the heading starts
    end_line: int  # its last line: the underline of a setext or reStructuredText heading
    anchor: str  # the fragment GitHub links it with, made unique like GitHub does


@dataclass(frozen=True)
class Section:
    """A heading and the lines it governs; `heading` is None for a whole document."""

    heading: Heading | None
    lines: tuple[str, ...]  # the body, without the headings of nested sections

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def words(self) -> list[str]:
        return content_words(self.text)

    def has_placeholder(self) -> bool:
        return bool(_PLACEHOLDER_LINE.search(_COMMENT.sub(" ", self.text)))


def slug(text: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation dropped, and each
    space a hyphen (so "Inputs & outputs" is `inputs--outputs`, as GitHub renders it)."""
    plain = _HTML_TAG.sub("", _IMAGE_OR_LINK.sub(r"\1", text)).strip().lower()
    kept = (
        char
        for char in plain
        if char in " -"
        or unicodedata.category(char)[0] in "LMN"
        or unicodedata.category(char) == "Pc"
    )
    return "".join(kept).replace(" ", "-")


def headings(text: str, *, rst: bool = False) -> list[Heading]:
    """Every heading of the document, in order, with unique anchors."""
    found = _rst_headings(text.splitlines()) if rst else _markdown_headings(text.splitlines())
    seen: dict[str, int] = {}
    unique: list[Heading] = []
    for level, title, line, end_line in found:
        anchor = base = slug(title)
        while anchor in seen:  # as github-slugger does: "notes", "notes-1", "notes-2"
            seen[base] += 1
            anchor = f"{base}-{seen[base]}"
        seen.setdefault(anchor, 0)
        unique.append(Heading(level, title, line, end_line, anchor))
    return unique


def find_section(text: str, anchor: str, *, rst: bool = False) -> Section | None:
    """The section under the heading whose anchor is `anchor` (or whose text slugs to it)."""
    found = headings(text, rst=rst)
    match = next((h for h in found if h.anchor == anchor), None)
    match = match or next((h for h in found if h.anchor == slug(anchor)), None)
    if match is None:
        return None
    index = found.index(match)
    following = (h for h in found[index + 1 :] if h.level <= match.level)
    end = next((h.line - 1 for h in following), len(text.splitlines()))
    nested = [h for h in found[index + 1 :] if h.line <= end]
    return Section(match, _body(text, match.end_line, end, nested))


def whole_document(text: str, *, rst: bool = False) -> Section:
    lines = text.splitlines()
    return Section(None, _body(text, 0, len(lines), headings(text, rst=rst)))


def closest_anchor(text: str, anchor: str, *, rst: bool = False) -> str | None:
    """The existing anchor most like `anchor`, for a 'did you mean' hint."""
    anchors = [h.anchor for h in headings(text, rst=rst)]
    close = difflib.get_close_matches(slug(anchor), anchors, n=1, cutoff=0.5)
    return close[0] if close else None


def content_words(text: str) -> list[str]:
    """The words a reader gets out of `text` once markup, comments and placeholders are gone."""
    text = _COMMENT.sub(" ", text)
    kept = [
        line
        for line in text.splitlines()
        if not _PLACEHOLDER_LINE.search(line) and not _RST_COMMENT.match(line)
    ]
    text = _REFERENCE_LINK.sub(" ", "\n".join(kept))
    text = _URL.sub(" ", _HTML_TAG.sub(" ", _IMAGE_OR_LINK.sub(r" \1 ", text)))
    return _WORD.findall(_PLACEHOLDER_TOKEN.sub(" ", text))


def _body(text: str, start: int, end: int, nested: Sequence[Heading]) -> tuple[str, ...]:
    """Lines start+1..end (1-based, inclusive), minus the lines of nested headings."""
    lines = text.splitlines()
    skipped = {n for h in nested for n in range(h.line, h.end_line + 1)}
    return tuple(lines[n - 1] for n in range(start + 1, end + 1) if n not in skipped)


def _markdown_headings(lines: Sequence[str]) -> list[tuple[int, str, int, int]]:
    found: list[tuple[int, str, int, int]] = []
    fence: str | None = None
    paragraph: list[
        int
    ] = []  # indexes of the paragraph a setext underline would turn into a heading
    other_block = False  # inside a list, quote, table or HTML block: no setext heading there
    for index, line in enumerate(lines):
        if fence is not None:
            if re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", line):
                fence = None
            continue
        fence_match = _FENCE.match(line)
        if fence_match and not (fence_match.group(1)[0] == "`" and "`" in fence_match.group(2)):
            fence, paragraph = fence_match.group(1), []
            continue
        atx = _ATX.match(line)
        if atx:
            title = _ATX_CLOSING.sub("", atx.group(2)).strip()
            found.append((len(atx.group(1)), title, index + 1, index + 1))
            paragraph, other_block = [], False
        elif paragraph and _SETEXT.match(line):
            title = " ".join(lines[i].strip() for i in paragraph)
            level = 1 if line.strip().startswith("=") else 2
            found.append((level, title, paragraph[0] + 1, index + 1))
            paragraph = []
        elif not line.strip():
            paragraph, other_block = [], False
        elif _OTHER_BLOCK.match(line):
            paragraph, other_block = [], True
        elif not other_block and (paragraph or not line.startswith("    ")):
            paragraph.append(index)
    return found


def _rst_headings(lines: Sequence[str]) -> list[tuple[int, str, int, int]]:
    """Section titles: a line underlined (and maybe overlined) by one repeated punctuation mark.
    Levels follow the order in which adornment styles first appear, as in docutils."""
    found: list[tuple[int, str, int, int]] = []
    styles: list[tuple[str, bool]] = []
    for index in range(len(lines) - 1):
        title, under = lines[index], lines[index + 1]
        adornment = _RST_ADORNMENT.match(under)
        if not title.strip() or _RST_ADORNMENT.match(title) or adornment is None:
            continue
        if title.startswith((" ", "\t")) or len(under.rstrip()) < len(title.strip()):
            continue
        over = index > 0 and lines[index - 1].rstrip() == under.rstrip()
        style = (adornment.group(1), over)
        if style not in styles:
            styles.append(style)
        start = index if over else index + 1
        found.append((styles.index(style) + 1, title.strip(), start, index + 2))
    return found
