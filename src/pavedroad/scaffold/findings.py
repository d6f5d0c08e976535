"""What `paved init` found in a project: the facts a starting contract is written from.

Each inference module fills its part; `contract_text` turns the whole into handoff.toml. A fact
carries where it was seen, so that the summary `paved init` prints can be checked by a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["input", "output"]
Framework = Literal["Flask", "FastAPI"]


@dataclass(frozen=True)
class Artifact:
    """The model file: the most likely one, and the other candidates left out."""

    path: str  # relative to the project root, with forward slashes
    sha256: str
    others: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaCandidate:
    """A Pydantic model of the project, and the role it plays when the code says so."""

    reference: str  # "package.module:Class"
    role: Role | None
    why: str  # "parameter of POST /predict in app.py:12", "its name"


@dataclass(frozen=True)
class WebApp:
    path: str
    framework: Framework


@dataclass(frozen=True)
class Dependencies:
    sources: tuple[str, ...]  # the files that declare them: requirements.txt, pyproject.toml
    lock: str | None
    python: str | None  # requires-python / python_requires, as written


@dataclass(frozen=True)
class Docs:
    readme: str | None
    resources: str  # "README.md#resource-requirements"
    failure_modes: str
    found: tuple[str, ...] = ()  # the anchors that are headings of the README already


@dataclass(frozen=True)
class Findings:
    name: str
    package: str | None
    other_packages: tuple[str, ...]
    entry_points: tuple[str, ...]
    dependencies: Dependencies
    artifact: Artifact | None
    schemas: tuple[SchemaCandidate, ...]
    predict_candidates: tuple[str, ...]
    apps: tuple[WebApp, ...]
    datasets: tuple[str, ...]  # tabular files, the likeliest golden dataset first
    tests: int  # test files
    modules: tuple[str, ...]  # the package's (or flat project's) source files, for core_paths
    docs: Docs
    env: dict[str, str] = field(default_factory=dict)  # variable -> where it is first read
    notebooks: tuple[str, ...] = ()  # [notebooks].paths

    def schema(self, role: Role) -> SchemaCandidate | None:
        """The one candidate the code gives `role`, or None when none or several do."""
        matching = [s for s in self.schemas if s.role == role]
        return matching[0] if len(matching) == 1 else None
