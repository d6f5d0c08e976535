"""`.paved/attestation.json`: what the clean room proved, in hashes a later check can recompute.

Written only when the clean room passes, atomically. It names the lock, the wheel, the model
artifact, the golden dataset and the contract (the whole `extends` chain) by sha256, with the
Python version, the commit, the exact packages installed, the metrics and budgets measured, and
the hash of every file the room held. `paved check` (REP008) recomputes what it can from the
tree: the engineer then knows that what they received is exactly what was proven. The wheel's
hash is recorded, not recomputed: rebuilding it is not static.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavedroad import __version__
from pavedroad.evaluation.judge import project_key
from pavedroad.evaluation.run import contract_sha256
from pavedroad.fileio import sha256_of, write_atomic
from pavedroad.project import Project
from pavedroad.repro import files
from pavedroad.repro.outcome import Outcome

ATTESTATION = f"{files.TOOL_STATE}/attestation.json"
FORMAT = 1


def build(
    project: Project, outcome: Outcome, *, lock: str | None, frozen: list[str]
) -> dict[str, Any]:
    model, performance = project.contract.model, project.contract.performance
    evaluation = outcome.evaluation
    package = outcome.package
    return {
        "format": FORMAT,
        "tool": f"pavedroad {__version__}",
        "created": outcome.created,
        "project": project_key(project),
        "commit": outcome.commit,
        "python": outcome.python,
        "contract": {"path": project.rel(project.loaded.path), "sha256": contract_sha256(project)},
        "lock": _file(project, lock),
        "wheel": {"name": package.wheel, "sha256": package.wheel_sha256} if package else None,
        "artifact": _file(project, model.artifact if model else None),
        "dataset": _file(project, performance.dataset if performance else None),
        "environment": {
            "source": outcome.environment.source if outcome.environment else None,
            "packages": frozen,
        },
        "metrics": {m.key: m.room for m in evaluation.metrics} if evaluation else {},
        "budgets": dict(evaluation.budgets) if evaluation else {},
        "files": outcome.files,
    }


def _file(project: Project, relative: str | None) -> dict[str, str] | None:
    if relative is None or not (project.root / relative).is_file():
        return None
    return {"path": relative, "sha256": sha256_of(project.root / relative)}


def write(project: Project, attestation: dict[str, Any]) -> Path:
    path = project.root / ATTESTATION
    write_atomic(path, json.dumps(attestation, indent=2, sort_keys=False) + "\n")
    return path


@dataclass(frozen=True)
class Verified:
    """What the attestation says, and what no longer matches the tree."""

    created: str
    python: str | None
    commit: str | None
    mismatches: list[str]
    files: int


def verify(project: Project, text: str) -> Verified:
    """Recompute every hash the tree can give; raises ValueError for a malformed attestation."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not an attestation of format {FORMAT}")
    mismatches = []
    named = set()
    for key, what in (
        ("lock", "the lock"),
        ("artifact", "the model artifact"),
        ("dataset", "the golden dataset"),
    ):
        entry = data.get(key)
        if entry is None:
            continue
        relative = str(entry["path"])
        named.add(relative)
        path = project.root / relative
        if not path.is_file():
            mismatches.append(f"{what} {relative} is gone")
        elif sha256_of(path) != entry["sha256"]:
            mismatches.append(f"{what} {relative} changed")
    contract = data.get("contract") or {}
    if contract.get("sha256") != contract_sha256(project):
        mismatches.append(f"the contract {contract.get('path', 'handoff.toml')} changed")
        named.add(str(contract.get("path")))
    recorded = data.get("files")
    if not isinstance(recorded, dict):
        raise ValueError("no `files` table")
    for change in files.changes(files.listing(project.root), recorded):
        if change.split(": ", 1)[1] not in named:
            mismatches.append(change)
    return Verified(
        created=str(data.get("created")),
        python=data.get("python"),
        commit=data.get("commit"),
        mismatches=mismatches,
        files=len(recorded),
    )
