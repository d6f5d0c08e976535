"""`paved new`: a project rendered from the Copier template bundled with pavedroad.

The template (`pavedroad/templates/project`) is a plain folder, not a Git repository, so Copier
renders it as it is installed; `.copier-answers.yml` in the new project then records the
answers with pavedroad's repository and this release's tag as the template's source
(`upstream.py`), which is what `copier update` needs. Copier is the `new` extra: its absence is
an error that names the install command.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path
from typing import Any

import yaml

from pavedroad.errors import UsageError
from pavedroad.fileio import write_atomic
from pavedroad.scaffold import upstream

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "project"
INSTALL_HINT = 'pip install "pavedroad[new]"'


@dataclass(frozen=True)
class Question:
    """One question of the template, as copier.yml asks it."""

    key: str
    help: str
    choices: tuple[str, ...]  # the values accepted; empty for free text
    kind: str  # copier's type: str or bool


@dataclass(frozen=True)
class Created:
    """What `render` made: the folder, the answers that made it, and its files."""

    path: Path
    answers: Mapping[str, Any]
    files: tuple[Path, ...]


def questions(template: Path = TEMPLATE) -> tuple[Question, ...]:
    """The questions copier.yml asks, in order; hidden ones (`when: false`) are not questions."""
    config = yaml.safe_load((template / "copier.yml").read_text(encoding="utf-8"))
    found = []
    for key, spec in config.items():
        if key.startswith("_") or not isinstance(spec, dict) or spec.get("when") is False:
            continue
        choices = spec.get("choices") or {}
        values = choices.values() if isinstance(choices, dict) else choices
        found.append(
            Question(
                key=key,
                help=str(spec.get("help", "")),
                choices=tuple(str(v) for v in values),
                kind=str(spec.get("type", "str")),
            )
        )
    return tuple(found)


def parse_data(pairs: Iterable[str], known: Iterable[Question]) -> dict[str, str]:
    """`--data key=value` options as answers; an unknown key or a pair without `=` is a usage
    error that lists the questions (Copier itself would silently ignore an unknown key)."""
    keys = [q.key for q in known]
    answers: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise UsageError(
                f"--data {pair!r} is not KEY=VALUE\n  hint: e.g. --data task=regression"
            )
        if key not in keys:
            raise UsageError(
                f"--data {key}: the template asks no such question\n"
                f"  hint: the questions are {', '.join(keys)}"
            )
        answers[key] = value
    return answers


def render(
    destination: Path,
    data: Mapping[str, str],
    *,
    defaults: bool,
    force: bool = False,
    template: Path = TEMPLATE,
) -> Created:
    """Render the template into `destination`: ask what `data` does not answer (nothing with
    `defaults`), then write the files. A folder that holds anything is refused unless `force`,
    which lets the template's files overwrite the ones with the same names."""
    copier = _import_copier()
    blocking = next((p for p in (destination, *destination.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise UsageError(f"{blocking} exists and is not a folder: {destination} cannot be made")
    if not force and destination.is_dir() and any(destination.iterdir()):
        raise UsageError(
            f"{destination} exists and is not empty: `paved new` starts a project in a new "
            "folder\n  hint: pick another NAME, run `paved init` to write a contract for the "
            "project that is there, or pass --force to render over it"
        )
    asked = questions(template)
    user_defaults = {"project_name": destination.resolve().name}
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if any(q.key == "python_version" and running in q.choices for q in asked):
        user_defaults["python_version"] = running  # the Python the user has at hand
    if not defaults and not sys.stdin.isatty():
        raise UsageError(
            "`paved new` asks its questions on a terminal, and stdin is not one\n"
            "  hint: pass --defaults (with --data KEY=VALUE for the answers to set)"
        )
    try:
        worker = copier.run_copy(
            str(template),
            destination,
            data=dict(data),
            user_defaults=user_defaults,
            defaults=defaults,
            overwrite=force,
            quiet=True,
            unsafe=False,
        )
    except ValueError as error:  # Copier's word for an answer that is not valid
        raise UsageError(f"{error}\n  hint: `paved new --help` lists the questions") from None
    except copier.errors.CopierAnswersInterrupt:
        raise KeyboardInterrupt from None
    except copier.errors.CopierError as error:
        raise UsageError(f"the template could not be rendered: {error}") from None
    except OSError as error:
        raise UsageError(
            f"cannot write {error.filename or destination}: {error.strerror}"
        ) from None
    if template == TEMPLATE:
        _record_release(destination / upstream.ANSWERS_FILE)
    combined = worker.answers.combined
    answers = {q.key: combined[q.key] for q in asked if q.key in combined}
    files = tuple(sorted(p for p in destination.rglob("*") if p.is_file()))
    return Created(path=destination, answers=answers, files=files)


def _record_release(answers_file: Path) -> None:
    """Name the bundled template's home in the answers, as Copier writes them when it renders
    the release's tag of pavedroad's repository: the same keys, order and YAML style (sorted,
    block style), under the file's comment lines."""
    text = answers_file.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    comments = "".join(takewhile(lambda line: line.startswith("#"), lines))
    answers = yaml.safe_load(text)
    answers["_commit"] = upstream.release_tag()
    answers["_src_path"] = upstream.REPOSITORY
    dumped = yaml.safe_dump(answers, default_flow_style=False, allow_unicode=True, indent=2)
    write_atomic(answers_file, comments + dumped)


def _import_copier() -> Any:
    """copier, or the error that says how to install it (`paved new` is the `new` extra)."""
    try:
        import copier
        import copier.errors
    except ImportError:
        raise UsageError(
            f"`paved new` needs copier, not installed here.\n  hint: {INSTALL_HINT}"
        ) from None
    return copier
