"""DEP: what the code really imports is declared, in the right group, pinned, and locked.

The facts come from three views built once per run: the import index (`imports.py`), the
declared dependencies and locks (`declared.py`), and the import-name -> distribution mapping
(`distributions.py`). This module only joins them, so each check stays a few lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from pavedroad.artifact_imports import ArtifactModules, modules_in_artifact
from pavedroad.declared import Declarations, Declared, declarations
from pavedroad.distributions import canonical, installed_version, requires_of, resolve
from pavedroad.imports import ImportSite, ParseFailure, import_index, third_party_sites
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck
from pavedroad.results import Location

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

family = Family(
    "DEP",
    "Dependencies",
    "What the code imports is declared, in the right group, pinned, and locked.",
)

SITES_SHOWN = 3
# How the import index words a file it could not read (a broken symlink, no permission).
UNREADABLE = "cannot be read"

BUILD_SCRIPT = "setup.py"  # at the project root: run to build the package, never imported


@dataclass
class Need:
    """One thing the code imports, and the distributions that can provide it."""

    module: str  # the import as resolved (a top-level name, or a dotted one for namespaces)
    candidates: tuple[str, ...]  # canonical distribution names; any of them satisfies it
    sites: list[ImportSite] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.candidates[0] if len(self.candidates) == 1 else self.module

    def required_sites(self) -> list[ImportSite]:
        """Sites that fail without the package: not optional, not only for the type checker."""
        return [s for s in self.sites if not s.optional and not s.type_checking]


def needs(project: Project) -> list[Need]:
    """Every third-party import of the project, grouped by what provides it (once per run)."""
    return project.fact(_needs)


def _needs(project: Project) -> list[Need]:
    overrides = _overrides(project)
    grouped: dict[tuple[str, ...], Need] = {}
    resolved: dict[str, tuple[str, tuple[str, ...]]] = {}
    # setup.py's imports (setuptools, Cython, numpy for extensions) are what building needs,
    # declared in [build-system].requires or taken for granted by pip: not the package's own
    build_script = project.root / BUILD_SCRIPT
    for top, sites in sorted(third_party_sites(project).items()):
        for site in sites:
            if site.path == build_script:
                continue
            if site.module not in resolved:
                resolution = resolve(site.module, overrides)
                resolved[site.module] = (
                    resolution.top,
                    resolution.distributions or (canonical(top),),
                )
            module, candidates = resolved[site.module]
            need = grouped.setdefault(candidates, Need(module=module, candidates=candidates))
            need.sites.append(site)
    return sorted(grouped.values(), key=lambda n: n.subject)


def _overrides(project: Project) -> Mapping[str, str]:
    deps = project.contract.dependencies
    return deps.import_names if deps is not None else {}


def _declared_names(decl: Declarations, *, dev: bool = True) -> set[str]:
    return {d.name for d in decl.dependencies if dev or not d.group.startswith("dev:")}


def _where(project: Project, site: ImportSite) -> str:
    where = f"{project.rel(site.path)}:{site.line}"
    return (
        where
        if site.cell is None
        else f"{project.rel(site.path)} cell {site.cell} line {site.line}"
    )


def _places(project: Project, sites: list[ImportSite]) -> str:
    shown = ", ".join(_where(project, s) for s in sites[:SITES_SHOWN])
    more = len(sites) - SITES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _location(project: Project, site: ImportSite) -> Location:
    return project.location(site.path, site.line if site.cell is None else None)


def _declare_fix(project: Project, distribution: str, *, group: str = "runtime") -> str:
    version = installed_version(distribution)
    requirement = f"{distribution}=={version}" if version else distribution
    if project.pyproject is not None and "project" in project.pyproject:
        table = (
            "[project].dependencies" if group == "runtime" else "[dependency-groups] (e.g. `dev`)"
        )
        return (
            f'Add "{requirement}" to {table} in pyproject.toml '
            "(`paved deps --fix` does it for the missing ones)."
        )
    if any(p.name.startswith("requirements") for p in declarations(project).sources):
        return f"Add `{requirement}` to requirements.txt."
    return (
        "The project declares no dependencies at all: create pyproject.toml with a [project] "
        f'table and `dependencies = ["{requirement}"]` (every import must be declared there).'
    )


# -- DEP001 ---------------------------------------------------------------------------------


@family.check("DEP001", "Every imported package is declared")
def missing(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each third-party package the code, the tests and the notebooks import is
    declared as a dependency (in any group), unless it is only imported optionally (inside
    `try: ... except ImportError`) or only for the type checker (`if TYPE_CHECKING:`).

    Why: An undeclared import works on the author's machine because the package happens to be
    installed there. In a clean environment, built from what is declared, the first run fails
    with ModuleNotFoundError, often at the worst time: on the first request after a deploy.

    Example: `src/churn/features.py` imports `sklearn` while pyproject.toml declares only numpy
    and pandas.

    Fix: Declare the package where the project declares its dependencies, pinned to the version
    you tested with; `paved deps --fix` adds the missing ones to pyproject.toml with the version
    installed now.
    """
    decl = declarations(project)
    declared = _declared_names(decl)
    closure = _transitive(decl)
    found = gaps = 0
    for need in needs(project):
        required = need.required_sites()
        if not required:
            continue
        found += 1
        if any(c in declared for c in need.candidates) or any(
            c in closure for c in need.candidates
        ):
            continue  # declared, or DEP003's gap (only present through another package)
        gaps += 1
        yield Gap(
            subject=need.subject,
            message=f"`{need.module}` is imported but {_undeclared(need.candidates)}: "
            f"{_places(project, required)}",
            location=_location(project, required[0]),
            fix=_declare_fix(project, need.candidates[0]),
        )
    if not gaps:
        yield Evidence(message=f"{found} third-party package(s) imported, each declared")


def _undeclared(candidates: tuple[str, ...]) -> str:
    """`pyyaml is not declared`, or `none of opencv-python, ... is declared` for several."""
    if len(candidates) == 1:
        return f"{candidates[0]} is not declared"
    return f"none of {', '.join(candidates)} is declared"


def _transitive(decl: Declarations) -> set[str]:
    """Every distribution installed as a requirement of a declared one (not declared itself)."""
    return _closure_of(*(d.name for d in decl.dependencies)) - _declared_names(decl)


# -- DEP002 ---------------------------------------------------------------------------------


@family.check("DEP002", "Every declared dependency is used")
def unused(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each runtime dependency (and each optional extra) is imported somewhere:
    by the code, the tests or the notebooks, or needed by the model artifact. Packages listed in
    `[dependencies].runtime_only` (a server, a driver loaded by URL, a plugin) are exempt;
    development groups are not checked.

    Why: Every declared package is installed, patched, scanned and upgraded for years by the
    team that receives the model. One nobody imports is cost and attack surface with no use,
    and it hides which packages the model really depends on.

    Example: `flask` still declared after the prototype endpoint was replaced by the serving
    layer.

    Fix: Remove the dependency, or, if it is needed without being imported, list it in
    `[dependencies].runtime_only` in the contract.
    """
    decl = declarations(project)
    used = {c for need in needs(project) for c in need.candidates} | _artifact_distributions(
        project
    )
    exempt = {canonical(name) for name in _runtime_only(project)}
    checked = gaps = 0
    for dependency in _unique(d for d in decl.dependencies if not d.group.startswith("dev:")):
        if dependency.name in exempt or dependency.name == _own_name(project):
            continue
        checked += 1
        if dependency.name not in used:
            gaps += 1
            yield Gap(
                subject=dependency.name,
                message=f"{dependency.name} is declared ({_declared_where(project, dependency)}) "
                "but nothing imports it",
                location=project.location(dependency.source, dependency.line),
            )
    if not gaps:
        yield Evidence(message=f"{checked} declared package(s), each imported")


def _runtime_only(project: Project) -> list[str]:
    deps = project.contract.dependencies
    return deps.runtime_only if deps is not None else []


def _own_name(project: Project) -> str | None:
    name = (project.pyproject or {}).get("project", {}).get("name")
    return canonical(name) if isinstance(name, str) else None


def _unique(dependencies: Iterable[Declared]) -> list[Declared]:
    """The first declaration of each name (a package may be declared in several files)."""
    first: dict[str, Declared] = {}
    for dependency in dependencies:
        first.setdefault(dependency.name, dependency)
    return list(first.values())


def _declared_where(project: Project, dependency: Declared) -> str:
    group = "" if dependency.group == "runtime" else f", {dependency.group}"
    return f"{project.rel(dependency.source)}{group}"


# -- DEP003 ---------------------------------------------------------------------------------


@family.check("DEP003", "No package is used only through another's dependencies")
def transitive(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that no imported package is present only because a declared package requires it.

    Why: It works today because, say, scikit-learn pulls in scipy. The day scikit-learn drops or
    bounds that requirement differently, the code breaks with no change of its own, and nobody
    knows it was a dependency: the contract must name what the code uses directly.

    Example: `from scipy import stats` in `features.py`, while only scikit-learn is declared.

    Fix: Declare the package directly, pinned to the version installed now.
    """
    decl = declarations(project)
    declared = _declared_names(decl)
    closure = _transitive(decl)
    for need in needs(project):
        required = need.required_sites()
        if not required or any(c in declared for c in need.candidates):
            continue
        through = [c for c in need.candidates if c in closure]
        if through:
            yield Gap(
                subject=need.subject,
                message=f"`{need.module}` is imported ({_places(project, required)}) but "
                f"{through[0]} is only installed as a dependency of {_requirers(decl, through[0])}",
                location=_location(project, required[0]),
                fix=_declare_fix(project, through[0]),
            )


def _requirers(decl: Declarations, distribution: str) -> str:
    names = sorted({d.name for d in decl.dependencies if distribution in _closure_of(d.name)})
    return ", ".join(names) if names else "a declared package"


def _closure_of(*distributions: str) -> set[str]:
    """What the installed `distributions` require, directly or through each other."""
    seen: set[str] = set()
    todo = list(distributions)
    while todo:
        for required in requires_of(todo.pop()):
            if required not in seen:
                seen.add(required)
                todo.append(required)
    return seen


# -- DEP004 ---------------------------------------------------------------------------------


@family.check("DEP004", "Every runtime dependency is pinned")
def unpinned(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each runtime dependency is pinned to one version (`==`), or covered by a
    lock file (uv.lock, pylock.toml, or a requirements file with `==` and hashes). Disabled
    by `[dependencies] pinned = false`.

    Why: `scikit-learn>=1.0` installs whatever is newest on the day of the deploy. The model was
    validated with one version; a pickle or a numerical default that changes between releases
    changes the predictions without a line of the project changing.

    Example: `requirements.txt` lists `pandas` and `scikit-learn>=1.3`.

    Fix: Pin each runtime requirement to the version you validated (`scikit-learn==1.7.2`), or
    commit a lock: `paved lock` writes one through uv.
    """
    deps = project.contract.dependencies
    if deps is not None and not deps.pinned:
        raise SkipCheck("[dependencies] pinned = false")
    decl = declarations(project)
    locked = {name for lock in decl.locks for name in lock.packages}
    runtime = _unique(d for d in decl.dependencies if d.group == "runtime")
    loose = [d for d in runtime if not d.pinned and d.name not in locked]
    for dependency in loose:
        version = installed_version(dependency.name)
        yield Gap(
            subject=dependency.name,
            message=f"{dependency.requirement!r} in {project.rel(dependency.source)} is not "
            "pinned to one version and no lock covers it",
            location=project.location(dependency.source, dependency.line),
            fix=(
                f"Pin it: `{dependency.name}=={version}` (installed now), or run `paved lock`."
                if version
                else "Pin it to the version you validated with `==`, or run `paved lock`."
            ),
        )
    if runtime and not loose:
        yield Evidence(message=f"{len(runtime)} runtime dependencies, each pinned or locked")


# -- DEP005 ---------------------------------------------------------------------------------


@family.check("DEP005", "The lock satisfies the declared requirements")
def stale_lock(project: Project) -> Iterator[Gap | Evidence]:
    """Checks each lock file (and the one `[dependencies].lock` names, which must exist) against
    the declared runtime requirements: every requirement must be in the lock at a version its
    specifier allows, and a uv.lock must record the requirements pyproject.toml declares now.

    Why: A lock that no longer matches the declarations installs something else than what the
    declarations say: either the lock wins and the new requirement is silently missing, or the
    installer refuses to build the environment in CI.

    Example: `scikit-learn` was raised to `>=1.7` in pyproject.toml, but uv.lock still pins
    1.5.2.

    Fix: Regenerate the lock (`paved lock`, or `uv lock`) and commit it with the change.
    """
    decl = declarations(project)
    deps = project.contract.dependencies
    if deps is not None and deps.lock and not (project.root / deps.lock).is_file():
        yield Gap(
            subject=deps.lock,
            message=f"the contract names the lock {deps.lock}, which does not exist",
            location=project.contract_location("dependencies", "lock"),
            fix="Run `paved lock` to write it, or correct `[dependencies].lock`.",
        )
    if not decl.locks:
        if deps is None or not deps.lock:
            raise SkipCheck("no lock file")
        return
    runtime = _unique(d for d in decl.dependencies if d.group == "runtime")
    for lock in decl.locks:
        name = project.rel(lock.path)
        problems = {d.name: p for d in runtime if (p := _lock_problem(d, lock.packages))}
        if lock.kind == "uv.lock":
            for package, problem in _uv_lock_drift(project, lock.path, runtime).items():
                problems.setdefault(package, problem)
        for package, problem in sorted(problems.items()):
            yield Gap(
                subject=f"{name}: {package}",
                message=f"{name} {problem}",
                location=project.location(lock.path),
            )
        if not problems:
            yield Evidence(
                subject=name,
                message=f"{name} pins {len(lock.packages)} package(s) and satisfies "
                f"{len(runtime)} runtime requirement(s)",
                location=project.location(lock.path),
            )


def _uv_lock_drift(project: Project, path: Path, runtime: list[Declared]) -> dict[str, str]:
    """Package -> how the requirements uv.lock was made from differ from pyproject.toml's now
    (what `uv lock --check` refuses): a lock whose versions still fit was made for others."""
    recorded = _uv_lock_requires(project.text(path) or "")
    if recorded is None:
        return {}
    declared = {
        d.name: _normal_specifier(d.specifier)
        for d in runtime
        if d.source == project.pyproject_path
    }
    drift: dict[str, str] = {}
    for package, specifier in declared.items():
        if package not in recorded:
            drift[package] = f"was made without {package}, which pyproject.toml now declares"
        elif recorded[package] != specifier:
            drift[package] = (
                f"was made for {package}{recorded[package] or ' (any version)'}, but "
                f"pyproject.toml now declares {package}{specifier or ' (any version)'}"
            )
    for package in recorded.keys() - declared.keys():
        drift[package] = f"was made with {package}, which pyproject.toml no longer declares"
    return drift


def _uv_lock_requires(text: str) -> dict[str, str] | None:
    """The project's runtime requirements as uv.lock recorded them (`[package.metadata]
    requires-dist` of the project's own entry), name -> specifier; None when it records none."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None  # DEP009 reports it
    for package in data.get("package", []):
        source = package.get("source") if isinstance(package, dict) else None
        if not (isinstance(source, dict) and source.get("virtual", source.get("editable")) == "."):
            continue
        requires = package.get("metadata", {}).get("requires-dist")
        if not isinstance(requires, list):
            return None
        return {
            canonical(entry["name"]): _normal_specifier(str(entry.get("specifier", "")))
            for entry in requires
            if isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            # an optional extra's requirement is recorded with `marker = "extra == 'x'"`
            and "extra" not in str(entry.get("marker", ""))
        }
    return None


def _normal_specifier(specifier: str) -> str:
    """One spelling per specifier set (`>=1, <2` and `<2,>=1` are the same)."""
    try:
        return str(SpecifierSet(specifier))
    except InvalidSpecifier:
        return specifier


def _lock_problem(dependency: Declared, packages: Mapping[str, str]) -> str | None:
    if dependency.name not in packages:
        return f"does not contain {dependency.name}, which is declared"
    try:
        specifier = Requirement(dependency.requirement).specifier
    except InvalidRequirement:
        return None  # DEP009 reports the line
    version = packages[dependency.name]
    if specifier and not specifier.contains(version, prereleases=True):
        return f"pins {dependency.name} {version}, outside the declared {specifier}"
    return None


# -- DEP006 ---------------------------------------------------------------------------------


@family.check("DEP006", "Runtime code imports no development-only package")
def dev_only(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that no package imported by production code (not tests, not notebooks) is declared
    only in a development or test group.

    Why: Development groups are not installed in production. A runtime import of a package
    declared only for tests passes every check on a developer's machine and fails on the server.

    Example: `src/churn/report.py` imports `matplotlib`, declared only in `[dependency-groups]
    dev`.

    Fix: Move the declaration to the runtime dependencies, or move the import into test or
    notebook code.
    """
    decl = declarations(project)
    runtime_declared = _declared_names(decl, dev=False)
    dev_declared = {d.name: d for d in decl.dependencies if d.group.startswith("dev:")}
    for need in needs(project):
        sites = [
            s for s in need.required_sites() if s.cell is None and not project.is_test_file(s.path)
        ]
        if not sites or any(c in runtime_declared for c in need.candidates):
            continue
        dev = next((dev_declared[c] for c in need.candidates if c in dev_declared), None)
        if dev is not None:
            yield Gap(
                subject=need.subject,
                message=f"`{need.module}` is imported by runtime code ({_places(project, sites)}) "
                f"but {dev.name} is declared only in {dev.group} ({project.rel(dev.source)})",
                location=_location(project, sites[0]),
                fix=f"Declare {dev.name} in the runtime dependencies, or keep the import out of "
                "production code.",
            )


# -- DEP007 ---------------------------------------------------------------------------------


@family.check("DEP007", "The model artifact needs no undeclared package", section="model")
def artifact_packages(project: Project) -> Iterator[Gap | Evidence]:
    """Reads the model artifact's pickle opcodes (never unpickling it) and checks that every
    third-party module it references belongs to a declared runtime dependency.

    Why: A pickled scikit-learn pipeline needs scikit-learn to load even if no line of the
    serving code imports it. The code-level checks cannot see that; without it, the service
    starts, loads the model, and dies with ModuleNotFoundError.

    Example: `models/churn.joblib` references `sklearn.pipeline.Pipeline` and
    `lightgbm.sklearn.LGBMClassifier`, but lightgbm is not declared.

    Fix: Declare the packages the artifact needs, pinned to the versions it was saved with.
    """
    path = _artifact_path(project)
    scan = _artifact_scan(project, path)
    if scan.error is not None:
        raise SkipCheck(f"cannot read {project.rel(path)}: {scan.error}")
    decl = declarations(project)
    declared = _declared_names(decl, dev=False)
    for distribution, modules in sorted(_artifact_needs(project, scan.modules).items()):
        if distribution in declared:
            yield Evidence(
                subject=distribution,
                message=f"{project.rel(path)} needs {distribution} ({modules[0]}), declared",
                location=project.location(path),
            )
        else:
            yield Gap(
                subject=distribution,
                message=f"{project.rel(path)} references {', '.join(modules[:SITES_SHOWN])} but "
                f"{distribution} is not a declared runtime dependency",
                location=project.location(path),
                fix=_declare_fix(project, distribution),
            )


def _artifact_path(project: Project) -> Path:
    model = project.contract.model
    if model is None or model.artifact is None:
        raise SkipCheck("the contract names no [model].artifact")
    path = project.root / model.artifact
    if not path.is_file():
        raise SkipCheck(f"{model.artifact} does not exist (MOD001 reports it)")
    return path


def _artifact_needs(project: Project, modules: Iterable[str]) -> dict[str, list[str]]:
    """Distribution -> the artifact's modules it provides (stdlib and the project left out)."""
    overrides = _overrides(project)
    found: dict[str, list[str]] = {}
    for module in modules:
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top == "__main__" or _is_project_module(project, top):
            continue
        resolution = resolve(module, overrides)
        distribution = (resolution.distributions or (canonical(top),))[0]
        found.setdefault(distribution, []).append(module)
    return found


def _is_project_module(project: Project, top: str) -> bool:
    return any(
        (root / top).is_dir() or (root / f"{top}.py").is_file() for root in project.source_roots
    )


def _artifact_distributions(project: Project) -> set[str]:
    model = project.contract.model
    if model is None or model.artifact is None or not (project.root / model.artifact).is_file():
        return set()
    scan = _artifact_scan(project, project.root / model.artifact)
    return set(_artifact_needs(project, scan.modules)) if scan.error is None else set()


def _artifact_scan(project: Project, path: Path) -> ArtifactModules:
    """The opcode scan of the contract's artifact at `path`, once per run: DEP002 and DEP007
    both need it, and a model file can be hundreds of megabytes."""
    scans = project.fact(_no_scans)
    if path not in scans:
        scans[path] = modules_in_artifact(path)
    return scans[path]


def _no_scans(project: Project) -> dict[Path, ArtifactModules]:
    return {}


# -- DEP008 / DEP009 ------------------------------------------------------------------------


@family.check("DEP008", "Every Python file and notebook parses")
def unparsable(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that every .py file and every notebook's code can be parsed, so the import index
    (and every check built on it) saw the whole project.

    Why: A file with a syntax error cannot run; and its imports are invisible to the dependency
    checks, which would otherwise certify a project from part of its code.

    Example: `scripts/backfill.py` still holds a merge conflict marker.

    Fix: Fix the syntax error at the line shown (or delete the dead file).
    """
    index = import_index(project)
    for failure in index.failures:
        unreadable = failure.message.startswith(UNREADABLE)
        yield Gap(
            subject=project.rel(failure.path),
            message=f"{_failure_place(project, failure)} "
            + (failure.message if unreadable else f"does not parse: {failure.message}"),
            location=project.location(failure.path, failure.line if failure.cell is None else None),
            fix=(
                "Make the file readable, or remove it (a symlink that points at itself or at "
                "nothing is no code)."
                if unreadable
                else None
            ),
        )
    files = len(project.python_files) + len(project.notebook_files)
    if not index.failures:
        yield Evidence(message=f"{files} files parsed, {len(index.sites)} imports indexed")


def _failure_place(project: Project, failure: ParseFailure) -> str:
    """`src/a.py`, or `notebooks/x.ipynb cell 3 line 2` (a notebook's line is the cell's)."""
    where = project.rel(failure.path)
    if failure.cell is not None:
        where += f" cell {failure.cell}"
        if failure.line is not None:
            where += f" line {failure.line}"
    return where


@family.check("DEP009", "Every dependency file can be read")
def unreadable_declarations(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that every dependency file (pyproject.toml, requirements files, setup.cfg,
    environment.yml, Pipfile, lock files) parses, line by line.

    Why: An invalid requirement line is skipped by some installers and fatal to others; the
    dependency checks cannot judge what they cannot read.

    Example: `requirements.txt` line 7 reads `scikit-learn=1.3` (one `=`).

    Fix: Correct the line shown; `pip install -r FILE --dry-run` confirms the file parses.
    """
    decl = declarations(project)
    for problem in decl.problems:
        yield Gap(
            subject=project.rel(problem.path) + (f":{problem.line}" if problem.line else ""),
            message=f"{project.rel(problem.path)}: {problem.message}",
            location=project.location(problem.path, problem.line),
        )
    if decl.sources and not decl.problems:
        yield Evidence(
            message="read "
            + ", ".join(project.rel(p) for p in decl.sources[:SITES_SHOWN])
            + (
                f" and {len(decl.sources) - SITES_SHOWN} more"
                if len(decl.sources) > SITES_SHOWN
                else ""
            )
        )
