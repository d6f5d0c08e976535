"""SCH: the model's input and output schemas are typed classes, found without importing them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import FIXTURES, results_of

from pavedroad.results import Location, Result, Status

Tree = Callable[[Mapping[str, str]], Path]
CONTRACT = '[model]\ninput_schema = "churn.schemas:Customer"\n'


def failures(results: list[Result]) -> dict[str | None, Result]:
    """The failing rows by subject; the other rows must be the evidence of passing schemas."""
    assert any(r.status is Status.FAIL for r in results), results
    assert all(r.status in (Status.FAIL, Status.PASS) for r in results), results
    return {r.subject: r for r in results if r.status is Status.FAIL}


def evidence(results: list[Result]) -> dict[str | None, tuple[str, str]]:
    """The passing rows by subject, as (message, location)."""
    return {r.subject: (r.message, str(r.location)) for r in results if r.status is Status.PASS}


def schema_project(tree: Tree, schemas: str, **modules: str) -> Path:
    files = {"handoff.toml": CONTRACT, "src/churn/__init__.py": "", "src/churn/schemas.py": schemas}
    files.update({f"src/churn/{name}.py": text for name, text in modules.items()})
    return tree(files)


# -- SCH001 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "input_kind", "input_line", "output_line"),
    [("pass", "a Pydantic model", 8, 15), ("pass-typeddict", "a TypedDict", 7, 13)],
)
def test_sch001_passes_for_base_models_dataclasses_and_typeddicts(
    fixture: str, input_kind: str, input_line: int, output_line: int
) -> None:
    """One row per schema, at its `class` line (below any decorator)."""
    results = results_of(FIXTURES / "sch001" / fixture, "SCH001")
    assert [r.status for r in results] == [Status.PASS, Status.PASS]
    assert evidence(results) == {
        "input_schema: churn.schemas:Customer": (
            f"input_schema: churn.schemas:Customer is {input_kind}",
            f"src/churn/schemas.py:{input_line}",
        ),
        "output_schema: churn.schemas:ChurnScore": (
            "output_schema: churn.schemas:ChurnScore is a dataclass",
            f"src/churn/schemas.py:{output_line}",
        ),
    }


@pytest.mark.parametrize(
    "schemas",
    [
        "import pydantic\n\nclass Customer(pydantic.BaseModel):\n    age: int\n",
        "from pydantic.main import BaseModel as B\n\nclass Customer(B):\n    age: int\n",
        "import dataclasses\n\n@dataclasses.dataclass()\nclass Customer:\n    age: int\n",
        "from pydantic.dataclasses import dataclass\n\n@dataclass(frozen=True)\nclass Customer:\n    age: int\n",
        "import typing\n\nclass Customer(typing.TypedDict):\n    age: int\n",
        "from .rows import Row as Customer\n",
    ],
)
def test_sch001_recognises_each_spelling(tree: Tree, schemas: str) -> None:
    rows = "from dataclasses import dataclass\n\n@dataclass\nclass Row:\n    age: int\n"
    root = schema_project(tree, schemas, rows=rows)
    assert [r.status for r in results_of(root, "SCH001")] == [Status.PASS]


def test_sch001_evidence_names_the_class_a_reexport_stands_for(tree: Tree) -> None:
    rows = "from dataclasses import dataclass\n\n@dataclass\nclass Row:\n    age: int\n"
    root = schema_project(tree, "from .rows import Row as Customer\n", rows=rows)
    assert evidence(results_of(root, "SCH001")) == {
        "input_schema: churn.schemas:Customer": (
            "input_schema: churn.schemas:Customer (churn.rows:Row) is a dataclass",
            "src/churn/rows.py:4",
        )
    }


def test_sch001_follows_base_classes_across_modules_transitively(tree: Tree) -> None:
    root = schema_project(
        tree,
        "from churn.keyed import Keyed\n\nclass Customer(Keyed):\n    age: int\n",
        keyed="from churn import base\n\nclass Keyed(base.Base):\n    id: str\n",
        base="from pydantic import BaseModel\n\nclass Base(BaseModel):\n    pass\n",
    )
    assert [r.status for r in results_of(root, "SCH001")] == [Status.PASS]


def test_sch001_a_plain_class_fails_at_its_definition() -> None:
    results = results_of(FIXTURES / "sch001" / "fail-plain-class", "SCH001")
    gap = failures(results)["input_schema: churn.schemas:Customer"]
    assert len(results) == 2
    assert evidence(results) == {  # the output schema is a BaseModel and passes
        "output_schema: churn.schemas:ChurnScore": (
            "output_schema: churn.schemas:ChurnScore is a Pydantic model",
            "src/churn/schemas.py:11",
        )
    }
    assert gap.message == (
        "input_schema: churn.schemas:Customer is a plain class (no base class), "
        "not a Pydantic model, dataclass or TypedDict"
    )
    assert gap.location == Location(path="src/churn/schemas.py", line=6)
    assert gap.fix is not None and "Derive Customer from pydantic.BaseModel" in gap.fix


def test_sch001_missing_module_and_missing_class_point_at_the_contract() -> None:
    gaps = failures(results_of(FIXTURES / "sch001" / "fail-missing", "SCH001"))
    module = gaps["input_schema: churn.inputs:Customer"]
    assert "module churn.inputs is not in the project" in module.message
    assert module.location == Location(path="handoff.toml", line=4)
    name = gaps["output_schema: churn.schemas:ChurnScore"]
    assert name.message == (
        "output_schema: `ChurnScore` is not defined at the top level of src/churn/schemas.py"
    )
    assert name.location == Location(path="handoff.toml", line=5)


def test_sch001_a_syntax_error_in_a_base_module_names_file_and_line() -> None:
    gaps = failures(results_of(FIXTURES / "sch001" / "fail-syntax-error", "SCH001"))
    gap = gaps["input_schema: churn.schemas:Customer"]
    assert gap.message.startswith("input_schema: src/churn/base.py:4 does not parse: ")
    assert gap.location == Location(path="src/churn/base.py", line=4)


@pytest.mark.parametrize(
    ("schemas", "message"),
    [
        ("def Customer(): ...\n", "is a function (src/churn/schemas.py:1), not a class"),
        (
            "from sklearn.base import Customer\n",
            "is sklearn.base.Customer, imported from outside the project",
        ),
        (
            "class Customer(Unknown):\n    age: int\n",
            "`Unknown` is not defined in src/churn/schemas.py",
        ),
        ("class Customer(dict):\n    age: int\n", "is a plain class (bases: dict)"),
    ],
)
def test_sch001_other_non_schemas_fail(tree: Tree, schemas: str, message: str) -> None:
    gaps = failures(results_of(schema_project(tree, schemas), "SCH001"))
    assert message in gaps["input_schema: churn.schemas:Customer"].message


def test_sch001_is_skipped_without_schemas(tree: Tree) -> None:
    root = tree({"handoff.toml": '[model]\nartifact = "m.bin"\n'})
    (result,) = results_of(root, "SCH001")
    assert result.status is Status.SKIP
    assert "no [model].input_schema or output_schema" in result.message


# -- SCH002 -----------------------------------------------------------------------------------


def test_sch002_passes_with_inherited_fields_classvars_private_attributes_and_properties() -> None:
    """The counts leave out the ClassVar, the private attribute, the property and the lambda."""
    results = results_of(FIXTURES / "sch002" / "pass", "SCH002")
    assert [r.status for r in results] == [Status.PASS, Status.PASS]
    assert evidence(results) == {
        "input_schema: churn.schemas:Customer": (
            "input_schema: churn.schemas:Customer has 3 fields (1 inherited), all annotated",
            "src/churn/schemas.py:12",
        ),
        "output_schema: churn.schemas:ChurnScore": (
            "output_schema: churn.schemas:ChurnScore (churn.scores:ChurnScore) has 2 fields, "
            "all annotated",
            "src/churn/scores.py:5",
        ),
    }


def test_sch002_a_single_field_is_counted_in_the_singular(tree: Tree) -> None:
    schemas = "from typing import TypedDict\n\nclass Customer(TypedDict):\n    age: int\n"
    assert evidence(results_of(schema_project(tree, schemas), "SCH002")) == {
        "input_schema: churn.schemas:Customer": (
            "input_schema: churn.schemas:Customer has 1 field, all annotated",
            "src/churn/schemas.py:3",
        )
    }


def test_sch002_a_schema_without_fields_fails_at_its_class() -> None:
    results = results_of(FIXTURES / "sch002" / "fail-no-fields", "SCH002")
    gap = failures(results)["output_schema: churn.schemas:ChurnScore"]
    assert len(results) == 2
    assert list(evidence(results)) == ["input_schema: churn.schemas:Customer"]
    assert gap.message == (
        "output_schema: churn.schemas:ChurnScore (a Pydantic model) declares no fields"
    )
    assert gap.location == Location(path="src/churn/schemas.py", line=10)


def test_sch002_one_gap_per_unannotated_field_with_its_line() -> None:
    results = results_of(FIXTURES / "sch002" / "fail-unannotated", "SCH002")
    gaps = failures(results)
    prefix = "input_schema: churn.schemas:Customer"
    assert list(evidence(results)) == ["output_schema: churn.schemas:ChurnScore"]  # not Customer
    assert set(gaps) == {f"{prefix}.segment", f"{prefix}.monthly_charges", f"{prefix}.customer_id"}
    segment = gaps[f"{prefix}.segment"]
    assert segment.message == (
        "input_schema: field `segment` of churn.schemas:Customer has no type annotation, "
        "so Pydantic refuses to build the model"
    )
    assert segment.location == Location(path="src/churn/schemas.py", line=10)
    assert gaps[f"{prefix}.monthly_charges"].location == Location(
        path="src/churn/schemas.py", line=11
    )
    inherited = gaps[f"{prefix}.customer_id"]
    assert "(inherited from churn.base:Keyed)" in inherited.message
    assert inherited.location == Location(path="src/churn/base.py", line=5)


def test_sch002_an_unannotated_dataclass_attribute_is_left_out(tree: Tree) -> None:
    schemas = (
        "from dataclasses import dataclass\nfrom typing import ClassVar\n\n@dataclass\n"
        "class Customer:\n    age: int\n    VERSION: 'ClassVar[str]' = '1'\n    plan = 'basic'\n"
    )
    gaps = failures(results_of(schema_project(tree, schemas), "SCH002"))
    gap = gaps["input_schema: churn.schemas:Customer.plan"]
    assert gap.message.endswith("so the dataclass leaves it out of its fields")
    assert gap.location == Location(path="src/churn/schemas.py", line=8)


def test_sch002_classvars_alone_are_no_fields(tree: Tree) -> None:
    schemas = (
        "from typing import ClassVar, TypedDict\n\n"
        "class Customer(TypedDict):\n    KIND: ClassVar[str]\n"
    )
    gaps = failures(results_of(schema_project(tree, schemas), "SCH002"))
    assert (
        "(a TypedDict) declares no fields" in gaps["input_schema: churn.schemas:Customer"].message
    )


def test_sch002_is_skipped_when_sch001_fails(tree: Tree) -> None:
    (result,) = results_of(schema_project(tree, "class Customer:\n    age = 3\n"), "SCH002")
    assert result.status is Status.SKIP
    assert result.message == "requires SCH001, which did not pass"
