"""The README is part of the interface: its tables, contract sample and reports must stay true.

Print the current tables with `python tests/test_readme.py` after adding or renaming a check or
a metric, and paste each over its old version; `python tests/test_readme.py --write` rewrites
the example reports the README shows in full.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pavedroad import engine
from pavedroad.contract import load_contract
from pavedroad.evaluation.metrics import METRICS
from pavedroad.registry import builtin_families

README = Path(__file__).parent.parent / "README.md"
# The reports the README shows whole, each under its `$ command` line in a console block.
SHOWN_REPORTS = (
    "paved check examples/churn-notebook --only MOD,OWN,CFG003,TST001",
    "paved check examples/churn-notebook",
)


def check_table() -> str:
    rows = ["| id | check | kind | enforced when |", "| --- | --- | --- | --- |"]
    for family in [*builtin_families(), engine.META]:
        rows.append(f"| **{family.code}** | **{family.name}**: {family.description} | | |")
        for check in family.checks:
            kind = "dynamic" if check.dynamic else "static"
            if check.requires:
                kind += "; requires " + ", ".join(check.requires)
            when = f"`[{check.section}]` present" if check.section else "always"
            rows.append(f"| {check.id} | {check.title} | {kind} | {when} |")
    return "\n".join(rows) + "\n"


def metric_table() -> str:
    rows = [
        "| metric | scikit-learn | judges | better | what |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, metric in METRICS.items():
        better = "higher" if metric.higher_is_better else "lower"
        rows.append(
            f"| `{name}` | `{metric.function}` | {metric.input} | {better} | {metric.description} |"
        )
    return "\n".join(rows) + "\n"


def shown_report(command: str) -> str:
    """What `command` prints today, at the README's width, without rich's trailing padding."""
    done = subprocess.run(
        [sys.executable, "-m", "pavedroad", *command.split()[1:]],
        cwd=README.parent,
        env={**os.environ, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        check=False,
    )
    return "".join(f"{line.rstrip()}\n" for line in done.stdout.rstrip().splitlines())


def readme_report(text: str, command: str) -> tuple[int, int]:
    """Where the report under `$ command` starts and ends in the README's text."""
    start = text.index(f"$ {command}\n") + len(f"$ {command}\n")
    return start, text.index("```", start)


def test_the_readme_shows_the_reports_the_examples_give() -> None:
    text = README.read_text(encoding="utf-8")
    for command in SHOWN_REPORTS:
        start, end = readme_report(text, command)
        assert text[start:end] == shown_report(command), (
            f"README's report of `{command}` is stale: `python tests/test_readme.py --write`"
        )


def test_the_readme_lists_every_metric() -> None:
    assert metric_table() in README.read_text(encoding="utf-8"), (
        "README's metric table is stale: regenerate it with `python tests/test_readme.py`"
    )


def test_the_readme_lists_every_check_as_registered() -> None:
    assert check_table() in README.read_text(encoding="utf-8"), (
        "README's check table is stale: regenerate it with `python tests/test_readme.py`"
    )


def test_the_readme_contract_sample_is_a_valid_contract(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The contract", 1)[1]
    sample = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert sample is not None
    path = tmp_path / "project" / "handoff.toml"
    path.parent.mkdir()
    path.write_text(sample.group(1), encoding="utf-8")
    base = tmp_path / "platform" / "base-handoff.toml"  # the sample extends an org-wide base
    base.parent.mkdir()
    base.write_text('[owners]\nrequired = ["on_call"]\n', encoding="utf-8")
    contract = load_contract(path).contract
    assert contract.model is not None and contract.model.sha256 is not None
    assert [w.check for w in contract.waivers] == ["MOD001"]
    assert contract.owners is not None
    assert set(contract.owners.required) == {"data_science", "engineering", "serving", "on_call"}


def test_the_readme_starts_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8").split("\n\n", 3)[1]
    assert "make demo" in head and "make test" in head


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        text = README.read_text(encoding="utf-8")
        for command in SHOWN_REPORTS:
            start, end = readme_report(text, command)
            text = text[:start] + shown_report(command) + text[end:]
        README.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(check_table() + "\n" + metric_table())
