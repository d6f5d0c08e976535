"""`paved extract`: real notebooks written here, extracted by the real command, and the modules
it writes imported, run as `python -m` and tested by pytest in subprocesses. The slow tests run
the notebooks themselves in a real kernel and compare their last cell with main()."""

from __future__ import annotations

import ast
import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
import pytest

from pavedroad.extract import ExtractError, extract_notebook
from pavedroad.extract.render import ruff

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "churn-notebook"
Cells = Sequence[str | tuple[str, Sequence[str]]]  # a source, or a source and its tags


def notebook(path: Path, cells: Cells) -> Path:
    """A real .ipynb at `path`: a markdown title, then the code cells (index 1 on)."""
    document = nbformat.v4.new_notebook()
    document.cells.append(nbformat.v4.new_markdown_cell("# a notebook"))
    for cell in cells:
        source, tags = (cell, ()) if isinstance(cell, str) else cell
        document.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)}))
    document.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(document, path)
    return path


def project(root: Path, cells: Cells) -> Path:
    """A project with a pyproject.toml, a tests/ folder and `notebooks/nb.ipynb`."""
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "pkg"\n', encoding="utf-8")
    return notebook(root / "notebooks" / "nb.ipynb", cells)


def paved(cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pavedroad", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def python(cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The current interpreter in `cwd` with only `src` added to its path, as an engineer runs
    the extracted module from the project's root."""
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    return subprocess.run(
        [sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def extract(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return paved(root, "extract", "notebooks/nb.ipynb", "--module", "src/pkg/train.py", *options)


def problems_of(nb: Path) -> list[str]:
    with pytest.raises(ExtractError) as raised:
        extract_notebook(nb, nb.parent.parent / "src" / "pkg" / "train.py")
    return [str(problem) for problem in raised.value.problems]


PARAMETERS = "n = 3\nrate: float = 1\nname = 'world'\nloud = False\nlimit = None"
TRAIN = (
    "greeting = f'hello {name}' * n\n"
    "if loud:\n    greeting = greeting.upper()\n"
    "cap = limit or 'none'\n"
    "(greeting, rate, cap)"
)


def test_parameters_become_the_options_of_python_m(tmp_path: Path) -> None:
    nb = project(tmp_path, [(PARAMETERS, ["parameters"]), (TRAIN, ["export"])])
    done = extract(tmp_path)
    assert done.returncode == 0, done.stderr
    usage = "python -m pkg.train [--n 3] [--rate 1] [--name 'world'] [--loud | --no-loud]"
    assert f"run it: {usage} [--limit LIMIT]" in done.stderr
    run = python(tmp_path, "-m", "pkg.train", "--n", "2", "--rate", "0.5", "--loud")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "('HELLO WORLDHELLO WORLD', 0.5, 'none')\n"
    run = python(tmp_path, "-m", "pkg.train", "--name", "x", "--no-loud", "--limit", "9")
    assert run.stdout == "('hello xhello xhello x', 1, '9')\n"
    bad = python(tmp_path, "-m", "pkg.train", "--n", "two")
    assert bad.returncode == 2
    assert "invalid int value: 'two'" in bad.stderr
    signature = _function(tmp_path / "src" / "pkg" / "train.py", "main").args
    assert [a.arg for a in signature.kwonlyargs] == ["n", "rate", "name", "loud", "limit"]
    annotations = [ast.unparse(a.annotation) for a in signature.kwonlyargs if a.annotation]
    assert annotations == ["int", "float", "str", "bool", "str | None"]
    assert nb.exists()


def test_imports_are_hoisted_once_and_definitions_stay_at_module_level(tmp_path: Path) -> None:
    project(
        tmp_path,
        [
            ("import json\nimport math  # for sqrt\n\nx = math.sqrt(16)", ["export"]),
            (
                "import json\nfrom math import floor\n\n"
                "# doubles, documented\n@staticmethod\ndef double(v):\n    return 2 * v\n\n"
                "class Box:\n    size = 3\n\n"
                "y = double(x) + Box.size\njson.dumps({'y': y})",
                ["export"],
            ),
        ],
    )
    assert extract(tmp_path).returncode == 0
    module = tmp_path / "src" / "pkg" / "train.py"
    text = module.read_text(encoding="utf-8")
    tree = ast.parse(text)
    top = [type(node).__name__ for node in tree.body]
    assert top[:5] == ["Expr", "Import", "Import", "ImportFrom", "FunctionDef"]
    assert text.count("import json") == 1
    assert "import math  # for sqrt" in text  # the cells' own text, comments included
    assert "# doubles, documented\n@staticmethod\ndef double(v):" in text
    assert {n.name for n in tree.body if isinstance(n, ast.ClassDef)} == {"Box"}
    run = python(tmp_path, "-c", "from pkg.train import Box, double, main; print(main(), Box.size)")
    assert run.stdout == '{"y": 11.0} 3\n', run.stderr


def test_comments_stay_with_their_statements(tmp_path: Path) -> None:
    """Also around statements that share a line, which are split one per line."""
    project(
        tmp_path,
        [("# export\nimport os; x = os.sep\n# why y\ny = 2\n# above z\nz = 1; z + y\n# end", [])],
    )
    assert extract(tmp_path).returncode == 0
    text = (tmp_path / "src" / "pkg" / "train.py").read_text(encoding="utf-8")
    body = text[text.index("# cell 1") : text.index("def _cli")]
    assert body.split("\n")[1:8] == [
        "    x = os.sep",
        "    # why y",
        "    y = 2",
        "    # above z",
        "    z = 1",
        "    return z + y",
        "    # end",
    ]
    assert python(tmp_path, "-m", "pkg.train").stdout == "3\n"


def test_the_module_is_formatted(tmp_path: Path) -> None:
    executable = ruff()
    if executable is None:
        pytest.skip("no ruff here")
    project(tmp_path, [("x=[1,2,\n  3]\nsum( x )", ["export"])])
    assert extract(tmp_path).returncode == 0
    module = tmp_path / "src" / "pkg" / "train.py"
    check = subprocess.run(
        [executable, "format", "--check", str(module)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    assert "x = [1, 2, 3]" in module.read_text(encoding="utf-8")


def test_a_multiline_string_keeps_its_value_inside_main(tmp_path: Path) -> None:
    """Indented into main(), the lines of a triple-quoted string would gain four spaces."""
    source = (
        'query = """\nselect *\n  from t\n"""\nnote = f"""{len(query)}\n  chars"""\nquery + note'
    )
    namespace: dict[str, str] = {}
    exec(source, namespace)  # the cell as the notebook runs it
    project(tmp_path, [(source, ["export"])])
    assert extract(tmp_path).returncode == 0
    run = python(tmp_path, "-c", "from pkg.train import main; print(repr(main()))")
    assert run.stdout == repr(namespace["query"] + namespace["note"]) + "\n", run.stderr


def test_markers_are_strict(tmp_path: Path) -> None:
    project(
        tmp_path,
        [
            "# export for Bob\nbob = 1",
            "#export\nnbdev = 1",
            "#| export\nquarto = 1",
            "# export  \nfirst = 10",
            ("second = first + 1\nsecond", ["export"]),
            "# parameters\nfirst = 99",
        ],
    )
    done = extract(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(cells 4, 5 of notebooks/nb.ipynb)" in done.stderr
    text = (tmp_path / "src" / "pkg" / "train.py").read_text(encoding="utf-8")
    assert "bob" not in text and "nbdev" not in text and "quarto" not in text
    assert "# export" not in text
    run = python(tmp_path, "-m", "pkg.train", "--first", "1")
    assert run.stdout == "11\n"  # cell 4 sets it again, as it does in the notebook


def test_last_value_is_returned_only_from_an_expression(tmp_path: Path) -> None:
    project(tmp_path, [("a = 1\na + 1", ["export"]), ("def f():\n    return a", ["export"])])
    problems = problems_of(tmp_path / "notebooks" / "nb.ipynb")
    assert problems == [
        "cell 2, line 2: `f` uses `a`, which cell 1 sets at the top level and so becomes a "
        "variable of main(): pass it to `f` as an argument"
    ]
    project(tmp_path / "two", [("a = 1\na + 1", ["export"]), ("b = a", ["export"])])
    assert extract(tmp_path / "two").returncode == 0
    run = python(tmp_path / "two", "-m", "pkg.train")
    assert (run.returncode, run.stdout) == (0, "")  # main() returned None: nothing printed


def test_names_defined_nowhere_are_listed_with_their_cells(tmp_path: Path) -> None:
    nb = project(
        tmp_path,
        [
            ("import os\nx = os.sep + prefix\nrunning += 1", ["export"]),
            ("total = 0\nfor i in range(3):\n    total += i\nprint(undefined_thing)", ["export"]),
            "hidden = 1  # not exported",
            ("def f():\n    return hidden + len([k for k in keys])", ["export"]),
            ("display(late)\nlate = 2\ntotal += 1", ["export"]),
        ],
    )
    assert problems_of(nb) == [
        "cell 1, line 2: `prefix` is used but no exported cell, parameter or import defines it "
        "(define it in an exported cell, or tag the cell that does)",
        "cell 1, line 3: `running` is used but no exported cell, parameter or import defines it "
        "(define it in an exported cell, or tag the cell that does)",
        "cell 2, line 4: `undefined_thing` is used but no exported cell, parameter or import "
        "defines it (define it in an exported cell, or tag the cell that does)",
        "cell 4, line 2: `hidden` is used but no exported cell, parameter or import defines it "
        "(define it in an exported cell, or tag the cell that does)",
        "cell 4, line 2: `keys` is used but no exported cell, parameter or import defines it "
        "(define it in an exported cell, or tag the cell that does)",
        "cell 5, line 1: `display` is used but no exported cell, parameter or import defines it "
        "(import it: `from IPython.display import display`, or print instead)",
        "cell 5, line 1: `late` is used before cell 5 defines it: move the definition up",
    ]
    done = extract(tmp_path)
    assert done.returncode == 2
    assert "cannot extract notebooks/nb.ipynb:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "src").exists()  # nothing written


def test_names_that_would_change_meaning_in_a_module(tmp_path: Path) -> None:
    nb = project(
        tmp_path,
        [
            ("from math import sqrt\nsqrt = sqrt(4)", ["export"]),
            ("def f():\n    return 1", ["export"]),
            ("def f():\n    global counter\n    counter = 2", ["export"]),
            ("def main():\n    pass", ["export"]),
        ],
    )
    assert problems_of(nb) == [
        "cell 1, line 2: `sqrt` is assigned here and imported or defined in cell 1: in main() "
        "the assignment would hide it from every line, also the ones above; rename the variable",
        "cell 3, line 1: `f` is already defined at module level in cell 2: a module keeps one "
        "definition per name, so rename one of them",
        "cell 3, line 2: `f` declares `global counter`: at module level it would not see "
        "main()'s variables; return the value instead",
        "cell 4, line 1: `main` is the generated module's own name: rename it",
    ]


def test_ipython_syntax_is_an_error_naming_cell_and_line(tmp_path: Path) -> None:
    nb = project(
        tmp_path,
        [
            ("!pip install lightgbm\nimport os\n%matplotlib inline\nfiles = !ls\nos?", ["export"]),
            ("%%bash\necho hi", ["export"]),
            ("x = 1\nawait something()", ["export"]),
            ('sql = """\n%s is fine in a string\n"""', ["export"]),
        ],
    )
    assert problems_of(nb) == [
        "cell 1, line 1: `!pip install lightgbm` is IPython syntax, not Python (declare the "
        "package in the project's dependencies and delete the line)",
        "cell 1, line 3: `%matplotlib inline` is IPython syntax, not Python (write it in "
        "Python, or leave it in a cell that is not exported)",
        "cell 1, line 4: `files = !ls` is IPython syntax, not Python (write it in Python, or "
        "leave it in a cell that is not exported)",
        "cell 1, line 5: `os?` is IPython syntax, not Python (write it in Python, or leave it "
        "in a cell that is not exported)",
        "cell 2, line 1: `%%bash` is IPython syntax, not Python (write it in Python, or leave "
        "it in a cell that is not exported)",
        "cell 3, line 2: not Python: 'await' outside function: not valid in a module's main()",
    ]


def test_the_parameters_cell_holds_only_literals(tmp_path: Path) -> None:
    nb = project(
        tmp_path,
        [
            ("import os\nn = 1\npath = os.getcwd()\nsizes = [1, 2]", ["parameters"]),
            ("n", ["parameters"]),
            ("n + 1", ["export"]),
        ],
    )
    assert problems_of(nb) == [
        "cell 1, line 1: a parameters cell holds only `name = literal` assignments: move this "
        "statement to an exported cell",
        "cell 1, line 3: parameter `path`: only int, float, str, bool or None literals become "
        "command-line options",
        "cell 1, line 4: parameter `sizes`: only int, float, str, bool or None literals become "
        "command-line options",
        "cell 2, line 1: a second parameters cell (the first is cell 1)",
    ]


def test_no_exported_cell_is_a_usage_error(tmp_path: Path) -> None:
    project(tmp_path, ["x = 1"])
    done = extract(tmp_path)
    assert done.returncode == 2
    assert "no code cell is exported" in done.stderr


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    nb = project(tmp_path, [("1 + 1", ["export"])])
    assert extract(tmp_path).returncode == 0
    module, test = tmp_path / "src" / "pkg" / "train.py", tmp_path / "tests" / "test_train.py"
    module.write_text("# edited by hand\n", encoding="utf-8")
    done = extract(tmp_path)
    assert done.returncode == 2
    assert "already exist: pass --force" in done.stderr
    assert str(module.resolve()) in done.stderr and str(test.resolve()) in done.stderr
    assert module.read_text(encoding="utf-8") == "# edited by hand\n"
    notebook(nb, [("2 + 2", ["export"])])
    assert extract(tmp_path, "--force").returncode == 0
    assert "return 2 + 2" in module.read_text(encoding="utf-8")


def test_the_stub_passes_under_pytest(tmp_path: Path) -> None:
    project(tmp_path, [("k = 2", ["parameters"]), ("k * 1.5", ["export"])])
    assert extract(tmp_path).returncode == 0
    stub = tmp_path / "tests" / "test_train.py"
    assert "    main(k=2)  # TODO" in stub.read_text(encoding="utf-8")
    # the notebook was never run, so there is no saved value to expect: the stub calls main()
    done = python(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(stub))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_stub_expects_the_value_the_notebook_saved(tmp_path: Path) -> None:
    """And it really checks it: a notebook whose saved value is stale fails its stub."""
    nb = project(tmp_path, [("0.1 + 0.2", ["export"])])
    document = nbformat.read(nb, as_version=4)
    document.cells[1].outputs = [
        nbformat.v4.new_output(
            "execute_result", {"text/plain": "np.float64(0.4)"}, execution_count=1
        )
    ]
    nbformat.write(document, nb)
    assert extract(tmp_path).returncode == 0
    stub = tmp_path / "tests" / "test_train.py"
    assert "assert result == pytest.approx(0.4)" in stub.read_text(encoding="utf-8")
    done = python(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(stub))
    assert done.returncode == 1
    assert "0.30000000000000004 == 0.4" in done.stdout


def test_without_tests_folder_the_stub_goes_next_to_the_module(tmp_path: Path) -> None:
    nb = notebook(tmp_path / "nb.ipynb", [("'ok'", ["export"])])
    done = paved(tmp_path, "extract", str(nb), "--module", "train.py")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "test_train.py").is_file()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_train.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout


def test_the_notebooks_own_modules_are_found_from_the_module(tmp_path: Path) -> None:
    """`helpers.py` at the project's root, imported by a notebook in notebooks/: the module
    finds it wherever it runs from, without the author's sys.path.append."""
    project(
        tmp_path,
        [
            (
                "import sys\nsys.path.append('/Users/alice/x')\nfrom helpers import twice",
                ["export"],
            ),
            ("twice(21)", ["export"]),
        ],
    )
    (tmp_path / "helpers.py").write_text("def twice(v):\n    return 2 * v\n", encoding="utf-8")
    done = extract(tmp_path)
    assert "note: helpers is the notebook's own code" in done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "pkg.train"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "src")},
        capture_output=True,
        text=True,
    )
    assert run.stdout == "42\n", run.stderr
    assert (tmp_path / "src" / "pkg" / "__init__.py").is_file()


def _function(module: Path, name: str) -> ast.FunctionDef:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


# --- the notebook itself, run in a real kernel ------------------------------------------------


def run_in_kernel(nb: Path, pythonpath: Path) -> nbformat.NotebookNode:
    """Execute `nb` top to bottom in a fresh ipykernel of this very interpreter, from the
    notebook's folder. A KernelSpecManager with no folders serves ipykernel's built-in spec for
    sys.executable only: a `python3` kernelspec a user installed elsewhere cannot swap in
    another Python, and nothing is installed with `ipykernel install`."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    document = nbformat.read(nb, as_version=4)
    manager = AsyncKernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[])
    )
    client = NotebookClient(
        document, km=manager, timeout=300, resources={"metadata": {"path": str(nb.parent)}}
    )
    # the client does not own a manager it was given: cleanup_kc makes it stop the kernel anyway.
    # The async manager and API on our own loop: the sync ones leave jupyter_core's runner thread
    # alive for the rest of the session, and the import index forks workers only without threads.
    asyncio.run(
        client.async_execute(cleanup_kc=True, env={**os.environ, "PYTHONPATH": str(pythonpath)})
    )
    return document


def last_value(document: nbformat.NotebookNode) -> str:
    code = [cell for cell in document.cells if cell.cell_type == "code"]
    (result,) = [o for o in code[-1].outputs if o.output_type == "execute_result"]
    text: str = result.data["text/plain"]
    return text


def main_value(root: Path, dotted: str, arguments: str = "") -> str:
    done = python(root, "-c", f"from {dotted} import main; print(repr(main({arguments})))")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@pytest.mark.slow
def test_main_computes_what_the_notebook_computes(tmp_path: Path) -> None:
    nb = project(
        tmp_path,
        [
            ("seed = 3\nsize = 5", ["parameters"]),
            ("import random\nrng = random.Random(seed)", ["export"]),
            "print('exploring', rng.random())  # not exported",
            ("def mean(v):\n    return sum(v) / len(v)", ["export"]),
            (
                "values = [rng.gauss(0, 1) for _ in range(size)]\nround(mean(values), 12)",
                ["export"],
            ),
        ],
    )
    assert extract(tmp_path).returncode == 0
    document = run_in_kernel(nb, tmp_path)
    # the unexported cell drew one number in the notebook: main() differs by exactly that
    # draw, so the comparison is against a notebook run with that cell left out
    assert last_value(document) != main_value(tmp_path, "pkg.train")
    document.cells.pop(3)
    nbformat.write(document, nb)
    assert last_value(run_in_kernel(nb, tmp_path)) == main_value(tmp_path, "pkg.train")


@pytest.mark.slow
def test_the_example_notebook_and_its_module_give_the_same_metric(tmp_path: Path) -> None:
    """The done-when of the notebooks issue, on a copy of examples/churn-notebook. Its `!pip`
    cell is skipped in the kernel (it would install into this environment; extraction leaves
    it out), and the project root is on the kernel's path, where the author's
    sys.path.append("/Users/alice/...") put it on her laptop."""
    root = tmp_path / "churn-notebook"
    shutil.copytree(EXAMPLE, root)
    nb = root / "notebooks" / "churn.ipynb"
    done = paved(root, "extract", "notebooks/churn.ipynb", "--module", "src/churn/train.py")
    assert done.returncode == 0, done.stderr
    assert "cells 2, 3, 5, 6, 7, 10 of" in done.stderr
    document = nbformat.read(nb, as_version=4)
    assert document.cells[1].source.startswith("!pip install")
    document.cells[1].metadata["tags"] = ["skip-execution"]
    nbformat.write(document, nb)
    metric = last_value(run_in_kernel(nb, root))
    assert float(metric) > 0.8
    assert main_value(root, "churn.train") == metric
    cli = python(root, "-m", "churn.train")
    assert cli.stdout.splitlines()[-1] == metric
    stub = python(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", "src/churn/test_train.py")
    assert stub.returncode == 0, stub.stdout
