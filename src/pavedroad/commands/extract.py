"""`paved extract NOTEBOOK --module src/pkg/train.py`: tagged cells into a module."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command("extract")
@click.argument(
    "notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="NOTEBOOK"
)
@click.option(
    "--module",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The module to write, e.g. src/churn/train.py; its test stub goes to tests/.",
)
@click.option("--force", is_flag=True, help="Overwrite the module and its test stub.")
def extract(notebook: Path, module: Path, force: bool) -> int:
    """Cells tagged `export` into a module: imports hoisted, functions and classes at module
    level, the rest in main(); the `parameters` cell becomes main()'s keyword arguments and
    the command line's options. Writes a test stub that calls main()."""
    # the notebook machinery only when this command runs: `paved --help` must stay light
    from rich.console import Console

    from pavedroad.extract import extract_notebook
    from pavedroad.extract.render import cell_list, usage

    done = extract_notebook(notebook, module, force=force)
    console = Console(stderr=True, highlight=False)
    lines = [
        f"wrote {_here(done.module)} ({cell_list(done.cells)} of {notebook})",
        f"wrote {_here(done.test)}",
        *(f"wrote {_here(package / '__init__.py')}" for package in done.packages),
        f"run it: {usage(done.dotted, done.parameters)}",
        *(
            f"note: {name} is the notebook's own code in {_here(folder)}; the module puts that "
            "folder on sys.path: move the code into the package"
            for name, folder in sorted(done.local_modules.items())
        ),
    ]
    if not done.formatted:
        lines.append("note: not formatted: ruff was not found")
    for line in lines:  # paths and option defaults are text, never rich markup
        console.print(line, soft_wrap=True, markup=False)
    return 0


def _here(path: Path) -> str:
    """`path` relative to the working directory when it is below it, as the user typed it."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()
