"""The errors a user can cause and fix: each one prints as a single clear message, exit code 2.

Anything that is not a `PavedError` is a bug in pavedroad and is reported as an internal error.
"""

from __future__ import annotations

from pathlib import Path


class PavedError(Exception):
    """Root of the errors that are the user's to fix (exit code 2)."""

    exit_code = 2


class UsageError(PavedError):
    """The command was called in a way that cannot work (a missing path, an unknown check id)."""


class ContractError(PavedError):
    """The contract cannot be read or does not validate; says which file, line and key."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.key = key
        self.message = message
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        key = f" [{self.key}]" if self.key else ""
        text = f"{where}:{key} {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ContractErrors(PavedError):
    """Several contract errors found in one pass, reported together so the user fixes them at once.

    The message stays on one screen: past `SHOWN` errors (a file that is not a contract at all),
    more of them would only push the first, most useful ones out of sight.
    """

    SHOWN = 15

    def __init__(self, errors: list[ContractError]) -> None:
        self.errors = errors
        lines = [error.render() for error in errors[: self.SHOWN]]
        if len(errors) > self.SHOWN:
            lines.append(f"... and {len(errors) - self.SHOWN} more errors in the contract")
        super().__init__("\n".join(lines))
