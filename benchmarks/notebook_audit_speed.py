"""How fast is the static notebook audit? `paved notebooks` on 500 generated notebooks: under 5 s.

No installed tool audits notebooks the same way (nbqa runs linters cell by cell, nbstripout only
strips outputs), so the anchor is the floor instead: a plain `json.load` of the same files in
one process, the least any notebook tool must do. Both are printed.

The notebooks are generated with a fixed seed into a temporary folder: 500 of them, from 3 to
120 cells, with imports, functions, comprehensions, magics and shell lines, markdown, stream,
table and image outputs, a share of them with execution counts out of order. `paved notebooks
--format json` runs as a real subprocess (its imports included, as a user pays them), best of 3.

Exit status: 0 when the target is met, 1 when it is missed, 2 when the command fails.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NOTEBOOKS = 500
RUNS = 3
TARGET_SECONDS = 5.0
SEED = 20240611
PNG = base64.b64encode(random.Random(SEED).randbytes(6_000)).decode()  # an image's weight
SNIPPETS = [
    "import numpy as np\nimport pandas as pd\nfrom sklearn.model_selection import train_test_split",
    "df = pd.read_csv('data/customers.csv')\ndf.head()",
    "%matplotlib inline\nimport matplotlib.pyplot as plt",
    "X = df.drop(columns=['target'])\ny = df['target']",
    "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)",
    "def features(frame, window=3):\n    out = frame.copy()\n    for column in frame.columns:\n"
    "        out[f'{column}_mean'] = frame[column].rolling(window).mean()\n    return out",
    "squares = {k: v ** 2 for k, v in zip('abcdef', range(6)) if v % 2}\ntotal = 0\n"
    "for value in squares.values():\n    total += value",
    "!ls data/\nfiles = !ls",
    "class Model:\n    def __init__(self, alpha=0.1):\n        self.alpha = alpha\n"
    "    def fit(self, X, y):\n        self.mean_ = y.mean()\n        return self",
    "model = Model().fit(X_train, y_train)\nprint(model.mean_)",
    "%time result = sum(i * i for i in range(1000))",
    "results = [features(df.iloc[:n]) for n in range(10, 100, 10)]",
    "import os\ntoken = os.environ.get('API_TOKEN')\nurl = f'https://api.example.com/v1?n={len(df)}'",
]


def generate(folder: Path) -> int:
    """Write the notebooks; returns their total size in bytes."""
    rng = random.Random(SEED)
    total = 0
    for number in range(NOTEBOOKS):
        cells = [_cell(rng, index) for index in range(rng.choice([3, 8, 20, 40, 120]))]
        if rng.random() < 0.3:  # a session's disorder
            rng.shuffle(cells)
        document = {
            "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        path = folder / f"group{number % 10}" / f"notebook{number:03d}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document, indent=1) + "\n"
        path.write_text(text, encoding="utf-8")
        total += len(text)
    return total


def _cell(rng: random.Random, index: int) -> dict[str, Any]:
    if rng.random() < 0.25:
        return {"cell_type": "markdown", "metadata": {}, "source": [f"## Step {index}\n", "Notes."]}
    outputs: list[dict[str, Any]] = []
    kind = rng.random()
    if kind < 0.3:
        outputs.append({"output_type": "stream", "name": "stdout", "text": ["0.8123\n"] * 5})
    elif kind < 0.45:
        rows = "".join(f"<tr><td>{i}</td><td>{i * 0.5}</td></tr>\n" for i in range(20))
        data = {"text/html": [f"<table>\n{rows}</table>"], "text/plain": ["   a  b\n0  1  2"]}
        outputs.append({"output_type": "execute_result", "data": data, "metadata": {}})
        outputs[-1]["execution_count"] = index + 1
    elif kind < 0.5:
        data = {"image/png": PNG, "text/plain": ["<Figure size 640x480 with 1 Axes>"]}
        outputs.append({"output_type": "display_data", "data": data, "metadata": {}})
    source = rng.choice(SNIPPETS)
    return {
        "cell_type": "code",
        "execution_count": index + 1,
        "metadata": {},
        "outputs": outputs,
        "source": [line + "\n" for line in source.split("\n")],
    }


def best_of(command: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            sys.stderr.write(f"`{' '.join(command)}` exited {done.returncode}:\n{done.stderr}")
            raise SystemExit(2)
        results = json.loads(done.stdout)["results"]
        if any(r["status"] == "error" for r in results):
            sys.stderr.write("a check crashed:\n" + json.dumps(results, indent=1)[:4000])
            raise SystemExit(2)
    return min(times)


def json_floor(folder: Path) -> float:
    """A plain json.load of every notebook in one process, best of RUNS: the least to do."""
    code = (
        "import json, pathlib, sys\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.ipynb')):\n"
        "    json.loads(p.read_bytes())\n"
    )
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(folder)], check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="paved-nb-bench-") as temporary:
        folder = Path(temporary)
        size = generate(folder)
        env = {**os.environ, "PAVED_NO_CACHE": "1"}
        command = [sys.executable, "-m", "pavedroad", "notebooks", str(folder), "--format", "json"]
        audit = best_of(command, env)
        floor = json_floor(folder)
    print(f"{NOTEBOOKS} notebooks, {size / 1e6:.1f} MB, best of {RUNS}")
    print(f"  paved notebooks (static audit)  {audit:6.2f} s   target < {TARGET_SECONDS:.0f} s")
    print(f"  json.load of the same files     {floor:6.2f} s   (the floor, with the interpreter)")
    met = audit < TARGET_SECONDS
    print("target met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
