"""`paved new NAME`: a project from the bundled Copier template, READY after `make setup`."""

from __future__ import annotations

from pathlib import Path

import click

from pavedroad.scaffold import new as scaffold

EXIT_CREATED = 0  # cli.EXIT_READY; refusals are UsageError (exit 2)


def _questions_help() -> str:
    lines = []
    for question in scaffold.questions():
        values = "yes|no" if question.kind == "bool" else "|".join(question.choices)
        lines.append(f"  {question.key + (f'={values}' if values else ''):36} {question.help}")
    return "\b\nQuestions, for --data KEY=VALUE:\n" + "\n".join(lines)


@click.command("new", epilog=_questions_help())
@click.argument("name", type=click.Path(path_type=Path))
@click.option(
    "--defaults",
    is_flag=True,
    help="Ask nothing: every question --data does not answer takes its default.",
)
@click.option(
    "--data",
    "-d",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Answer a question (repeatable), e.g. --data task=regression --data ci=gitlab.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Render into NAME even when it holds files; the template's files replace theirs.",
)
def new(name: Path, defaults: bool, pairs: tuple[str, ...], force: bool) -> int:
    """Create the project NAME from pavedroad's template: a package, tests, a trained model,
    a filled-in handoff.toml, CI, and a Makefile whose `make setup` makes it READY."""
    data = scaffold.parse_data(pairs, scaffold.questions())
    created = scaffold.render(name, data, defaults=defaults, force=force)
    answers = created.answers
    ci = {"github": "GitHub Actions", "gitlab": "GitLab CI"}.get(str(answers.get("ci")))
    traits = [
        str(answers.get("task")),
        *([ci] if ci else []),
        "served" if answers.get("serving") else "not served",
    ]
    click.echo(f"created {name} ({', '.join(traits)}): {len(created.files)} files")
    click.echo(
        "next, in a virtual environment:\n"
        f"  cd {name}\n"
        "  python -m venv .venv && . .venv/bin/activate\n"
        "  make setup     # install, lock, train, record the artifact, accept the baseline\n"
        "  make check     # paved check: READY"
    )
    return EXIT_CREATED
