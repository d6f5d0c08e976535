"""CODEOWNERS files (GitHub and GitLab): the rules, and which rule owns a path.

Pattern matching follows GitHub's documented rules, which are gitignore's minus negation and
character ranges: a pattern with no slash but a trailing one matches at any depth, any other is
anchored at the root; `*` and `?` never cross a `/`, `**` does; a pattern that names a directory
owns everything beneath it, except that a trailing lone `*` (`docs/*`) owns direct children only.
The last matching rule wins. GitLab adds `[Section]` headers (also `^[Optional]` and
`[Section][2]`) with optional default owners; the last match of each section applies, and the
owners of every section that matches add up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

_SECTION = re.compile(r"^\^?\[(?P<name>[^\]]+)\](?:\[\d+\])?(?P<owners>(?:\s.*)?)$")
_TEAM = re.compile(r"^@[^/\s]+/(?P<team>[^/\s]+)$")
# A bare owner name in a contract ("ml-platform"): something CODEOWNERS could spell as a handle.
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Rule:
    """One line of CODEOWNERS: a pattern, its owners (empty: explicitly unowned), its line."""

    pattern: str
    owners: tuple[str, ...]
    line: int
    section: str | None = None

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        return compile_pattern(self.pattern)

    def matches(self, path: str) -> bool:
        """Whether this rule's pattern covers `path` (relative to the repository, with `/`)."""
        regex = self._regex
        return regex is not None and regex.fullmatch(path.strip("/")) is not None


@dataclass(frozen=True)
class CodeOwners:
    rules: tuple[Rule, ...]

    @cached_property
    def owners(self) -> frozenset[str]:
        """Every owner named anywhere in the file."""
        return frozenset(owner for rule in self.rules for owner in rule.owners)

    def rules_for(self, path: str) -> tuple[Rule, ...]:
        """The rules that decide who owns `path`: the last match of each section."""
        last: dict[str | None, Rule] = {}
        for rule in self.rules:
            if rule.matches(path):
                last[rule.section] = rule
        return tuple(last.values())

    def owners_of(self, path: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o for rule in self.rules_for(path) for o in rule.owners))


def parse(text: str) -> CodeOwners:
    """The rules of a CODEOWNERS file; comments, blank lines and escaped-space patterns skipped."""
    rules: list[Rule] = []
    section: str | None = None
    defaults: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        header = _SECTION.match(line)
        if header:
            # GitLab: section names are case-insensitive, and a repeated section continues it.
            section = header.group("name").strip().lower()
            defaults = tuple(header.group("owners").split())
            continue
        if "\\ " in line:
            continue  # an escaped space in a pattern; too rare to be worth a tokenizer
        pattern, *owners = line.split()
        rules.append(Rule(pattern, tuple(owners) or defaults, number, section))
    return CodeOwners(tuple(rules))


def _strip_comment(line: str) -> str:
    """Drop a `#` comment: a whole line, or after whitespace (a `#` inside a pattern stays)."""
    if line.lstrip().startswith("#"):
        return ""
    match = re.search(r"\s#", line)
    return line[: match.start()] if match else line


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """A regex for a CODEOWNERS pattern, matched against a whole relative path; None: matches
    nothing (an empty pattern, a lone `/`, or `***`, which GitHub rejects)."""
    if not pattern or pattern == "/" or "***" in pattern:
        return None
    segments = pattern.split("/")
    if segments[0] == "":
        segments = segments[1:]  # a leading slash anchors at the root
    elif (len(segments) == 1 or (len(segments) == 2 and segments[1] == "")) and segments[0] != "**":
        segments = ["**", *segments]  # one segment matches at any depth
    if len(segments) > 1 and segments[-1] == "":
        segments[-1] = "**"  # a trailing slash: everything beneath the directory
    return re.compile(_segments_regex(segments))


def _segments_regex(segments: list[str]) -> str:
    last = len(segments) - 1
    parts: list[str] = []
    need_slash = False
    for index, segment in enumerate(segments):
        if segment == "**":
            if index == 0 and index == last:
                parts.append(".+")
            elif index == 0:
                parts.append("(?:.+/)?")
                need_slash = False
            elif index == last:
                parts.append("/.*")
            else:
                parts.append("(?:/.+)?")
                need_slash = True
            continue
        if need_slash:
            parts.append("/")
        need_slash = True
        if segment == "*":
            parts.append("[^/]+")  # a lone `*` segment: exactly one name, nothing beneath
            continue
        parts.append(_segment_regex(segment))
        if index == last:
            parts.append("(?:/.*)?")  # a file, or a directory and everything beneath it
    return "".join(parts)


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    escaped = False
    for char in segment:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def is_comparable(owner: str) -> bool:
    """Whether a contract owner can be looked up in CODEOWNERS: a @handle, a @org/team, an email,
    or a bare handle-like name. A free-text name ("Alice Smith") cannot."""
    return owner.startswith("@") or "@" in owner or _SLUG.match(owner) is not None


def same_owner(contract_owner: str, codeowner: str) -> bool:
    """Whether a contract's owner and a CODEOWNERS owner are the same person or team.

    Handles and emails compare case-insensitively, as GitHub and mail systems do. A bare name in
    the contract ("ml-platform") stands for the handle `@ml-platform` or a team `@org/ml-platform`.
    """
    ours, theirs = contract_owner.strip().lower(), codeowner.strip().lower()
    if ours == theirs:
        return True
    if "@" in ours or _SLUG.match(ours) is None:
        return False
    team = _TEAM.match(theirs)
    return theirs == f"@{ours}" or (team is not None and team.group("team") == ours)
