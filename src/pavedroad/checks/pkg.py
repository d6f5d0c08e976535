"""PKG: the code is a package that installs and imports, with entry points that resolve, and a
project made from pavedroad's template keeps up with it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pavedroad import __version__, pyast
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck
from pavedroad.results import Location
from pavedroad.scaffold import upstream
from pavedroad.tomlpos import locate

family = Family(
    "PKG",
    "Packaging",
    "The project is an installable package whose declared entry points exist, and keeps up "
    "with the template it was made from.",
)

SCRIPT_TABLES = ("scripts", "gui-scripts")
_ENTRY_POINT = re.compile(
    r"^(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*:\s*(?P<attr>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)$"
)


# -- PKG001 -----------------------------------------------------------------------------------


@family.check("PKG001", "The package exists and imports from its layout", section="package")
def package_exists(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that the package named by `[package].name` is where its layout puts it:
    `src/<name>/__init__.py` when the project has a `src/` folder, `<name>/__init__.py` at the
    root otherwise (a single module `<name>.py` also counts).

    Why: Engineering installs the package and imports it by name; code that only runs from a
    notebook's working directory, or from a folder that is not on the import path, cannot be
    scheduled, served or tested in a clean environment. A folder without `__init__.py` or spelt
    in another case imports on one machine and not on the next.

    Example: `[package] name = "churn"` while the code lives in `notebooks/churn/`, or in
    `src/Churn/`.

    Fix: Move the code to `src/<name>/` with an `__init__.py` (or `<name>/` for a flat layout),
    or correct `[package].name` to the package that exists.
    """
    package = project.contract.package
    if package is None:
        raise SkipCheck("the contract has no [package] section")
    name = package.name
    base = project.source_roots[0]
    found = _package_file(base, name)
    if found is not None:
        yield Evidence(
            subject=name,
            message=f"{name} imports from {project.rel(found)}",
            location=project.location(found),
        )
        return
    expected = project.rel(base / name)
    location = project.contract_location("package", "name")
    if _has_exact(base, name):
        yield Gap(
            subject=name,
            message=f"{expected}/ has no __init__.py, so `{name}` is not a regular package",
            location=location,
            fix=f"Create {expected}/__init__.py (it may be empty).",
        )
        return
    yield _missing_package(project, name, expected, location)


def _package_file(base: Path, name: str) -> Path | None:
    """The file `import <name>` runs from `base`: the module, or the package's __init__.py."""
    if _has_exact(base, f"{name}.py"):
        return base / f"{name}.py"
    if _has_exact(base, name) and _has_exact(base / name, "__init__.py"):
        return base / name / "__init__.py"
    return None


def _has_exact(folder: Path, name: str) -> bool:
    """Whether `folder` holds an entry spelt exactly `name`, also on case-insensitive disks."""
    return folder.is_dir() and any(child.name == name for child in folder.iterdir())


def _missing_package(project: Project, name: str, expected: str, location: Location) -> Gap:
    found = _lookalikes(project, name)
    message = f"package `{name}` not found: there is no {expected}/__init__.py nor {expected}.py"
    if not found:
        return Gap(
            subject=name,
            message=message,
            location=location,
            fix=f"Create {expected}/__init__.py and move the package's code there, or correct "
            "`[package].name`.",
        )
    where = ", ".join(_describe_place(project, path, name, expected) for path in found)
    first, target = (
        (project.rel(found[0]), f"{expected}.py")
        if found[0].suffix == ".py"
        else (project.rel(found[0]) + "/", f"{expected}/")
    )
    return Gap(
        subject=name,
        message=f"{message}; found {where}",
        location=location,
        fix=f"Move {first} to {target} (spelt exactly so), or correct `[package].name`.",
    )


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _lookalikes(project: Project, name: str) -> list[Path]:
    """Folders and modules anywhere in the project that are `name` up to case and separators."""
    target = _normal(name)
    found: set[Path] = set()
    for path in project.python_files:
        if _normal(path.parent.name) == target:
            found.add(path.parent)
        elif path.name != "__init__.py" and _normal(path.stem) == target:
            found.add(path)
    return sorted(found, key=lambda p: (len(p.relative_to(project.root).parts), str(p)))


def _describe_place(project: Project, path: Path, name: str, expected: str) -> str:
    shown = project.rel(path) + ("/" if path.is_dir() else "")
    stem = path.stem if path.suffix == ".py" else path.name
    if path.parent == project.source_roots[0] and stem != name:
        return f"{shown}, spelt differently (imports are case-sensitive)"
    if path.parent == project.root and project.source_roots[0] != project.root:
        return f"{shown} at the root, but the project has a src/ folder, so {expected} is expected"
    if path.is_dir() and not (path / "__init__.py").is_file():
        return f"{shown}, a folder outside the import path and without __init__.py"
    return f"{shown}, outside the import path"


# -- PKG002 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    key: str
    fix: str


@family.check("PKG002", "pyproject.toml declares name, version and requires-python")
def pyproject_metadata(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that `pyproject.toml` exists, parses, and its `[project]` table has a `name`, a
    `version` (or "version" in `dynamic`) and a `requires-python`.

    Why: These three fields are what makes the code an installable distribution: without a name
    and version nothing can be built, pinned or rolled back, and without `requires-python` the
    package installs on interpreters it was never tested on and fails at run time instead.

    Example: A `pyproject.toml` written for a linter's settings only, with no `[project]` table.

    Fix: Add the missing fields under `[project]`, e.g. `name = "churn-model"`,
    `version = "0.1.0"`, `requires-python = ">=3.10"`.
    """
    path = project.pyproject_path
    if not path.is_file():
        yield Gap(
            subject="pyproject.toml",
            message="there is no pyproject.toml, so the project cannot be built or installed",
            location=Location(path="pyproject.toml"),
            fix="Create pyproject.toml with a [build-system] and a [project] table "
            "(name, version, requires-python).",
        )
        return
    data = project.pyproject
    if data is None:
        yield _unparseable(project, path)
        return
    text = project.text(path) or ""
    table = data.get("project")
    if not isinstance(table, dict):
        table = {}
    gaps = [
        Gap(
            subject=f"project.{field.key}",
            message=f"pyproject.toml: {problem}",
            location=project.location(path, locate(text, ("project", field.key))),
            fix=field.fix,
        )
        for field in _required_fields(project)
        if (problem := _field_problem(table, field.key)) is not None
    ]
    yield from gaps
    if not gaps:
        version = table.get("version", "(version dynamic)")
        yield Evidence(
            subject="pyproject.toml",
            message=f"pyproject.toml: {table['name']} {version}, "
            f"requires-python {table['requires-python']}",
            location=project.location(path, locate(text, ("project",))),
        )


def _unparseable(project: Project, path: Path) -> Gap:
    error = project.pyproject_error
    if error is None:
        return Gap(
            subject="pyproject.toml",
            message="pyproject.toml cannot be read as UTF-8 text",
            location=project.location(path),
            fix="Save pyproject.toml as UTF-8.",
        )
    match = re.search(r"at line (\d+)", error)
    reason = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", error)
    return Gap(
        subject="pyproject.toml",
        message=f"pyproject.toml is not valid TOML: {reason}",
        location=project.location(path, int(match.group(1)) if match else None),
        fix="Correct the TOML at that line (quoting, brackets, a key written twice).",
    )


def _required_fields(project: Project) -> tuple[_Field, ...]:
    """The fields PKG002 requires, with fixes that reuse what the contract already says."""
    package = project.contract.package
    name = package.name.replace("_", "-") if package else "your-package"
    dependencies = project.contract.dependencies
    python = dependencies.python if dependencies and dependencies.python else ">=3.10"
    return (
        _Field("name", f'Add `name = "{name}"` under [project].'),
        _Field(
            "version",
            'Add `version = "0.1.0"` under [project], or list "version" in `dynamic` and let '
            "the build backend read it (e.g. [tool.hatch.version]).",
        ),
        _Field(
            "requires-python",
            f'Add `requires-python = "{python}"` under [project], the versions you test on.',
        ),
    )


def _field_problem(table: dict[str, Any], key: str) -> str | None:
    """What is wrong with `[project].<key>`, or None when it is fine."""
    dynamic = table.get("dynamic")
    if key not in table:
        if key == "version" and isinstance(dynamic, list) and "version" in dynamic:
            return None
        suffix = ", and `dynamic` does not list it" if key == "version" else ""
        return f"[project] has no `{key}`{suffix}"
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        return f"project.{key} must be a non-empty string, not {value!r}"
    if key == "version":
        try:
            Version(value)
        except InvalidVersion:
            return f"project.version {value!r} is not a PEP 440 version"
    if key == "requires-python":
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            return f"project.requires-python {value!r} is not a version specifier"
    return None


# -- PKG003 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EntryPoint:
    value: str
    origin: str  # how the message names where it is declared
    location: Location


@family.check("PKG003", "Every declared entry point resolves", requires=("PKG001",))
def entry_points_resolve(project: Project) -> Iterator[Gap | Evidence]:
    """Checks, without importing anything, that each entry point in `[package].entry_points`,
    `[project.scripts]` and `[project.gui-scripts]` names a module of the project that defines
    the name at top level (a def, a class, an assignment, or an import that binds it).

    Why: An entry point is how a scheduler, a CLI or a serving layer starts the code. A module that
    was renamed or a function that moved leaves an entry point that installs fine and fails only
    when the job runs, usually at night, in production.

    Example: `entry_points = ["churn.cli:main"]` after `main` was renamed to `run`, or after
    `cli.py` moved to `churn/commands/cli.py`.

    Fix: Point the entry point at the module and function that exist (`module.path:function`),
    or restore the function it names.
    """
    declared = _declared_entry_points(project)
    if not declared:
        raise SkipCheck("no entry points declared")
    for entry in declared:
        yield _entry_point_finding(project, entry)


def _declared_entry_points(project: Project) -> list[_EntryPoint]:
    """Contract entry points, then pyproject scripts; each value once, at its first place."""
    found: dict[str, _EntryPoint] = {}
    package = project.contract.package
    for index, value in enumerate(package.entry_points if package else []):
        location = project.contract_location("package", "entry_points", index)
        found.setdefault(value, _EntryPoint(value, "[package].entry_points", location))
    data = project.pyproject or {}
    table = data.get("project")
    text = project.text(project.pyproject_path) or ""
    for kind in SCRIPT_TABLES:
        scripts = table.get(kind) if isinstance(table, dict) else None
        if not isinstance(scripts, dict):
            continue
        for name, value in scripts.items():
            line = locate(text, ("project", kind, name))
            location = project.location(project.pyproject_path, line)
            origin = f"[project.{kind}] {name}"
            found.setdefault(str(value), _EntryPoint(str(value), origin, location))
    return list(found.values())


def _entry_point_finding(project: Project, entry: _EntryPoint) -> Gap | Evidence:
    reference = entry.value.split("[", 1)[0].strip()  # drop `[extras]`
    match = _ENTRY_POINT.match(reference)
    if match is None:
        return Gap(
            subject=entry.value,
            message=f"{entry.origin} = {entry.value!r} is not of the form module:function",
            location=entry.location,
            fix="Write the entry point as `package.module:function`.",
        )
    try:
        binding = pyast.resolve_reference(project, reference)
    except pyast.Unresolved as error:
        return _unresolved_gap(project, entry, match["module"], error)
    return _resolved_evidence(project, entry, binding)


def _resolved_evidence(project: Project, entry: _EntryPoint, binding: pyast.Binding) -> Evidence:
    """Where the entry point's name is bound: its definition, or the import that brings it in."""
    if isinstance(binding, pyast.Definition):
        location = project.location(binding.path, binding.line)
        seen = f"is defined at {location}"
    elif isinstance(binding, pyast.External):
        location = project.location(binding.path, binding.line)
        seen = f"is {binding.qualname}, imported from outside the project at {location}"
    else:
        location = project.location(binding.path)
        seen = f"is the module {binding.dotted} ({location})"
    return Evidence(subject=entry.value, message=f"{entry.value} {seen}", location=location)


def _unresolved_gap(
    project: Project, entry: _EntryPoint, module: str, error: pyast.Unresolved
) -> Gap:
    location = entry.location
    if error.path is not None and error.line is not None:
        location = project.location(error.path, error.line)
    if isinstance(error, pyast.ModuleMissing):
        fix = f"Create module {module} in the package, or point the entry point at the module "
        fix += "that holds the function."
    elif isinstance(error, pyast.BrokenModule):
        fix = "Fix the syntax error; the entry point cannot import a module that does not parse."
    else:
        fix = "Define the function at the top level of the module, or correct the name after ':'."
    return Gap(
        subject=entry.value,
        message=f"{entry.origin} = {entry.value}: {error.message}",
        location=location,
        fix=fix,
    )


# -- PKG004 -----------------------------------------------------------------------------------


@family.check("PKG004", "A project made by `paved new` keeps up with pavedroad's template")
def template_drift(project: Project) -> Iterator[Gap | Evidence]:
    """Checks, for a project made from pavedroad's template (its `.copier-answers.yml` names
    pavedroad's repository as `_src_path`), that it was made or last updated from the template
    of the pavedroad release installed (`_commit` is `v<version>`, or later), and that it still
    holds the files the template gives it for its answers: `.pre-commit-config.yaml`, the CI
    workflow of its `ci` answer, and the `Dockerfile` when `serving`. Other projects are skipped.

    Why: The template is how the platform's improvements reach every project: a fixed CI gate,
    a new pre-commit hook, a safer Dockerfile. A project left on an old version misses them,
    and one that deleted its CI workflow or pre-commit configuration has lost the gate that
    keeps it READY between reviews, without anyone deciding so.

    Example: `.copier-answers.yml` says `_commit: v0.0.9` while pavedroad 0.1.0 is installed;
    or the project deleted `.github/workflows/paved.yml`.

    Fix: Commit your work, then run `copier update --defaults --vcs-ref v<version>` at the
    project root (`pip install copier`) and review the diff; conflicts are marked in the files.
    `copier update` keeps a deletion: take a deleted file back from a fresh rendering (the gap
    gives the command), or, if the project no longer wants it, say so in the answers
    (`copier update --defaults --data ci=none`).
    """
    path = project.root / upstream.ANSWERS_FILE
    text = project.text(path)
    if text is None:
        raise SkipCheck(f"not made from pavedroad's template: no {upstream.ANSWERS_FILE}")
    answers = _answers(project, path, text)
    if isinstance(answers, Gap):
        yield answers
        return
    source = answers.get("_src_path")
    if not isinstance(source, str) or not upstream.names_pavedroad(source):
        raise SkipCheck(f"made from another template ({source or 'no _src_path'})")
    made_from = answers.get("_commit")
    release = _release_of(made_from)
    behind = _version_gap(project, path, text, made_from, release)
    if behind is not None:
        yield behind
    # a deleted file comes back as the project's own version has it, when that is a release
    ref = str(made_from).strip() if release is not None else upstream.release_tag()
    provided = upstream.provided_files(answers)
    missing = [f for f in provided if not (project.root / f.path).is_file()]
    for file in missing:
        yield _missing_gap(project, path, text, file, ref)
    if behind is None and not missing:
        yield Evidence(
            subject=upstream.ANSWERS_FILE,
            message=f"made from pavedroad's template {made_from} (this release's: "
            f"{upstream.release_tag()}); in place: {', '.join(f.path for f in provided)}",
            location=project.location(path, _answer_line(text, "_commit")),
        )


_UPDATE = f"copier update --defaults --vcs-ref {upstream.release_tag()}"


def _answers(project: Project, path: Path, text: str) -> dict[str, Any] | Gap:
    import yaml  # only for the projects that have an answers file

    fix = (
        f"Restore {upstream.ANSWERS_FILE} from git: `copier update` reads the template's source, "
        "its version and the answers from it."
    )
    try:
        answers = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return Gap(
            subject=upstream.ANSWERS_FILE,
            message=f"{upstream.ANSWERS_FILE} is not valid YAML: "
            f"{getattr(error, 'problem', None) or error}",
            location=project.location(path, mark.line + 1 if mark is not None else None),
            fix=fix,
        )
    if not isinstance(answers, dict):
        return Gap(
            subject=upstream.ANSWERS_FILE,
            message=f"{upstream.ANSWERS_FILE} holds no answers (a YAML mapping of each question "
            "to its answer)",
            location=project.location(path),
            fix=fix,
        )
    return answers


def _release_of(made_from: object) -> Version | None:
    """The release of the template an answers file's `_commit` names, if it names one."""
    tagged = upstream.tagged_version(made_from) if isinstance(made_from, str) else None
    try:
        return Version(tagged[0]) if tagged is not None else None
    except InvalidVersion:
        return None


def _version_gap(
    project: Project, path: Path, text: str, made_from: object, release: Version | None
) -> Gap | None:
    """The gap when `_commit` is missing, names no release, or one older than this release."""
    location = project.location(path, _answer_line(text, "_commit"))
    if not isinstance(made_from, str) or not made_from.strip():
        return Gap(
            subject=upstream.ANSWERS_FILE,
            message=f"{upstream.ANSWERS_FILE} records no `_commit`, so `copier update` cannot "
            "tell which version of the template the project was made from",
            location=project.location(path),
            fix=f"Add `_commit: v<release>` to {upstream.ANSWERS_FILE}, with the pavedroad "
            f"release that made the project; commit, then run `{_UPDATE}`.",
        )
    if release is None:
        return Gap(
            subject=upstream.ANSWERS_FILE,
            message=f"the project was made from {made_from}, not a release of pavedroad's "
            f"template, so it cannot be compared with this release's ({upstream.release_tag()})",
            location=location,
            fix=f"Commit your work, then move the project to this release's template: "
            f"`{_UPDATE}`; review the diff.",
        )
    if release >= Version(__version__):
        return None
    return Gap(
        subject=upstream.ANSWERS_FILE,
        message=f"the project was made from pavedroad's template {made_from}; this release's "
        f"is {upstream.release_tag()}",
        location=location,
        fix=f"Commit your work, then run `{_UPDATE}` at the project root (`pip install copier`) "
        "and review the diff; conflicts are marked in the files.",
    )


def _missing_gap(project: Project, path: Path, text: str, file: upstream.Provided, ref: str) -> Gap:
    folder = Path(file.path).parent.as_posix()
    restore = (
        f"fresh=$(mktemp -d) && copier copy --quiet --defaults --data-file "
        f'{upstream.ANSWERS_FILE} --vcs-ref {ref} {upstream.REPOSITORY} "$fresh" && '
        + (f"mkdir -p {folder} && " if folder != "." else "")
        + f'cp "$fresh/{file.path}" {file.path}'
    )
    fix = f"Take it back from the template (`copier update` keeps a deletion): `{restore}`."
    because = ""
    line = None
    if file.answer is not None:
        line = _answer_line(text, file.answer)
        value = text.splitlines()[line - 1].partition(":")[2].strip() if line else "?"
        because = f" with `{file.answer}: {value}`"
        fix += (
            " If the project no longer wants it, record that in the answers instead: "
            f"`{_UPDATE} --data {file.opt_out}`."
        )
    return Gap(
        subject=file.path,
        message=f"{file.path} is missing: the template gives {file.what} to every project "
        f"made{because}",
        location=project.location(path, line),
        fix=fix,
    )


def _answer_line(text: str, key: str) -> int | None:
    """The line of a top-level key of the answers file (Copier writes one key per line)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None
