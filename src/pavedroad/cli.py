"""The `paved` command. Thin on purpose: parse arguments, call the library, pick a reporter.

Exit codes are public interface: 0 ready, 1 not ready, 2 usage or contract error, 3 internal
error (with a hint for a bug report), 130 interrupted.

Each command lives in its own module, imported only when that command runs (or when `--help`
lists them): `paved deps` in a pre-commit hook must not pay for the imports of `paved lock`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING

import click

from pavedroad import __version__
from pavedroad.errors import PavedError

if TYPE_CHECKING:
    from rich.console import Console

EXIT_READY, EXIT_NOT_READY, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

# Command name -> "module:attribute" of its click command. A new command is one line here.
COMMANDS = {
    "check": "pavedroad.commands.check:check",
    "explain": "pavedroad.commands.explain:explain",
    "schema": "pavedroad.commands.schema:schema",
    "lock": "pavedroad.commands.lock:lock",
    "deps": "pavedroad.commands.deps:deps",
    "evaluate": "pavedroad.commands.evaluate:evaluate",
    "notebooks": "pavedroad.commands.notebooks:notebooks",
    "extract": "pavedroad.commands.extract:extract",
    "serve": "pavedroad.commands.serve:serve",
    "repro": "pavedroad.commands.repro:repro",
    "new": "pavedroad.commands.new:new",
    "init": "pavedroad.commands.init:init",
    "report": "pavedroad.commands.report:report",
}


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name, each imported from its "module:attribute" the first time it
    is looked up. Listing the names imports nothing; click's Group takes any mutable mapping."""

    def __init__(self, targets: Mapping[str, str]) -> None:
        self._targets = dict(targets)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, _, attribute = self._targets[name].partition(":")
            try:
                command = getattr(importlib.import_module(module), attribute)
            except KeyError as error:  # `get` would turn it into "no such command"
                raise RuntimeError(f"loading the command {name!r} failed") from error
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._targets[name]} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        found = self._targets.pop(name, None) is not None
        found = self._loaded.pop(name, None) is not None or found
        if not found:
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._targets, **self._loaded})

    def __len__(self) -> int:
        return len(self._targets.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._targets or name in self._loaded


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    commands=LazyCommands(COMMANDS),
)
@click.version_option(__version__, "--version", "-V", prog_name="paved")
def cli() -> None:
    """pavedroad: is this model ready to hand over? A contract, checked."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every way a run can end into its documented exit code."""
    try:
        code = cli.main(args=argv, prog_name="paved", standalone_mode=False)
    except click.exceptions.Abort:
        _stderr().print("interrupted")
        code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _stderr().print("interrupted")
        code = EXIT_INTERRUPTED
    except click.ClickException as error:
        error.show()
        code = EXIT_USAGE
    except PavedError as error:
        from rich.markup import escape

        _stderr().print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        code = error.exit_code
    except Exception as error:
        code = _internal_error(error, _stderr())
    sys.exit(code if isinstance(code, int) else EXIT_READY)


def _stderr() -> Console:
    """The console for errors, made only when there is one: rich costs 30 ms of imports."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _internal_error(error: Exception, err: Console) -> int:
    import datetime as dt
    import tempfile
    import traceback

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
