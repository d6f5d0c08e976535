"""The feature contract of the model: column names, their order, and the preprocessing.

The pipeline is fitted on a 2-D object array whose columns are FEATURES in this order. Keeping
the order in one place is what lets training, the golden dataset and serving agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ("tenure_months", "monthly_charges", "support_calls")
CATEGORICAL = ("contract", "payment_method", "internet_service", "senior")
FEATURES = (*NUMERIC, *CATEGORICAL)
TARGET = "churned"

Table = dict[str, np.ndarray[Any, Any]]


class MissingColumnsError(ValueError):
    """Input rows lack columns the model was trained on."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(f"missing feature columns: {', '.join(self.missing)}")


def preprocessor() -> ColumnTransformer:
    """One-hot for categories (unknown ones encode as all zeros), standard scaling for numbers."""
    numeric = list(range(len(NUMERIC)))
    categorical = list(range(len(NUMERIC), len(FEATURES)))
    return ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )


def matrix(table: Mapping[str, Any]) -> np.ndarray[Any, Any]:
    """The model's input matrix from a column table; raises MissingColumnsError by name."""
    missing = [name for name in FEATURES if name not in table]
    if missing:
        raise MissingColumnsError(missing)
    return np.column_stack([np.asarray(table[name], dtype=object) for name in FEATURES])


def rows_to_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """Column table from records (dicts or `Customer.model_dump()` outputs)."""
    missing = sorted({name for row in rows for name in FEATURES if name not in row})
    if missing:
        raise MissingColumnsError(missing)
    return {name: np.array([row[name] for row in rows], dtype=object) for name in FEATURES}
