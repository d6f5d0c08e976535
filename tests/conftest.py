"""Shared fixtures; the helpers they use live in helpers.py so tests can import them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from helpers import PLUGIN, write_tree


@pytest.fixture(autouse=True)
def _private_import_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import index caches by content hash under the user's cache folder; tests use their
    own, so they never write to ~/.cache nor read what another run left there."""
    monkeypatch.setenv("PAVED_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "paved-cache"))


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """`tree({"handoff.toml": "...", "src/x/__init__.py": ""})` -> the project root."""
    return lambda files: write_tree(tmp_path / "project", files)


def pip_install_target(package: Path, target: Path) -> Path:
    """Install `package` really (by pip, into a folder of its own) and return that folder.

    A folder of its own, not the development environment, so that a test plugin never shows
    up in `make demo`; tests put it on PYTHONPATH of the subprocess that needs it.
    """
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
            str(package),
        ],
        check=True,
    )
    return target


@pytest.fixture(scope="session")
def install_plugin(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """`install_plugin(package_dir)` -> a new folder where pip installed that package."""
    return lambda package: pip_install_target(package, tmp_path_factory.mktemp("plugin-site"))


@pytest.fixture(scope="session")
def plugin_site(install_plugin: Callable[[Path], Path]) -> Path:
    """The ACME plugin really installed, for entry-point tests."""
    return install_plugin(PLUGIN)
