"""Where `copier update` finds the project template: pavedroad's git repository, at the tag of
each release, and what a project made from it is expected to keep.

`paved new` renders the copy bundled in the installed package, which is no git repository, so
Copier could not update from it. It records instead the repository and the release tag the
bundle was built from (`_src_path`, `_commit`), exactly as Copier records a rendering from that
tag. The repository's root `copier.yml` includes the bundled `copier.yml` and names the bundled
folder as `_subdirectory`, so both renderings are one template. The template's version is
pavedroad's: it ships inside the package and is tagged with it.

Standard library only: the PKG004 check imports it on every `paved check`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pavedroad import __version__

REPOSITORY = "https://github.com/pavedroad/pavedroad.git"
ANSWERS_FILE = ".copier-answers.yml"
_CANONICAL = "https://github.com/pavedroad/pavedroad"
# The other spellings Copier and git accept for a GitHub repository, as prefixes to rewrite.
_SPELLINGS = (
    ("gh:", "https://github.com/"),
    ("git@github.com:", "https://github.com/"),
    ("ssh://git@github.com/", "https://github.com/"),
    ("http://github.com/", "https://github.com/"),
)


def release_tag(version: str = __version__) -> str:
    """The git tag of a pavedroad release: `v` and the version, e.g. v0.1.0."""
    return f"v{version}"


def names_pavedroad(src_path: str) -> bool:
    """Whether an answers file's `_src_path` is pavedroad's repository, however it is spelt
    (`gh:pavedroad/pavedroad`, an SSH address, with or without `.git` or `git+`)."""
    url = src_path.strip().lower().removeprefix("git+")
    for prefix, replacement in _SPELLINGS:
        if url.startswith(prefix):
            url = replacement + url[len(prefix) :]
    return url.rstrip("/").removesuffix(".git") == _CANONICAL


@dataclass(frozen=True)
class Provided:
    """A file the template gives a project, and the answer that decides it (None: every
    project has it)."""

    path: str
    what: str  # what the file is, for messages
    answer: str | None = None
    opt_out: str | None = None  # the `--data` that says the project no longer wants it


def provided_files(answers: Mapping[str, object]) -> tuple[Provided, ...]:
    """The files that keep a project on the paved road, for its answers: the pre-commit
    configuration, the CI workflow of the chosen provider, and the Dockerfile when served."""
    found = [Provided(".pre-commit-config.yaml", "the pre-commit configuration")]
    ci = answers.get("ci")
    if ci == "github":
        found.append(
            Provided(".github/workflows/paved.yml", "the GitHub Actions gate", "ci", "ci=none")
        )
    elif ci == "gitlab":
        found.append(Provided(".gitlab-ci.yml", "the GitLab CI gate", "ci", "ci=none"))
    if answers.get("serving") is True:
        found.append(Provided("Dockerfile", "the serving image", "serving", "serving=false"))
    return tuple(found)


_DESCRIBED = re.compile(r"v?(?P<version>.+?)(?:-(?P<distance>\d+)-g[0-9a-f]{4,40})?")


def tagged_version(commit: str) -> tuple[str, int] | None:
    """The release a `_commit` names, and how many commits past it (`git describe`'s
    `v0.1.0-3-gabc1234` is 3 past v0.1.0); None when it names no release (a bare hash)."""
    match = _DESCRIBED.fullmatch(commit.strip())
    if match is None or not match["version"][:1].isdigit():
        return None
    return match["version"], int(match["distance"] or 0)
