"""The last clean-room run, kept in `.paved/repro.json` for `paved check` to show.

A clean room takes a while to build; `paved check` does not build one. It shows the REP results
of the last `paved repro` run instead, and only while the tree is still the one that run saw
(every file's hash as recorded): after any change, the recorded results are about another
project, and the checks say to run `paved repro` again instead of repeating stale verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pavedroad.fileio import write_atomic
from pavedroad.project import Project
from pavedroad.repro import files
from pavedroad.repro.outcome import Outcome

RECORD = f"{files.TOOL_STATE}/repro.json"
SHOWN_CHANGES = 3


@dataclass(frozen=True)
class Recorded:
    """The outcome the REP checks judge, or why there is none for this tree."""

    outcome: Outcome | None
    reason: str | None = None


def write(root: Path, outcome: Outcome) -> Path:
    path = root / RECORD
    write_atomic(path, outcome.to_json())
    return path


def recorded_outcome(project: Project) -> Recorded:
    """The last run's outcome if it ran on this very tree (a `project.fact`)."""
    path = project.root / RECORD
    if not path.is_file():
        return Recorded(None, "no clean-room run is recorded: `paved repro` runs one")
    try:
        outcome = Outcome.read(path)
    except (OSError, ValueError) as error:
        return Recorded(None, f"{RECORD} cannot be read ({error}): run `paved repro` again")
    changed = files.changes(files.listing(project.root), outcome.files)
    if changed:
        return Recorded(
            None,
            f"the last clean-room run ({outcome.created}) was of another tree "
            f"({describe(changed)}): run `paved repro` again",
        )
    return Recorded(outcome)


def describe(changed: list[str]) -> str:
    shown = "; ".join(changed[:SHOWN_CHANGES])
    more = len(changed) - SHOWN_CHANGES
    return shown + (f"; and {more} more" if more > 0 else "")
