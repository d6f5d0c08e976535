"""Read a notebook file into plain data, validating only the nbformat 4 fields pavedroad reads.

nbformat's own reader validates the whole JSON schema, which costs more than the audit itself on
500 notebooks; the fields read here are checked for presence and type instead, so a malformed
file is one clear error that says which field is wrong, and never a traceback later.

The Python of a code cell is its source with the IPython syntax (magics, shell lines, help lines)
replaced by `pass`, keeping line numbers; the replaced lines are kept as evidence (`IPythonLine`)
for the checks that look for what they do (`!pip install`, `%cd /Users/...`).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

# Cell magics whose body is still Python that runs in the kernel.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture"})
# IPython lines that do not start with % ! ?: a magic's output assigned (`files = !ls`,
# `t = %timeit -o f()`), and help asked after the name (`np.mean?`, `df.plot??`).
IPYTHON_LINE = re.compile(
    r"[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!].*|[A-Za-z_][\w.]*(\(\))?\?\??"
)
# What ast.parse raises on a cell it cannot parse (see pavedroad.import_part.PARSE_ERRORS).
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
SUPPORTED_NBFORMAT = 4
UPGRADE = "jupyter nbconvert --to notebook --nbformat 4 --inplace"
CELL_KINDS = frozenset({"code", "markdown", "raw"})
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PYTHON_LANGUAGES = frozenset({"python", "python2", "python3", "ipython", "ipython2", "ipython3"})


class NotebookError(Exception):
    """The file is not a notebook pavedroad can read; the message says why, and `line` where
    when the JSON itself is broken."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


@dataclass(frozen=True)
class IPythonLine:
    """A line of a code cell that is IPython syntax, not Python: `!pip install x`, `%cd /a`,
    `files = !ls`, `np.mean?`, or a line of a `%%bash` cell (`cell_magic` names the magic)."""

    line: int  # 1-based, in the cell's source; a `\\`-continued command is one line
    text: str  # stripped; continuation lines joined
    cell_magic: str | None = None


@dataclass(frozen=True)
class CellCode:
    """A code cell's Python (None for a cell magic whose body is not Python) and its IPython."""

    python: str | None
    ipython: tuple[IPythonLine, ...]


@dataclass(frozen=True)
class Output:
    """One output of a code cell: its type, the text a person reads in it, and its size."""

    kind: str  # stream, display_data, execute_result, error
    texts: tuple[str, ...]  # stream text, text/* and JSON payloads, an error's traceback
    size: int  # characters of every payload, images included: what the file carries
    ename: str | None = None
    evalue: str | None = None


@dataclass(frozen=True)
class Nodes:
    """A cell's string literals (of an f-string only its start: `f"{root}/home"` is no path),
    and its calls and imports in the order they are written."""

    strings: tuple[tuple[int, str], ...]  # (line, value)
    calls: tuple[ast.Call, ...]
    imports_and_calls: tuple[ast.Import | ast.ImportFrom | ast.Call, ...]

    @classmethod
    def of(cls, tree: ast.Module | None) -> Nodes:
        strings: list[tuple[int, str]] = []
        found: list[ast.Import | ast.ImportFrom | ast.Call] = []
        stack: list[ast.AST] = [tree] if tree is not None else []
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Constant:
                value = node.value  # type: ignore[attr-defined]
                if isinstance(value, str):
                    strings.append((node.lineno, value))  # type: ignore[attr-defined]
                continue
            if kind is ast.JoinedStr:
                values = node.values  # type: ignore[attr-defined]
                if values and type(values[0]) is ast.Constant:
                    stack.append(values[0])
                stack.extend(v.value for v in values if type(v) is ast.FormattedValue)
                continue
            if kind is ast.Call or kind is ast.Import or kind is ast.ImportFrom:
                found.append(node)  # type: ignore[arg-type]
            stack.extend(ast.iter_child_nodes(node))
        found.sort(key=lambda n: (n.lineno, n.col_offset))
        calls = tuple(n for n in found if isinstance(n, ast.Call))
        return cls(tuple(sorted(strings)), calls, tuple(found))


@dataclass(frozen=True)
class Cell:
    index: int  # position in the notebook's `cells` list, counted from 0 as DEP008 does
    kind: str  # code, markdown, raw
    source: str
    tags: tuple[str, ...]
    execution_count: int | None
    outputs: tuple[Output, ...]

    @cached_property
    def code(self) -> CellCode:
        return split_cell(self.source)

    @cached_property
    def tree(self) -> ast.Module | None:
        """The cell's Python parsed, or None when it has none or it does not parse."""
        python = self.code.python
        if python is None:
            return None
        try:
            return ast.parse(python)
        except PARSE_ERRORS:
            return None

    @cached_property
    def nodes(self) -> Nodes:
        """The nodes the hazard checks look at, gathered in one walk shared by them all."""
        return Nodes.of(self.tree)

    @property
    def blank(self) -> bool:
        return not self.source.strip()


@dataclass(frozen=True)
class Notebook:
    path: Path
    language: str  # as the notebook names it: "python", "R", "julia", ...
    kernel: str  # the kernelspec's name, "" when the notebook names none
    cells: tuple[Cell, ...]

    @property
    def is_python(self) -> bool:
        language = self.language.lower()
        return language in _PYTHON_LANGUAGES or language.startswith("python")

    @property
    def code_cells(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.kind == "code")


# -- reading ---------------------------------------------------------------------------------


def read_notebook(path: Path) -> Notebook:
    """The notebook at `path`, or NotebookError saying what is wrong with it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NotebookError(f"cannot be read: {error.strerror or error}") from None
    return parse_notebook(data, path)


def parse_notebook(data: bytes, path: Path) -> Notebook:
    try:
        document = json.loads(data)
    except json.JSONDecodeError as error:
        raise NotebookError(
            f"is not valid JSON (line {error.lineno} column {error.colno}: {error.msg}); "
            "truncated or edited by hand?",
            error.lineno,
        ) from None
    except UnicodeDecodeError as error:
        raise NotebookError(f"is not UTF-8 text: {error.reason}") from None
    except (ValueError, RecursionError) as error:  # an integer too long, nesting too deep
        raise NotebookError(f"is not valid JSON: {error}") from None
    top = _mapping(document, "the file")
    _format_version(top)
    metadata = _mapping(top.get("metadata", {}), "metadata")
    language, kernel = _language(metadata)
    cells = _sequence(_required(top, "cells", "the notebook"), "cells")
    return Notebook(
        path=path,
        language=language,
        kernel=kernel,
        cells=tuple(_cell(index, cell) for index, cell in enumerate(cells)),
    )


def _format_version(top: Mapping[str, Any]) -> None:
    version = _required(top, "nbformat", "the notebook")
    if type(version) is not int:
        raise NotebookError(f"nbformat must be an integer, not {_kind(version)}")
    if version < SUPPORTED_NBFORMAT:
        raise NotebookError(
            f"is an nbformat {version} notebook; pavedroad reads nbformat 4: upgrade it with "
            f"`{UPGRADE} NOTEBOOK`"
        )
    if version > SUPPORTED_NBFORMAT:
        raise NotebookError(f"is an nbformat {version} notebook; pavedroad reads nbformat 4")


def _language(metadata: Mapping[str, Any]) -> tuple[str, str]:
    """The kernel's language (python when the notebook does not say) and the kernel's name."""
    kernelspec = _mapping(metadata.get("kernelspec", {}), "metadata.kernelspec")
    info = _mapping(metadata.get("language_info", {}), "metadata.language_info")
    kernel = _text(kernelspec.get("name", ""), "metadata.kernelspec.name")
    language = _text(kernelspec.get("language", ""), "metadata.kernelspec.language")
    language = language or _text(info.get("name", ""), "metadata.language_info.name")
    if not language:  # only a kernel name: IRkernel is "ir", IJulia "julia-1.10"
        language = "r" if kernel == "ir" else "julia" if kernel.startswith("julia") else "python"
    return language.strip(), kernel


def _cell(index: int, raw: object) -> Cell:
    where = f"cells[{index}]"
    cell = _mapping(raw, where)
    kind = _text(_required(cell, "cell_type", where), f"{where}.cell_type")
    if kind not in CELL_KINDS:
        raise NotebookError(f"{where}.cell_type is {kind!r}, not code, markdown or raw")
    source = _multiline(_required(cell, "source", where), f"{where}.source")
    metadata = _mapping(cell.get("metadata", {}), f"{where}.metadata")
    tags = _sequence(metadata.get("tags", []), f"{where}.metadata.tags")
    if kind != "code":
        return Cell(index, kind, source, _texts(tags, f"{where}.metadata.tags"), None, ())
    count = _required(cell, "execution_count", where)
    if count is not None and type(count) is not int:
        raise NotebookError(
            f"{where}.execution_count must be an integer or null, not {_kind(count)}"
        )
    outputs = _sequence(_required(cell, "outputs", where), f"{where}.outputs")
    return Cell(
        index=index,
        kind=kind,
        source=source,
        tags=_texts(tags, f"{where}.metadata.tags"),
        execution_count=count,
        outputs=tuple(_output(raw, f"{where}.outputs[{i}]") for i, raw in enumerate(outputs)),
    )


def _output(raw: object, where: str) -> Output:
    output = _mapping(raw, where)
    kind = _text(_required(output, "output_type", where), f"{where}.output_type")
    if kind == "stream":
        text = _multiline(_required(output, "text", where), f"{where}.text")
        return Output(kind, (text,), len(text))
    if kind == "error":
        ename = _text(_required(output, "ename", where), f"{where}.ename")
        evalue = _text(_required(output, "evalue", where), f"{where}.evalue")
        frames = _sequence(_required(output, "traceback", where), f"{where}.traceback")
        lines = _texts(frames, f"{where}.traceback")
        traceback = _ANSI.sub("", "\n".join(lines))
        return Output(kind, (traceback,), sum(map(len, lines)), ename, evalue)
    if kind in ("display_data", "execute_result"):
        data = _mapping(_required(output, "data", where), f"{where}.data")
        texts, size = _payloads(data, f"{where}.data")
        return Output(kind, texts, size)
    raise NotebookError(
        f"{where}.output_type is {kind!r}, not stream, display_data, execute_result or error"
    )


def _payloads(data: Mapping[str, Any], where: str) -> tuple[tuple[str, ...], int]:
    """The readable payloads of a rich output (images count in the size only) and its size."""
    texts: list[str] = []
    size = 0
    for mime, value in data.items():
        if mime.endswith("json") and not isinstance(value, str):
            text = _json_text(value, f"{where}[{mime!r}]")  # JSON payloads hold JSON itself
        else:
            text = _multiline(value, f"{where}[{mime!r}]")
        size += len(text)
        if not mime.startswith("image/") or mime == "image/svg+xml":
            texts.append(text)
    return tuple(texts), size


def _json_text(value: object, where: str) -> str:
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):
        raise NotebookError(f"{where} holds JSON nested too deeply to read") from None


# -- typed access with one clear error -------------------------------------------------------


def _required(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise NotebookError(f"{where} has no {key!r} field")
    return mapping[key]


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise NotebookError(f"{where} must be a JSON object, not {_kind(value)}")
    return value


def _sequence(value: object, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise NotebookError(f"{where} must be a list, not {_kind(value)}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise NotebookError(f"{where} must be a string, not {_kind(value)}")
    return value


def _texts(values: Sequence[Any], where: str) -> tuple[str, ...]:
    return tuple(_text(value, f"{where}[{i}]") for i, value in enumerate(values))


def _multiline(value: object, where: str) -> str:
    """nbformat's multiline string: a string, or a list of strings to join."""
    text = cell_text(value)
    if text is None:
        raise NotebookError(f"{where} must be a string or a list of strings, not {_kind(value)}")
    return text


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


# -- the Python of a code cell ---------------------------------------------------------------


def cell_text(source: object) -> str | None:
    """A cell's source as one string (nbformat stores a string or a list of lines)."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    return None


def python_of_cell(text: str) -> str | None:
    """The Python of a code cell with its IPython syntax (line magics, shell lines, help lines)
    replaced by `pass`, so that line numbers and blocks stay as written; None for a cell magic
    whose body is not Python (`%%bash`, `%%writefile`)."""
    return split_cell(text).python


def split_cell(text: str) -> CellCode:
    """`python_of_cell`, and the IPython lines it replaced: the evidence of what they do."""
    lines = text.split("\n")
    ipython: list[IPythonLine] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(maxsplit=1)
        ipython.append(IPythonLine(first + 1, lines[first].strip()))
        if not magic or magic[0] not in PYTHON_CELL_MAGICS:
            name = magic[0] if magic else ""
            body = [
                IPythonLine(i + 1, line.strip(), name)
                for i, line in enumerate(lines[first + 1 :], start=first + 1)
                if line.strip()
            ]
            return CellCode(None, (*ipython, *body))
        lines[first] = ""
    continued = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if continued:
            lines[i] = ""  # the rest of `!pip install \`
            last = ipython[-1]
            ipython[-1] = replace(
                last, text=f"{last.text.removesuffix(chr(92)).rstrip()} {stripped}"
            )
        elif stripped.startswith(("%", "!", "?")) or IPYTHON_LINE.fullmatch(stripped):
            lines[i] = line[: len(line) - len(line.lstrip())] + "pass"
            ipython.append(IPythonLine(i + 1, stripped))
        else:
            continue
        continued = stripped.endswith("\\")
    return CellCode("\n".join(lines), tuple(ipython))
