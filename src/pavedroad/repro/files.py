"""Which files enter the clean room, and their hashes.

The room holds what a fresh clone would hold: the files git tracks (their working-tree content,
so an uncommitted edit is what gets proven, and the attestation's commit says `-dirty`). Outside
git, every file but the ignored ones: the root .gitignore's patterns, tool caches, build output
and virtual environments. The same listing fingerprints the tree (path -> sha256, `.paved/`
left out: it holds the attestation itself and the evaluation history), so a later `paved check`
can say which file changed since the run.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pavedroad.fileio import sha256_of
from pavedroad.git import git_output

TOOL_STATE = ".paved"  # pavedroad's own state in a project: never part of what is proven
# Outside git, what no project means to hand over: caches, build output, tool state.
BUILTIN_IGNORED = (
    ".git/",
    ".hg/",
    ".svn/",
    "__pycache__/",
    "*.py[cod]",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".tox/",
    ".nox/",
    ".ipynb_checkpoints/",
    "*.egg-info/",
    "build/",
    "dist/",
    ".coverage",
    ".coverage.*",
    "htmlcov/",
    f"{TOOL_STATE}/",
    ".DS_Store",
)


@dataclass(frozen=True)
class Rule:
    """One ignore pattern, and where it is written (for the message that names it)."""

    pattern: str
    where: str  # ".gitignore:3", or "built in"
    negated: bool = False
    directory_only: bool = False
    anchored: bool = False

    def matches(self, relative: str, is_dir: bool) -> bool:
        if self.directory_only and not is_dir:
            return False
        if self.anchored:
            return fnmatch.fnmatchcase(relative, self.pattern)
        return fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], self.pattern)


@dataclass(frozen=True)
class IgnoreRules:
    """The root .gitignore's patterns, as git reads them (no nested .gitignore files, no `**`
    beyond what fnmatch's `*` gives), after the built-in ones: a later rule wins."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def of_builtins(cls) -> IgnoreRules:
        """Caches, build output and tool state: what no project means to hand over."""
        return cls(tuple(_rule(pattern, "built in") for pattern in BUILTIN_IGNORED))

    @classmethod
    def of(cls, root: Path) -> IgnoreRules:
        rules = list(cls.of_builtins().rules)
        gitignore = root / ".gitignore"
        try:
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        for number, line in enumerate(lines, start=1):
            text = line.rstrip()
            if text and not text.startswith("#"):
                rules.append(_rule(text, f".gitignore:{number}"))
        return cls(tuple(rules))

    def why(self, relative: str, is_dir: bool = False) -> Rule | None:
        """The rule that ignores `relative` (or one of its folders), None when it is kept."""
        parts = relative.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            found = self._last_match(prefix, is_dir or depth < len(parts))
            if found is not None and not found.negated:
                return found
        return None

    def _last_match(self, relative: str, is_dir: bool) -> Rule | None:
        last = None
        for rule in self.rules:
            if rule.matches(relative, is_dir):
                last = rule
        return last


def _rule(text: str, where: str) -> Rule:
    negated = text.startswith("!")
    pattern = text[1:] if negated else text
    directory_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    return Rule(
        pattern=pattern.lstrip("/"),
        where=where,
        negated=negated,
        directory_only=directory_only,
        anchored=anchored,
    )


@dataclass(frozen=True)
class Listing:
    """The files of a project that a clone would hold, relative, with forward slashes."""

    root: Path
    files: tuple[str, ...]
    in_git: bool
    ignore: IgnoreRules = field(default_factory=IgnoreRules)

    def absent_reason(self, relative: str) -> str:
        """Why a file of the author's tree is not in the room: ignored (by which rule), or never
        committed."""
        if self.in_git:
            rule = _git_ignore_rule(self.root, relative)
            return f"ignored by {rule}" if rule else "untracked: never committed"
        found = self.ignore.why(relative)
        if found is None:
            return "not in the copied files"
        return f"ignored by {found.where} (`{found.pattern}`)"


def listing(root: Path) -> Listing:
    """The files git tracks under `root`, or, outside git, the files no ignore rule drops."""
    tracked = _git_files(root)
    if tracked is not None:
        existing = tuple(p for p in tracked if (root / p).is_file() or (root / p).is_symlink())
        return Listing(root=root, files=existing, in_git=True)
    rules = IgnoreRules.of(root)
    return Listing(root=root, files=tuple(_walk(root, rules)), in_git=False, ignore=rules)


def _git_files(root: Path) -> list[str] | None:
    """`git ls-files` under `root`, or None when it is not inside a git work tree."""
    inside = git_output(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != "true":
        return None
    found = git_output(root, "ls-files", "-z", "--cached")
    if found is None:
        return None
    return sorted({name for name in found.split("\0") if name})


def _git_ignore_rule(root: Path, relative: str) -> str | None:
    """`.gitignore:3 (data/)` when git ignores the path, None when it is only untracked."""
    found = git_output(root, "check-ignore", "-v", "--no-index", "--", relative)
    line = found.strip() if found is not None else ""
    if not line:
        return None
    source, _, _ = line.partition("\t")  # "<file>:<line>:<pattern>\t<path>"
    file, _, rest = source.partition(":")
    number, _, pattern = rest.partition(":")
    return f"{file}:{number} (`{pattern}`)"


def _walk(root: Path, rules: IgnoreRules) -> list[str]:
    found: list[str] = []
    for directory, subdirs, files in os.walk(root):
        base = Path(directory)
        relative_dir = base.relative_to(root).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        kept = []
        for name in sorted(subdirs):
            path = base / name
            if (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir():
                continue  # a virtual environment: installed packages, never the project
            if rules.why(prefix + name, is_dir=True) is None:
                kept.append(name)
        subdirs[:] = kept
        found.extend(prefix + name for name in sorted(files) if rules.why(prefix + name) is None)
    return found


def copy_into(listing: Listing, destination: Path) -> int:
    """Copy the listed files into `destination`, keeping folders and permissions. A symlink is
    kept when it points inside the project; one that points outside is copied as the file it
    names, so the room never reaches back into the author's tree. Returns the count copied."""
    root = listing.root.resolve()
    copied = 0
    made: set[Path] = set()
    for relative in listing.files:
        source = listing.root / relative
        target = destination / relative
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if source.is_symlink():
            resolved = source.resolve()
            if resolved.is_relative_to(root):
                target.symlink_to(source.readlink())
                copied += 1
                continue
            if not resolved.is_file():
                continue  # a link to a folder or to nothing: not a file a clone would hold
        shutil.copy2(source, target)
        copied += 1
    return copied


def fingerprint(listing: Listing) -> dict[str, str]:
    """path -> sha256 of every listed file but pavedroad's own state."""
    return {
        relative: sha256_of(listing.root / relative)
        for relative in listing.files
        if not relative.startswith(f"{TOOL_STATE}/") and (listing.root / relative).is_file()
    }


def changes(listing: Listing, recorded: dict[str, str]) -> list[str]:
    """What differs between the tree now and a recorded fingerprint: `changed: x`, `removed: x`,
    `added: x`, in path order. Empty when the tree is the one recorded."""
    now = {p for p in listing.files if not p.startswith(f"{TOOL_STATE}/")}
    found: list[str] = []
    for relative in sorted(now | recorded.keys()):
        path = listing.root / relative
        if relative not in recorded:
            found.append(f"added: {relative}")
        elif not path.is_file():
            found.append(f"removed: {relative}")
        elif sha256_of(path) != recorded[relative]:
            found.append(f"changed: {relative}")
    return found
