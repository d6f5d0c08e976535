"""DOC: what operating the model needs, and how it fails, are written down where the contract says.

Both checks read `[docs]` values of the form `FILE` or `FILE#anchor` (GitHub's anchor for a
heading) and share one implementation: the target exists and holds real prose, not a heading
over a TODO.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pavedroad.markdown_sections import (
    MIN_WORDS,
    Section,
    closest_anchor,
    find_section,
    whole_document,
)
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck

family = Family("DOC", "Documentation", "The documents an operator needs exist and say something.")

OUTSIDE = "is outside the project"


@family.check("DOC001", "Resource requirements are documented", section="docs")
def resources_documented(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that `[docs].resources` names a file, or a `FILE#heading` section, that exists
    and has real content: at least five words once markup, comments and placeholders such as
    TODO or TBD are removed.

    Why: Engineering sizes machines, sets memory limits and picks CPU or GPU from this page. If it
    is missing, the first production deployment discovers the model's needs by running out of
    them, usually at the worst moment.

    Example: `resources = "README.md#resource-requirements"` where the README's
    `## Resource requirements` section only says `TODO`.

    Fix: Write the section: memory at load and at peak, CPU or GPU, the batch size it was measured
    with, disk for the artifact, and how these grow with the input.
    """
    yield from _documented(project, "resources", "resource requirements")


@family.check("DOC002", "Failure modes are documented", section="docs")
def failure_modes_documented(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that `[docs].failure_modes` names a file, or a `FILE#heading` section, that
    exists and has real content: at least five words once markup, comments and placeholders such
    as TODO or TBD are removed.

    Why: The people on call were not in the room when the model was built. What it does on
    unseen categories, empty inputs, drifted data or a missing artifact, and what to do then, is
    the knowledge that leaves with the data scientists unless it is written down.

    Example: `failure_modes = "docs/operations.md#failure-modes"` where docs/operations.md has no
    such heading (it was renamed to "Known issues").

    Fix: Write the section: the inputs and conditions under which predictions are wrong or
    refused, how each shows up (errors, logs, metrics), and what the operator should do.
    """
    yield from _documented(project, "failure_modes", "failure modes")


def _documented(project: Project, key: str, topic: str) -> Iterator[Gap | Evidence]:
    docs = project.contract.docs
    value = getattr(docs, key) if docs is not None else None
    if not value:
        raise SkipCheck(f"the contract sets no [docs].{key}")
    file_part, _, anchor = value.partition("#")
    path = (project.root / file_part).resolve()
    where = project.contract_location("docs", key)
    problem = _unreadable(project, path)
    if problem is not None:
        yield Gap(
            subject=value,
            message=f"[docs].{key} names {file_part or '(no file)'}, which {problem}",
            location=where,
            fix=f"Move the {topic} into a document of the project and point [docs].{key} at it."
            if problem == OUTSIDE
            else f"Write the {topic} in {file_part or 'README.md'} (a path relative to the "
            f"project root), or point [docs].{key} at the file that has them.",
        )
        return
    text = project.text(path) or ""
    rst = path.suffix == ".rst"
    section = find_section(text, anchor, rst=rst) if anchor else whole_document(text, rst=rst)
    if section is None:
        yield _missing_heading(project, path, value, key, anchor, text, topic)
        return
    words = section.words()
    if len(words) < MIN_WORDS:
        yield _empty(project, path, value, section, len(words), topic)
    else:
        yield _written(project, path, value, section, len(words))


def _missing_heading(
    project: Project, path: Path, value: str, key: str, anchor: str, text: str, topic: str
) -> Gap:
    name = project.rel(path)
    close = closest_anchor(text, anchor, rst=path.suffix == ".rst")
    hint = f" (the closest heading is #{close})" if close else ""
    return Gap(
        subject=value,
        message=f"{name} has no heading with anchor #{anchor}{hint}",
        location=project.location(path),
        fix=(
            f"Point [docs].{key} at {name}#{close}, or add the heading to {name}."
            if close
            else f"Add a heading for the {topic} to {name}, with a section under it."
        ),
    )


def _empty(
    project: Project, path: Path, value: str, section: Section, count: int, topic: str
) -> Gap:
    name = project.rel(path)
    what = f"section #{section.heading.anchor} of {name}" if section.heading else name
    state = "holds only a placeholder" if section.has_placeholder() else "is empty"
    if not section.has_placeholder() and count:
        state = f"says almost nothing ({count} word{'s' if count != 1 else ''})"
    return Gap(
        subject=value,
        message=f"{what} {state}: the {topic} need at least {MIN_WORDS} words of real content",
        location=project.location(path, section.heading.line if section.heading else None),
        fix=f"Write the {topic} under that heading in {name}, replacing any TODO or TBD.",
    )


def _written(project: Project, path: Path, value: str, section: Section, count: int) -> Evidence:
    name = project.rel(path)
    heading = section.heading
    return Evidence(
        subject=value,
        message=f"{name}{f'#{heading.anchor}' if heading else ''}: {count} words",
        location=project.location(path, heading.line if heading else None),
    )


def _unreadable(project: Project, path: Path) -> str | None:
    """Why the document cannot be read, or None. It must ship with the project: a path outside
    the root lives only on the author's disk."""
    if not path.is_relative_to(project.root):
        return OUTSIDE
    if not path.is_file():
        return "does not exist"
    if project.text(path) is None:
        return "is not readable UTF-8 text"
    return None
