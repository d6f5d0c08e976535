"""The handoff contract: its Pydantic model, loading from handoff.toml or pyproject, and `extends`.

Every section is optional and a present section is enforced. Unknown keys are errors that name the
file, the line and the closest known key, because a typo that silently disables a section would
certify a project on a contract nobody wrote.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from pavedroad.contract_file import CONTRACT_FILE, PYPROJECT, read_toml, search_contract
from pavedroad.errors import ContractError, ContractErrors, UsageError
from pavedroad.tomlpos import locate

SHA256 = r"^[0-9a-f]{64}$"
CHECK_ID = r"^[A-Z]{2,5}[0-9]{3}$"
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
REFERENCE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
Reference = Annotated[
    str,
    Field(pattern=REFERENCE, description="An importable object as 'package.module:name'."),
]
EnvName = Annotated[str, Field(pattern=IDENTIFIER)]
Role = Literal[
    "data_science", "engineering", "serving", "monitoring", "retraining", "drift", "on_call"
]
ROLES: tuple[str, ...] = typing.get_args(Role)
DEFAULT_REQUIRED_ROLES: tuple[Role, ...] = ("data_science", "engineering")
Owner = Annotated[str, Field(min_length=1)]


class Section(BaseModel):
    """A table of the contract: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ContractMeta(Section):
    version: Literal[1] = Field(1, description="Version of the contract format.")
    name: str | None = Field(None, description="The model or project this contract is for.")
    extends: str | None = Field(
        None, description="Path to a base contract (relative to this file); local keys override."
    )


class Owners(Section):
    """Who answers when it breaks. Each role is a name, an address, a @handle, or a list of them."""

    data_science: Owner | list[Owner] | None = None
    engineering: Owner | list[Owner] | None = None
    serving: Owner | list[Owner] | None = None
    monitoring: Owner | list[Owner] | None = None
    retraining: Owner | list[Owner] | None = None
    drift: Owner | list[Owner] | None = None
    on_call: Owner | list[Owner] | None = None
    required: list[Role] = Field(
        default_factory=lambda: list(DEFAULT_REQUIRED_ROLES),
        description="Roles that must be named. A base contract's required roles always stay required.",
    )

    def named(self, role: str) -> list[str]:
        value = getattr(self, role)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)


class Package(Section):
    name: str = Field(pattern=IDENTIFIER, description="The importable package.")
    entry_points: list[Reference] = Field(
        default_factory=list, description="Programmatic entry points a scheduler can call."
    )


class Dependencies(Section):
    pinned: bool = Field(True, description="Every runtime dependency pinned, or a fresh lock.")
    lock: str | None = Field(None, description="uv.lock, requirements.txt with ==, or pylock.toml.")
    python: str | None = Field(None, description="Supported Python versions, a PEP 440 specifier.")
    runtime_only: list[str] = Field(
        default_factory=list,
        description="Declared packages the code never imports but needs at run time (a server "
        "such as gunicorn, a database driver loaded by URL, a plugin): not reported as unused.",
    )
    import_names: dict[str, str] = Field(
        default_factory=dict,
        description="Import name -> distribution, for packages whose import name is not their "
        'PyPI name and that pavedroad does not know: `{ "acme_ml" = "acme-ml-toolkit" }`.',
    )

    @field_validator("python")
    @classmethod
    def _valid_specifier(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                SpecifierSet(value)
            except InvalidSpecifier as error:
                raise ValueError(f"not a version specifier: {error}") from None
        return value


BatchFormat = Literal["records", "pandas", "arrow", "numpy"]


class Model(Section):
    """How the model loads: a `predict` callable of the project, or an MLflow pyfunc directory."""

    predict: Reference | None = Field(None, description="Callable: a batch of inputs -> outputs.")
    mlflow: str | None = Field(
        None,
        min_length=1,
        description="An MLflow pyfunc model directory (the one holding MLmodel), relative to the "
        "project root, loaded with mlflow.pyfunc.load_model instead of `predict` (needs the "
        "`mlflow` extra). It takes pandas DataFrames, so batch_format is 'pandas'. To have the "
        "weights' sha256 checked, point `artifact` at the file in it that holds them "
        "(model.pkl, python_model.pkl).",
    )
    batch_format: BatchFormat = Field(
        "records",
        description="What `predict` takes, as Ray Data's map_batches names it: 'records' (a list "
        "of input-schema objects), 'pandas' (a DataFrame), 'arrow' (a pyarrow Table) or 'numpy' "
        "(a dict of column name -> array). Always 'pandas' with `mlflow`, which is what "
        "pyfunc's predict takes.",
    )
    input_schema: Reference | None = Field(None, description="Pydantic model of one input.")
    output_schema: Reference | None = Field(None, description="Pydantic model of one output.")
    artifact: str | None = Field(None, description="Path of the model artifact in the project.")
    sha256: str | None = Field(
        None, pattern=SHA256, description="sha256 of the artifact that was validated."
    )

    @model_validator(mode="before")
    @classmethod
    def _pandas_for_mlflow(cls, data: Any) -> Any:
        """An MLflow model's batches are DataFrames whether or not the contract says so."""
        if isinstance(data, dict) and data.get("mlflow") is not None:
            return {"batch_format": "pandas", **data}
        return data

    @field_validator("mlflow")
    @classmethod
    def _one_loader(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("predict") is not None:
            raise ValueError(
                "`predict` and `mlflow` are both set, but the model loads one way: keep "
                "`predict` for a callable of the project, or `mlflow` for an MLflow pyfunc "
                "directory"
            )
        return value

    @field_validator("batch_format")
    @classmethod
    def _mlflow_takes_pandas(cls, value: BatchFormat, info: ValidationInfo) -> BatchFormat:
        if value != "pandas" and info.data.get("mlflow") is not None:
            raise ValueError(
                "an MLflow pyfunc model takes a pandas DataFrame: remove `batch_format` (or set "
                "it to 'pandas')"
            )
        return value

    @property
    def label(self) -> str | None:
        """The model as messages name it: its `predict`, or its MLflow directory."""
        return self.predict if self.mlflow is None else f"mlflow:{self.mlflow}"


class Threshold(Section):
    """The acceptance range of one metric, and for a custom metric the function computing it."""

    min: float | None = None
    max: float | None = None
    function: Reference | None = Field(
        None, description="A custom metric: 'module:function(y_true, y_pred) -> float'."
    )
    uses: Literal["prediction", "score"] = Field(
        "prediction", description="Which output a custom metric receives as y_pred."
    )
    higher_is_better: bool | None = Field(
        None, description="A custom metric's direction, for regressions against the baseline."
    )


class Performance(Section):
    dataset: str | None = Field(None, description="Golden dataset: CSV or Parquet.")
    target: str | None = Field(None, description="The target column of the golden dataset.")
    prediction: str | None = Field(
        None,
        description="The output field compared with the target by label and regression metrics "
        "(accuracy, f1, rmse, ...). Default: the output schema's only field.",
    )
    score: str | None = Field(
        None,
        description="The output field with the positive-class probability, for ranking and "
        "probabilistic metrics (roc_auc, pr_auc, log_loss, brier).",
    )
    metrics: dict[str, Threshold] = Field(default_factory=dict)
    slices: list[str] = Field(
        default_factory=list, description="Columns whose every value must meet the thresholds."
    )
    slice_metrics: dict[str, Threshold] = Field(
        default_factory=dict, description="Per-slice thresholds; default: the overall ones."
    )
    slice_min_rows: int = Field(
        30, ge=1, description="Smaller slices are reported but not judged: too noisy."
    )
    latency_p50_ms: float | None = Field(None, gt=0)
    latency_p95_ms: float | None = Field(None, gt=0)
    latency_p99_ms: float | None = Field(None, gt=0)
    throughput_rows_s: float | None = Field(None, gt=0, description="Minimum batch throughput.")
    peak_memory_mb: float | None = Field(None, gt=0)
    regression_tolerance: float = Field(
        0.01, ge=0, description="How far a metric may fall behind the accepted baseline."
    )
    batch_size: int = Field(10_000, ge=1, description="Rows per batch read and predicted.")


class Tests(Section):
    command: str = Field("pytest -q", min_length=1, description="Runs the tests, under coverage.")
    coverage_min: float | None = Field(
        None, ge=0, le=100, description="Percent, total and per core path."
    )
    core_paths: list[str] = Field(default_factory=list, description="Files that must be covered.")


class Docs(Section):
    resources: str | None = Field(None, description="'FILE' or 'FILE#heading': resource needs.")
    failure_modes: str | None = Field(None, description="'FILE' or 'FILE#heading': failure modes.")


class Config(Section):
    env: list[EnvName] = Field(default_factory=list, description="Environment variables read.")


class Notebooks(Section):
    """The notebooks the NB checks audit, and what their kernel defines before the first cell."""

    paths: list[str] = Field(
        default_factory=list,
        description="Notebooks or folders of notebooks to audit; all *.ipynb when empty.",
    )
    injected_names: list[str] = Field(
        default_factory=list,
        description="Names the kernel defines before the first cell runs (NB002 does not "
        "report them as hidden state).",
    )
    preset: Literal["kedro"] | None = Field(
        None,
        description="A framework whose kernel injects names: kedro defines catalog, context, "
        "session and pipelines.",
    )
    max_output_kb: int = Field(
        500, gt=0, description="The most a notebook's saved outputs may weigh, in KiB (NB008)."
    )
    execute: bool = Field(
        False,
        description="Run the notebooks in fresh kernels during `paved check` (NB009, NB010). "
        "Opt-in: running a notebook runs its code, `!pip install` lines included.",
    )


class Waiver(Section):
    """A gap both sides accept for now: visible, owned, and it expires."""

    check: str = Field(pattern=CHECK_ID, description="The check id, e.g. DEP002.")
    subject: str | None = Field(None, description="The one subject waived; all of them if absent.")
    reason: str = Field(min_length=1)
    expires: dt.date


class Contract(Section):
    """The production-readiness contract between data science and engineering."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        title="pavedroad handoff contract",
        protected_namespaces=(),
    )

    contract: ContractMeta | None = None
    owners: Owners | None = None
    package: Package | None = None
    dependencies: Dependencies | None = None
    model: Model | None = None
    performance: Performance | None = None
    tests: Tests | None = None
    docs: Docs | None = None
    config: Config | None = None
    notebooks: Notebooks | None = None
    waivers: list[Waiver] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the contract, for editors (Taplo, Even Better TOML) and `paved schema`."""
    schema = Contract.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


@dataclass(frozen=True)
class ContractSource:
    """One file of the contract's `extends` chain."""

    path: Path
    text: str
    prefix: tuple[str, ...]  # ("tool", "paved") when the contract lives in pyproject.toml
    data: dict[str, Any]


@dataclass(frozen=True)
class LoadedContract:
    contract: Contract
    sources: tuple[ContractSource, ...]  # the project's own file first, then its bases

    @property
    def path(self) -> Path:
        return self.sources[0].path

    def where(self, *key_path: str | int) -> tuple[Path, int | None]:
        """The file of the `extends` chain that defines `key_path`, and its line there: a waiver
        inherited from the organisation's base is written in the base, not in the project."""
        source = _defining_source(key_path, self.sources)
        return source.path, locate(source.text, (*source.prefix, *key_path))


def empty_contract(root: Path) -> LoadedContract:
    """The contract of a project that has none: every section absent. `paved deps` and
    `paved lock` work on any project, as deptry and uv do."""
    source = ContractSource(path=root / CONTRACT_FILE, text="", prefix=(), data={})
    # constructed, not validated: equal to Contract() (a test keeps it so), without building
    # the validator of every section, a tenth of a cold `paved deps`
    return LoadedContract(contract=Contract.model_construct(), sources=(source,))


def find_contract(start: Path) -> Path:
    """handoff.toml, else a pyproject.toml with [tool.paved], in `start` or the nearest folder
    above it, as git, ruff and uv find theirs: `paved check` works from any folder of a project."""
    found = search_contract(start)
    if found is None:
        raise UsageError(
            f"no contract in {start.resolve()} or any folder above it: expected {CONTRACT_FILE} "
            f"or [tool.paved] in {PYPROJECT}.\n"
            "  hint: create handoff.toml (the README has a complete example); `paved schema` "
            "shows every key."
        )
    return found


def load_contract(path: Path) -> LoadedContract:
    """Read a contract file and its `extends` chain, merge them, and validate the result."""
    sources = _read_chain(path.resolve(), chain=())
    errors: list[ContractError] = []
    for source in sources:
        # A required key may come from another file of the chain: only the merge can tell.
        errors.extend(_validate(source.data, (source,), missing=False))
    if errors:
        raise ContractErrors(errors)
    merged: dict[str, Any] = {}
    for source in reversed(sources):
        merged = _merge(merged, source.data, key_path=())
    errors = _validate(merged, sources, missing=True)
    if errors:
        raise ContractErrors(errors)
    return LoadedContract(contract=Contract.model_validate(merged), sources=sources)


def _read_chain(path: Path, chain: tuple[Path, ...]) -> tuple[ContractSource, ...]:
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain[chain.index(path) :], path))
        raise ContractError(
            f"`extends` forms a cycle: {cycle}",
            path=chain[-1],
            key="contract.extends",
            line=_extends_line(chain[-1]),
            hint="remove one of the `extends` keys",
        )
    source = _read_source(path)
    extends = (
        source.data.get("contract", {}).get("extends")
        if isinstance(source.data.get("contract"), dict)
        else None
    )
    if extends is None:
        return (source,)
    if not isinstance(extends, str):
        return (source,)  # validation reports the wrong type with its line
    base = (path.parent / extends).resolve()
    if not base.is_file():
        raise ContractError(
            f"`extends` names {extends!r}, which does not exist (looked for {base})",
            path=path,
            line=locate(source.text, (*source.prefix, "contract", "extends")),
            key="contract.extends",
            hint="the path is relative to the file that extends it",
        )
    return (source, *_read_chain(base, (*chain, path)))


def _extends_line(path: Path) -> int | None:
    source = _read_source(path)
    return locate(source.text, (*source.prefix, "contract", "extends"))


def _read_source(path: Path) -> ContractSource:
    text, data = read_toml(path)
    prefix: tuple[str, ...] = ()
    if path.name == PYPROJECT:
        prefix = ("tool", "paved")
        tool = data.get("tool", {})
        data = tool.get("paved", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            raise ContractError(
                "[tool.paved] must be a table",
                path=path,
                key="tool.paved",
                line=locate(text, prefix),
            )
    return ContractSource(path=path, text=text, prefix=prefix, data=data)


def _merge(
    base: dict[str, Any], local: dict[str, Any], key_path: tuple[str, ...]
) -> dict[str, Any]:
    """Tables merge key by key, local wins; arrays are replaced, except that roles a base requires
    stay required (a project cannot opt out of its organisation's policy by redefining the list)."""
    merged = dict(base)
    for key, value in local.items():
        here = (*key_path, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, here)
        elif (
            here == ("owners", "required")
            and isinstance(value, list)
            and isinstance(merged.get(key), list)
        ):
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        else:
            merged[key] = value
    return merged


def _validate(
    data: dict[str, Any], sources: Sequence[ContractSource], *, missing: bool
) -> list[ContractError]:
    """The validation errors of `data`, each in the file of `sources` that defines its key."""
    try:
        Contract.model_validate(data)
    except ValidationError as error:
        return _errors_from(error, sources, missing=missing)
    return []


@dataclass(frozen=True)
class _Issue:
    """One pydantic error, with its location as keys of the file and the union it came from."""

    path: tuple[str | int, ...]
    union_at: int | None  # length of `path` at which a union chose among its members
    item: ErrorDetails

    @property
    def wrong_member_type(self) -> bool:
        """The value is not of this union member's type at all (e.g. not a list)."""
        return self.union_at == len(self.path) and str(self.item["type"]).endswith("_type")


def _errors_from(
    error: ValidationError, sources: Sequence[ContractSource], *, missing: bool
) -> list[ContractError]:
    issues = [_Issue(*_user_loc(item["loc"]), item) for item in error.errors()]
    if not missing:
        issues = [issue for issue in issues if issue.item["type"] != "missing"]
    found: list[ContractError] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for issue, message, hint in _one_per_union(issues):
        if (issue.path, message) in seen:
            continue
        seen.add((issue.path, message))
        source = _defining_source(issue.path, sources)
        found.append(
            ContractError(
                message,
                path=source.path,
                line=locate(source.text, (*source.prefix, *issue.path)),
                key=_key_name(issue.path) or None,
                hint=hint,
            )
        )
    order = {source.path: rank for rank, source in enumerate(sources)}
    return sorted(found, key=lambda e: (order.get(Path(e.path), 0), e.line or 0))


def _one_per_union(issues: list[_Issue]) -> Iterator[tuple[_Issue, str, str | None]]:
    """A union reports one error per member; keep the ones of the member the value was meant
    for, or say once that the value is none of the member types."""
    unions: dict[tuple[str | int, ...], list[_Issue]] = {}
    for issue in issues:
        if issue.union_at is not None:
            unions.setdefault(issue.path[: issue.union_at], []).append(issue)
    for issue in issues:
        if issue.union_at is None:
            yield (issue, *_describe(issue))
            continue
        group = unions[issue.path[: issue.union_at]]
        specific = [i for i in group if not i.wrong_member_type]
        if specific:
            if not issue.wrong_member_type:
                yield (issue, *_describe(issue))
        elif issue is group[0]:
            kinds = " or ".join(str(i.item["msg"]).removeprefix("Input should be ") for i in group)
            yield issue, f"Input should be {kinds} (got {_short(issue.item.get('input'))})", None


_PATTERNS: dict[str, tuple[str, str]] = {
    REFERENCE: (
        "not an importable reference",
        "write it as 'package.module:name', e.g. 'churn.model:predict'",
    ),
    SHA256: ("not a sha256 digest", "64 lowercase hex digits, as printed by `sha256sum FILE`"),
    CHECK_ID: (
        "not a check id",
        "letters and three digits, e.g. 'DEP002'; `paved explain` lists them",
    ),
    IDENTIFIER: (
        "not a valid name",
        "letters, digits and underscores, not starting with a digit",
    ),
}


def _describe(issue: _Issue) -> tuple[str, str | None]:
    """The message and the hint of one error, in the words of the contract, not of pydantic."""
    item, loc = issue.item, issue.path
    kind = item["type"]
    got = f"(got {_short(item.get('input'))})"
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            return f"unknown key {loc[-1]!r}", f"did you mean {close[0]!r}?"
        return f"unknown key {loc[-1]!r}", (
            "known keys here: " + ", ".join(known)
        ) if known else None
    if kind == "missing":
        return f"missing required key {loc[-1]!r}", None
    if kind == "string_pattern_mismatch":
        pattern = str((item.get("ctx") or {}).get("pattern", ""))
        what, hint = _PATTERNS.get(pattern, (str(item["msg"]), ""))
        value = item.get("input")
        if pattern == REFERENCE and isinstance(value, str) and ":" not in value and "." in value:
            module, _, name = value.rpartition(".")
            hint = f"did you mean '{module}:{name}'?"
        return f"{what} {got}", hint or None
    return f"{str(item['msg']).removeprefix('Value error, ')} {got}", None


def _defining_source(
    loc: tuple[str | int, ...], sources: Sequence[ContractSource]
) -> ContractSource:
    """The file that defines the most of `loc`, the project's own file when they tie: an error
    found only after the merge (a required key no file gives) points where its table is."""
    return max(sources, key=lambda source: (_depth_in(source.data, loc), -sources.index(source)))


def _depth_in(data: Any, loc: tuple[str | int, ...]) -> int:
    depth = 0
    for part in loc:
        found = (isinstance(data, dict) and isinstance(part, str) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        )
        if not found:
            break
        data = data[part]
        depth += 1
    return depth


def _key_name(loc: tuple[str | int, ...]) -> str:
    """`waivers[0].check`, `performance.metrics."roc auc"`: the key as it would be written."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
            text += f".{name}" if text else name
    return text


def _user_loc(loc: tuple[int | str, ...]) -> tuple[tuple[str | int, ...], int | None]:
    """Drop pydantic's union-member labels ('str', 'list[str]'), which are not keys of the file.

    Labels are found by walking the model: a label appears exactly where the model has a union,
    so a user's own key that happens to read 'str' or 'date' (a metric's name) is kept.
    """
    annotation: Any = Contract
    path: list[str | int] = []
    union_at: int | None = None
    for part in loc:
        members = [m for m in _union_members(annotation) if m is not type(None)]
        if len(members) > 1 and isinstance(part, str):
            union_at = len(path)
            annotation = _member_for_label(members, part)
            continue
        path.append(part)
        annotation = _step(annotation, part)
    return tuple(path), union_at


def _member_for_label(members: list[Any], label: str) -> Any:
    for member in members:
        origin = typing.get_origin(member)
        if (origin is list and label.startswith("list[")) or (
            origin is dict and label.startswith("dict[")
        ):
            return member
        if isinstance(member, type) and member.__name__ == label:
            return member
    scalars = [m for m in members if typing.get_origin(m) not in (list, dict)]
    return scalars[0] if scalars else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys that are allowed at `loc`, for 'did you mean' hints."""
    annotation: Any = Contract
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _model_in(annotation)
    return list(model.model_fields) if model is not None else []


def _step(annotation: Any, part: str | int) -> Any:
    model = _model_in(annotation)
    if isinstance(part, str) and model is not None:
        field = model.model_fields.get(part)
        return field.annotation if field is not None else None
    for arg in _union_members(annotation):
        origin = typing.get_origin(arg)
        if origin is list and isinstance(part, int):
            return typing.get_args(arg)[0]
        if origin is dict and isinstance(part, str):
            return typing.get_args(arg)[1]
    return None


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for arg in _union_members(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
