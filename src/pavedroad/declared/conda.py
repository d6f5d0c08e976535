"""environment.yml: conda's `dependencies` and their `pip:` subsection.

The file is parsed with PyYAML; this module is imported only when an environment file exists,
so a project without one never loads yaml. The node tree
(`yaml.compose`) keeps the line of every entry. Conda match specs are read with conda's own
semantics: `numpy=1.26` is the fuzzy `1.26.*`, `numpy==1.26` and `numpy=1.26.4=py311_0`
(version and build) are exact, `conda-forge::numpy` names a channel. Conda names are declared
as written, canonicalised; mapping them to PyPI names is the resolver's business.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from pavedroad.declared.model import RUNTIME, Declared, Found, dev_word, from_requirement

# Conda names that are not packages the code uses: the interpreter, and the installer that the
# pip subsection needs.
_NOT_DEPENDENCIES = frozenset({"python", "pip"})
_MATCH_SPEC = re.compile(
    r"^(?:(?P<channel>[^\s:]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*"
    r"(?:\[(?P<bracket>[^\]]*)\])?\s*(?P<rest>.*)$"
)
_BRACKET_VERSION = re.compile(r"""version\s*=\s*['"]?([^'",]+(?:,[^'",]+)*)['"]?""")


def conda_version(rest: str) -> tuple[str, bool]:
    """(PEP 440 specifier or "", exact) of the version part of a conda match spec: `=1.26`
    (fuzzy), `=1.26.4=py311_0` (exact with a build), `==1.5.2`, `1.11.1 py36_0`, `>=3.8,<4`."""
    rest = rest.strip()
    if rest.startswith("=") and not rest.startswith("=="):
        version, _, build = rest[1:].partition("=")
        fuzzy = not build.strip()  # with a build string the version is exact
    else:
        version, fuzzy = rest.partition(" ")[0], False
    version = version.strip()
    if not version or version == "*" or "|" in version:  # PEP 440 has no "or"
        return "", False
    if fuzzy and not version.endswith("*"):
        version += ".*"
    parts = [("==" + p) if p[:1].isdigit() else p for p in version.replace(" ", "").split(",")]
    text = ",".join(parts).replace(".*", "*").replace("*", ".*")  # conda writes 1.8* and 1.8.*
    exact = len(parts) == 1 and text.startswith("==") and "*" not in text
    try:
        return str(SpecifierSet(text)), exact
    except InvalidSpecifier:
        return "", exact  # a conda-only version (1.1.1w): exact or not, PEP 440 cannot say


def conda_declared(spec: str, path: Path, line: int, group: str) -> Declared | None:
    """The Declared of one conda match spec; None for python and pip. Raises ValueError."""
    match = _MATCH_SPEC.match(spec.strip())
    if match is None:
        raise ValueError(f"not a conda package spec: {spec!r}")
    name = canonicalize_name(match.group("name"))
    if name in _NOT_DEPENDENCIES:
        return None
    rest = match.group("rest").strip()
    if match.group("bracket") and (version := _BRACKET_VERSION.search(match.group("bracket"))):
        rest = version.group(1)
    specifier, exact = conda_version(rest)
    return Declared(
        name=name,
        requirement=spec,
        specifier=specifier,
        pinned=exact,
        group=group,
        source=path,
        line=line,
        marker=None,
    )


def read_environment(path: Path, found: Found) -> None:
    try:
        document = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as error:
        found.problem(path, None, f"cannot read {path.name}: {error}")
        return
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        found.problem(
            path, mark.line + 1 if mark else None, f"{path.name} is not valid YAML: {problem}"
        )
        return
    found.source(path)
    dependencies = _value(document, "dependencies")
    if dependencies is None:
        return
    word = dev_word(path.name.split(".")[0])
    group = f"dev:{word}" if word else RUNTIME
    if not isinstance(dependencies, yaml.SequenceNode):
        found.problem(path, _line(dependencies), "`dependencies` must be a list")
        return
    for node in dependencies.value:
        _dependency(found, path, node, group)


def _dependency(found: Found, path: Path, node: yaml.Node, group: str) -> None:
    if isinstance(node, yaml.ScalarNode):
        try:
            declared = conda_declared(str(node.value), path, _line(node), group)
        except ValueError as error:
            found.problem(path, _line(node), str(error))
            return
        if declared is not None:
            found.dependencies.append(declared)
        return
    pip = _value(node, "pip")
    if not isinstance(pip, yaml.SequenceNode):
        found.problem(path, _line(node), "an entry of `dependencies` must be a package or `pip:`")
        return
    for item in pip.value:
        _pip_requirement(found, path, item, group)


def _pip_requirement(found: Found, path: Path, node: yaml.Node, group: str) -> None:
    line = _line(node)
    text = str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
    if text.startswith("-"):
        return  # pip options (-r, -e, --index-url): the requirement files are read themselves
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        found.problem(path, line, f"invalid pip requirement {text!r}: {error}")
        return
    found.dependencies.append(
        from_requirement(requirement, written=text, group=group, source=path, line=line)
    )


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of `key` in a mapping node; None when absent or not a mapping."""
    if not isinstance(node, yaml.MappingNode):
        return None
    return next(
        (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None
    )


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
