"""The model's interface: one customer in, one churn score out, validated at the boundary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Contract = Literal["month-to-month", "one-year", "two-year"]
PaymentMethod = Literal["electronic-check", "mailed-check", "bank-transfer", "credit-card"]
InternetService = Literal["dsl", "fiber", "none"]


class Customer(BaseModel):
    """A customer as the model sees them. Unknown fields are rejected: a renamed upstream column
    must fail loudly here rather than reach the model as a silently missing feature."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "tenure_months": 3,
                    "monthly_charges": 89.5,
                    "contract": "month-to-month",
                    "support_calls": 4,
                    "payment_method": "electronic-check",
                    "internet_service": "fiber",
                    "senior": False,
                }
            ]
        },
    )

    tenure_months: int = Field(ge=0, le=600, description="Months as a customer.", examples=[3])
    monthly_charges: float = Field(
        ge=0, le=1000, description="Current monthly bill, in the account currency.", examples=[89.5]
    )
    contract: Contract = Field(description="Contract length.", examples=["month-to-month"])
    support_calls: int = Field(
        ge=0, le=100, description="Support calls in the last 90 days.", examples=[4]
    )
    payment_method: PaymentMethod = Field(description="How the bill is paid.")
    internet_service: InternetService = Field(description="Internet product, or none.")
    senior: bool = Field(description="Customer is 65 or older.", examples=[False])


class ChurnScore(BaseModel):
    """The model's answer for one customer."""

    model_config = ConfigDict(
        frozen=True, json_schema_extra={"examples": [{"probability": 0.71, "label": True}]}
    )

    probability: float = Field(
        ge=0.0, le=1.0, description="Probability of churn in the next 90 days.", examples=[0.71]
    )
    label: bool = Field(
        description="probability >= CHURN_THRESHOLD: flag for the retention team.", examples=[True]
    )
