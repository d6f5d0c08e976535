"""Results and the verdict: the data every reporter renders and none of them decides."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    WAIVED = "waived"
    SKIP = "skip"
    ERROR = "error"


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where the evidence is: a path relative to the project root, and a 1-based line if known."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line}


@dataclass(frozen=True, kw_only=True)
class WaiverNote:
    """The waiver that applied to a gap: reporters show it (SARIF as a suppression)."""

    reason: str
    expires: str  # ISO date

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "expires": self.expires}


@dataclass(frozen=True, kw_only=True)
class Result:
    """The outcome of one check for one subject (a package, a file, a variable, a role)."""

    id: str
    family: str
    title: str
    status: Status
    message: str
    subject: str | None = None
    fix: str | None = None
    location: Location | None = None
    waiver: WaiverNote | None = None  # set when a waiver matched (active: waived; expired: fail)

    def to_dict(self) -> dict[str, Any]:
        """The documented, versioned form used by the JSON report."""
        return {
            "id": self.id,
            "family": self.family,
            "title": self.title,
            "status": self.status.value,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
            "location": self.location.to_dict() if self.location else None,
            "waiver": self.waiver.to_dict() if self.waiver else None,
        }


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """READY only when nothing failed and nothing errored; an error means 'cannot certify'."""

    project: str
    results: tuple[Result, ...] = field(default_factory=tuple)

    @property
    def counts(self) -> Counter[Status]:
        return Counter(result.status for result in self.results)

    @property
    def ready(self) -> bool:
        counts = self.counts
        return counts[Status.FAIL] == 0 and counts[Status.ERROR] == 0

    @property
    def certifiable(self) -> bool:
        """False when a check crashed: the verdict then rests on missing evidence."""
        return self.counts[Status.ERROR] == 0

    @property
    def label(self) -> str:
        if self.ready:
            return "READY"
        return "NOT READY" if self.certifiable else "NOT READY (cannot certify)"

    def gaps(self) -> list[Result]:
        return [r for r in self.results if r.status in (Status.FAIL, Status.ERROR)]

    def summary(self) -> str:
        """One line: the verdict and the count of each status that occurred."""
        counts = self.counts
        parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
        return f"{self.label}: " + (", ".join(parts) if parts else "no checks ran")
