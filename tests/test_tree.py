"""The walk every reader shares: what os.walk would give, with the same folders left out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from helpers import write_tree

from pavedroad.result_cache import Fingerprint, tree_digest
from pavedroad.tree import PRUNED_DIRS, walk


def reference(root: Path) -> Iterator[tuple[str, list[str]]]:
    """The walk as it was written on os.walk, before it was made faster."""
    for directory, subdirs, files in os.walk(root):
        if "pyvenv.cfg" in files and directory != str(root):
            subdirs[:] = []
            continue
        subdirs[:] = sorted(
            name
            for name in subdirs
            if not name.startswith(".")
            and name not in PRUNED_DIRS
            and not name.endswith(".egg-info")
        )
        yield directory, sorted(files)


def project(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "p",
        {
            "a.py": "",
            "b/c.py": "",
            "b/d/e.txt": "",
            "b/Z.py": "",
            ".git/config": "",
            ".ipynb_checkpoints/x.ipynb": "{}",
            "__pycache__/a.cpython-311.pyc": "",
            "node_modules/x.js": "",
            "pkg.egg-info/PKG-INFO": "",
            "venv2/pyvenv.cfg": "",
            "venv2/lib/site.py": "",
            "dist/x.whl": "",
            "z/y/x/w.py": "",
        },
    )
    (root / "linked").symlink_to(root / "b")  # a link to a folder: not followed
    (root / "loop").symlink_to("loop")  # a link to itself: a name, not a folder
    (root / "dangling.py").symlink_to("nowhere.py")
    return root


def test_the_walk_is_os_walk_with_the_same_folders_left_out(tmp_path: Path) -> None:
    root = project(tmp_path)
    found = list(walk(root))
    assert found == list(reference(root))
    assert [Path(directory).relative_to(root).as_posix() for directory, _ in found] == [
        ".",
        "b",
        "b/d",
        "z",
        "z/y",
        "z/y/x",
    ]
    assert found[0][1] == ["a.py", "dangling.py", "loop"]


def test_a_project_at_the_top_of_the_standard_library_walks_alike() -> None:
    stdlib = Path(os.__file__).parent / "email"
    assert list(walk(stdlib)) == list(reference(stdlib))


def test_a_file_name_that_is_not_utf8_is_fingerprinted(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "ok.py").write_text("", encoding="utf-8")
    name = os.fsdecode(b"caf\xe9.txt")  # latin-1 bytes: a surrogate in the name
    (root / name).write_text("", encoding="utf-8")
    listing = tuple(walk(root))
    assert name in listing[0][1]
    digest = tree_digest(listing)
    fingerprint = Fingerprint()
    for directory, files in listing:
        for file in files:
            fingerprint.add(os.path.join(directory, file))  # noqa: PTH118 - as the walk names it
    assert fingerprint.hexdigest() == digest
    (root / name).write_text("changed", encoding="utf-8")
    assert tree_digest(tuple(walk(root))) != digest
