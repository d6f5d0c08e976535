"""Parsing a module up to its last import, the rest only checked: the index must find exactly
what parsing the whole file finds, the same sites and the same failures, on every kind of file.

The reference is the whole-file parse the index did before (`ast.parse`, then the same visitor).
"""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import pytest

from pavedroad import imports
from pavedroad.import_part import PARSE_ERRORS, _split, parse_imports_part

MODULE, PACKAGE = "pkg.mod", "pkg"


def whole_file(source: bytes) -> tuple[list[imports.RawSite], list[imports.RawFailure]]:
    try:
        tree = ast.parse(source)
    except PARSE_ERRORS as error:
        return [], [imports._failure(error, None)]
    visitor = imports._Visitor(
        MODULE, PACKAGE, None, imports._import_lines(source), imports._has_dynamic(source)
    )
    visitor.body(tree.body, 0)
    return visitor.sites, []


def scanned(source: bytes) -> tuple[list[imports.RawSite], list[imports.RawFailure]]:
    return imports._scan_python(source, MODULE, PACKAGE)


CASES: dict[str, bytes] = {
    "a merge conflict far below the imports": (
        b"import os\n\n\ndef f():\n    return os.sep\n\n"
        b"<<<<<<< HEAD\nX = 1\n=======\nX = 2\n>>>>>>> theirs\n"
    ),
    "an error above the last import": b"import os\ndef f(:\n    pass\nimport sys\n",
    "handlers after the last import": (
        b"try:\n    import yaml\nexcept ImportError:\n    yaml = None\nelse:\n    pass\n"
        b"finally:\n    pass\n\nX = 1\n"
    ),
    "handlers after a comment line": (
        b"try:\n    import yaml\n# the fallback\nexcept ImportError:\n    yaml = None\nX = 1\n"
    ),
    "the last import in a string": b'X = """\nimport os\n"""\nY = 1\n\n\ndef f():\n    pass\n',
    "the last import in brackets": b"from a import (\n    b,\n)\nZ = 1\n",
    "a continued line": b"import os\nX = 1 + \\\n2\nY = 3\n",
    "TYPE_CHECKING and its else": (
        b"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\n"
        b"else:\n    pandas = None\nX = 1\n"
    ),
    "a dynamic import": b"import importlib\nm = importlib.import_module('yaml')\nX = 1\n",
    "an import in a function": (
        b"import functools\n\n\n@functools.cache\ndef f():\n    import json\n    return json\n\n"
        b"Y = 2\n"
    ),
    "no import": b"X = 1\n",
    "CRLF": b"import os\r\nX = 1\r\n\r\ndef f():\r\n    return 2\r\n",
    "a byte-order mark": b"\xef\xbb\xbfimport os\nX = 1\n",
    "latin-1, declared": b"# -*- coding: latin-1 -*-\nimport os\nNAME = '\xe9'\n",
    "latin-1, undeclared": b"import os\nNAME = '\xe9'\n",
    "bad indentation below": b"import os\n\n\ndef f():\n\tif os:\n        pass\n",
    "a NUL byte below": b"import os\nX = 1\n\x00\n",
    "an error only the symbol table sees": b"import os\nnonlocal x\n",
    "an unterminated string at the end": b"import os\nX = '''\nnever closed\n",
    "a match statement": b"import os\nmatch os.sep:\n    case '/':\n        import posixpath\nX = 1\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_index_finds_what_the_whole_file_parse_finds(name: str) -> None:
    source = CASES[name]
    assert scanned(source) == whole_file(source)


def test_a_syntax_error_far_below_the_imports_is_reported_at_its_line() -> None:
    sites, failures = scanned(CASES["a merge conflict far below the imports"])
    assert sites == [] and failures == [(7, None, "invalid syntax")]


def test_handlers_after_the_last_import_still_make_it_optional() -> None:
    sites, _ = scanned(CASES["handlers after the last import"])
    assert sites == [("yaml", 2, None, imports.OPTIONAL)]


def test_the_cut_leaves_the_statements_after_the_last_import_out_of_the_ast() -> None:
    source = b"import os\n\n\ndef f():\n    return os.sep\n\n\nclass C:\n    X = 1\n"
    split = _split(source)
    assert split is not None and split[0] == b"import os\n\n\n"
    assert [type(node) for node in parse_imports_part(source).body] == [ast.Import]


def test_real_modules_of_the_standard_library() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = [
        path
        for package in ("json", "email", "logging", "http", "importlib", "asyncio", "xml")
        for path in sorted((stdlib / package).rglob("*.py"))
    ]
    assert len(files) > 80
    for path in files:
        source = path.read_bytes()
        assert scanned(source) == whole_file(source), path
