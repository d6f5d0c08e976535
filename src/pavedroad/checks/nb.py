"""NB: notebooks handed over must hold what a fresh kernel would compute, and nothing private.

Every check reads the notebooks once per run (`notebooks`), without running them: the execution
counts, the cells' Python (their IPython syntax neutralised, line numbers kept) and the saved
outputs. A notebook that cannot be read is NB001's gap; the others audit the notebooks that can.
A gap names the notebook, the cell (its index in the file, counted from 0) and the line within
the cell; its location is the notebook file, since a line of the JSON means nothing to a reader.
Everything a message echoes from a notebook is redacted first: a secret is never printed.

NB009 and NB010 are dynamic: they share one run of the Python notebooks (`executions`), which
happens only when asked, because running a notebook runs its code, `!pip install` lines
included: `paved notebooks --execute` runs them (with progress) and hands the run over, and
`paved check` runs them when the contract says `[notebooks] execute = true`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pavedroad.notebooks.defuse import HiddenName, hidden_names
from pavedroad.notebooks.execute import Failure, NotebookRun, Options, Watcher, run_notebooks
from pavedroad.notebooks.hazards import HOW_TO_SEED, installs, machine_paths, unseeded_randomness
from pavedroad.notebooks.reader import Cell, Notebook, NotebookError, read_notebook
from pavedroad.notebooks.secrets import find_secrets, redact
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck

family = Family(
    "NB",
    "Notebooks",
    "Notebooks hold what a fresh kernel computes from the project alone, and no secrets.",
)

PRESETS = {"kedro": ("catalog", "context", "session", "pipelines")}
DEFAULT_MAX_OUTPUT_KB = 500
SHOWN = 3  # examples listed in one message
LONGEST = 120  # characters of notebook text echoed in a message
RERUN = (
    "Restart the kernel and run all cells top to bottom (Kernel > Restart & Run All), then save."
)


@dataclass(frozen=True)
class Unreadable:
    path: Path
    error: NotebookError


def read_all(project: Project) -> list[Notebook | Unreadable]:
    """Every notebook of the project, read once per run however many checks ask."""
    found: list[Notebook | Unreadable] = []
    for path in project.notebook_files:
        try:
            found.append(read_notebook(path))
        except NotebookError as error:
            found.append(Unreadable(path, error))
    return found


def notebooks(project: Project) -> list[Notebook | Unreadable]:
    found = project.fact(read_all)
    if not found:
        raise SkipCheck("no notebooks (under [notebooks].paths, else anywhere in the project)")
    return found


def readable(project: Project) -> list[Notebook]:
    found = [n for n in notebooks(project) if isinstance(n, Notebook)]
    if not found:
        raise SkipCheck("no notebook could be read (NB001 says why)")
    return found


def python_notebooks(project: Project) -> Iterator[Notebook | Evidence]:
    """The Python notebooks, and a note for each notebook of another language: the checks that
    read Python do not audit an R or Julia notebook as if it were Python."""
    found = readable(project)
    if not any(n.is_python for n in found):
        others = ", ".join(f"{project.rel(n.path)} ({n.language})" for n in found)
        raise SkipCheck(f"no Python notebook: {others}")
    for notebook in found:
        if notebook.is_python:
            yield notebook
        else:
            kernel = f" (kernel {notebook.kernel})" if notebook.kernel else ""
            yield Evidence(
                subject=project.rel(notebook.path),
                message=f"{project.rel(notebook.path)}: {notebook.language} notebook{kernel}, "
                "not audited as Python",
                location=project.location(notebook.path),
            )


def gap(project: Project, path: Path, subject: str, message: str, fix: str) -> Gap:
    """A gap whose every text is redacted: what it echoes from a notebook may hold a secret."""
    return Gap(
        subject=redact(subject),
        message=redact(message),
        location=project.location(path),
        fix=redact(fix),
    )


def place(project: Project, path: Path, cell: int, line: int | None = None) -> str:
    """`notebooks/x.ipynb cell 3 line 2`, as DEP008 writes it."""
    where = f"{project.rel(path)} cell {cell}"
    return where if line is None else f"{where} line {line}"


def shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def cells_list(cells: Sequence[int]) -> str:
    shown = ", ".join(str(cell) for cell in cells[:SHOWN])
    more = f" and {len(cells) - SHOWN} more" if len(cells) > SHOWN else ""
    return f"{shown}{more}"


# -- NB001 -----------------------------------------------------------------------------------


@family.check("NB001", "Notebooks read, and their code cells ran in order top to bottom")
def ran_in_order(project: Project) -> Iterator[Gap | Evidence]:
    """Reads every notebook (nbformat 4) and checks that the execution counts of its code cells
    increase from top to bottom, with no cell left unrun among cells that ran.

    Why: The saved outputs are only evidence if they come from one run of the cells as written.
    Counts out of order mean the author ran cells in another order, or ran a cell many times: a
    fresh kernel may compute something else, or fail. A notebook that does not read cannot be
    audited at all. A notebook saved with its outputs stripped (no counts at all) is clean.

    Example: cell 5 shows `[4]` under cell 3's `[14]`; or the last cell was never run, so the
    metric above it was computed from a model trained before the final edits.

    Fix: Restart the kernel and run all cells (Kernel > Restart & Run All), then save. For a file
    that does not read, restore it from version control or save it again from Jupyter.
    """
    for notebook in notebooks(project):
        if isinstance(notebook, Unreadable):
            yield _unreadable(project, notebook)
            continue
        ran = [c for c in notebook.code_cells if not c.blank]
        counted = [c for c in ran if c.execution_count is not None]
        rel = project.rel(notebook.path)
        if not counted:
            yield Evidence(
                subject=rel,
                message=f"{rel}: saved without execution counts (outputs stripped)",
                location=project.location(notebook.path),
            )
            continue
        yield from _out_of_order(project, notebook.path, counted)
        never = [c.index for c in ran if c.execution_count is None]
        if never:
            yield gap(
                project,
                notebook.path,
                f"{rel}:never run",
                f"{rel}: code cell{'s' if len(never) > 1 else ''} {cells_list(never)} never "
                "ran, among cells that did: the saved results do not include "
                f"{'their' if len(never) > 1 else 'its'} effects",
                RERUN,
            )


def _unreadable(project: Project, unreadable: Unreadable) -> Gap:
    rel = project.rel(unreadable.path)
    error = unreadable.error
    if "nbformat" in error.message and "upgrade" in error.message:
        fix = f"Upgrade it: `jupyter nbconvert --to notebook --nbformat 4 --inplace {rel}`."
    else:
        fix = (
            f"Restore {rel} from version control, or open it in Jupyter and save it again; a "
            "notebook that does not read cannot be audited, run or reviewed."
        )
    return Gap(
        subject=rel,
        message=f"{rel} {error.message}",
        location=project.location(unreadable.path, error.line),
        fix=fix,
    )


def _out_of_order(project: Project, path: Path, counted: list[Cell]) -> Iterator[Gap]:
    inversions: list[str] = []
    highest = counted[0]
    for cell in counted[1:]:
        assert cell.execution_count is not None and highest.execution_count is not None
        if cell.execution_count <= highest.execution_count:
            inversions.append(
                f"cell {cell.index} [{cell.execution_count}] below cell {highest.index} "
                f"[{highest.execution_count}]"
            )
        else:
            highest = cell
    if inversions:
        rel = project.rel(path)
        more = f" and {len(inversions) - SHOWN} more" if len(inversions) > SHOWN else ""
        yield gap(
            project,
            path,
            f"{rel}:order",
            f"{rel}: code cells ran out of order: {'; '.join(inversions[:SHOWN])}{more}",
            RERUN,
        )


# -- NB002 -----------------------------------------------------------------------------------


@family.check("NB002", "No hidden state: every name is defined by a cell above its use")
def no_hidden_state(project: Project) -> Iterator[Gap | Evidence]:
    """Follows every name through the cells top to bottom, as a fresh kernel runs them, and
    reports each one used before any cell above defines it, or defined by no cell at all.

    Why: A notebook that works in its author's session may rely on a variable from a cell since
    deleted or edited, or defined further down and run first. The next person to run it gets a
    NameError, or worse, a different value from a stale cell. Builtins, names IPython injects and
    the names listed in `[notebooks].injected_names` (or a `preset`, e.g. kedro's `catalog`) are
    not reported; after a star import or `%run`, unknown names are not reported either.

    Example: cell 4 trains on `X_train`, which only cell 7 defines; or `clean(df)` calls a
    function whose cell was deleted last week.

    Fix: Move the defining cell above its first use, restore the missing definition or import,
    or declare a name the kernel injects in `[notebooks].injected_names`.
    """
    injected = _injected(project)
    for notebook in python_notebooks(project):
        if isinstance(notebook, Evidence):
            yield notebook
            continue
        for hidden in hidden_names(notebook, injected):
            yield _hidden_gap(project, notebook.path, hidden)


def _injected(project: Project) -> tuple[str, ...]:
    settings = project.contract.notebooks
    if settings is None:
        return ()
    preset = PRESETS[settings.preset] if settings.preset else ()
    return (*settings.injected_names, *preset)


def _hidden_gap(project: Project, path: Path, hidden: HiddenName) -> Gap:
    where = place(project, path, hidden.cell, hidden.line)
    name = hidden.name
    if hidden.why == "later" and hidden.where is not None:
        cell, line = hidden.where
        message = (
            f"{where}: `{name}` is used before any cell above defines it (first defined in "
            f"cell {cell} line {line}): it only works in a session where that cell ran first"
        )
        fix = f"Move the definition of `{name}` (cell {cell}) above cell {hidden.cell}."
    elif hidden.why == "deleted" and hidden.where is not None:
        cell, line = hidden.where
        message = f"{where}: `{name}` is used after `del {name}` in cell {cell} line {line}"
        fix = f"Use `{name}` before it is deleted, or define it again."
    else:
        message = (
            f"{where}: `{name}` is used but no cell defines it (a cell since deleted, a missing "
            "import, or a name the kernel injects)"
        )
        fix = (
            f"Define or import `{name}` in a cell above; if the kernel injects it, list it in "
            "`[notebooks].injected_names`."
        )
    return gap(project, path, f"{project.rel(path)}:{name}", message, fix)


# -- NB003 -----------------------------------------------------------------------------------


@family.check("NB003", "No paths that exist only on the author's machine")
def no_machine_paths(project: Project) -> Iterator[Gap | Evidence]:
    """Finds absolute paths to a person's or a machine's folders in the code cells' string
    literals and shell lines: home folders (`/Users/...`, `/home/...`, `~/...`), Windows drives
    (`C:\\...`), shares and mounted drives (`/mnt/...`, `/Volumes/...`, Colab's Drive).

    Why: Such a path exists on one laptop. Anywhere else (a colleague, CI, the scheduler) the
    notebook fails to read its data, or silently reads another file of the same name.

    Example: `pd.read_csv("/Users/alice/Downloads/customers_final_v2.csv")`, or
    `sys.path.append("/home/alice/projects/churn")`.

    Fix: Put the data in the project (or a shared store) and use a path relative to the project,
    or read the location from configuration, e.g. an environment variable.
    """
    for notebook in python_notebooks(project):
        if isinstance(notebook, Evidence):
            yield notebook
            continue
        yield from _machine_paths(project, notebook)


def _machine_paths(project: Project, notebook: Notebook) -> Iterator[Gap]:
    """One gap per distinct path, at its first use, naming the other cells that use it."""
    seen: dict[str, list[tuple[int, int]]] = {}
    for cell in notebook.code_cells:
        for found in machine_paths(cell):
            seen.setdefault(found.text, []).append((found.cell, found.line))
    for text, places in seen.items():
        first, line = places[0]
        also = sorted({c for c, _ in places[1:]} - {first})
        more = f" (also in cell{'s' if len(also) > 1 else ''} {cells_list(also)})" if also else ""
        yield gap(
            project,
            notebook.path,
            f"{project.rel(notebook.path)}:{shorten(text)}",
            f"{place(project, notebook.path, first, line)}: `{shorten(text)}` is a path on one "
            f"machine{more}",
            "Use a path relative to the project (data files in the repository or a shared "
            "store), or read the location from configuration, e.g. an environment variable.",
        )


# -- NB004 -----------------------------------------------------------------------------------


@family.check("NB004", "No credentials in the cells or their outputs")
def no_secrets(project: Project) -> Iterator[Gap]:
    """Finds credentials in every cell's source and every saved output: cloud keys (AWS),
    GitHub, GitLab and Slack tokens, OpenAI-style API keys, private keys, passwords in connection
    URLs, and random-looking values assigned to names like `api_key`, `token` or `password`.
    Reports are redacted: the kind, the first characters of a long token and its length.

    Why: A notebook is shared, committed and rendered on code hosts; a credential in it (or in an
    output that printed it) is leaked to everyone who can read the repository, for as long as its
    history exists. Deleting the cell does not remove it from the history.

    Example: `openai.api_key = "sk-..."` in a cell, or a connection string
    `postgres://etl:<password>@db.internal/prod` echoed in an output.

    Fix: Revoke and rotate the credential first; then read it from the environment or a secrets
    manager, clear the outputs, and purge the old value from the history (git filter-repo).
    """
    for notebook in readable(project):
        for cell in notebook.cells:
            yield from _secrets_in(project, notebook.path, cell.index, cell.source, "")
            for number, output in enumerate(cell.outputs):
                for text in output.texts:
                    yield from _secrets_in(
                        project, notebook.path, cell.index, text, f" (output {number})"
                    )


def _secrets_in(project: Project, path: Path, cell: int, text: str, output: str) -> Iterator[Gap]:
    for secret in find_secrets(text):
        where = place(project, path, cell, secret.line if not output else None)
        kind = "in an output" if output else "in the source"
        yield gap(
            project,
            path,
            f"{where}{output}: {secret.kind}",
            f"{where}{output}: {secret.describe()} {kind}",
            "Revoke and rotate this credential now: it is in the file and in its history. Then "
            'read it from the environment (`os.environ["..."]`) or a secrets manager, clear the '
            "outputs, and purge it from the history (git filter-repo).",
        )


# -- NB005 -----------------------------------------------------------------------------------


@family.check("NB005", "No packages installed from a cell")
def no_installs(project: Project) -> Iterator[Gap | Evidence]:
    """Finds package installs run from the notebook: `!pip install`, `%pip install`, `!conda
    install`, `!apt-get install`, `%%bash` cells that install, and `subprocess`/`os.system`
    calls that do. Installing the project's own requirements (`-r requirements.txt`, `-e .`) is
    recorded, and not reported.

    Why: An install in a cell changes the environment while the notebook runs, with versions
    nobody recorded: the dependency checks cannot see it, a clean environment lacks it, and the
    next run may get another version.

    Example: `!pip install seaborn lightgbm` in the first cell.

    Fix: Declare the packages in the project's dependencies (pyproject.toml or the lock file),
    install them with the environment, and delete the line.
    """
    for notebook in python_notebooks(project):
        if isinstance(notebook, Evidence):
            yield notebook
            continue
        for cell in notebook.code_cells:
            for install in installs(cell):
                packages = ", ".join(install.packages)
                yield gap(
                    project,
                    notebook.path,
                    f"{project.rel(notebook.path)}:{shorten(install.command)}",
                    f"{place(project, notebook.path, install.cell, install.line)}: "
                    f"`{shorten(install.command)}` installs {packages} at run time, outside the "
                    "declared dependencies",
                    f"Declare {packages} in the project's dependencies (pyproject.toml or the lock "
                    "file) and delete this line.",
                )


# -- NB006 -----------------------------------------------------------------------------------


@family.check("NB006", "Randomness is seeded")
def randomness_seeded(project: Project) -> Iterator[Gap | Evidence]:
    """Finds code that draws random numbers with no seed set above it: the `random` module,
    `numpy.random`, scikit-learn splitters and estimators left with `random_state` unset,
    `DataFrame.sample`, torch and TensorFlow generators and layer initialisation.

    Why: Without a seed every run gives other splits, other weights and other metrics: the number
    in the handoff cannot be reproduced, and a change cannot be told apart from noise.
    `np.random.seed(...)` above seeds numpy's generator and what draws from it (scikit-learn's
    `random_state=None`, pandas); `torch.manual_seed` and `tf.random.set_seed` seed their own.

    Example: `train_test_split(X, y, test_size=0.2)` and `RandomForestClassifier()` with no
    `random_state`, and no `np.random.seed` anywhere above.

    Fix: Set a seed once in the first code cell (`SEED = 42; np.random.seed(SEED)`, and the same
    for random, torch or TensorFlow), and pass `random_state=SEED` where an API takes one.
    """
    for notebook in python_notebooks(project):
        if isinstance(notebook, Evidence):
            yield notebook
            continue
        for found in unseeded_randomness(notebook):
            yield gap(
                project,
                notebook.path,
                f"{project.rel(notebook.path)}:{found.api}",
                f"{place(project, notebook.path, found.cell, found.line)}: `{found.api}` "
                f"{found.detail}, with no seed set above: each run gives other numbers",
                f"To make it reproducible, {HOW_TO_SEED[found.generator]}.",
            )


# -- NB007 -----------------------------------------------------------------------------------


@family.check("NB007", "No error outputs saved in the notebook")
def no_error_outputs(project: Project) -> Iterator[Gap]:
    """Reports each cell saved with an error output (a traceback).

    Why: A notebook handed over with an exception in it did not run cleanly: either the results
    below the error come from an earlier session, or the notebook stops there for everyone else.

    Example: cell 6 shows `KeyError: 'tenure'` under a cell whose column was renamed since.

    Fix: Fix the error and run the notebook again top to bottom, or delete the failing cell if
    it is a dead end; then save.
    """
    for notebook in readable(project):
        for cell in notebook.code_cells:
            errors = [o for o in cell.outputs if o.kind == "error"]
            if errors:
                first = errors[0]
                rel = project.rel(notebook.path)
                yield gap(
                    project,
                    notebook.path,
                    f"{rel}:cell {cell.index}",
                    f"{place(project, notebook.path, cell.index)}: saved with an error output: "
                    f"{first.ename}: {shorten(first.evalue or '')}",
                    f"Fix the error in cell {cell.index} and run the notebook again top to "
                    "bottom, or delete the cell if it is a dead end.",
                )


# -- NB008 -----------------------------------------------------------------------------------


@family.check("NB008", "Notebook outputs are small enough to review")
def outputs_reviewable(project: Project) -> Iterator[Gap]:
    """Adds up the saved outputs of each notebook (text, tables, images, embedded data) and
    reports a notebook whose outputs exceed `[notebooks].max_output_kb` (500 KiB by default).

    Why: Megabytes of outputs make a notebook impossible to review in a pull request, bloat the
    repository's history, and often embed data (a whole DataFrame printed, a dataset in an HTML
    widget) that should not be in the repository at all.

    Example: `df` displayed with `pd.set_option("display.max_rows", None)`: 40,000 rows of
    customer records saved in the notebook.

    Fix: Clear the outputs before committing (`jupyter nbconvert --clear-output --inplace`, or
    nbstripout as a git filter), save large results to files, or raise the limit in
    `[notebooks].max_output_kb` if they must stay.
    """
    settings = project.contract.notebooks
    limit_kb = settings.max_output_kb if settings is not None else DEFAULT_MAX_OUTPUT_KB
    for notebook in readable(project):
        sizes = {c.index: sum(o.size for o in c.outputs) for c in notebook.code_cells}
        total = sum(sizes.values())
        if total <= limit_kb * 1024:
            continue
        largest = sorted((s, c) for c, s in sizes.items() if s)[::-1][:SHOWN]
        shown = ", ".join(f"cell {c} ({_kb(s)})" for s, c in largest)
        rel = project.rel(notebook.path)
        yield gap(
            project,
            notebook.path,
            rel,
            f"{rel}: outputs weigh {_kb(total)}, over the {limit_kb} KiB limit; largest: {shown}",
            f"Clear the outputs before committing (`jupyter nbconvert --clear-output --inplace "
            f"{rel}`), save large results to files, or raise `[notebooks].max_output_kb`.",
        )


def _kb(size: int) -> str:
    return f"{size / 1024:,.0f} KiB"


# -- NB009, NB010: the notebooks run ---------------------------------------------------------

NOT_ASKED = (
    "not run: running a notebook runs its code (its `!pip install` lines too), so it is opt-in: "
    "`paved notebooks --execute`, or `execute = true` in the contract's [notebooks] for "
    "`paved check`"
)


@dataclass(frozen=True)
class Executed:
    """One run of the project's Python notebooks, shared by NB009 and NB010."""

    runs: dict[Path, NotebookRun]
    options: Options


def executions(project: Project) -> Executed | None:
    """The run of the notebooks (a `project.fact`), or None when nobody asked for one."""
    settings = project.contract.notebooks
    if settings is None or not settings.execute:
        return None
    return execute(project)


def execute(
    project: Project, options: Options | None = None, watcher: Watcher | None = None
) -> Executed:
    """Run every readable Python notebook of the project, each in a fresh kernel."""
    options = options or Options()
    paths = [n.path for n in project.fact(read_all) if isinstance(n, Notebook) and n.is_python]
    runs = run_notebooks(paths, options, watcher)
    return Executed({run.path: run for run in runs}, options)


def _runs(project: Project) -> tuple[list[Notebook | Evidence], Executed]:
    found = list(python_notebooks(project))  # no notebooks: that skip says more
    executed = project.fact(executions)
    if executed is None:
        raise SkipCheck(NOT_ASKED)
    return found, executed


@family.check("NB009", "Notebooks run top to bottom in a fresh kernel", dynamic=True)
def runs_top_to_bottom(project: Project) -> Iterator[Gap | Evidence]:
    """Runs each Python notebook top to bottom in a fresh kernel of the current environment,
    from the notebook's folder (several at once), and reports the cell where one stops: the
    exception and the line that raised it, a cell over the timeout, or a kernel that died. The
    notebook file is not changed. Opt-in, because it runs the notebooks' code: `paved notebooks
    --execute`, or `[notebooks] execute = true` for `paved check`.

    Why: The saved outputs say the notebook ran once, in its author's session. Whether it runs
    for anyone else (without the variables of deleted cells, the file on the author's disk, the
    package installed by hand) is only known by running it from a restarted kernel.

    Example: cell 3 line 1 raises `FileNotFoundError: [Errno 2] No such file or directory:
    'scores.csv'`: the file was on the author's machine and never committed.

    Fix: Fix the cell named, or what it relies on (commit the data or read it from a configured
    location, define the variable in a cell above, declare the package), then Restart & Run All
    and save.
    """
    found, executed = _runs(project)
    for notebook in found:
        if isinstance(notebook, Evidence):
            yield notebook
            continue
        run = executed.runs[notebook.path]
        rel = project.rel(notebook.path)
        if run.failure is None:
            yield Evidence(
                subject=rel,
                message=f"{rel}: ran top to bottom in a fresh kernel ({run.cells} code cells)",
                location=project.location(notebook.path),
            )
        else:
            yield _failure_gap(project, notebook.path, run.failure, executed.options)


def _failure_gap(project: Project, path: Path, failure: Failure, options: Options) -> Gap:
    rel = project.rel(path)
    where = rel if failure.cell is None else place(project, path, failure.cell, failure.line)
    at = f" at `{shorten(failure.code)}`" if failure.code else ""
    message = f"{where}: {failure.error}{at}"
    cell = f"cell {failure.cell}"
    if failure.kind == "timeout":
        fix = (
            f"Make {cell} faster (a sample of the data, results cached to a file) or, if it is "
            f"meant to take longer than {options.timeout} s, raise the timeout: `paved notebooks "
            "--execute --timeout SECONDS`."
        )
    elif failure.kind == "died":
        fix = (
            f"Find what ends the kernel's process in {cell} (`os._exit`, a crash in a native "
            "library, running out of memory) and run the notebook again with Restart & Run All."
        )
    elif failure.kind == "start":
        fix = (
            f"Open {rel} in Jupyter with this environment's Python kernel (ipykernel installed) "
            "and check that it starts and runs; save it again if it does not read."
        )
    elif failure.error.startswith("SystemExit"):
        fix = (
            f"Do not end the kernel from a notebook: in {cell}, raise an exception with a message "
            "instead of calling `sys.exit`, or move the code to a script."
        )
    else:
        fix = (
            f"Fix {cell}, or what it relies on from the author's session (a file on their disk, "
            "a variable from a deleted cell, a package installed by hand); then Restart & Run "
            "All and save."
        )
    return gap(project, path, rel, message, fix)


@family.check("NB010", "Notebooks reproduce their saved outputs", dynamic=True)
def reproduces_outputs(project: Project) -> Iterator[Gap | Evidence]:
    """Compares the outputs of the fresh run (NB009's) with the outputs saved in the notebook,
    cell by cell: text results and what the cells printed, numbers within a relative tolerance
    (1e-6; `--rtol`), with memory addresses, dates and times, durations (`%time`, `%timeit`) and
    progress bars set aside. Images, HTML and stderr are not compared. Only a notebook that ran
    to the end and was saved with outputs is judged.

    Why: The numbers in a notebook are what the handoff is decided on. If a fresh run prints
    other numbers, the saved ones cannot be reproduced: the randomness is unseeded, the data
    changed, or a cell was edited after it ran.

    Example: `print(np.random.rand(3))` with no seed: the saved `[0.417 0.720 0.000]` becomes
    `[0.548 0.715 0.603]` on the next run.

    Fix: Make the run deterministic (seed every generator, pin the data), then Restart & Run All
    and save, so that the saved outputs are the ones a fresh run gives.
    """
    found, executed = _runs(project)
    for notebook in found:
        if isinstance(notebook, Evidence):
            yield notebook
            continue
        yield _reproduced(project, executed.runs[notebook.path], executed.options)


def _reproduced(project: Project, run: NotebookRun, options: Options) -> Gap | Evidence:
    rel = project.rel(run.path)
    if not run.ran:
        return _note(project, run.path, f"{rel}: not compared: it does not run to the end (NB009)")
    if not run.saved_outputs:
        return _note(project, run.path, f"{rel}: nothing saved to compare (saved without outputs)")
    if not run.differences:
        return _note(
            project,
            run.path,
            f"{rel}: reproduced the saved outputs of {run.compared} code cells (numbers within "
            f"a relative {options.rtol:g})",
        )
    first = run.differences[0]
    cells = [d.cell for d in run.differences]
    plural = "s" if len(cells) > 1 else ""
    saved = f"`{shorten(first.saved)}`" if first.saved is not None else "nothing"
    now = f"`{shorten(first.now)}`" if first.now is not None else "nothing"
    return gap(
        project,
        run.path,
        rel,
        f"{rel}: cell{plural} {cells_list(cells)} give{'' if plural else 's'} other outputs than "
        f"the saved ones; first, cell {first.cell}: saved {saved}, now {now}",
        f"Find what changes between runs in cell {first.cell} (an unseeded random draw, the "
        "current date, data that changed, a cell edited after it ran), make it deterministic, "
        "then Restart & Run All and save.",
    )


def _note(project: Project, path: Path, message: str) -> Evidence:
    return Evidence(subject=project.rel(path), message=message, location=project.location(path))
