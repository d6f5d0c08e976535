"""The model card's prose, read from the project's own documents: purpose, training data,
resource requirements and failure modes.

Resource requirements and failure modes are where `[docs]` points, found as the DOC checks find
them; purpose and training data have no contract key, so they come from the package description,
the README's opening and its data section. Nothing is written here: a part the project does not
document says so, and where to write it.
"""

from __future__ import annotations

from pathlib import Path

from pavedroad.markdown_sections import find_section, headings, whole_document
from pavedroad.project import Project
from pavedroad.report.packet import DocView

# Headings (as GitHub anchors) that hold the training data's description, best first.
DATA_ANCHORS = ("training-data", "data", "dataset", "datasets", "training")


def purpose(project: Project) -> DocView:
    """The pyproject description, then the README's opening paragraphs."""
    title = "Purpose"
    project_table = (project.pyproject or {}).get("project", {})
    description = project_table.get("description") if isinstance(project_table, dict) else None
    readme = project.readme
    intro = _opening(project.text(readme) or "") if readme is not None else ""
    parts = [p for p in (description, intro) if isinstance(p, str) and p.strip()]
    if not parts:
        return DocView(
            title,
            missing="Neither pyproject.toml's description nor the README's opening says what the "
            "model is for: add a paragraph under the README's title.",
        )
    source = ", ".join(
        s
        for s, present in (("pyproject.toml", bool(description)), (_name(project, readme), intro))
        if present
    )
    return DocView(title, source=source, markdown="\n\n".join(parts))


def training_data(project: Project) -> DocView:
    title = "Training data"
    readme = project.readme
    text = project.text(readme) if readme is not None else None
    if readme is not None and text:
        anchors = [h.anchor for h in headings(text, rst=readme.suffix == ".rst")]
        for anchor in DATA_ANCHORS:
            if anchor in anchors:
                section = find_section(text, anchor, rst=readme.suffix == ".rst")
                if section is not None and section.words():
                    return DocView(
                        title, source=f"{project.rel(readme)}#{anchor}", markdown=section.text
                    )
    return DocView(
        title,
        missing="The README has no section on the training data: add a `## Training data` "
        "heading saying where the data comes from, its period, its size and how it was split.",
    )


def contract_doc(project: Project, key: str, title: str) -> DocView:
    """The document `[docs].<key>` names, as DOC001/DOC002 read it."""
    docs = project.contract.docs
    value = getattr(docs, key, None) if docs is not None else None
    if not value:
        return DocView(title, missing=f"The contract sets no [docs].{key}.")
    file_part, _, anchor = value.partition("#")
    path = (project.root / file_part).resolve()
    text = project.text(path) if path.is_relative_to(project.root) and path.is_file() else None
    if text is None:
        return DocView(
            title, source=value, missing=f"{file_part} cannot be read (see the DOC checks)."
        )
    rst = path.suffix == ".rst"
    section = find_section(text, anchor, rst=rst) if anchor else whole_document(text, rst=rst)
    if section is None or not section.words() or section.has_placeholder():
        return DocView(
            title, source=value, missing=f"{value} does not document it yet (see the DOC checks)."
        )
    return DocView(title, source=value, markdown=section.text)


def _opening(text: str) -> str:
    """The text between the document's title and its next heading."""
    found = headings(text)
    lines = text.splitlines()
    if not found:
        return ""
    first = found[0]
    if first.level == 1:
        end = found[1].line - 1 if len(found) > 1 else len(lines)
        body = lines[first.end_line : end]
    else:
        body = lines[: first.line - 1]
    return "\n".join(body).strip()


def _name(project: Project, path: Path | None) -> str:
    return project.rel(path) if path is not None else "README"
