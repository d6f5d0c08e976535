"""CFG: settings come from the environment, and the contract, the code and the docs agree on them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pavedroad.envreads import EnvRead, env_reads
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck
from pavedroad.results import Location

family = Family(
    "CFG",
    "Configuration",
    "Externalised settings: declared, read from the environment, documented.",
)

# Variables that describe the machine or the session, not the model's configuration: reading
# them is not a setting anyone must declare.
NOT_CONFIGURATION = frozenset(
    {
        "HOME",
        "PATH",
        "USER",
        "USERNAME",
        "LOGNAME",
        "SHELL",
        "PWD",
        "HOSTNAME",
        "TERM",
        "COLUMNS",
        "NO_COLOR",
        "TMPDIR",
        "TEMP",
        "TMP",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "CI",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
    }
)


# A file that reads the environment names one of these; the rest need not be parsed at all.
_MAY_READ_ENV = re.compile(r"environ|getenv|BaseSettings")


@dataclass(frozen=True)
class EnvScan:
    reads: list[EnvRead]  # every resolvable read in production code (tests are not the product)
    unparsed: list[Path]  # files that may read the environment but do not parse


def production_reads(project: Project) -> list[EnvRead]:
    return project.fact(_scan).reads


def _scan(project: Project) -> EnvScan:
    """One pass over the source, shared by the CFG checks; files that cannot read the
    environment are recognised by their text and never parsed."""
    found: list[EnvRead] = []
    unparsed: list[Path] = []
    for path in project.source_files:
        text = project.text(path)
        if text is None or not _MAY_READ_ENV.search(text):
            continue
        tree = project.tree(path)
        if tree is None:
            unparsed.append(path)
        else:
            found.extend(env_reads(tree, path))
    return EnvScan(reads=found, unparsed=unparsed)


def declared(project: Project) -> list[str]:
    config = project.contract.config
    if config is None:
        raise SkipCheck("no [config] section")
    return list(dict.fromkeys(config.env))


@family.check("CFG001", "Every declared setting is read by the code", section="config")
def declared_are_read(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each variable in `[config].env` is read somewhere in production code: through
    `os.environ`, `os.getenv`, or a pydantic-settings class (env_prefix + field name, or alias).

    Why: The contract tells operators which knobs exist. A declared variable that the code never
    reads is a knob connected to nothing: someone will set `CHURN_THRESHOLD=0.7` during an incident,
    see no change, and lose the time it takes to find out why.

    Example: `env = ["CHURN_THRESHOLD"]` while the threshold is hard-coded as `0.5` in
    `src/churn/model.py`.

    Fix: Read the variable where the setting is used (`os.environ.get("CHURN_THRESHOLD", "0.5")`, or
    a field of a pydantic-settings class), or remove it from `[config].env`.
    """
    variables = declared(project)
    reads = production_reads(project)
    unparsed = _unparsed(project)
    for variable in variables:
        found = [read for read in reads if read.reads(variable)]
        if found:
            yield Evidence(
                subject=variable,
                message=f"{variable} is {_places(project, found)}",
                location=project.location(found[0].path, found[0].line),
            )
            continue
        notes = [
            *_near_misses(project, variable, reads),
            *_test_reads(project, variable),
            *([f"{unparsed} could not be parsed and was not searched"] if unparsed else []),
        ]
        yield Gap(
            subject=variable,
            message=f"{variable} is declared in [config].env but no production code reads it"
            + "".join(f"; {note}" for note in notes),
            location=_declared_at(project, variable),
            fix=f'Read it where the setting is used, e.g. `os.environ.get("{variable}")` or a '
            f"pydantic-settings field, or remove {variable} from [config].env.",
        )


def _near_misses(project: Project, variable: str, reads: list[EnvRead]) -> list[str]:
    """Reads that differ only in case: environment names are case-sensitive on Linux, and so is a
    pydantic-settings class with `case_sensitive=True`."""
    return [
        f"{project.rel(read.path)}:{read.line} reads {read.name} ({read.via}), which differs in case"
        for read in reads
        if read.name != variable and read.name.upper() == variable.upper()
    ]


def _test_reads(project: Project, variable: str) -> list[str]:
    """Where only the tests read it: the setting is exercised, but the product ignores it."""
    places: list[EnvRead] = []
    for path in project.test_files:
        tree = project.tree(path)
        if tree is not None:
            places.extend(r for r in env_reads(tree, path) if r.reads(variable))
    if not places:
        return []
    return [f"only tests read it ({project.rel(places[0].path)}:{places[0].line})"]


def _unparsed(project: Project) -> str:
    """The source files that do not parse (a declared read may hide there), for the message."""
    broken = [project.rel(p) for p in project.fact(_scan).unparsed]
    if len(broken) > 3:
        return f"{', '.join(broken[:3])} and {len(broken) - 3} more"
    return ", ".join(broken)


@family.check("CFG002", "Every declared setting is documented", section="config")
def declared_are_documented(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each variable in `[config].env` is named in the README or in a document under
    docs/.

    Why: Whoever deploys the model reads the documentation, not the code. A setting that is not
    documented is either never set (and its default silently becomes production policy) or set by
    guessing its meaning and its unit.

    Example: `env = ["CHURN_MODEL_PATH"]` and a README that never mentions CHURN_MODEL_PATH.

    Fix: Document each variable in the README (a "Configuration" section): what it controls, its
    default, its unit or format, and an example value.
    """
    variables = declared(project)
    texts = [(path, text) for path in project.doc_files if (text := project.text(path)) is not None]
    where = _doc_places(project)
    for variable in variables:
        mention = _first_mention(texts, variable)
        if mention is not None:
            path, line = mention
            yield Evidence(
                subject=variable,
                message=f"{variable} is documented in {project.rel(path)}:{line}",
                location=project.location(path, line),
            )
            continue
        yield Gap(
            subject=variable,
            message=f"{variable} is declared in [config].env but not documented in {where}",
            location=_declared_at(project, variable),
            fix=f"Describe {variable} in {_readme(project)} under a Configuration heading: what it "
            "controls, its default and an example value.",
        )


def _first_mention(texts: list[tuple[Path, str]], variable: str) -> tuple[Path, int] | None:
    """The first document, and its line, that names `variable` as a whole word."""
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(variable)}(?![A-Za-z0-9_])")
    for path, text in texts:
        match = word.search(text)
        if match:
            return path, text.count("\n", 0, match.start()) + 1
    return None


def _doc_places(project: Project) -> str:
    if not project.doc_files:
        return "any document (there is no README and no docs/)"
    return (
        "the README or docs/" if len(project.doc_files) > 1 else project.rel(project.doc_files[0])
    )


def _readme(project: Project) -> str:
    return project.rel(project.readme) if project.readme is not None else "a README.md"


@family.check("CFG003", "Every setting the code reads is declared", section="config")
def reads_are_declared(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each environment variable production code reads is declared in `[config].env`.
    Machine and session variables (HOME, PATH, TMPDIR, LANG, TZ, CI, ...) are not configuration and
    are not reported; names computed at run time cannot be resolved and are not reported either.

    Why: An undeclared read is a setting nobody on the receiving side knows exists. It works on the
    data scientist's laptop, where it happens to be exported, and takes the default (or crashes)
    in production, where nobody knew to set it.

    Example: `os.getenv("CHURN_DEBUG_SAMPLE")` in `src/churn/features.py`, absent from
    `[config].env`.

    Fix: Add the variable to `[config].env` and document it, or stop reading it if it was a
    development shortcut.
    """
    variables = declared(project)
    by_variable: dict[str, list[EnvRead]] = {}  # reads of a declared variable, under its name
    by_name: dict[str, list[EnvRead]] = {}
    for read in production_reads(project):
        if read.name.upper() in NOT_CONFIGURATION:
            continue
        variable = next((v for v in variables if read.reads(v)), None)
        if variable is not None:
            by_variable.setdefault(variable, []).append(read)
        else:
            by_name.setdefault(read.name, []).append(read)
    for variable, reads in by_variable.items():
        yield Evidence(
            subject=variable,
            message=f"{variable} is declared in [config].env and {_places(project, reads)}",
            location=_declared_at(project, variable),
        )
    if not by_variable and not by_name:
        yield Evidence(message="production code reads no configuration from the environment")
    for name, reads in by_name.items():
        first = reads[0]
        yield Gap(
            subject=name,
            message=f"{name} is read by the code but not declared in [config].env: "
            f"{_places(project, reads)}",
            location=project.location(first.path, first.line),
            fix=f'Add "{name}" to [config].env and document it, or stop reading it.',
        )


def _declared_at(project: Project, variable: str) -> Location:
    """The line of `variable`'s entry in [config].env (the list may name it twice: the first)."""
    env = project.contract.config.env if project.contract.config is not None else []
    return project.contract_location("config", "env", env.index(variable))


def _places(project: Project, reads: list[EnvRead]) -> str:
    first = reads[0]
    where = f"{project.rel(first.path)}:{first.line} via {first.via}"
    if len(reads) == 1:
        return f"read at {where}"
    files = {read.path for read in reads}
    return f"read in {len(reads)} places in {_count(len(files), 'file')}, first at {where}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
