"""The churn data set: a documented, seeded generative process, and golden-CSV reading/writing.

No customer data can be downloaded here, so the data is simulated. The process is calibrated on
the published marginals of the IBM Telco customer-churn sample (7,043 customers): churn rate
about 26%, 55% month-to-month contracts, fiber customers paying about 90 a month and churning
twice as often as DSL ones, electronic-check payers and seniors churning more.

For each customer, independently:

1. contract ~ Categorical(month-to-month 0.55, one-year 0.21, two-year 0.24)
2. tenure_months | contract ~ Gamma(1.3, 14) for month-to-month, Normal(42, 18) for one-year,
   Normal(57, 14) for two-year; rounded and clipped to [0, 72]
3. internet_service ~ Categorical(dsl 0.34, fiber 0.44, none 0.22)
4. monthly_charges | internet_service ~ Normal(58, 16), Normal(91, 12.5), Normal(21, 2.2);
   clipped to [18, 120], rounded to cents
5. payment_method ~ Categorical(electronic-check 0.34, mailed-check 0.23, bank-transfer 0.22,
   credit-card 0.21)
6. senior ~ Bernoulli(0.16)
7. support_calls ~ Poisson(0.8 + 0.7 fiber + 0.4 senior + 0.5 month-to-month)
8. churned ~ Bernoulli(sigmoid(z + e)), e ~ Normal(0, 1) unobserved, with the latent score
   z = -0.9 - 1.4 one-year - 2.8 two-year - 0.035 tenure + 0.012 (monthly_charges - 65)
       + 0.7 fiber - 0.6 no-internet + 0.35 support_calls + 0.6 electronic-check + 0.45 senior

The unobserved noise e is what keeps any model's ROC AUC well below 1, as on real data.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from churn.features import FEATURES, TARGET, Table

CONTRACTS = ("month-to-month", "one-year", "two-year")
INTERNET = ("dsl", "fiber", "none")
PAYMENTS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")


def simulate(n: int, seed: int) -> Table:
    """`n` customers and their churn label, identical for identical (n, seed)."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(3, size=n, p=[0.55, 0.21, 0.24])
    tenure = np.select(
        [contract == 0, contract == 1],
        [rng.gamma(1.3, 14.0, n), rng.normal(42.0, 18.0, n)],
        rng.normal(57.0, 14.0, n),
    )
    tenure = np.clip(np.rint(tenure), 0, 72).astype(np.int64)
    internet = rng.choice(3, size=n, p=[0.34, 0.44, 0.22])
    means, spreads = np.array([58.0, 91.0, 21.0]), np.array([16.0, 12.5, 2.2])
    charges = np.round(np.clip(rng.normal(means[internet], spreads[internet]), 18.0, 120.0), 2)
    payment = rng.choice(4, size=n, p=[0.34, 0.23, 0.22, 0.21])
    senior = rng.random(n) < 0.16
    fiber, no_internet = internet == 1, internet == 2
    calls = rng.poisson(0.8 + 0.7 * fiber + 0.4 * senior + 0.5 * (contract == 0))
    latent = (
        -0.9
        - 1.4 * (contract == 1)
        - 2.8 * (contract == 2)
        - 0.035 * tenure
        + 0.012 * (charges - 65.0)
        + 0.7 * fiber
        - 0.6 * no_internet
        + 0.35 * calls
        + 0.6 * (payment == 0)
        + 0.45 * senior
    )
    noise = rng.normal(0.0, 1.0, n)
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-(latent + noise)))
    return {
        "tenure_months": tenure,
        "monthly_charges": charges,
        "contract": np.array(CONTRACTS, dtype=object)[contract],
        "support_calls": calls.astype(np.int64),
        "payment_method": np.array(PAYMENTS, dtype=object)[payment],
        "internet_service": np.array(INTERNET, dtype=object)[internet],
        "senior": senior,
        TARGET: churned,
    }


def split(table: Table, holdout: float, seed: int) -> tuple[Table, Table]:
    """A seeded random split into (train, held-out) tables."""
    n = len(table[TARGET])
    order = np.random.default_rng(seed).permutation(n)
    cut = n - round(n * holdout)
    return (
        {k: v[order[:cut]] for k, v in table.items()},
        {k: v[order[cut:]] for k, v in table.items()},
    )


def write_csv(table: Table, path: Path) -> None:
    """Write the table as CSV; booleans as 0/1 so any tool reads the target as a number."""
    columns = [*FEATURES, TARGET]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for i in range(len(table[TARGET])):
            writer.writerow([_cell(table[c][i]) for c in columns])


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts of strings (validation turns them into customers)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _cell(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{value:.2f}"
    return str(value)
