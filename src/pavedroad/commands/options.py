"""The options that the commands share, so they all read and behave alike.

Click and the standard library only: `paved deps` declares them and may answer from its result
cache without importing the reporters.
"""

from __future__ import annotations

from pathlib import Path

import click

FORMATS = ("text", "json", "junit", "sarif", "markdown")  # the values of reporters.Format

format_option = click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report format.",
)
output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (atomically); the text report still goes to the terminal.",
)
contract_option = click.option(
    "--contract",
    "contract_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The contract file (default: handoff.toml, else [tool.paved] in pyproject.toml, in PATH "
    "or the nearest folder above it).",
)
