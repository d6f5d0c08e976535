from __future__ import annotations

import numpy as np
import pytest

from churn.features import FEATURES, MissingColumnsError, matrix, preprocessor, rows_to_table

ROW = {
    "tenure_months": 3,
    "monthly_charges": 89.5,
    "contract": "month-to-month",
    "support_calls": 4,
    "payment_method": "electronic-check",
    "internet_service": "fiber",
    "senior": False,
}


def test_matrix_has_the_features_in_training_order() -> None:
    shuffled = dict(reversed(list(ROW.items())))
    x = matrix(rows_to_table([shuffled, ROW]))
    assert x.shape == (2, len(FEATURES))
    assert list(x[0]) == [ROW[name] for name in FEATURES]


def test_missing_columns_are_named() -> None:
    partial = {k: v for k, v in ROW.items() if k not in {"contract", "senior"}}
    with pytest.raises(MissingColumnsError) as raised:
        rows_to_table([ROW, partial])
    assert raised.value.missing == ["contract", "senior"]
    with pytest.raises(MissingColumnsError, match="support_calls"):
        matrix({k: [v] for k, v in ROW.items() if k != "support_calls"})


def test_preprocessor_scales_numbers_and_ignores_unseen_categories() -> None:
    rows = [ROW, {**ROW, "tenure_months": 40, "contract": "two-year", "senior": True}]
    transform = preprocessor().fit(matrix(rows_to_table(rows)))
    encoded = transform.transform(matrix(rows_to_table(rows)))
    assert np.allclose(encoded[:, 0], [-1.0, 1.0])  # tenure, standard-scaled
    unseen = transform.transform(matrix(rows_to_table([{**ROW, "contract": "one-year"}])))
    assert unseen.shape == (1, encoded.shape[1])
    assert unseen[0, 3:5].tolist() == [0.0, 0.0]  # neither known contract is hot
