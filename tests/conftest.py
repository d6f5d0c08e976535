"""Shared fixtures; the helpers they use live in helpers.py so tests can import them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import PLUGIN, write_tree


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """`tree({"handoff.toml": "...", "src/x/__init__.py": ""})` -> the project root."""
    return lambda files: write_tree(tmp_path / "project", files)


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ACME plugin really installed (by pip, into a folder of its own), for entry-point tests.

    It is not installed in the development environment, so that it never shows up in `make demo`.
    """
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        check=True,
    )
    return target
