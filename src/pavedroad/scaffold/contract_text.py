"""The starting handoff.toml `paved init` writes: what was found as keys, what only people can
say as `TODO(handoff)` comments.

Placeholders never take a value that would pass a check: an owner is "TODO", which OWN001
reports as a gap; a threshold, the model's `predict` and a schema nobody can be sure of are
left as commented-out keys, so the file loads as a contract and the check judges only what is
there. `todos` lists the markers, for the summary `paved init` prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from pavedroad.scaffold.findings import Findings, Role
from pavedroad.scaffold.infer_files import is_golden

MARKER = "TODO(handoff)"
OWNER_PLACEHOLDER = "TODO"  # a value OWN001 knows names nobody
ROLES = ("data_science", "engineering")
# The example thresholds shown in the comment, by kind of model people recognise.
EXAMPLE_METRICS = "{ roc_auc = { min = 0.8 } }  # or { rmse = { max = 10 } } for a regression"


def render(found: Findings) -> str:
    """The contract's text, section by section."""
    blocks = [
        _header(found),
        _contract(found),
        _owners(),
        _package(found),
        _dependencies(found),
        _model(found),
        _performance(found),
        _tests(found),
        _docs(found),
        _config(found),
        _notebooks(found),
    ]
    return "\n\n".join(block for block in blocks if block) + "\n"


def todos(text: str) -> list[tuple[int, str]]:
    """(line, what) for each `# TODO(handoff): what` comment of `text`."""
    return [
        (number, line.split(f"{MARKER}:", 1)[1].strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if f"# {MARKER}:" in line
    ]


def _string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)


def _array(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def _header(found: Findings) -> str:
    return "\n".join(
        [
            f"# The handoff contract of {found.name}, started by `paved init` from what the project",
            f"# holds. `{MARKER}` marks what only people can say: fill it in together, data",
            "# science and engineering, and run `paved check` until it says READY. `paved explain",
            "# ID` says what a check wants; `paved schema` lists every key.",
        ]
    )


def _contract(found: Findings) -> str:
    return f"[contract]\nversion = 1\nname = {_string(found.name)}"


def _owners() -> str:
    lines = [
        "[owners]",
        f"# {MARKER}: who answers for each role: a person, an @org/team or an address",
        "# (roles: data_science, engineering, serving, monitoring, retraining, drift, on_call)",
    ]
    lines += [f"{role} = {_string(OWNER_PLACEHOLDER)}" for role in ROLES]
    return "\n".join(lines)


def _package(found: Findings) -> str:
    if found.package is None:
        return ""
    lines = ["[package]", f"name = {_string(found.package)}"]
    if found.other_packages:
        lines[-1] += f"  # also found: {', '.join(found.other_packages)}"
    if found.entry_points:
        lines.append(f"entry_points = {_array(found.entry_points)}")
    return "\n".join(lines)


def _dependencies(found: Findings) -> str:
    deps = found.dependencies
    pinned = "pinned = true"
    if deps.sources:
        pinned += f"  # declared in {', '.join(deps.sources)}"
    lines = ["[dependencies]", pinned]
    if deps.lock:
        lines.append(f"lock = {_string(deps.lock)}")
    if deps.python:
        lines.append(f"python = {_string(deps.python)}")
    else:
        lines.append(f"# {MARKER}: the Python versions it supports")
        lines.append('# python = ">=3.11"')
    return "\n".join(lines)


def _model(found: Findings) -> str:
    lines = ["[model]"]
    if found.artifact is not None:
        artifact = found.artifact
        also = f"  # also found: {', '.join(artifact.others)}" if artifact.others else ""
        lines.append(f"artifact = {_string(artifact.path)}{also}")
        lines.append(f"# {MARKER}: keep this sha256 only if {artifact.path} is the validated model")
        lines.append(f"sha256 = {_string(artifact.sha256)}")
    predict = found.predict_candidates
    hint = f" (candidates: {', '.join(predict)})" if predict else ""
    lines.append(f"# {MARKER}: the function that predicts a batch of inputs{hint}")
    lines.append(f"# predict = {_string(predict[0] if predict else 'package.module:predict')}")
    roles: tuple[tuple[Role, str], ...] = (("input", "input_schema"), ("output", "output_schema"))
    for role, key in roles:
        chosen = found.schema(role)
        if chosen is not None:
            lines.append(f"{key} = {_string(chosen.reference)}  # {chosen.why}")
            continue
        others = [s.reference for s in found.schemas]
        hint = f" (Pydantic models found: {', '.join(others)})" if others else ""
        lines.append(f"# {MARKER}: the Pydantic model of one {role}{hint}")
        lines.append(f'# {key} = "package.module:Class"')
    for app in found.apps:
        lines.append(
            f"# {app.path} is a {app.framework} app: once `predict` is set, `paved serve` "
            "serves the model"
        )
        lines.append("# with request validation, logs and metrics.")
    return "\n".join(lines)


def _performance(found: Findings) -> str:
    if not found.datasets or not is_golden(found.datasets[0]):
        # A table whose name does not say it is held out is data, not a golden dataset.
        seen = f" (tables found: {', '.join(found.datasets[:5])})" if found.datasets else ""
        return "\n".join(
            [
                f"# {MARKER}: the golden dataset, its target, and the thresholds to meet{seen}",
                "# [performance]",
                '# dataset = "data/golden.csv"',
                '# target = "..."',
                f"# metrics = {EXAMPLE_METRICS}",
            ]
        )
    dataset, *others = found.datasets
    also = f"  # also found: {', '.join(others[:5])}" if others else ""
    return "\n".join(
        [
            "[performance]",
            f"dataset = {_string(dataset)}{also}",
            f"# {MARKER}: the golden dataset's target, and the thresholds the model must meet",
            '# target = "..."',
            f"# metrics = {EXAMPLE_METRICS}",
        ]
    )


def _tests(found: Findings) -> str:
    lines = ["[tests]", 'command = "pytest -q"']
    if not found.tests:
        lines[-1] += "  # there are no tests yet (TST001)"
    core = [m for m in found.modules if re.search(r"model|feature|predict|pipeline", m)]
    core = core or list(found.modules[:2]) or ["src/package/model.py"]
    lines.append(f"# {MARKER}: the coverage both sides require, and the files it must reach")
    lines.append("# coverage_min = 80")
    lines.append(f"# core_paths = {_array(core)}")
    return "\n".join(lines)


def _docs(found: Findings) -> str:
    return "\n".join(
        [
            "[docs]",
            f"resources = {_string(found.docs.resources)}",
            f"failure_modes = {_string(found.docs.failure_modes)}",
        ]
    )


def _config(found: Findings) -> str:
    if not found.env:
        return "[config]\nenv = []  # the code reads no environment variable"
    lines = ["[config]", "env = ["]
    lines += [f"  {_string(name)},  # read at {where}" for name, where in found.env.items()]
    lines.append("]")
    return "\n".join(lines)


def _notebooks(found: Findings) -> str:
    if not found.notebooks:
        return ""
    return f"[notebooks]\npaths = {_array(found.notebooks)}"
