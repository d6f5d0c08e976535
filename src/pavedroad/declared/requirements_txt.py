"""requirements*.txt: pip's file format, read the way pip reads it.

Line continuations are joined and comments dropped as pip does, `-r` includes are followed
relative to the including file (each file read once, so a cycle ends), `-c` constraints pin the
requirements of the files that name them, and `--hash` options are collected. pip itself has no
public API for this, and pip-requirements-parser vendors pip; the format is small and stable.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from pavedroad.declared.model import (
    RUNTIME,
    Declared,
    Found,
    Lock,
    choose_versions,
    dev_word,
    from_requirement,
    is_pinned,
)
from pavedroad.declared.tables import local_project_name

_COMMENT = re.compile(r"(^|\s+)#.*$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^file:")
_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9_.-]+)")
_OPTION = re.compile(r"^(-[rce]|--requirement|--constraint|--editable)(?:=|\s+|(?<=^-[rce]))(.+)$")
_LONG = {"--requirement": "-r", "--constraint": "-c", "--editable": "-e"}
# Byte-order marks, longest first: UTF-32 LE starts with the UTF-16 LE mark.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Entry:
    """One requirement line: the Declared it makes, its exact pin, and whether it has hashes."""

    declared: Declared
    version: str | None  # the version of an `==` pin, for locks and constraints
    hashed: bool


@dataclass
class RequirementsFile:
    path: Path
    entries: list[Entry] = field(default_factory=list)
    includes: list[Path] = field(default_factory=list)
    constraints: list[Path] = field(default_factory=list)

    @property
    def lock_like(self) -> bool:
        """Every requirement `==`-pinned and hashed: what pip-compile --generate-hashes and
        `uv pip compile --generate-hashes` write."""
        return bool(self.entries) and all(e.version and e.hashed for e in self.entries)


def decode(data: bytes) -> str:
    """Text by byte-order mark (UTF-8, UTF-16, UTF-32 as Windows tools write them), else UTF-8.
    Raises UnicodeDecodeError."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    return data.decode("utf-8")


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line, text) per logical line: continuations joined, comments dropped,
    as pip's req_file.preprocess does."""
    pending: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if _COMMENT.match(line):
            line = " " + line  # so that a comment ending a continuation is still dropped
        elif line.endswith("\\"):
            if not pending:
                first = number
            pending.append(line[:-1])
            continue
        if pending:
            pending.append(line)
            number, line = first, "".join(pending)
            pending = []
        stripped = _COMMENT.sub("", line).strip()
        if stripped:
            yield number, stripped
    if pending:
        stripped = _COMMENT.sub("", "".join(pending)).strip()
        if stripped:
            yield first, stripped


def _split_options(line: str) -> tuple[str, list[str]]:
    """The requirement and the options after it, as pip's break_args_options splits them."""
    tokens = line.split()
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), tokens[i:]
    return line, []


def _hashes(options: list[str]) -> bool:
    return any(o == "--hash" or o.startswith("--hash=") for o in options)


class Reader:
    """Reads requirement files into RequirementsFile records, each file once."""

    def __init__(self, root: Path, found: Found) -> None:
        self.root = root
        self.found = found
        self.files: dict[str, RequirementsFile | None] = {}

    def read(self, path: Path) -> RequirementsFile | None:
        """The parsed file, or None when it cannot be read (a problem is recorded once)."""
        key = os.path.realpath(path)
        if key not in self.files:
            self.files[key] = None  # reserved first: an include cycle ends here
            self.files[key] = self._parse(path)
        return self.files[key]

    def _parse(self, path: Path) -> RequirementsFile | None:
        try:
            data = path.read_bytes()
        except OSError as error:
            self.found.problem(path, None, f"cannot read {path.name}: {error.strerror or error}")
            return None
        try:
            text = decode(data)
        except UnicodeDecodeError as error:
            self.found.problem(
                path,
                data[: error.start].count(b"\n") + 1,
                f"{path.name} is not UTF-8 text (byte {error.start}); save it as UTF-8, or "
                "UTF-16 with a byte-order mark",
            )
            return None
        self.found.source(path)
        record = RequirementsFile(path)
        for number, line in logical_lines(text):
            self._line(record, number, line)
        return record

    def _line(self, record: RequirementsFile, number: int, line: str) -> None:
        if match := _OPTION.match(line):
            option = _LONG.get(match.group(1), match.group(1))
            value = match.group(2).strip()
            if option == "-e":
                self._requirement(record, number, value, editable=True)
            else:
                self._include(record, number, option, value)
        elif not line.startswith("-"):  # other options (--index-url, ...) declare nothing
            self._requirement(record, number, line, editable=False)

    def _include(self, record: RequirementsFile, number: int, option: str, value: str) -> None:
        if _URL.match(value):
            self.found.problem(
                record.path, number, f"{option} {value}: a remote file is not read; vendor it"
            )
            return
        target = Path(os.path.normpath(record.path.parent / value))
        if not target.is_file():
            self.found.problem(record.path, number, f"{option} {value}: no such file")
            return
        (record.includes if option == "-r" else record.constraints).append(target)
        self.read(target)

    def _requirement(
        self, record: RequirementsFile, number: int, line: str, *, editable: bool
    ) -> None:
        text, options = _split_options(line)
        hashed = _hashes(options)
        if not text:
            self.found.problem(record.path, number, f"no requirement before the options: {line}")
            return
        if editable or _URL.match(text) or _looks_like_path(text):
            self._direct(record, number, text, hashed=hashed, editable=editable)
            return
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            self.found.problem(record.path, number, f"invalid requirement {text!r}: {error}")
            return
        exact = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
        declared = from_requirement(
            requirement, written=text, group=RUNTIME, source=record.path, line=number, hashed=hashed
        )
        record.entries.append(Entry(declared, _exact(exact), hashed))

    def _direct(
        self, record: RequirementsFile, number: int, text: str, *, hashed: bool, editable: bool
    ) -> None:
        """A URL or a path (after `-e` or bare): the name comes from `#egg=`, a wheel or sdist
        file name, or the local project's metadata."""
        location, _, marker = text.partition("; ")
        location = location.strip()
        name = _name_of(location, record.path.parent)
        if name is None:
            if _is_project_root(location, record.path.parent, self.root):
                return  # `-e .`: the project itself, whose own dependencies are read elsewhere
            self.found.problem(
                record.path,
                number,
                f"cannot tell which package {location} installs; write it as `name @ {location}` "
                "or add `#egg=name`",
            )
            return
        declared = Declared(
            name=canonicalize_name(name),
            requirement=f"-e {text}" if editable else text,
            specifier="",
            pinned=is_pinned(SpecifierSet(), location, hashed=hashed),
            group=RUNTIME,
            source=record.path,
            line=number,
            marker=marker.strip() or None,
        )
        record.entries.append(Entry(declared, None, hashed))


def _exact(versions: list[str]) -> str | None:
    return next((v for v in versions if not v.endswith(".*")), None)


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "/", "~")) or text.endswith(_ARCHIVE) or "\\" in text


def _name_of(location: str, base: Path) -> str | None:
    if egg := _EGG.search(location):
        return egg.group(1)
    filename = location.split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        return parse_wheel_filename(filename)[0]
    except InvalidWheelFilename:
        pass
    try:
        return parse_sdist_filename(filename)[0]
    except InvalidSdistFilename:
        pass
    if _URL.match(location) and not location.startswith("file:"):
        return None
    path = Path(location.removeprefix("file://").removeprefix("file:"))
    return local_project_name(path if path.is_absolute() else base / path)


def _is_project_root(location: str, base: Path, root: Path) -> bool:
    path = Path(location.removeprefix("file://").removeprefix("file:").split("[")[0])
    return os.path.realpath(path if path.is_absolute() else base / path) == os.path.realpath(root)


# -- finding the files and grouping them -----------------------------------------------------


def candidates(root: Path) -> list[Path]:
    """requirements*.txt and *requirements*.txt at the root, every .txt in requirements/."""
    found = set(root.glob("*requirements*.txt"))
    folder = root / "requirements"
    if folder.is_dir():
        found.update(folder.glob("*.txt"))
    return sorted(p for p in found if not p.name.startswith("."))


def group_of(path: Path) -> str | None:
    """`dev:<word>` when the file name says it is for development, else None (undecided)."""
    stem = path.name.removesuffix(".txt").removesuffix(".in")
    word = dev_word(stem)
    return f"dev:{word}" if word else None


def assign_groups(reader: Reader, roots: list[Path]) -> dict[str, str]:
    """realpath -> group. A file's own name decides when it names a dev word; otherwise a file
    is runtime when a runtime file includes it (or it is a root), else it takes its includer's
    dev group. Runtime wins, so a base file included by both is runtime."""
    groups: dict[str, str] = {}

    def visit(path: Path, carried: str) -> None:
        key = os.path.realpath(path)
        group = group_of(path) or carried
        if key in groups and (groups[key] == RUNTIME or group != RUNTIME):
            return
        groups[key] = group
        record = reader.files.get(key)
        for include in record.includes if record else ():
            visit(include, group)

    for root in sorted(roots, key=lambda p: group_of(p) is not None):
        visit(root, group_of(root) or RUNTIME)
    return groups


def _closure(reader: Reader, path: Path) -> set[str]:
    """`path` and every file it includes, directly or not, as realpaths."""
    seen: set[str] = set()
    stack = [path]
    while stack:
        key = os.path.realpath(stack.pop())
        if key not in seen:
            seen.add(key)
            record = reader.files.get(key)
            stack.extend(record.includes if record else ())
    return seen


def constraint_pins(reader: Reader, path: Path) -> set[str]:
    """Names pinned exactly by the constraint files that apply when `path` is installed: pip
    applies a `-c` to the whole install, so those named in it or in any file it includes."""
    pins: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    stack: list[tuple[Path, bool]] = [(path, False)]
    while stack:
        current, constraining = stack.pop()
        key = os.path.realpath(current)
        if (key, constraining) in seen:
            continue
        seen.add((key, constraining))
        record = reader.files.get(key)
        if record is None:
            continue
        if constraining:
            pins.update(e.declared.name for e in record.entries if e.version)
        stack.extend((p, constraining) for p in record.includes)
        stack.extend((p, True) for p in record.constraints)
    return pins


# -- the reader's entry point ----------------------------------------------------------------


def _lock(record: RequirementsFile) -> Lock:
    entries = [
        (e.declared.name, e.version, [e.declared.marker] if e.declared.marker else [])
        for e in record.entries
        if e.version is not None
    ]
    hashed = all(e.hashed for e in record.entries)
    return Lock(
        path=record.path, kind="requirements", packages=choose_versions(entries), hashed=hashed
    )


def _contract_lock(reader: Reader, path: Path, found: Found) -> Lock | None:
    """The contract's `[dependencies].lock` when it is a requirements file: a lock when every
    requirement is `==`-pinned, hashed or not; a problem naming the first that is not."""
    record = reader.read(path)
    if record is None:
        return None
    loose = next((e for e in record.entries if not e.version), None)
    if loose is not None:
        found.problem(
            path,
            loose.declared.line,
            f"{path.name} is the contract's lock, but {loose.declared.requirement} is not "
            "pinned with ==",
        )
        return None
    return _lock(record) if record.entries else None


def read_requirements(root: Path, lock: Path | None, found: Found) -> None:
    """Every requirements file, its includes and constraints; `lock` is the contract's lock
    when it is a requirements file."""
    reader = Reader(root, found)
    roots: list[Path] = []
    locks: dict[str, Lock | None] = {}
    for path in candidates(root):
        record = reader.read(path)
        if record is not None and record.lock_like:
            locks[os.path.realpath(path)] = _lock(record)
            source = path.with_suffix(".in")
            if source.is_file():  # pip-tools layout: the .in declares, the .txt locks
                path = source
                reader.read(source)
        roots.append(path)
    if lock is not None and os.path.realpath(lock) not in locks and lock.is_file():
        locks[os.path.realpath(lock)] = _contract_lock(reader, lock, found)
    found.locks.extend(item for item in locks.values() if item is not None)
    constraints = {os.path.realpath(c) for r in reader.files.values() if r for c in r.constraints}
    roots = [r for r in roots if os.path.realpath(r) not in constraints]
    # A requirement is pinned by constraints only when every install that reaches its file
    # (`pip install -r <root>`) applies one.
    pins: dict[str, set[str]] = {}
    for path in roots:
        applied = constraint_pins(reader, path)
        for key in _closure(reader, path):
            pins[key] = pins[key] & applied if key in pins else set(applied)
    for key, group in assign_groups(reader, roots).items():
        record = reader.files.get(key)
        if record is None:
            continue
        for entry in record.entries:
            declared = entry.declared
            pinned = declared.pinned or declared.name in pins[key]
            found.dependencies.append(replace(declared, group=group, pinned=pinned))
