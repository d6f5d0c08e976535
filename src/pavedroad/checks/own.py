"""OWN: someone named answers for each part of the model in production, and CODEOWNERS agrees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pavedroad.codeowners import CodeOwners, Rule, is_comparable, parse, same_owner
from pavedroad.contract import ROLES, Owners
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck

family = Family("OWN", "Ownership", "Who answers for the model in production, and CODEOWNERS.")

# Values people write while the owner is still undecided; they name nobody.
PLACEHOLDERS = frozenset(
    {
        "tbd",
        "tba",
        "todo",
        "fixme",
        "none",
        "null",
        "nobody",
        "n/a",
        "na",
        "unknown",
        "someone",
        "somebody",
        "anyone",
        "owner",
        "team",
        "changeme",
        "xxx",
        "later",
    }
)


def is_placeholder(value: str) -> bool:
    """Whether an owner value names nobody: empty, "TBD", "???", "-", "<your name>", ..."""
    text = value.strip().lower()
    return (
        not text
        or text in PLACEHOLDERS
        or re.fullmatch(r"[?\-_.*x]+", text) is not None
        or re.fullmatch(r"<[^>]*>", text) is not None
    )


def named_owners(owners: Owners, role: str) -> list[str]:
    """The real names given for `role`, placeholders left out."""
    return [owner for owner in owners.named(role) if not is_placeholder(owner)]


@family.check("OWN001", "Every required role has a named owner", section="owners")
def roles_named(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that each role in `[owners].required` (by default data_science and engineering,
    plus any role a base contract requires) is given a real name, address or handle.

    Why: When the model misbehaves at 3 a.m., the first question is who can answer for it. A role
    left out, or filled with "TBD", means the answer is found during the incident, and a model
    whose data scientist moved on and whose engineers never owned it is nobody's model.

    Example: `required = ["data_science", "engineering", "on_call"]` with `engineering = "TBD"` and
    no `on_call` key.

    Fix: Name a person, a team handle (`@org/team`) or a shared address for each required role
    under `[owners]`, agreed with whoever is named.
    """
    owners = project.contract.owners
    if owners is None:
        raise SkipCheck("no [owners] section")
    for role in owners.required:
        named = named_owners(owners, role)
        if named:
            yield Evidence(
                subject=role,
                message=f"{role}: {', '.join(named)}",
                location=project.contract_location("owners", role),
            )
            continue
        given = owners.named(role)
        if given:
            message = f"role {role} is required but only has a placeholder: {', '.join(given)}"
        else:
            message = f"role {role} is required but names no owner"
        yield Gap(
            subject=role,
            message=message,
            # the key's own line when it is written, else the [owners] table's
            location=project.contract_location("owners", role),
            fix=f'Set `{role} = "..."` under [owners] to the person, team handle or address '
            f"that answers for {role.replace('_', ' ')}.",
        )


@dataclass(frozen=True)
class _Coverage:
    """The CODEOWNERS rules that own the package's files, and the files no rule owns."""

    package: str
    by_rules: dict[tuple[Rule, ...], list[str]]

    @property
    def main_rule(self) -> Rule | None:
        """The rule that owns most of the package, to point at when a gap needs one line."""
        ranked = sorted(self.by_rules.items(), key=lambda item: -len(item[1]))
        return next((rules[-1] for rules, _ in ranked if rules), None)


@family.check("OWN002", "The contract's owners agree with CODEOWNERS", section="owners")
def codeowners_agree(project: Project) -> Iterator[Gap | Evidence]:
    """Checks, where the repository has a CODEOWNERS file, that every owner the contract names as a
    @handle, @org/team, email or bare team name appears in it, and that the CODEOWNERS rule that
    owns the package's source names at least one of the contract's owners.

    Why: CODEOWNERS decides who must review a change; the contract says who answers for the model.
    When they disagree, the people accountable for the model in production do not see the pull
    requests that change it, and reviews go to people who never signed the handoff.

    Example: `engineering = "@acme/ml-platform"` in the contract, while CODEOWNERS gives `/src/churn/`
    to `@acme/web` only.

    Fix: Add the contract's owners to the CODEOWNERS rule that covers the package (for example
    `/src/churn/ @acme/data-science @acme/ml-platform`), or correct `[owners]`.
    """
    owners = project.contract.owners
    if owners is None:
        raise SkipCheck("no [owners] section")
    path = project.codeowners
    if path is None:
        raise SkipCheck("no CODEOWNERS file")
    contract_owners = _contract_owners(owners)
    if not contract_owners:
        raise SkipCheck("the contract names no owners")
    codeowners = parse(project.text(path) or "")
    coverage = _coverage(project, codeowners)
    yield from _owner_findings(project, path, codeowners, contract_owners, coverage)
    if coverage is not None:
        yield from _package_findings(project, path, coverage, list(contract_owners))


def _contract_owners(owners: Owners) -> dict[str, list[str]]:
    """Each real owner the contract names, with the roles it holds, in contract order."""
    found: dict[str, list[str]] = {}
    for role in ROLES:
        for owner in named_owners(owners, role):
            found.setdefault(owner, []).append(role)
    return found


def _owner_findings(
    project: Project,
    path: Path,
    codeowners: CodeOwners,
    contract_owners: dict[str, list[str]],
    coverage: _Coverage | None,
) -> Iterator[Gap | Evidence]:
    rule = coverage.main_rule if coverage is not None else None
    shown = project.rel(path)
    for owner, roles in contract_owners.items():
        if not is_comparable(owner):
            continue  # a free-text name ("Alice Smith") cannot be spelt in CODEOWNERS
        found = _first_mention(codeowners, owner)
        if found is not None:
            yield _owner_evidence(project, path, owner, roles, *found)
            continue
        where = f" to the rule `{rule.pattern}` (line {rule.line})" if rule else ""
        yield Gap(
            subject=owner,
            message=f"{owner} ({', '.join(roles)}) is an owner in the contract but appears "
            f"nowhere in {shown}",
            location=project.location(path, rule.line if rule else None),
            fix=f"Add {_spelling(owner)}{where} in {shown}, or correct [owners] if {owner} no "
            "longer answers for the model.",
        )


def _first_mention(codeowners: CodeOwners, owner: str) -> tuple[Rule, str] | None:
    """The first rule that names contract `owner`, and how it spells the owner there."""
    for rule in codeowners.rules:
        for theirs in rule.owners:
            if same_owner(owner, theirs):
                return rule, theirs
    return None


def _owner_evidence(
    project: Project, path: Path, owner: str, roles: list[str], rule: Rule, theirs: str
) -> Evidence:
    location = project.location(path, rule.line)
    spelt = f" as {theirs}" if theirs != owner else ""
    return Evidence(
        subject=owner,
        message=f"{owner} ({', '.join(roles)}) is named{spelt} in {location}",
        location=location,
    )


def _spelling(owner: str) -> str:
    """How a contract owner is written in CODEOWNERS: a bare team name becomes a handle."""
    return owner if "@" in owner else f"@{owner} (or @your-org/{owner})"


def _coverage(project: Project, codeowners: CodeOwners) -> _Coverage | None:
    """Which rules own the files of `[package].name`; None when the package is unknown."""
    package = project.contract.package
    directory = project.package_dir(package.name) if package is not None else None
    if directory is None:
        return None
    by_rules: dict[tuple[Rule, ...], list[str]] = {}
    for path in _package_files(project, directory):
        relative = project.rel(path)
        by_rules.setdefault(codeowners.rules_for(relative), []).append(relative)
    return _Coverage(package=project.rel(directory), by_rules=by_rules)


def _package_files(project: Project, directory: Path) -> list[Path]:
    resolved = directory.resolve()
    return [p for p in project.source_files if p.resolve().is_relative_to(resolved)]


def _package_findings(
    project: Project, path: Path, coverage: _Coverage, contract_owners: list[str]
) -> Iterator[Gap | Evidence]:
    """A gap per group of files whose rules name no contract owner, else one row of evidence."""
    gaps = list(_package_gaps(project, path, coverage, contract_owners))
    yield from gaps
    if not gaps and coverage.by_rules:
        yield _package_evidence(project, path, coverage)


def _package_evidence(project: Project, path: Path, coverage: _Coverage) -> Evidence:
    rules = sorted({rule for group in coverage.by_rules for rule in group}, key=lambda r: r.line)
    where = f"{project.rel(path)}:{_spans([rule.line for rule in rules])}"
    if len(rules) == 1:
        message = f"`{rules[0].pattern}` ({where}) gives {coverage.package} to "
        message += ", ".join(rules[0].owners)
    else:
        files = sum(len(group) for group in coverage.by_rules.values())
        message = f"all {files} files of {coverage.package} have a contract owner ({where})"
    main = coverage.main_rule
    return Evidence(
        subject=coverage.package,
        message=message,
        location=project.location(path, main.line if main else None),
    )


def _spans(numbers: list[int]) -> str:
    """`[2, 3, 4, 7]` -> `2-4, 7`: the rule lines of a long CODEOWNERS file stay one short line."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _package_gaps(
    project: Project, path: Path, coverage: _Coverage, contract_owners: list[str]
) -> Iterator[Gap]:
    for rules, files in coverage.by_rules.items():
        rule_owners = {owner for rule in rules for owner in rule.owners}
        if any(same_owner(ours, theirs) for ours in contract_owners for theirs in rule_owners):
            continue
        example = f"{files[0]}" + (f" and {len(files) - 1} more" if len(files) > 1 else "")
        owners_text = ", ".join(contract_owners)
        if not rules:
            message = f"no CODEOWNERS rule covers the package {coverage.package} ({example})"
            fix = f"Add a rule such as `/{coverage.package}/ {_handles(contract_owners)}`."
        elif not rule_owners:
            rule = rules[-1]
            message = (
                f"the CODEOWNERS rule `{rule.pattern}` (line {rule.line}) leaves {example} of "
                f"{coverage.package} without owners"
            )
            fix = f"Give `{rule.pattern}` owners from the contract: {owners_text}."
        else:
            rule = rules[-1]
            message = (
                f"the CODEOWNERS rule `{rule.pattern}` (line {rule.line}) gives {example} of "
                f"{coverage.package} to {', '.join(sorted(rule_owners))}, none of whom is an "
                "owner in the contract"
            )
            fix = f"Add one of the contract's owners ({owners_text}) to `{rule.pattern}`."
        yield Gap(
            subject=coverage.package,
            message=message,
            location=project.location(path, rules[-1].line if rules else None),
            fix=fix,
        )


def _handles(owners: list[str]) -> str:
    return " ".join(o if "@" in o else f"@{o}" for o in owners if is_comparable(o)) or "@owner"
