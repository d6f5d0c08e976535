"""The import index: every import of the project's .py files and notebook code cells, with its
file, line and guard (optional, TYPE_CHECKING), read from the AST and never by running the code.

Parsing is the whole cost, so the index is cached per file, outside the project, keyed by the
file's content hash with (size, mtime_ns) as the fast path: a second run costs one stat per file.
A cold run over many files parses them in forked workers (`workqueue`) when there are spare
cores; `paved deps` hands each file to them as its walk finds it (`Scan.add`), so parsing
overlaps the walk and the command's heavy imports.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
import time
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from pavedroad.cachedir import cache_root, caching_enabled
from pavedroad.fileio import write_atomic
from pavedroad.import_part import PARSE_ERRORS, parse_imports_part
from pavedroad.tree import stat_or_none
from pavedroad.workqueue import WorkQueue, available_workers

if TYPE_CHECKING:
    from pavedroad.project import Project

CACHE_VERSION = "imports-v1"
# Parsing in forked workers pays only when there is enough to parse: a fork and its results
# cost a few ms, one process parses about 10 MB of source a second, and below this the gain is
# lost in the noise of a busy machine (measured on Django's sources, see the DEP benchmark).
PARALLEL_MIN_BYTES = 256 * 1024
# The files a worker takes at a time: about 6 ms of parsing, so that the last ones even out.
CHUNK_BYTES = 64 * 1024
# A file modified within this window may change again without changing its mtime (coarse
# filesystem clocks): its stat is not trusted next time, its content hash is.
RACY_NS = 2_000_000_000

# The standard library of the Pythons a project may target (3.10 to 3.14), not only of the one
# running: `import tomllib` (3.11+), `annotationlib` (3.14+) or `asyncore` (gone in 3.12) under
# a version check is no third-party import on any interpreter.
OTHER_STDLIB = frozenset(
    {
        "annotationlib", "compression", "tomllib",  # added
        "asynchat", "asyncore", "distutils", "imp", "smtpd",  # removed in 3.12
        "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap",
        "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau",
        "telnetlib", "uu", "xdrlib",  # removed in 3.13
    }
)  # fmt: skip
NOT_THIRD_PARTY = frozenset({*sys.stdlib_module_names, *OTHER_STDLIB, "__future__", "__main__"})
IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_TRY_NODES: tuple[type[ast.stmt], ...] = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)
_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOP_NODES = (ast.For, ast.AsyncFor, ast.While)
_WITH_NODES = (ast.With, ast.AsyncWith)

# flags of a raw site, as stored in the cache
OPTIONAL, TYPE_CHECKING_ONLY, RELATIVE, DYNAMIC = 1, 2, 4, 8


@dataclass(frozen=True, kw_only=True)
class ImportSite:
    """One imported module at one place of the project."""

    module: str  # absolute dotted name; a relative one resolved against the file's package
    top: str  # first component; "" for a relative import that cannot be resolved
    path: Path
    line: int  # 1-based; in a notebook, the line within the cell's source
    cell: int | None  # notebook: index of the cell in nb["cells"]
    optional: bool  # in `try:` that catches ImportError, or `with suppress(ImportError):`
    type_checking: bool  # under `if TYPE_CHECKING:`: never imported at run time
    relative: bool
    dynamic: bool  # importlib.import_module("x") / __import__("x") with a literal name


@dataclass(frozen=True, kw_only=True)
class ParseFailure:
    """A file, or a notebook cell, that cannot be read or parsed; the rest is still indexed."""

    path: Path
    line: int | None
    cell: int | None
    message: str


@dataclass(frozen=True)
class ImportIndex:
    sites: tuple[ImportSite, ...]
    failures: tuple[ParseFailure, ...]


# -- the project's index ---------------------------------------------------------------------


def import_index(project: Project) -> ImportIndex:
    """The index, computed once per run however many checks ask."""
    return project.fact(index_imports)


def index_imports(project: Project) -> ImportIndex:
    """Every import in every .py file and notebook of the project; the .py files' scan is the
    one the command started while it walked the tree (`started_scan`), if it did."""
    src_layout = len(project.source_roots) > 1
    notebooks = _jobs(project.root, project.notebook_files, "ipynb", src_layout=False)
    started = project.fact(started_scan)
    if started is None or not started.covers(project.root, project.python_files, src_layout):
        started = Scan(project.root, src_layout=src_layout)
        for path in project.python_files:
            started.add(path, stat_or_none(path))
    with started as scan:
        return scan.finish(notebooks)


def started_scan(project: Project) -> Scan | None:
    """A scan of the project's .py files started before the project was built, handed over
    with `project.provide(started_scan, scan)`; none by default."""
    return None


class Scan:
    """The scan of a project's .py files, given one by one as they are found: a file whose
    cached entry has the same stat is not read again; the others go to the parse workers at
    once (`workqueue`), so that parsing overlaps the walk and whatever the caller does next
    (import the checks, read the contract). A context manager: leaving it stops the workers
    whose results nobody collected."""

    def __init__(self, root: Path, *, src_layout: bool) -> None:
        self.root = root
        self.src_layout = src_layout
        self.jobs: list[_Job] = []
        self._prefix = f"{root}{os.sep}"
        self._cache = _Cache.load(root)
        self._found: dict[str, _Found] = {}
        self._stale: list[tuple[_Job, _Cached | None]] = []
        self._queue = WorkQueue(
            _scan,
            workers=available_workers(),
            start_weight=PARALLEL_MIN_BYTES,
            chunk_weight=CHUNK_BYTES,
        )

    def __enter__(self) -> Scan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._queue.close()

    def add(self, path: Path, stat: os.stat_result | None) -> None:
        """A .py file of the project, with its stat as the caller took it (None: it has none)."""
        job = _job(self.root, self._prefix, path, "py", self.src_layout)
        self.jobs.append(job)
        cached = self._cache.get(job)
        if _unchanged(cached, stat):
            self._found[job.rel] = cached.found
            return
        self._stale.append((job, cached))
        self._queue.submit(_request(job, cached), 0 if stat is None else stat.st_size)

    def flush(self) -> None:
        """The files added so far are all there is for now: the last few go to the workers."""
        self._queue.flush()

    def covers(self, root: Path, python_files: Sequence[Path], src_layout: bool) -> bool:
        """Whether this scan is of these files of the project at `root`, in that layout."""
        return (
            (self.root, self.src_layout) == (root, src_layout)
            and len(self.jobs) == len(python_files)
            and all(job.path == path for job, path in zip(self.jobs, python_files, strict=True))
        )

    def finish(self, more: tuple[_Job, ...] = ()) -> ImportIndex:
        """The index of the scanned files and of `more` (notebooks: scanned here, while the
        workers parse); the cache saved."""
        for job in more:
            cached = self._cache.get(job)
            if _unchanged(cached, stat_or_none(job.path)):
                self._found[job.rel] = cached.found
            else:
                self._found[job.rel] = self._cache.put(job, cached, _scan(_request(job, cached)))
        for (job, cached), scanned in zip(self._stale, self._queue.results(), strict=True):
            self._found[job.rel] = self._cache.put(job, cached, scanned)
        jobs = (*self.jobs, *more)
        self._cache.save(job.rel for job in jobs)
        sites: list[ImportSite] = []
        failures: list[ParseFailure] = []
        for job in jobs:
            sites.extend(self._found[job.rel][0])
            failures.extend(self._found[job.rel][1])
        return ImportIndex(tuple(sites), tuple(failures))


def third_party_sites(project: Project) -> dict[str, list[ImportSite]]:
    """Top-level name -> its sites, for the imports that are neither relative, nor the standard
    library, nor the project's own modules. TYPE_CHECKING and optional sites are kept, flagged."""
    found: dict[str, list[ImportSite]] = {}
    for site in import_index(project).sites:
        if site.top not in NOT_THIRD_PARTY and not is_local(project, site):
            found.setdefault(site.top, []).append(site)
    return dict(sorted(found.items()))


def is_local(project: Project, site: ImportSite) -> bool:
    """Whether the site imports the project's own code: relative, or a module or package of
    that name in a source root or next to the importing file (a script's sibling `helpers.py`),
    even when PyPI has a package of that name too."""
    if site.relative or not site.top:
        return True
    by_file, by_folder = project.fact(_local_memo)
    key = (site.path, site.top)  # a file's sites share a few tops: one lookup for each
    if key not in by_file:
        by_file[key] = any(
            _defines_memo(by_folder, folder, site.top)
            for folder in (*project.source_roots, site.path.parent)
        )
    return by_file[key]


def _local_memo(
    project: Project,
) -> tuple[dict[tuple[Path, str], bool], dict[tuple[Path, str], bool]]:
    return {}, {}


def _defines_memo(known: dict[tuple[Path, str], bool], folder: Path, name: str) -> bool:
    if (folder, name) not in known:
        known[folder, name] = _defines(folder, name)
    return known[folder, name]


def _defines(folder: Path, name: str) -> bool:
    """A module `name.py`, a package `name/`, or a namespace package `name/` holding Python."""
    if (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file():
        return True
    package = folder / name
    if not package.is_dir():
        return False
    return any(package.glob("*.py")) or any(package.glob("*/__init__.py"))


# -- jobs: what to scan, and the context its relative imports resolve in ---------------------


@dataclass(frozen=True)
class _Job:
    path: Path
    rel: str
    kind: str  # "py" or "ipynb"
    module: str | None  # the file's dotted module name, when it has one
    package: str | None  # the package its relative imports resolve against

    @property
    def context(self) -> str:
        """What the scan of the same bytes depends on besides them."""
        return f"{self.kind}:{self.module}:{self.package}"


def _jobs(root: Path, paths: Iterable[Path], kind: str, src_layout: bool) -> tuple[_Job, ...]:
    """The jobs of the files `paths` of the project at `root`; with `src_layout`, packages
    start below src/."""
    prefix = f"{root}{os.sep}"
    return tuple(_job(root, prefix, path, kind, src_layout) for path in paths)


def _job(root: Path, prefix: str, path: Path, kind: str, src_layout: bool) -> _Job:
    """`prefix` is the root with a trailing separator: the walk's paths start with it, and
    slicing a string costs a tenth of Path.relative_to on a warm run's thousand files."""
    text = str(path)
    if text.startswith(prefix):
        rel = text[len(prefix) :].replace(os.sep, "/")
    else:
        rel = path.relative_to(root).as_posix()
    if kind != "py":  # a notebook is no module: nothing is relative to it
        return _Job(path, rel, kind, None, None)
    parts = rel.removesuffix(".py").split("/")
    if src_layout and rel.startswith("src/"):
        parts.pop(0)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        return _Job(path, rel, kind, None, None)
    module = ".".join(parts)
    return _Job(path, rel, kind, module, module if is_package else module.rpartition(".")[0])


# -- the cache -------------------------------------------------------------------------------

RawSite = tuple[str, int, int | None, int]  # module, line, cell, flags
RawFailure = tuple[int | None, int | None, str]  # line, cell, message
# What a scan returns: (size, mtime_ns) when that stat can be trusted next time, the sha256,
# the context, the sites and the failures; or only the first two when the content's hash is
# the cached one.
_Scanned = (
    tuple[tuple[int, int] | None, str, str, tuple[RawSite, ...], tuple[RawFailure, ...]]
    | tuple[tuple[int, int] | None, str]
)
# what to scan: path, kind, module, package, sha256 of the cached version ("" when none)
_Request = tuple[str, str, str | None, str | None, str]
_Found = tuple[list[ImportSite], list[ParseFailure]]


@dataclass(frozen=True)
class _Cached:
    """A valid cache entry of one file, decoded."""

    stat: tuple[int, int] | None
    sha256: str
    found: _Found


def cache_dir() -> Path:
    """The index's folder of the cache root (`cachedir.cache_root`)."""
    return cache_root() / CACHE_VERSION


class _Cache:
    """One JSON file per project root: relative path -> [stat, sha256, context, sites,
    failures]. One file, because a warm run must cost one read and a stat per source file.
    JSON, because a damaged file must never crash the run: it loads safely, and an entry of the
    wrong shape is ignored like a missing one."""

    def __init__(self, file: Path | None, root: str, entries: dict[str, Any]) -> None:
        self.file = file
        self.root = root
        self.entries = entries
        self.changed = False

    @classmethod
    def load(cls, root: Path) -> _Cache:
        if not caching_enabled():
            return cls(None, str(root), {})
        file = cache_dir() / f"{hashlib.sha256(str(root).encode()).hexdigest()[:32]}.json"
        try:
            data = json.loads(file.read_bytes())
        except (OSError, ValueError, RecursionError):  # absent, unreadable, not JSON
            return cls(file, str(root), {})
        valid = (
            isinstance(data, dict)
            and data.get("version") == CACHE_VERSION
            and data.get("root") == str(root)
            and isinstance(data.get("entries"), dict)
        )
        return cls(file, str(root), data["entries"] if valid else {})

    def get(self, job: _Job) -> _Cached | None:
        """The file's entry, if it is there, was made in the same context, and is well formed."""
        entry: Any = self.entries.get(job.rel)
        try:
            stat, sha256, context, sites, failures = entry
            if context != job.context or not isinstance(sha256, str):
                return None
            return _Cached(_decode_stat(stat), sha256, _decode(job.path, sites, failures))
        except (TypeError, ValueError):
            return None

    def put(self, job: _Job, cached: _Cached | None, scanned: _Scanned) -> _Found:
        """Record a scan; one that found the cached content again keeps the cached sites."""
        self.changed = True
        if len(scanned) == 2:
            assert cached is not None  # a scan skips parsing only when it had a cached hash
            self.entries[job.rel][0] = scanned[0]
            return cached.found
        self.entries[job.rel] = list(scanned)
        return _decode(job.path, scanned[3], scanned[4])

    def save(self, current: Iterable[str]) -> None:
        kept = {rel: self.entries[rel] for rel in current if rel in self.entries}
        if self.file is None or not (self.changed or len(kept) != len(self.entries)):
            return
        data = {"version": CACHE_VERSION, "root": self.root, "entries": kept}
        # dumps, not dump: only the one-shot encoder is the C one (5x faster on 4,000 sites)
        text = json.dumps(data, separators=(",", ":"))
        with suppress(OSError):  # a read-only or full cache costs speed, not the run
            write_atomic(self.file, text)


def _unchanged(cached: _Cached | None, stat: os.stat_result | None) -> TypeGuard[_Cached]:
    """Whether the cached entry is of the file as it is now: its trusted stat (size and mtime)
    is the file's. A file touched but not edited is read again, and keeps the cached sites."""
    return (
        cached is not None
        and cached.stat is not None
        and stat is not None
        and cached.stat == (stat.st_size, stat.st_mtime_ns)
    )


def _request(job: _Job, cached: _Cached | None) -> _Request:
    return (str(job.path), job.kind, job.module, job.package, cached.sha256 if cached else "")


def _decode_stat(stat: Any) -> tuple[int, int] | None:
    if stat is None:
        return None
    size, mtime_ns = stat
    if type(size) is not int or type(mtime_ns) is not int:
        raise ValueError("not a stat")
    return size, mtime_ns


def _decode(path: Path, sites: Iterable[Any], failures: Iterable[Any]) -> _Found:
    """Sites and failures from their raw form, checked: a cache file can be damaged."""
    decoded: list[ImportSite] = []
    for module, line, cell, flags in sites:
        if not (
            type(module) is str
            and type(line) is int
            and (cell is None or type(cell) is int)
            and type(flags) is int
        ):
            raise ValueError("not a site")
        decoded.append(
            ImportSite(
                module=module,
                top=module.partition(".")[0],
                path=path,
                line=line,
                cell=cell,
                optional=bool(flags & OPTIONAL),
                type_checking=bool(flags & TYPE_CHECKING_ONLY),
                relative=bool(flags & RELATIVE),
                dynamic=bool(flags & DYNAMIC),
            )
        )
    problems: list[ParseFailure] = []
    for line, cell, message in failures:
        if not (
            (line is None or type(line) is int)
            and (cell is None or type(cell) is int)
            and type(message) is str
        ):
            raise ValueError("not a failure")
        problems.append(ParseFailure(path=path, line=line, cell=cell, message=message))
    return decoded, problems


# -- scanning files --------------------------------------------------------------------------


def _scan(request: _Request) -> _Scanned:
    """Read one file and index it, unless its content is the cached one. Runs in workers, so it
    takes and returns plain data."""
    path, kind, module, package, known = request
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            source = handle.read()
    except OSError as error:
        return None, "", "", (), ((None, None, f"cannot be read: {error.strerror}"),)
    racy = time.time_ns() - stat.st_mtime_ns < RACY_NS
    key = None if racy else (stat.st_size, stat.st_mtime_ns)
    digest = hashlib.sha256(source).hexdigest()
    if digest == known:
        return key, digest
    if kind == "py":
        sites, failures = _scan_python(source, module, package)
    else:
        sites, failures = _scan_notebook(source)
    return key, digest, f"{kind}:{module}:{package}", tuple(sites), tuple(failures)


def _scan_python(
    source: bytes, module: str | None, package: str | None
) -> tuple[list[RawSite], list[RawFailure]]:
    try:
        # bytes, so that a PEP 263 coding line and a byte-order mark are honoured
        tree = parse_imports_part(source)
    except PARSE_ERRORS as error:
        return [], [_failure(error, None)]
    visitor = _Visitor(module, package, None, _import_lines(source), _has_dynamic(source))
    visitor.body(tree.body, 0)
    return visitor.sites, []


def _failure(error: Exception, cell: int | None) -> RawFailure:
    if isinstance(error, SyntaxError):
        return error.lineno, cell, error.msg
    return None, cell, str(error) or type(error).__name__


def _import_lines(source: bytes) -> list[int]:
    """The lines where `import` is written (in code, comments or strings alike): a statement
    whose lines contain none holds no import, so its body need not be visited."""
    if b"\r" in source:
        source = source.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines: list[int] = []
    line, last = 1, 0
    position = source.find(b"import")
    while position != -1:
        line += source.count(b"\n", last, position)
        last = position
        if not lines or lines[-1] != line:
            lines.append(line)
        position = source.find(b"import", position + 6)
    return lines


def _has_dynamic(source: bytes) -> bool:
    return b"import_module" in source or b"__import__" in source


# -- notebooks -------------------------------------------------------------------------------


def _scan_notebook(source: bytes) -> tuple[list[RawSite], list[RawFailure]]:
    # imported here: most projects have no notebook, and a cold run waits for its imports
    from pavedroad.notebooks.reader import cell_text, python_of_cell

    try:
        notebook = json.loads(source)
    except json.JSONDecodeError as error:
        return [], [(error.lineno, None, f"not valid JSON: {error.msg}")]
    except UnicodeDecodeError as error:
        return [], [(None, None, f"not UTF-8 text: {error.reason}")]
    except RecursionError:
        return [], [(None, None, "not valid JSON: nested too deeply to read")]
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return [], [(None, None, 'not an nbformat 4 notebook: no "cells" list')]
    sites: list[RawSite] = []
    failures: list[RawFailure] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        text = cell_text(cell.get("source", ""))
        if text is None:
            failures.append((None, index, "the cell's source is not text"))
            continue
        code = python_of_cell(text)
        if code is None:
            continue
        try:
            tree = ast.parse(code)
        except PARSE_ERRORS as error:
            failures.append(_failure(error, index))
            continue
        visitor = _Visitor(None, None, index, None, "import_module" in code or "__import__" in code)
        visitor.body(tree.body, 0)
        sites.extend(visitor.sites)
    return sites, failures


# -- the AST visitor -------------------------------------------------------------------------


class _Visitor:
    """Collects raw sites from statement bodies, carrying the guards they sit under; bodies
    without the word `import` on any of their lines are skipped."""

    def __init__(
        self,
        module: str | None,
        package: str | None,
        cell: int | None,
        import_lines: list[int] | None,
        dynamic: bool,
    ) -> None:
        self.module = module
        self.package = package
        self.cell = cell
        self.lines = import_lines
        self.dynamic = dynamic
        self.sites: list[RawSite] = []

    def body(self, statements: list[ast.stmt], flags: int) -> None:
        for node in statements:
            if self._may_import(node):
                self.statement(node, flags)

    def _may_import(self, node: ast.stmt) -> bool:
        if self.lines is None:
            return True
        first = node.lineno
        decorators: list[ast.expr] = getattr(node, "decorator_list", [])
        if decorators:
            first = min(first, decorators[0].lineno)
        index = bisect_left(self.lines, first)
        return index < len(self.lines) and self.lines[index] <= (node.end_lineno or node.lineno)

    def statement(self, node: ast.stmt, flags: int) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._add(alias.name, alias.lineno, flags)
        elif isinstance(node, ast.ImportFrom):
            self._add_relative(node.module or "", node.level, self.package, node.lineno, flags)
        elif isinstance(node, ast.If):
            self._compound(node, flags)
        elif isinstance(node, _TRY_NODES):
            self._try(node, flags)
        elif isinstance(node, _FUNCTION_NODES):
            self.expressions([*node.decorator_list, node.args], flags)
            # the body runs when called, out of reach of the guards around the definition
            self.body(node.body, flags & TYPE_CHECKING_ONLY)
        elif isinstance(node, ast.ClassDef):
            self.expressions([*node.decorator_list, *node.bases, *node.keywords], flags)
            self.body(node.body, flags)
        elif isinstance(node, _WITH_NODES):
            items = [item.context_expr for item in node.items]
            self.expressions(items, flags)
            suppressed = any(_suppresses_import_error(item) for item in items)
            self.body(node.body, flags | OPTIONAL if suppressed else flags)
        elif isinstance(node, _LOOP_NODES):
            self.expressions([node.test] if isinstance(node, ast.While) else [node.iter], flags)
            self.body(node.body, flags)
            self.body(node.orelse, flags)
        elif isinstance(node, ast.Match):
            self.expressions([node.subject], flags)
            for case in node.cases:
                self.expressions([case.guard] if case.guard else [], flags)
                self.body(case.body, flags)
        else:
            self.expressions([node], flags)

    def _compound(self, node: ast.If, flags: int) -> None:
        self.expressions([node.test], flags)
        guard = _type_checking_guard(node.test)
        self.body(node.body, flags | TYPE_CHECKING_ONLY if guard is True else flags)
        self.body(node.orelse, flags | TYPE_CHECKING_ONLY if guard is False else flags)

    def _try(self, node: ast.stmt, flags: int) -> None:
        handlers: list[ast.ExceptHandler] = getattr(node, "handlers", [])
        guarded = any(_catches_import_error(handler.type) for handler in handlers)
        self.body(getattr(node, "body", []), flags | OPTIONAL if guarded else flags)
        for handler in handlers:
            self.expressions([handler.type] if handler.type else [], flags)
            self.body(handler.body, flags)
        self.body(getattr(node, "orelse", []), flags)
        self.body(getattr(node, "finalbody", []), flags)

    def expressions(self, nodes: Sequence[ast.AST], flags: int) -> None:
        """`importlib.import_module("x")` and `__import__("x")` calls in these expressions."""
        if not self.dynamic:
            return
        for root in nodes:
            for node in ast.walk(root):
                if isinstance(node, ast.Call):
                    self._dynamic_call(node, flags)

    def _dynamic_call(self, call: ast.Call, flags: int) -> None:
        function = _called_name(call.func)
        if function not in ("import_module", "__import__"):
            return
        name = _argument(call, 0, "name")
        if not isinstance(name, str):
            return
        if function == "__import__":
            level = _argument(call, 4, "level")
            if isinstance(level, int) and level > 0:
                self._add_relative(name, level, self.package, call.lineno, flags | DYNAMIC)
            else:
                self._add(name, call.lineno, flags | DYNAMIC)
            return
        level = len(name) - len(name.lstrip("."))
        if not level:
            self._add(name, call.lineno, flags | DYNAMIC)
            return
        anchor = _package_argument(call)
        if anchor == "__package__":
            anchor = self.package
        elif anchor == "__name__":
            anchor = self.module
        self._add_relative(name[level:], level, anchor, call.lineno, flags | DYNAMIC)

    def _add_relative(
        self, name: str, level: int, package: str | None, line: int, flags: int
    ) -> None:
        if not level:
            self._add(name, line, flags)
            return
        flags |= RELATIVE
        bits = package.rsplit(".", level - 1) if package else []
        if len(bits) < level:
            # no package to resolve against (a script, a notebook): keep it as written
            self.sites.append(("." * level + name, line, self.cell, flags))
            return
        self._add(f"{bits[0]}.{name}" if name else bits[0], line, flags)

    def _add(self, module: str, line: int, flags: int) -> None:
        if all(part.isidentifier() for part in module.split(".")):
            self.sites.append((module, line, self.cell, flags))


def _called_name(function: ast.expr) -> str | None:
    """`import_module` / `__import__`, called bare or through importlib / builtins."""
    if isinstance(function, ast.Name):
        return function.id
    if (
        isinstance(function, ast.Attribute)
        and isinstance(function.value, ast.Name)
        and function.value.id in ("importlib", "builtins")
    ):
        return function.attr
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> object:
    """The literal value of an argument, by position or keyword; None when not a literal."""
    node: ast.expr | None = call.args[position] if len(call.args) > position else None
    for candidate in call.keywords:
        if candidate.arg == keyword:
            node = candidate.value
    return node.value if isinstance(node, ast.Constant) else None


def _package_argument(call: ast.Call) -> str | None:
    """import_module's `package`: a literal, or `__package__` / `__name__` by name."""
    node: ast.expr | None = call.args[1] if len(call.args) > 1 else None
    for candidate in call.keywords:
        if candidate.arg == "package":
            node = candidate.value
    if isinstance(node, ast.Name) and node.id in ("__package__", "__name__"):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _catches_import_error(handler: ast.expr | None) -> bool:
    """A bare `except:`, or one whose types include ImportError or one of its bases."""
    if handler is None:
        return True
    if isinstance(handler, ast.Tuple):
        return any(_catches_import_error(element) for element in handler.elts)
    return _last_name(handler) in IMPORT_ERRORS


def _suppresses_import_error(expr: ast.expr) -> bool:
    """`contextlib.suppress(ImportError)`."""
    return (
        isinstance(expr, ast.Call)
        and _last_name(expr.func) == "suppress"
        and any(_catches_import_error(argument) for argument in expr.args)
    )


def _type_checking_guard(test: ast.expr) -> bool | None:
    """True for `if TYPE_CHECKING:` (any `x.TYPE_CHECKING`), False for `if not TYPE_CHECKING:`
    (its else is the type-checking branch), None for any other test."""
    if _last_name(test) == "TYPE_CHECKING":
        return True
    if (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and _last_name(test.operand) == "TYPE_CHECKING"
    ):
        return False
    return None
