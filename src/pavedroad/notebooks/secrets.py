"""Credentials in text, found by their well-known shapes, and redaction: a secret is never shown.

The patterns are the providers' documented token formats (AWS key ids, GitHub, GitLab, Slack,
OpenAI-style, Google, Hugging Face, Stripe), PEM private key blocks, passwords in connection URLs,
and high-entropy values assigned to names that say what they are (`api_key = "..."`). What is
shown of a finding is its kind, its first characters when the value is long enough that they
give nothing away (a token's public prefix), and its length.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

# (kind, markers, pattern): the pattern runs only on a text holding one of its markers, plain
# substrings found at C speed, so the audit of thousands of cells costs a few scans each.
TOKENS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, markers, re.compile(pattern))
    for kind, markers, pattern in (
        (
            "AWS access key id",
            ("AKIA", "ASIA", "AGPA", "AIDA", "AROA"),
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
        ),
        ("GitHub token", ("gh",), r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
        ("GitHub token", ("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
        ("GitLab token", ("glpat-",), r"\bglpat-[A-Za-z0-9_\-]{20,}"),
        ("Slack token", ("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        (
            "Slack webhook",
            ("hooks.slack",),
            r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}",
        ),
        ("OpenAI-style API key", ("sk-",), r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_\-]{20,}"),
        ("Stripe key", ("k_live_", "k_test_"), r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("Google API key", ("AIza",), r"\bAIza[0-9A-Za-z_\-]{35}"),
        ("Hugging Face token", ("hf_",), r"\bhf_[A-Za-z0-9]{30,}"),
        # the whole block, so that redacting it leaves none of the key behind
        (
            "private key",
            ("PRIVATE KEY",),
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:.|\n)*?"
            r"(?:-----END [A-Z0-9 ]*-----|\Z)",
        ),
    )
)
# scheme://user:password@host; the password is the secret, unless it is a placeholder
URL_PASSWORD = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]+:(?P<secret>[^\s@/'\"]+)@[^\s/'\"]+"
)
# name = "value", name: "value", "name": "value", name="value" (a keyword argument)
ASSIGNED = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_]*)["']?\s*(?:=|:|<-)\s*(?P<q>["'])(?P<secret>[^"'\s]{4,})(?P=q)"""
)
_SECRET_NAME = re.compile(
    r"(?i)(?:^|_)(?:api_?key|key|token|secret|passw(?:or)?d|pwd|pass|credentials?|auth)$"
)
_NAME_WORDS = ("key", "token", "secret", "pass", "pwd", "credential", "auth")
_PASSWORD_NAME = re.compile(r"(?i)(?:passw(?:or)?d|pwd|pass)$")
_PLACEHOLDER = re.compile(
    r"(?i)^(?:[*x.•-]+|<.*>|\{.*\}|\$\{?.*|%.*|.*(?:your|example|changeme|placeholder|redacted|"
    r"dummy|xxxx|\*\*\*).*)$"
)
MIN_ENTROPY = 3.5  # bits per character: random tokens, not words or identifiers
MIN_LENGTH = 16
SHOWN = 4  # characters shown of a secret at least SHOWN_FROM long
SHOWN_FROM = 16
_UNSHOWN = frozenset({"private key"})  # nor passwords: nothing public in their start


@dataclass(frozen=True)
class Secret:
    kind: str
    line: int  # 1-based, in the text searched
    start: int  # offsets of the secret in the text
    end: int
    length: int
    shown: str  # what may be shown of it: its first characters, or nothing

    def describe(self) -> str:
        prefix = f"`{self.shown}…`, " if self.shown else ""
        return f"{self.kind} ({prefix}{self.length} characters)"


def find_secrets(text: str) -> list[Secret]:
    """Every credential in `text`, once each, in order; overlapping matches count once."""
    found: list[Secret] = []
    taken: list[tuple[int, int]] = []
    for kind, start, end in _candidates(text):
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        value = text[start:end]
        unshown = kind in _UNSHOWN or kind.startswith("password")
        shown = value[:SHOWN] if len(value) >= SHOWN_FROM and not unshown else ""
        line = text.count("\n", 0, start) + 1
        found.append(Secret(kind, line, start, end, len(value), shown))
    return sorted(found, key=lambda secret: secret.start)


def _candidates(text: str) -> Iterator[tuple[str, int, int]]:
    for kind, markers, pattern in TOKENS:
        if any(marker in text for marker in markers):
            for match in pattern.finditer(text):
                yield kind, match.start(), match.end()
    if "://" in text and "@" in text:
        for match in URL_PASSWORD.finditer(text):
            if not _PLACEHOLDER.match(match.group("secret")):
                yield "password in a URL", match.start("secret"), match.end("secret")
    lowered = text.lower()
    if not any(word in lowered for word in _NAME_WORDS):
        return
    for match in ASSIGNED.finditer(text):
        name, value = match.group("name"), match.group("secret")
        if _SECRET_NAME.search(name) and _assigned_secret(name, value):
            kind = "password" if _PASSWORD_NAME.search(name) else "secret"
            yield f"{kind} assigned to {name}", match.start("secret"), match.end("secret")


def _assigned_secret(name: str, value: str) -> bool:
    """A password is any value that is no placeholder; a key or token must look random."""
    if _PLACEHOLDER.match(value):
        return False
    if _PASSWORD_NAME.search(name):
        return True
    return (
        len(value) >= MIN_LENGTH
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and entropy(value) >= MIN_ENTROPY
    )


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def redact(text: str) -> str:
    """`text` with every secret in it replaced by its description: safe to show anywhere."""
    secrets = find_secrets(text)
    for secret in reversed(secrets):
        text = f"{text[: secret.start]}<{secret.describe()}>{text[secret.end :]}"
    return text
