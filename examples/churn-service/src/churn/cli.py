"""`churn-predict`: score customers given as JSON lines, one score per line out.

Exit codes: 0 scored, 2 an input line is not a valid customer (nothing is scored), 3 the model or
the settings cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from churn.model import ArtifactError, predict
from churn.schemas import Customer
from churn.settings import SettingsError

EXIT_OK, EXIT_INVALID_INPUT, EXIT_UNAVAILABLE = 0, 2, 3


def read_customers(stream: TextIO) -> list[Customer]:
    """One JSON object per non-blank line; raises ValueError naming the first bad line."""
    customers = []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            customers.append(Customer.model_validate_json(line))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '<line>'}: {e['msg']}"
                for e in error.errors()
            )
            raise ValueError(f"line {number}: {problems}") from None
    return customers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="churn-predict", description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", type=Path, help="JSON lines file (default: stdin)")
    args = parser.parse_args(argv)
    try:
        if args.input is None:
            customers = read_customers(sys.stdin)
        else:
            with args.input.open(encoding="utf-8") as handle:
                customers = read_customers(handle)
    except (OSError, ValueError) as error:
        print(f"churn-predict: invalid input: {error}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    try:
        scores = predict(customers)
    except (ArtifactError, SettingsError) as error:
        print(f"churn-predict: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    for score in scores:
        print(json.dumps(score.model_dump()))
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
