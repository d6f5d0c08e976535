"""The `paved` command. Thin on purpose: parse arguments, call the library, pick a reporter.

Exit codes are public interface: 0 ready, 1 not ready, 2 usage or contract error, 3 internal
error (with a hint for a bug report), 130 interrupted.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import sys
import tempfile
import traceback
from collections.abc import Iterable
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from pavedroad import __version__, engine
from pavedroad.commands.deps import deps
from pavedroad.commands.lock import lock
from pavedroad.commands.pipeline import catalogue, emit, evaluate, format_option, output_option
from pavedroad.contract import find_contract, json_schema, load_contract
from pavedroad.errors import PavedError, UsageError
from pavedroad.project import Project
from pavedroad.registry import Check, Family, PluginFailure, builtin_families, plugin_families
from pavedroad.reporters import Format

EXIT_READY, EXIT_NOT_READY, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="paved")
def cli() -> None:
    """pavedroad: is this model ready to hand over? A contract, checked."""


@cli.command()
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--only",
    multiple=True,
    metavar="IDS",
    help="Run only these checks or families (comma-separated).",
)
@click.option(
    "--skip", multiple=True, metavar="IDS", help="Skip these checks or families (comma-separated)."
)
@click.option("--static", is_flag=True, help="Skip dynamic checks: run no project code.")
@format_option
@output_option
@click.option(
    "--contract",
    "contract_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The contract file (default: handoff.toml, else [tool.paved] in pyproject.toml, in PATH "
    "or the nearest folder above it).",
)
@click.option("--verbose", "-v", is_flag=True, help="Show waiver details.")
def check(
    path: Path,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    static: bool,
    format_: str,
    output: Path | None,
    contract_path: Path | None,
    verbose: bool,
) -> int:
    """Evaluate the contract on the project at PATH: READY (exit 0) or NOT READY (exit 1)."""
    if contract_path is None:
        contract_path = find_contract(path)
        path = contract_path.parent  # the project is where its contract is
    project = Project(path, load_contract(contract_path))
    families, failures = _families()
    selection = engine.Selection(only=_ids(only), skip=_ids(skip), static=static)
    report = evaluate(project, families, selection, failures)
    emit(report, Format(format_), output, verbose=verbose)
    return EXIT_READY if report.verdict.ready else EXIT_NOT_READY


@cli.command()
@click.argument("check_id", required=False)
def explain(check_id: str | None) -> int:
    """Why a check matters and how to fix its gap; without ID, list every check."""
    families, _ = _families()
    checks = catalogue(families)
    console = Console(highlight=False)
    if check_id is None:
        for check_ in checks.values():
            console.print(f"[bold]{check_.id}[/]  {escape(check_.title)}")
        return EXIT_READY
    wanted = check_id.upper()
    if wanted not in checks:
        close = difflib.get_close_matches(wanted, list(checks), n=1)
        codes = ", ".join(sorted({c.family for c in checks.values()}))
        hint = f" (did you mean {close[0]}?)" if close else f" (the families are {codes})"
        raise UsageError(f"no check {check_id!r}{hint}; `paved explain` lists them all")
    from rich.markdown import Markdown  # 40 ms of imports only `explain ID` needs

    console.print(Markdown(explanation(checks[wanted])))
    return EXIT_READY


def explanation(check_: Check) -> str:
    """The Markdown shown by `paved explain`, built from the check's docstring."""
    flags = []
    if check_.section:
        flags.append(f"enforced when the contract has `[{check_.section}]`")
    if check_.dynamic:
        flags.append("dynamic: runs project code, skipped by `--static`")
    if check_.requires:
        flags.append("requires " + ", ".join(check_.requires))
    meta = f"*{'; '.join(flags)}*\n\n" if flags else ""
    return f"# {check_.id}: {check_.title}\n\n{meta}{check_.doc.markdown()}\n"


@cli.command()
def schema() -> int:
    """Print the JSON Schema of the contract (for editors and validators)."""
    click.echo(json.dumps(json_schema(), indent=2))
    return EXIT_READY


def _families() -> tuple[list[Family], list[PluginFailure]]:
    plugins, failures = plugin_families()
    return [*builtin_families(), *plugins], failures


def _ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(
        part.strip().upper() for value in values for part in value.split(",") if part.strip()
    )


cli.add_command(lock)
cli.add_command(deps)


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every way a run can end into its documented exit code."""
    err = Console(stderr=True, highlight=False)
    try:
        code = cli.main(args=argv, prog_name="paved", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("interrupted")
        code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        err.print("interrupted")
        code = EXIT_INTERRUPTED
    except click.ClickException as error:
        error.show()
        code = EXIT_USAGE
    except PavedError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        code = error.exit_code
    except Exception as error:
        code = _internal_error(error, err)
    sys.exit(code if isinstance(code, int) else EXIT_READY)


def _internal_error(error: Exception, err: Console) -> int:
    try:
        # A unique name: two crashes in the same second (a CI matrix) must not overwrite each other.
        descriptor, name = tempfile.mkstemp(
            prefix=f"paved-crash-{dt.datetime.now():%Y%m%d-%H%M%S}-", suffix=".log"
        )
        with open(descriptor, "w", encoding="utf-8") as log:
            log.write(f"pavedroad {__version__}\n{traceback.format_exc()}")
        where = f"The traceback is in {name}."
    except OSError:
        where = "The traceback could not be saved:\n" + traceback.format_exc()
    err.print(
        f"internal error: {type(error).__name__}: {error}\n"
        f"This is a bug in pavedroad, not in your project. {where}\n"
        "Please report it with that file attached.",
        markup=False,
        soft_wrap=True,  # a path broken over two lines cannot be copied
    )
    return EXIT_INTERNAL
