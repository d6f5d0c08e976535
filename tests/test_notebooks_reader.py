"""The notebook reader: nbformat 4 read into plain data, every malformed file one clear error.

Hypothesis feeds it random JSON, truncated files and every field of a real notebook replaced by
a value of every wrong type: the reader returns a Notebook or raises NotebookError, the analyses
run on whatever it returns, and nothing else escapes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, check_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavedroad.notebooks.defuse import hidden_names
from pavedroad.notebooks.hazards import installs, machine_paths, unseeded_randomness
from pavedroad.notebooks.reader import (
    Notebook,
    NotebookError,
    parse_notebook,
    python_of_cell,
    split_cell,
)
from pavedroad.notebooks.secrets import find_secrets
from pavedroad.results import Status

EXPLORE = FIXTURES / "nb0-exploratory" / "notebooks" / "explore.ipynb"
PATH = Path("n.ipynb")
WRONG = [None, True, 3, 2.5, "text", [], {}, [1], {"a": 1}]


def read(data: bytes | str) -> Notebook | NotebookError:
    try:
        return parse_notebook(data.encode() if isinstance(data, str) else data, PATH)
    except NotebookError as error:
        return error


def analyse(notebook: Notebook) -> None:
    """Every analysis the NB checks run, on a notebook the reader accepted."""
    hidden_names(notebook, ["catalog"])
    unseeded_randomness(notebook)
    for cell in notebook.cells:
        find_secrets(cell.source)
        list(installs(cell))
        list(machine_paths(cell))
        for output in cell.outputs:
            for text in output.texts:
                find_secrets(text)


def test_a_real_notebook_reads_into_cells_outputs_and_kernel() -> None:
    notebook = parse_notebook(EXPLORE.read_bytes(), EXPLORE)
    assert (notebook.language, notebook.kernel, notebook.is_python) == ("python", "python3", True)
    assert [c.kind for c in notebook.cells[:3]] == ["markdown", "code", "code"]
    figure = notebook.cells[6]
    assert figure.execution_count == 5
    (output,) = figure.outputs
    assert output.kind == "display_data"
    assert output.texts == ("<Figure size 640x480 with 1 Axes>",)  # the PNG counts in size only
    assert output.size > 200
    error = notebook.cells[11].outputs[0]
    assert (error.kind, error.ename) == ("error", "NameError")
    assert "\x1b[" not in error.texts[0]  # ANSI colours stripped from the traceback


def test_cell_tags_and_the_ipython_evidence() -> None:
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": ["parameters"]},
        "outputs": [],
        "source": ["!pip install a \\\n", "    b\n", "x = 1\n", "%cd ~/work"],
    }
    document = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    notebook = parse_notebook(json.dumps(document).encode(), PATH)
    (parsed,) = notebook.cells
    assert parsed.tags == ("parameters",)
    assert parsed.code.python == "pass\n\nx = 1\npass"
    assert [(i.line, i.text) for i in parsed.code.ipython] == [
        (1, "!pip install a b"),
        (4, "%cd ~/work"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "%%bash\npip install x\n",
        "%%time\nx = 1\n!ls\ny = !pwd",
        "  %%writefile a.py\nprint(1)",
        "np.mean?\nx = 1\nfiles = !ls \\\n  -la\n",
        "",
        "%%\n",
    ],
)
def test_the_import_index_and_the_audit_read_a_cell_alike(source: str) -> None:
    """The index reads cells with python_of_cell, the NB audit with split_cell."""
    assert split_cell(source).python == python_of_cell(source)


def test_a_bash_cell_is_no_python_and_its_lines_are_evidence() -> None:
    code = split_cell("%%bash\napt-get install -y x\n\necho done")
    assert code.python is None
    assert [(i.line, i.text, i.cell_magic) for i in code.ipython] == [
        (1, "%%bash", None),
        (2, "apt-get install -y x", "bash"),
        (4, "echo done", "bash"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"cells": [', "is not valid JSON (line 1 column 12"),
        (b"\xff\xfe{}", "is not"),
        ("[]", "the file must be a JSON object, not a list"),
        ('{"nbformat": 3}', "is an nbformat 3 notebook; pavedroad reads nbformat 4: upgrade it"),
        ('{"nbformat": 5, "cells": []}', "is an nbformat 5 notebook"),
        ('{"nbformat": "4", "cells": []}', "nbformat must be an integer, not a string"),
        ('{"nbformat": 4}', "the notebook has no 'cells' field"),
        ('{"nbformat": 4, "cells": [{"cell_type": "code"}]}', "cells[0] has no 'source' field"),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "heading", "source": ""}]}',
            "cells[0].cell_type is 'heading', not code, markdown or raw",
        ),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "outputs": [], '
            '"execution_count": true}]}',
            "cells[0].execution_count must be an integer or null, not a boolean",
        ),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "execution_count": 1,'
            ' "outputs": [{"output_type": "stream", "name": "stdout", "text": [1]}]}]}',
            "cells[0].outputs[0].text must be a string or a list of strings, not a list",
        ),
        ('{"nbformat": 4, "cells": [], "metadata": {"kernelspec": []}}', "metadata.kernelspec"),
        ("1" * 5000, "is not valid JSON"),
        ("[" * 100_000, "is not valid JSON"),
    ],
)
def test_malformed_notebooks_are_one_clear_error(data: str | bytes, message: str) -> None:
    found = read(data)
    assert isinstance(found, NotebookError)
    assert message in found.message


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document, as the keys and indexes that lead to it."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    parent = copied
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copied


def test_every_field_of_a_real_notebook_with_every_wrong_type_never_crashes() -> None:
    document = json.loads(EXPLORE.read_text(encoding="utf-8"))
    places = list(_paths(document))
    assert len(places) > 200
    errors = 0
    for path in places:
        for value in WRONG:
            found = read(json.dumps(_replaced(document, path, value)))
            if isinstance(found, Notebook):
                analyse(found)
            else:
                errors += 1
                assert found.message
    assert errors > len(places)  # most replacements are errors, each one clear


def test_every_truncation_of_a_real_notebook_is_one_clear_error() -> None:
    data = EXPLORE.read_bytes()
    for end in range(0, len(data) - 2, 7):  # all but the closing brace and newline
        found = read(data[:end])
        assert isinstance(found, NotebookError), end
        assert found.message.startswith("is not valid JSON") or "UTF-8" in found.message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = st.sampled_from(
    ["cells", "cell_type", "source", "outputs", "execution_count", "metadata", "output_type",
     "text", "data", "name", "ename", "evalue", "traceback", "tags", "kernelspec", "nbformat"]
)  # fmt: skip
CELL = st.fixed_dictionaries(
    {
        "cell_type": st.sampled_from(["code", "markdown", "raw"]) | JSON,
        "source": st.text(max_size=200) | st.lists(st.text(max_size=40), max_size=5) | JSON,
        "execution_count": st.none() | st.integers(min_value=-5, max_value=50) | JSON,
        "outputs": st.lists(st.dictionaries(FIELDS, JSON, max_size=4), max_size=2) | JSON,
        "metadata": st.fixed_dictionaries({"tags": st.lists(st.text(max_size=5))}) | JSON,
    }
)
NOTEBOOK = st.fixed_dictionaries(
    {"cells": st.lists(CELL, max_size=4), "nbformat": st.just(4) | JSON, "metadata": JSON}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, NOTEBOOK, st.dictionaries(FIELDS, JSON)))
def test_random_structures_never_crash(document: Any) -> None:
    found = read(json.dumps(document))
    if isinstance(found, Notebook):
        analyse(found)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data: bytes) -> None:
    found = read(data)
    if isinstance(found, Notebook):
        analyse(found)


CODE_LINES = st.lists(
    st.sampled_from(
        ["x = 1", "%time y = x", "%timeit -n", "!pip install", "files = !ls", "del x", "print(z)",
         "def f():", "    global g", "    return q", "class A:", "    k = x", "[i for i in x]",
         "from m import *", "%run a.py", "%%bash", "%%capture out", "lambda: w", "y += 1",
         "match x:", "    case [a, *b]:", "        pass", "x?", "%%time", "   ", "(", "\\"]
    ),
    max_size=12,
).map("\n".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(CODE_LINES | st.text(max_size=80), max_size=5))
def test_random_cell_sources_never_crash_the_analyses(sources: list[str]) -> None:
    cells = [
        {"cell_type": "code", "source": s, "execution_count": None, "outputs": [], "metadata": {}}
        for s in sources
    ]
    found = read(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    assert isinstance(found, Notebook)
    analyse(found)


def test_malformed_notebooks_are_failures_of_nb001_never_errors(tmp_path: Path) -> None:
    """Through the engine, on files no reader expects: NB001 fails, nothing is an error."""
    (tmp_path / "handoff.toml").write_text("", encoding="utf-8")
    bad = ["", "null", "{}", '{"nbformat": 4, "cells": {}}', "[" * 50_000, "\x00\x01"]
    for index, text in enumerate(bad):
        (tmp_path / f"bad{index}.ipynb").write_text(text, encoding="utf-8")
    (tmp_path / "loop.ipynb").symlink_to("loop.ipynb")
    verdict = check_project(tmp_path, "NB")
    assert not [r for r in verdict.results if r.status is Status.ERROR]
    failing = {r.subject for r in verdict.results if r.id == "NB001" and r.status is Status.FAIL}
    assert failing == {f"bad{i}.ipynb" for i in range(len(bad))} | {"loop.ipynb"}
