"""Where a project's contract is, and reading its TOML with errors that name the line.

Standard library only: `paved deps` finds the project's root, and starts parsing its files,
before it imports the contract's Pydantic models.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pavedroad.errors import ContractError

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from tomllib import TOMLDecodeError
    else:
        from tomli import TOMLDecodeError

CONTRACT_FILE = "handoff.toml"
PYPROJECT = "pyproject.toml"


def search_contract(start: Path) -> Path | None:
    """The contract file that governs `start`, or None when no folder above it has one."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONTRACT_FILE
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT
        tool = read_toml(pyproject)[1].get("tool") if pyproject.is_file() else None
        if isinstance(tool, dict) and "paved" in tool:
            return pyproject
    return None


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and its parsed TOML, or a ContractError that says where it breaks."""
    # imported here: the result cache needs this module's names, not the 20 ms of tomllib
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        # Editors on Windows may start the file with a byte-order mark, which TOML forbids.
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except OSError as error:
        raise ContractError(f"cannot read the contract: {error.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise ContractError("the contract is not UTF-8 text", path=path) from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ContractError(
            f"not valid TOML: {_toml_error_message(error)}",
            path=path,
            line=_toml_error_line(error, text),
            hint="check quoting, brackets and that each key appears once",
        ) from None
    return text, data


def _toml_error_line(error: TOMLDecodeError, text: str) -> int | None:
    """The line tomllib (or tomli on 3.10) complains about. A truncated file is reported past
    its end ("end of document", or the empty line after the last newline): the last line is
    where the reader gave up, and the one a user should look at."""
    last = len(text.rstrip("\n").split("\n"))
    lineno = getattr(error, "lineno", None)  # Python 3.14 adds it; older ones put it in the text
    if not isinstance(lineno, int):
        match = re.search(r"at line (\d+)", str(error))
        lineno = int(match.group(1)) if match else None
    if lineno is None:
        return last if "end of document" in str(error) else None
    return min(lineno, last)


def _toml_error_message(error: TOMLDecodeError) -> str:
    return re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", str(error))
