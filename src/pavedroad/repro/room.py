"""The room: one temporary folder holding everything a run creates, removed as a whole.

project/   the copied files: the project as a clone would have it (the working folder)
venv/      the room's own environment: the wheel, layered over the cached dependencies
home/      an empty HOME
dist/      the wheel built from project/
work/      requests, results and logs of the phases (outside the project on purpose)
tool/      a link to pavedroad's package, for the evaluation worker only
jupyter/   the notebooks' kernel spec (kernels/) and their connection files (runtime/)
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Room:
    top: Path

    @classmethod
    def create(cls) -> Room:
        room = cls(Path(tempfile.mkdtemp(prefix="paved-repro-")).resolve())
        for folder in (room.project, room.home, room.dist, room.work):
            folder.mkdir()
        return room

    @property
    def project(self) -> Path:
        return self.top / "project"

    @property
    def venv(self) -> Path:
        return self.top / "venv"

    @property
    def home(self) -> Path:
        return self.top / "home"

    @property
    def dist(self) -> Path:
        return self.top / "dist"

    @property
    def work(self) -> Path:
        return self.top / "work"

    @property
    def tool(self) -> Path:
        return self.top / "tool"

    @property
    def jupyter(self) -> Path:
        return self.top / "jupyter"

    def remove(self) -> None:
        shutil.rmtree(self.top, ignore_errors=True)
