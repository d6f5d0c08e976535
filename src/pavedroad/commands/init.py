"""`paved init [PATH]`: write a starting handoff.toml for an existing project, then show its
handoff to-do list (the same checks as `paved check`)."""

from __future__ import annotations

from pathlib import Path

import click

from pavedroad import engine
from pavedroad.commands.pipeline import emit, evaluate, families
from pavedroad.contract import load_contract
from pavedroad.project import Project
from pavedroad.reporters import Format
from pavedroad.scaffold import contract_text
from pavedroad.scaffold import init as scaffold
from pavedroad.scaffold.findings import Findings
from pavedroad.scaffold.infer_files import is_golden

EXIT_WRITTEN = 0  # the contract was written; its gaps are the to-do list, not a failure


@click.command("init")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the contract the project already has.")
@click.option(
    "--static", is_flag=True, help="Check without running project code (no tests, no model)."
)
def init(path: Path, force: bool, static: bool) -> int:
    """Write a starting handoff.toml for the project at PATH, inferred from what is there
    (package, dependencies, notebooks, model artifact and its sha256, schemas, settings), with
    TODO(handoff) where only people can answer; then print the handoff to-do list."""
    found = scaffold.inspect(path)
    text = contract_text.render(found)
    replaced = scaffold.existing_contract(path)
    written = scaffold.write(path, text, force=force)
    click.echo(f"wrote {written}" + (f" (replacing {replaced.name})" if replaced else ""))
    for line in _inferred(found):
        click.echo(f"  {line}")
    todos = contract_text.todos(text)
    if todos:
        click.echo(f"to fill in, marked {contract_text.MARKER}:")
        for number, what in todos:
            click.echo(f"  {written.name}:{number}  {what}")
    click.echo()
    project = Project(path, load_contract(written))
    report = evaluate(project, families()[0], engine.Selection(static=static))
    emit(report, Format.TEXT, None)
    return EXIT_WRITTEN


def _inferred(found: Findings) -> list[str]:
    """One line per fact the contract took from the project, with where it came from."""
    lines = []
    if found.package:
        lines.append(f"package: {found.package}")
    deps = found.dependencies
    if deps.sources or deps.lock:
        lock = f"; lock {deps.lock}" if deps.lock else ""
        lines.append(f"dependencies: {', '.join(deps.sources) or 'none declared'}{lock}")
    if found.artifact:
        lines.append(
            f"model artifact: {found.artifact.path} (sha256 {found.artifact.sha256[:12]}…)"
        )
    for schema in found.schemas:
        if schema.role and found.schema(schema.role) == schema:
            lines.append(f"{schema.role} schema: {schema.reference} ({schema.why})")
    lines += [f"web app: {app.path} ({app.framework})" for app in found.apps]
    if found.datasets and is_golden(found.datasets[0]):
        lines.append(f"golden dataset: {found.datasets[0]}")
    if found.env:
        lines.append(f"settings read from the environment: {', '.join(found.env)}")
    if found.notebooks:
        lines.append(f"notebooks: {', '.join(found.notebooks)}")
    return lines
