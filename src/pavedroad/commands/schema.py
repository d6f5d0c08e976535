"""`paved schema`: the JSON Schema of the contract."""

from __future__ import annotations

import json

import click

from pavedroad.contract import json_schema

EXIT_READY = 0  # cli.EXIT_READY


@click.command("schema")
def schema() -> int:
    """Print the JSON Schema of the contract (for editors and validators)."""
    click.echo(json.dumps(json_schema(), indent=2))
    return EXIT_READY
