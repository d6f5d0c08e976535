"""What the model was checked with: interpreter, dependencies, artifact, data, commit.

The hashes are the ones this run saw (the evaluation's, when it ran), so a reader can tell
whether the packet describes the artifact they are about to deploy.
"""

from __future__ import annotations

import platform

from pavedroad import __version__
from pavedroad.declared import declarations
from pavedroad.evaluation.run import Evaluation, contract_sha256
from pavedroad.fileio import sha256_of
from pavedroad.git import git_commit
from pavedroad.project import Project
from pavedroad.report.measures import dataset_sha256
from pavedroad.report.packet import Dependency, Environment


def environment(project: Project, found: Evaluation | None) -> Environment:
    contract = project.contract
    model, performance = contract.model, contract.performance
    artifact = project.root / model.artifact if model and model.artifact else None
    artifact_sha256 = found.artifact_sha256 if found and found.artifact_sha256 else None
    if artifact_sha256 is None and artifact is not None and artifact.is_file():
        artifact_sha256 = sha256_of(artifact)
    source, dependencies = _dependencies(project)
    return Environment(
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=f"{platform.system()} {platform.machine()}",
        tool_version=__version__,
        python_required=contract.dependencies.python if contract.dependencies else None,
        commit=(found.commit if found and found.commit else None) or git_commit(project.root),
        contract_sha256=contract_sha256(project),
        artifact=model.artifact if model else None,
        artifact_sha256=artifact_sha256,
        artifact_expected=model.sha256 if model else None,
        dataset=performance.dataset if performance else None,
        dataset_sha256=(found.dataset_sha256 if found and found.dataset_sha256 else None)
        or project.fact(dataset_sha256),
        dependencies_source=source,
        dependencies=dependencies,
    )


def _dependencies(project: Project) -> tuple[str, tuple[Dependency, ...]]:
    """The lock's exact versions when there is a lock, else the declared runtime requirements."""
    found = declarations(project)
    if found.locks:
        lock = found.locks[0]
        hashed = ", with hashes" if lock.hashed else ""
        return f"{project.rel(lock.path)} (locked{hashed})", tuple(
            Dependency(name, f"=={version}", pinned=True)
            for name, version in sorted(lock.packages.items())
        )
    runtime = found.runtime()
    if not runtime:
        return "no runtime dependency declared", ()
    sources = sorted({project.rel(d.source) for d in runtime})
    return f"{', '.join(sources)} (declared, no lock)", tuple(
        Dependency(d.name, d.specifier, pinned=d.pinned) for d in runtime
    )
