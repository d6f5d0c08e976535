"""Run a notebook's code cells in order, as a fresh kernel would, and store their real outputs.

This is how examples/churn-notebook/model.pkl was produced: the artifact comes from really
running the notebook's code, not from a stand-in. Jupyter itself is not installed here, so this
does the small part of a kernel the example needs:

- the working directory is the notebook's folder, as in Jupyter;
- the project root is put on sys.path, standing in for the author's
  `sys.path.append("/Users/alice/...")` which only works on her laptop;
- lines starting with `!` or `%` (shell escapes, magics) are not run, and a cell made only of
  them keeps the output it had;
- each cell's stdout becomes a stream output, and a final expression's repr an execute_result;
- execution counts are kept as they are in the file (out of order, as the author left them).

Usage: python examples/_tools/run_notebook.py examples/churn-notebook/notebooks/churn.ipynb
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any


def run(notebook: Path, project_root: Path) -> None:
    document = json.loads(notebook.read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    sys.path.insert(0, str(project_root))
    previous = Path.cwd()
    os.chdir(notebook.parent)
    try:
        for cell in document["cells"]:
            if cell["cell_type"] == "code":
                _run_cell(cell, namespace)
    finally:
        os.chdir(previous)
    notebook.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _run_cell(cell: dict[str, Any], namespace: dict[str, Any]) -> None:
    source = "".join(cell["source"])
    code = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))
    )
    if not code.strip():
        return
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(tree, "<cell>", "exec"), namespace)
        value = (
            eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None
        )
    outputs: list[dict[str, Any]] = []
    if stdout.getvalue():
        outputs.append(
            {"name": "stdout", "output_type": "stream", "text": _lines(stdout.getvalue())}
        )
    if value is not None:
        outputs.append(
            {
                "data": {"text/plain": _lines(repr(value))},
                "execution_count": cell["execution_count"],
                "metadata": {},
                "output_type": "execute_result",
            }
        )
    cell["outputs"] = outputs


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve()
    run(target, project_root=target.parent.parent)
