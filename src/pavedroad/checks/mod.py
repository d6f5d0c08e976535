"""MOD: the model artifact that was validated is the one shipped (static part)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck

family = Family("MOD", "Model", "The model artifact, its loading and its behaviour on data.")

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """Streamed, so a multi-gigabyte artifact costs memory of one chunk."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@family.check("MOD001", "The model artifact exists and matches its sha256", section="model")
def artifact_matches(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that `[model].artifact` exists and that its sha256 is the one in the contract.

    Why: The metrics, the latency and the sign-off were all obtained with one specific file. If the
    file shipped is another one (retrained, re-exported, corrupted in transfer, or a different
    library version's pickle), every number in the handoff describes a model nobody is running.

    Example: `artifact = "models/churn.joblib"` with `sha256 = "9f2c..."`, after the notebook was
    re-run and overwrote the file.

    Fix: If the new artifact is the one to ship, validate it again and record its hash with
    `sha256sum models/churn.joblib`; otherwise restore the validated file.
    """
    model = project.contract.model
    if model is None or model.artifact is None:
        raise SkipCheck("the contract names no [model].artifact")
    path = project.root / model.artifact
    if not path.is_file():
        yield Gap(
            subject=model.artifact,
            message=f"the model artifact {model.artifact} does not exist",
            location=project.contract_location("model", "artifact"),
            fix="Commit the artifact at that path (or Git LFS / DVC pointer resolved before the "
            "check), or correct `[model].artifact`.",
        )
        return
    actual = sha256_of(path)
    if model.sha256 is None:
        yield Gap(
            subject=model.artifact,
            message=f"the contract records no sha256 for {model.artifact}",
            location=project.contract_location("model", "artifact"),
            fix=f'Add `sha256 = "{actual}"` to [model] once this artifact is validated.',
        )
    elif actual != model.sha256:
        yield Gap(
            subject=model.artifact,
            message=f"{model.artifact} has sha256 {actual[:12]}…, the contract expects "
            f"{model.sha256[:12]}…: this is not the artifact that was validated",
            location=project.contract_location("model", "sha256"),
            fix=f"If {model.artifact} is the model to ship, validate it again and record "
            f'`sha256 = "{actual}"`; otherwise restore the validated file.',
        )
    else:
        yield Evidence(
            subject=model.artifact,
            message=f"{model.artifact} matches the contract's sha256 ({actual[:12]}…)",
            location=project.location(path),
        )
