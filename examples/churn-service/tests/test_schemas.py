from __future__ import annotations

import pytest
from pydantic import ValidationError

from churn.schemas import ChurnScore, Customer

EXAMPLE = Customer.model_json_schema()["examples"][0]


def test_the_documented_example_is_a_valid_customer() -> None:
    assert Customer.model_validate(EXAMPLE).contract == "month-to-month"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenure_months", -1),
        ("monthly_charges", -5.0),
        ("contract", "monthly"),
        ("support_calls", 1000),
        ("internet_service", "cable"),
    ],
)
def test_out_of_range_values_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        Customer.model_validate({**EXAMPLE, field: value})
    assert raised.value.errors()[0]["loc"] == (field,)


def test_renamed_upstream_columns_are_rejected_not_ignored() -> None:
    drifted = {**{k: v for k, v in EXAMPLE.items() if k != "tenure_months"}, "tenure": 3}
    with pytest.raises(ValidationError) as raised:
        Customer.model_validate(drifted)
    kinds = {(e["loc"][0], e["type"]) for e in raised.value.errors()}
    assert kinds == {("tenure_months", "missing"), ("tenure", "extra_forbidden")}


def test_csv_strings_are_coerced() -> None:
    row = {k: str(v) for k, v in EXAMPLE.items()} | {"senior": "1"}
    customer = Customer.model_validate(row)
    assert customer.tenure_months == 3
    assert customer.senior is True


def test_score_is_a_probability() -> None:
    assert ChurnScore(probability=0.2, label=False).probability == 0.2
    with pytest.raises(ValidationError):
        ChurnScore(probability=1.2, label=True)
