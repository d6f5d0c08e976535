"""`paved lock [PATH]`: the click command; the work is in pavedroad.lock.

Imports nothing from pavedroad.cli, which registers this command: no import cycle.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from pavedroad import lock as locking

EXIT_LOCKED = 0  # cli.EXIT_READY; a failure raises LockFailed (exit 1) or a PavedError (exit 2)


@click.command("lock")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--python",
    metavar="VERSION",
    help="The Python version the lock is for: uv's --python for uv.lock (requires-python still "
    "bounds it), --python-version for a requirements lock (default: the lowest version the "
    "contract's [dependencies] python allows, else the interpreter uv finds).",
)
@click.option(
    "--upgrade",
    is_flag=True,
    help="Let uv pick the newest allowed versions instead of keeping those the lock already pins.",
)
def lock(path: Path, python: str | None, upgrade: bool) -> int:
    """Pin what the project at PATH needs, with hashes, through uv.

    A pyproject.toml with [project] gets uv.lock (`uv lock`); a project with requirements.in,
    or an unpinned requirements.txt, gets a requirements file where every line is pinned with
    `==` and hashes (`uv pip compile --generate-hashes --universal`). The contract's
    [dependencies] lock, when set, names the file to write. Input files are never modified.
    """
    plan = locking.plan(path, python=python)
    uv = locking.find_uv()
    err = Console(stderr=True, highlight=False)
    # Progress on stderr, animated only on a terminal: the summary on stdout stays clean.
    with err.status(f"locking {plan.source.name} with uv", spinner="dots") as status:
        outcome = locking.run(
            plan,
            uv=uv,
            upgrade=upgrade,
            on_progress=lambda line: status.update(f"uv: {escape(line)}"),
        )
    for warning in outcome.warnings:
        err.print(warning, style="yellow", markup=False, soft_wrap=True)
    click.echo(f"locked {outcome.packages} packages in {_shown(outcome.path)}")
    return EXIT_LOCKED


def _shown(path: Path) -> Path:
    """Relative to the working folder when inside it: shorter, and what the user typed."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
