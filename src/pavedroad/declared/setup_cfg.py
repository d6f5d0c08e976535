"""setup.cfg: [options] install_requires and tests_require, [options.extras_require].

configparser reads the file as setuptools does; it gives no line numbers, so each requirement's
line is found by scanning the section's own lines for it.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pavedroad.declared.model import RUNTIME, Found, extra_group, from_requirement

# Only `#` ends a line early: a `;` inside a requirement starts its marker.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_SECTION = re.compile(r"^\s*\[([^\]]+)\]")


def _section_lines(text: str, section: str) -> list[tuple[int, str]]:
    """(line number, text without comment) of every line inside `[section]`."""
    inside = False
    lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _SECTION.match(line):
            inside = match.group(1).strip() == section
        elif inside:
            lines.append((number, _COMMENT.sub("", line).strip()))
    return lines


def _line_of(lines: list[tuple[int, str]], key: str, value: str) -> int | None:
    """The line of `value` under `key` in the section: on the key's line or a following one."""
    pattern = re.compile(rf"{re.escape(key)}\s*[=:]\s*(.*)$", re.IGNORECASE)
    for index, (number, text) in enumerate(lines):
        if match := pattern.match(text):
            if match.group(1) == value:
                return number
            return next((n for n, t in lines[index + 1 :] if t == value), number)
    return None


def read_setup_cfg(root: Path, found: Found) -> None:
    path = root / "setup.cfg"
    if not path.is_file():
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        text = path.read_text(encoding="utf-8")
        parser.read_string(text, source=path.name)
    except (OSError, UnicodeDecodeError) as error:
        found.problem(path, None, f"cannot read setup.cfg: {error}")
        return
    except configparser.Error as error:
        line = getattr(error, "lineno", None)
        found.problem(path, line, f"setup.cfg is not valid: {error.message}")
        return
    wanted = [
        ("options", key, group)
        for key, group in (
            ("install_requires", RUNTIME),
            ("install-requires", RUNTIME),
            ("tests_require", "dev:tests"),
        )
    ]
    if parser.has_section("options.extras_require"):
        wanted += [
            ("options.extras_require", extra, extra_group(extra))
            for extra in parser.options("options.extras_require")
        ]
    if not any(parser.has_option(section, key) for section, key, _ in wanted):
        return
    found.source(path)
    for section, key, group in wanted:
        if parser.has_option(section, key):
            _requirements(found, path, text, section, key, parser.get(section, key), group)


def _requirements(
    found: Found, path: Path, text: str, section: str, key: str, value: str, group: str
) -> None:
    lines = _section_lines(text, section)
    for item in value.splitlines():
        written = _COMMENT.sub("", item).strip()
        if not written:
            continue
        line = _line_of(lines, key, written)
        try:
            requirement = Requirement(written)
        except InvalidRequirement as error:
            found.problem(path, line, f"invalid requirement {written!r} in {key}: {error}")
            continue
        found.dependencies.append(
            from_requirement(requirement, written=written, group=group, source=path, line=line)
        )
