"""Train the churn model and write the artifact and the held-out golden dataset.

`python -m churn.train` (or `churn-train`) rewrites models/churn.joblib and data/golden.csv.
Everything is seeded and the artifact holds no timestamp: the same pinned environment on the
same CPU writes a byte-identical file, and on another CPU a model whose scores agree to 1e-9
(OpenBLAS's kernels differ by instruction set in the last bits).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from churn.data import simulate, split, write_csv
from churn.features import TARGET, matrix, preprocessor
from churn.settings import PROJECT_ROOT

ROWS = 5000
SEED = 20240611
HOLDOUT = 0.2


def build() -> Pipeline:
    """The untrained model: preprocessing, then an L2 logistic regression."""
    return Pipeline(
        [
            ("features", preprocessor()),
            ("classifier", LogisticRegression(C=1.0, max_iter=1000)),
        ]
    )


def train(model_path: Path, golden_path: Path, rows: int = ROWS, seed: int = SEED) -> float:
    """Fit on the training split, write both files, and return the held-out ROC AUC."""
    train_table, golden = split(simulate(rows, seed), HOLDOUT, seed)
    pipeline = build().fit(matrix(train_table), train_table[TARGET].astype(int))
    auc = float(
        roc_auc_score(golden[TARGET].astype(int), pipeline.predict_proba(matrix(golden))[:, 1])
    )
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, model_path)
    write_csv(golden, golden_path)
    return auc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="churn-train", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "churn.joblib")
    parser.add_argument("--golden", type=Path, default=PROJECT_ROOT / "data" / "golden.csv")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    auc = train(args.model, args.golden, rows=args.rows, seed=args.seed)
    print(f"held-out ROC AUC {auc:.4f}; wrote {args.model} and {args.golden}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
