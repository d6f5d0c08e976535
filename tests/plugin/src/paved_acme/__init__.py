"""An organisation's own family: every project must have a SECURITY.md."""

from __future__ import annotations

from collections.abc import Iterator

from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap

family = Family("ACME", "Acme policy", "Checks an organisation adds without forking pavedroad.")


@family.check("ACME001", "The project has a SECURITY.md")
def security_policy(project: Project) -> Iterator[Gap]:
    """Checks that the project root has a SECURITY.md.

    Why: Acme's incident process starts from the security contact of each service.

    Example: A project with a README and no SECURITY.md.

    Fix: Add SECURITY.md with the security contact and the disclosure process.
    """
    policy = project.root / "SECURITY.md"
    if not policy.is_file():
        yield Gap(
            subject="SECURITY.md",
            message="SECURITY.md is missing",
            location=project.location(policy),
        )
    else:
        yield Evidence(
            subject="SECURITY.md",
            message="SECURITY.md names the security contact",
            location=project.location(policy),
        )
