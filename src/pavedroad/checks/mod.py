"""MOD: the artifact shipped is the one validated, and the model loads and behaves on data.

MOD001 reads files only; MOD002-MOD005 judge the evaluation worker's outcome (dynamic).
"""

from __future__ import annotations

from collections.abc import Iterator

from pavedroad.evaluation.protocol import Failure, Outcome
from pavedroad.evaluation.run import Evaluation, evaluation
from pavedroad.fileio import sha256_of
from pavedroad.project import Project
from pavedroad.registry import Evidence, Family, Gap, SkipCheck
from pavedroad.results import Location

family = Family("MOD", "Model", "The model artifact, its loading and its behaviour on data.")


@family.check("MOD001", "The model artifact exists and matches its sha256", section="model")
def artifact_matches(project: Project) -> Iterator[Gap | Evidence]:
    """Checks that `[model].artifact` exists and that its sha256 is the one in the contract.

    Why: The metrics, the latency and the sign-off were all obtained with one specific file. If the
    file shipped is another one (retrained, re-exported, corrupted in transfer, or a different
    library version's pickle), every number in the handoff describes a model nobody is running.

    Example: `artifact = "models/churn.joblib"` with `sha256 = "9f2c..."`, after the notebook was
    re-run and overwrote the file.

    Fix: If the new artifact is the one to ship, validate it again and record its hash with
    `sha256sum models/churn.joblib`; otherwise restore the validated file.
    """
    model = project.contract.model
    if model is None or model.artifact is None:
        raise SkipCheck("the contract names no [model].artifact")
    path = project.root / model.artifact
    if not path.is_file():
        yield Gap(
            subject=model.artifact,
            message=f"the model artifact {model.artifact} does not exist",
            location=project.contract_location("model", "artifact"),
            fix="Commit the artifact at that path (or Git LFS / DVC pointer resolved before the "
            "check), or correct `[model].artifact`.",
        )
        return
    actual = sha256_of(path)
    if model.sha256 is None:
        yield Gap(
            subject=model.artifact,
            message=f"the contract records no sha256 for {model.artifact}",
            location=project.contract_location("model", "artifact"),
            fix=f'Add `sha256 = "{actual}"` to [model] once this artifact is validated.',
        )
    elif actual != model.sha256:
        yield Gap(
            subject=model.artifact,
            message=f"{model.artifact} has sha256 {actual[:12]}…, the contract expects "
            f"{model.sha256[:12]}…: this is not the artifact that was validated",
            location=project.contract_location("model", "sha256"),
            fix=f"If {model.artifact} is the model to ship, validate it again and record "
            f'`sha256 = "{actual}"`; otherwise restore the validated file.',
        )
    else:
        yield Evidence(
            subject=model.artifact,
            message=f"{model.artifact} matches the contract's sha256 ({actual[:12]}…)",
            location=project.location(path),
        )


def evaluated(project: Project) -> tuple[Evaluation, Outcome]:
    """The run's evaluation (computed once, shared with PRF), or a skip saying why there is none."""
    found = project.fact(evaluation)
    if found.blocked is not None:
        raise SkipCheck(found.blocked)
    if found.outcome is None:
        raise SkipCheck(f"the evaluation did not complete (MOD002): {found.error}")
    return found, found.outcome


def failure_location(project: Project, failure: Failure, *fallback: str) -> Location:
    """The project's own line that raised, else the contract key that led there."""
    if failure.path is not None:
        return project.location(project.root / failure.path, failure.line)
    return project.contract_location(*fallback)


@family.check(
    "MOD002",
    "The model loads and predicts",
    section="model",
    requires=("MOD001",),
    dynamic=True,
)
def model_loads(project: Project) -> Iterator[Gap | Evidence]:
    """Imports `[model].predict` and the schemas in a fresh subprocess and predicts one batch.

    Why: A model that only loads in its author's session (a module imported in a cell, a path on
    their disk, an artifact saved by another library version) cannot be served, scheduled or
    evaluated by anyone else. A separate process proves it loads from the project alone.

    Example: `predict = "churn.model:predict"` whose module imports `utils` from the notebook's
    folder, or whose artifact was pickled with a class that has since been renamed.

    Fix: Run `python -c "from churn.model import predict"` in a fresh environment and fix what
    it reports; the gap names the file and line that raised.
    """
    model = project.contract.model
    assert model is not None  # section="model"
    found = project.fact(evaluation)
    if found.blocked is not None:
        raise SkipCheck(found.blocked)
    if found.outcome is None:
        yield Gap(
            subject=model.label or "predict",
            message=f"{model.label} could not be evaluated: {found.error}",
            location=project.contract_location("model", "predict"),
            fix="Run `paved evaluate` to see the worker's output; a model that needs longer than "
            "the timeout must say so with `paved evaluate --timeout`.",
        )
        return
    outcome = found.outcome
    for stage in ("import", "load"):
        failure = outcome.failure(stage)
        if failure is not None:
            verb = "import" if stage == "import" else "load and predict"
            yield Gap(
                subject=model.label or "predict",
                message=f"{model.label} does not {verb}: {failure.kind}: {failure.message}",
                location=failure_location(project, failure, "model", "predict"),
                fix="Fix the error at that line; the model must load from the project's own "
                "files and declared dependencies, in a fresh process.",
            )
            return
    seconds = f" in {outcome.load_seconds:.2f} s" if outcome.load_seconds is not None else ""
    yield Evidence(
        subject=model.label or "predict",
        message=f"{model.label} loaded and predicted{seconds}",
        location=project.contract_location("model", "predict"),
    )


@family.check(
    "MOD003",
    "The golden dataset fits the input schema",
    section="performance",
    requires=("MOD002",),
    dynamic=True,
)
def dataset_fits_schema(project: Project) -> Iterator[Gap | Evidence]:
    """Reads the golden dataset and compares its columns and values with the input schema.

    Why: The thresholds are only meaningful if the golden dataset is what the model receives in
    production. A renamed column, an extra one the schema does not know, or values of the wrong
    type mean the evaluation measured a different input than the service will get.

    Example: the schema has `tenure_months: int` but the dataset's column is `tenure` (missing
    and extra), or holds "3 months" in some rows (type).

    Fix: Regenerate the golden dataset from the same code that builds the model's inputs, or
    align the schema; the gap names the column.
    """
    performance = project.contract.performance
    assert performance is not None  # section="performance"
    if performance.dataset is None:
        raise SkipCheck("the contract names no [performance].dataset")
    _, outcome = evaluated(project)
    where = project.contract_location("performance", "dataset")
    failure = outcome.failure("dataset")
    for problem in outcome.columns or []:
        yield Gap(
            subject=problem.column,
            message=f"{performance.dataset}: column {problem.column}: {problem.message}",
            location=where,
            fix=_column_fix(problem.problem, problem.column),
        )
    if failure is not None:
        yield Gap(
            subject=performance.dataset,
            message=f"{performance.dataset} cannot be evaluated: {failure.message}",
            location=where,
            fix="Check that the file exists, is a complete CSV or Parquet file, and has the "
            "input schema's columns and the target column.",
        )
    elif not outcome.columns:
        yield Evidence(
            subject=performance.dataset,
            message=f"{performance.dataset}: {outcome.rows} rows, columns fit the input schema",
            location=where,
        )


def _column_fix(problem: str, column: str) -> str:
    if problem == "missing":
        return f"Add the column {column} to the golden dataset, or give the field a default."
    if problem == "extra":
        return (
            f"Drop {column} from the golden dataset, add it to the input schema, or name it in "
            "[performance].slices if it only groups rows."
        )
    return f"Make every value of {column} valid for the schema's type, or correct the schema."


@family.check(
    "MOD004",
    "Predictions fit the output schema",
    section="model",
    requires=("MOD002",),
    dynamic=True,
)
def outputs_fit_schema(project: Project) -> Iterator[Gap | Evidence]:
    """Validates the model's outputs on a sample of the golden dataset against the output schema.

    Why: Consumers of the model code against the output schema: a probability of 1.3, a label
    missing from some rows or a string where a float is promised breaks them at run time, far
    from the model.

    Example: `probability: float = Field(ge=0, le=1)` while the model returns raw decision
    scores from `decision_function`.

    Fix: Make `predict` return objects of the output schema (or columns with its field names
    and types), or correct the schema to what the model really promises.
    """
    model = project.contract.model
    assert model is not None  # section="model"
    _, outcome = evaluated(project)
    failure = outcome.failure("outputs")
    if failure is not None:
        yield Gap(
            subject=model.label or "predict",
            message=f"{model.label} returned something unusable: {failure.message}",
            location=failure_location(project, failure, "model", "predict"),
            fix="Return one output per input row: output-schema objects, dicts, a DataFrame, a "
            "dict of arrays, or a 1-D array for a single output field.",
        )
        return
    if outcome.outputs is None:
        raise SkipCheck("no predictions were made on the golden dataset (see MOD003)")
    if model.output_schema is None:
        raise SkipCheck("the contract names no [model].output_schema")
    for problem in outcome.outputs:
        field = problem.field or "the output"
        yield Gap(
            subject=field,
            message=f"{field}: {problem.message} ({problem.count} sampled "
            f"output{'s' if problem.count != 1 else ''})",
            location=project.contract_location("model", "output_schema"),
            fix=f"Make {model.label} return valid {field} values, or correct "
            f"{model.output_schema}.",
        )
    if not outcome.outputs:
        yield Evidence(
            subject=model.output_schema,
            message=f"sampled outputs validate against {model.output_schema}",
            location=project.contract_location("model", "output_schema"),
        )


@family.check(
    "MOD005",
    "The model is deterministic",
    section="model",
    requires=("MOD002",),
    dynamic=True,
)
def deterministic(project: Project) -> Iterator[Gap | Evidence]:
    """Predicts the same rows twice and compares the outputs exactly.

    Why: A model whose answer changes on the same input cannot be tested, cached, debugged or
    compared with a baseline: a regression and noise look alike. The usual cause is randomness
    at predict time (dropout left on, sampling, an unseeded random number generator).

    Example: a pipeline that adds `np.random.normal` noise for "robustness" at inference, or a
    torch model served without `model.eval()`.

    Fix: Seed or remove the randomness at predict time (`model.eval()`, a fixed `random_state`,
    no sampling); the gap shows the first row that differed.
    """
    model = project.contract.model
    assert model is not None  # section="model"
    _, outcome = evaluated(project)
    checked = outcome.determinism
    if checked is None:
        raise SkipCheck("no predictions were made on the golden dataset (see MOD003)")
    if checked.differing:
        example = f"; {checked.example}" if checked.example else ""
        yield Gap(
            subject=model.label or "predict",
            message=f"{checked.differing} of {checked.rows} rows gave different outputs when "
            f"predicted twice{example}",
            location=project.contract_location("model", "predict"),
        )
    else:
        yield Evidence(
            subject=model.label or "predict",
            message=f"{checked.rows} rows predicted twice gave identical outputs",
            location=project.contract_location("model", "predict"),
        )
