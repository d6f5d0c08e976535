# helper functions for the churn notebook
import os

import numpy as np

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract",
            "payment_method", "internet_service", "senior"]
NUM_COLS = [0, 1, 2]
CAT_COLS = [3, 4, 5, 6]


def make_customers(n=5000, seed=42):
    # simulated customers until we get the warehouse export (see load_from_warehouse)
    rng = np.random.default_rng(seed)
    contract = rng.choice(3, size=n, p=[0.55, 0.21, 0.24])
    tenure = np.select([contract == 0, contract == 1],
                       [rng.gamma(1.3, 14.0, n), rng.normal(42.0, 18.0, n)],
                       rng.normal(57.0, 14.0, n))
    tenure = np.clip(np.rint(tenure), 0, 72)
    internet = rng.choice(3, size=n, p=[0.34, 0.44, 0.22])
    charges = np.clip(rng.normal(np.array([58.0, 91.0, 21.0])[internet],
                                 np.array([16.0, 12.5, 2.2])[internet]), 18, 120).round(2)
    payment = rng.choice(4, size=n, p=[0.34, 0.23, 0.22, 0.21])
    senior = rng.random(n) < 0.16
    calls = rng.poisson(0.8 + 0.7 * (internet == 1) + 0.4 * senior + 0.5 * (contract == 0))
    z = (-0.9 - 1.4 * (contract == 1) - 2.8 * (contract == 2) - 0.035 * tenure
         + 0.012 * (charges - 65) + 0.7 * (internet == 1) - 0.6 * (internet == 2)
         + 0.35 * calls + 0.6 * (payment == 0) + 0.45 * senior)
    y = (rng.random(n) < 1 / (1 + np.exp(-(z + rng.normal(0, 1, n))))).astype(int)
    X = np.empty((n, 7), dtype=object)
    X[:, 0], X[:, 1], X[:, 2] = tenure, charges, calls
    X[:, 3] = np.array(["month-to-month", "one-year", "two-year"], dtype=object)[contract]
    X[:, 4] = np.array(["electronic-check", "mailed-check", "bank-transfer", "credit-card"],
                       dtype=object)[payment]
    X[:, 5] = np.array(["dsl", "fiber", "none"], dtype=object)[internet]
    X[:, 6] = senior
    return X, y


def warehouse_url():
    password = os.environ["DB_PASSWORD"]
    return f"postgresql://alice:{password}@warehouse.internal:5432/analytics"


def load_from_warehouse(query):
    import sqlalchemy  # only on my laptop
    engine = sqlalchemy.create_engine(warehouse_url())
    with engine.connect() as conn:
        return conn.execute(sqlalchemy.text(query)).fetchall()


def top_risk(model, X, k=10):
    p = model.predict_proba(X)[:, 1]
    idx = np.argsort(-p)[:k]
    return [(int(i), round(float(p[i]), 3)) for i in idx]
