"""Paths seen in the room, shown as the author knows them: relative to the project root.

A traceback in the room names `.../room/project/src/churn/model.py` or, for the installed wheel,
`.../room/venv/lib/python3.11/site-packages/churn/model.py`; both are `src/churn/model.py` in the
author's tree, and that is what a gap must point at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pavedroad.project import Project
from pavedroad.repro.room import Room

_FILE_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+)$")


@dataclass(frozen=True)
class Places:
    room: Room
    site: Path  # the room's site-packages, where the wheel is installed
    project: Project  # the author's

    def relative(self, path: str) -> str:
        """`path` as the author's tree names it, or unchanged when it is not the project's."""
        target = Path(path)
        if target.is_relative_to(self.room.project):
            return target.relative_to(self.room.project).as_posix()
        if target.is_relative_to(self.site):
            inside = target.relative_to(self.site)
            for root in self.project.source_roots:
                candidate = root / inside
                if candidate.exists():
                    return self.project.rel(candidate)
            return inside.as_posix()
        return path

    def where(self, text: str | None) -> str | None:
        """A `file:line` mapped the same way."""
        if text is None:
            return None
        match = _FILE_LINE.match(text)
        if match is None:
            return self.relative(text)
        return f"{self.relative(match['path'])}:{match['line']}"
