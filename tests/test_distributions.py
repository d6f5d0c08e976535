"""Import name -> distribution: the shipped table, the resolution order, installed metadata."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from helpers import write_tree

import pavedroad
from pavedroad.distributions import (
    canonical,
    import_names_table,
    installed_version,
    packages_distributions,
    requires_of,
    resolve,
)

DATA = Path(pavedroad.__file__).parent / "data"
SRC = Path(pavedroad.__file__).parent.parent
REPO = SRC.parent


def pypi_names() -> set[str]:
    lines = (DATA / "pypi-names.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def installed_tops() -> set[str]:
    return set(packages_distributions())  # as Python 3.11 computes it, on 3.10 too


# -- the table --------------------------------------------------------------------------------


def test_every_distribution_in_the_table_was_verified_on_pypi() -> None:
    verified = pypi_names()
    used = {d for distributions in import_names_table().values() for d in distributions}
    assert used - verified == set(), "verify these on PyPI, then add them to pypi-names.txt"
    assert verified - used == set(), "pypi-names.txt lists names the table no longer uses"
    assert all(canonical(name) == name for name in verified)


def test_the_source_list_says_where_and_when_it_was_verified() -> None:
    header = (DATA / "pypi-names.txt").read_text(encoding="utf-8").split("\n\n")[0]
    assert "verified" in header
    assert "pypi.tsv" in header
    assert re.search(r"verified to exist on PyPI on \d{4}-\d{2}-\d{2}", header)


def test_the_table_has_at_least_100_real_mismatches() -> None:
    table = import_names_table()
    mismatches = [key for key, dists in table.items() if canonical(key) not in dists]
    assert len(mismatches) >= 100, len(mismatches)


def test_no_entry_only_repeats_what_the_same_name_rule_gives() -> None:
    for key, distributions in import_names_table().items():
        same_name = canonical(key.partition(".")[0])
        assert distributions != (same_name,), f"{key} -> {same_name} needs no table entry"


def test_keys_are_import_names_and_values_are_canonical() -> None:
    for key, distributions in import_names_table().items():
        assert all(part.isidentifier() for part in key.split(".")), key
        assert distributions, key
        assert all(canonical(d) == d for d in distributions), key
        assert len(set(distributions)) == len(distributions), key


def test_the_table_knows_the_mismatches_the_issue_names() -> None:
    table = import_names_table()
    assert table["sklearn"] == ("scikit-learn",)
    assert table["cv2"][0] == "opencv-python"
    assert table["PIL"][0] == "pillow"
    assert table["yaml"] == ("pyyaml",)
    assert table["bs4"] == ("beautifulsoup4",)
    assert table["dateutil"] == ("python-dateutil",)
    assert table["skimage"] == ("scikit-image",)
    assert table["google.cloud.storage"] == ("google-cloud-storage",)


def test_the_table_is_read_once_per_process() -> None:
    assert import_names_table() is import_names_table()


# -- resolve(), in this development environment ------------------------------------------------


def test_installed_metadata_names_the_distribution_of_an_installed_import() -> None:
    resolution = resolve("sklearn")
    assert resolution.distributions == ("scikit-learn",)
    assert resolution.source == "installed"
    assert resolution.top == "sklearn"


def test_a_submodule_resolves_through_its_top_level_package() -> None:
    resolution = resolve("sklearn.ensemble._forest")
    assert (resolution.top, resolution.distributions, resolution.source) == (
        "sklearn",
        ("scikit-learn",),
        "installed",
    )


def test_installed_metadata_comes_before_the_table() -> None:
    assert "attr" in import_names_table()
    assert "attr" in installed_tops()  # attrs is installed here (jsonschema needs it)
    assert resolve("attr").source == "installed"
    assert resolve("attr").distributions == ("attrs",)


def test_the_contract_overrides_installed_metadata() -> None:
    resolution = resolve("sklearn", {"sklearn": "Acme_SKLearn.Fork"})
    assert resolution.distributions == ("acme-sklearn-fork",)
    assert resolution.source == "contract"


def test_the_longest_dotted_override_wins() -> None:
    overrides = {"acme": "acme-core", "acme.vision": "acme-vision"}
    assert resolve("acme.vision.models", overrides).distributions == ("acme-vision",)
    assert resolve("acme.vision.models", overrides).top == "acme.vision"
    assert resolve("acme.text", overrides).distributions == ("acme-core",)
    assert resolve("acmex", overrides).source != "contract"


def test_the_table_answers_for_what_is_not_installed() -> None:
    installed = installed_tops()
    table = import_names_table()
    checked = 0
    for key, distributions in table.items():
        if key.partition(".")[0] in installed:
            continue
        resolution = resolve(f"{key}.submodule")
        assert (resolution.top, resolution.distributions, resolution.source) == (
            key,
            distributions,
            "table",
        )
        checked += 1
    assert checked >= 100


def test_an_unknown_import_is_its_own_distribution() -> None:
    resolution = resolve("surely_absent_pkg.sub")
    assert resolution.distributions == ("surely-absent-pkg",)
    assert resolution.source == "same-name"
    assert resolution.top == "surely_absent_pkg"


# -- resolve() in an environment whose every distribution the test chose ------------------------


def run_isolated(code: str, site_dirs: Sequence[Path], scratch: Path) -> object:
    """Run `code` in a Python without site-packages: it sees pavedroad's source, the packaging
    library (linked in without its metadata) and `site_dirs` only. Returns its JSON output."""
    libraries = scratch / "libraries"
    libraries.mkdir(exist_ok=True)
    for name in ("packaging", "tomli"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            (libraries / name).symlink_to(next(iter(spec.submodule_search_locations)))
    path = [str(libraries), str(SRC), *map(str, site_dirs)]
    completed = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env={"PYTHONPATH": ":".join(path), "PYTHONSAFEPATH": "1"},
        capture_output=True,
        text=True,
        check=True,
        cwd=scratch,
    )
    return json.loads(completed.stdout)


RESOLVE_ALL = """
import json, sys
from dataclasses import astuple
from pavedroad.distributions import resolve
print(json.dumps({m: astuple(resolve(m)) for m in %r}))
"""


def test_with_nothing_installed_the_table_and_the_same_name_rule_decide(tmp_path: Path) -> None:
    modules = ["yaml", "cv2", "google.cloud.storage.blob", "google.cloud", "mpl_toolkits.mplot3d"]
    modules += ["mpl_toolkits.basemap", "sklearn", "numpy.linalg"]
    found = run_isolated(RESOLVE_ALL % modules, [], tmp_path)
    assert found == {
        "yaml": ["yaml", ["pyyaml"], "table"],
        "cv2": ["cv2", list(import_names_table()["cv2"]), "table"],
        "google.cloud.storage.blob": ["google.cloud.storage", ["google-cloud-storage"], "table"],
        "google.cloud": ["google.cloud", found["google.cloud"][1], "table"],
        "mpl_toolkits.mplot3d": ["mpl_toolkits", ["matplotlib"], "table"],
        "mpl_toolkits.basemap": ["mpl_toolkits.basemap", ["basemap"], "table"],
        "sklearn": ["sklearn", ["scikit-learn"], "table"],
        "numpy.linalg": ["numpy", ["numpy"], "same-name"],
    }
    # `from google.cloud import storage`: any google-cloud-* distribution provides google.cloud
    assert {"google-cloud-storage", "google-cloud-bigquery"} <= set(found["google.cloud"][1])


def project(root: Path, name: str, files: dict[str, str]) -> Path:
    """A real distribution `name` holding `files`, built and installed by pip later."""
    packages = sorted({path.split("/")[0] for path in files})
    return write_tree(
        root / name,
        {
            "pyproject.toml": (
                '[build-system]\nrequires = ["hatchling>=1.25"]\nbuild-backend = "hatchling.build"\n'
                f'[project]\nname = "{name}"\nversion = "1.0"\n'
                "[tool.hatch.build.targets.wheel]\n"
                f"packages = {json.dumps(['src/' + p for p in packages])}\n"
            ),
            **{f"src/{path}": text for path, text in files.items()},
        },
    )


@pytest.mark.slow
def test_namespace_packages_resolve_by_the_distribution_that_ships_the_submodule(
    tmp_path: Path, install_plugin: Callable[[Path], Path]
) -> None:
    alpha = project(tmp_path, "acme-ns-alpha", {"acme_ns/alpha/__init__.py": ""})
    beta = project(tmp_path, "acme-ns-beta", {"acme_ns/beta/models.py": ""})
    tools = project(tmp_path, "acme-toolkit", {"acme_tools/__init__.py": "", "acme_tools/x.py": ""})
    sites = [install_plugin(alpha), install_plugin(beta), install_plugin(tools)]
    modules = ["acme_ns.alpha.models", "acme_ns.beta.models", "acme_ns", "acme_ns.gamma"]
    modules += ["acme_tools.x", "acme_tools"]
    found = run_isolated(RESOLVE_ALL % modules, sites, tmp_path)
    assert found == {
        "acme_ns.alpha.models": ["acme_ns.alpha", ["acme-ns-alpha"], "installed"],
        "acme_ns.beta.models": ["acme_ns.beta.models", ["acme-ns-beta"], "installed"],
        "acme_ns": ["acme_ns", found["acme_ns"][1], "installed"],
        "acme_ns.gamma": ["acme_ns", ["acme-ns"], "same-name"],
        "acme_tools.x": ["acme_tools", ["acme-toolkit"], "installed"],
        "acme_tools": ["acme_tools", ["acme-toolkit"], "installed"],
    }
    assert sorted(found["acme_ns"][1]) == ["acme-ns-alpha", "acme-ns-beta"]


@pytest.mark.slow
def test_the_table_and_its_source_list_ship_in_the_wheel(tmp_path: Path) -> None:
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", str(tmp_path), str(REPO)], check=True)
    (wheel,) = tmp_path.glob("pavedroad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pavedroad/data/import_names.toml" in names
    assert "pavedroad/data/pypi-names.txt" in names


# -- what installed distributions need ----------------------------------------------------------


def test_requires_of_lists_what_scikit_learn_needs() -> None:
    assert {"numpy", "scipy", "joblib", "threadpoolctl"} <= requires_of("scikit-learn")
    assert requires_of("Scikit_Learn") == requires_of("scikit-learn")


def test_requires_of_leaves_out_extras_and_markers_for_other_pythons() -> None:
    sklearn = importlib.metadata.requires("scikit-learn") or []
    assert any("pandas" in line and "extra ==" in line for line in sklearn)
    assert "pandas" not in requires_of("scikit-learn")
    mypy = importlib.metadata.requires("mypy") or []
    assert any(line.startswith("tomli") and "python_version" in line for line in mypy)
    assert ("tomli" in requires_of("mypy")) == (sys.version_info < (3, 11))
    assert "pathspec" in requires_of("mypy")


def test_requires_of_a_distribution_that_is_not_installed_is_empty() -> None:
    assert requires_of("surely-absent-distribution") == frozenset()


def test_installed_version() -> None:
    import sklearn

    assert installed_version("scikit-learn") == sklearn.__version__
    assert installed_version("Scikit_Learn") == sklearn.__version__
    assert installed_version("surely-absent-distribution") is None


def test_the_installed_mapping_is_cached_per_environment_and_survives_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pavedroad import distributions

    monkeypatch.setenv("PAVED_CACHE_DIR", str(tmp_path / "cache"))
    distributions._providers.cache_clear()
    fresh = dict(distributions._providers())
    [cached] = (tmp_path / "cache").glob("environments-v1/*.json")
    assert fresh["sklearn"] == ("scikit-learn",)

    distributions._providers.cache_clear()
    assert dict(distributions._providers()) == fresh  # read back from the file

    cached.write_text("{not json", encoding="utf-8")
    distributions._providers.cache_clear()
    assert dict(distributions._providers()) == fresh  # a damaged file is rebuilt, not fatal
    distributions._providers.cache_clear()


def test_a_warm_call_reads_the_cache_and_no_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pavedroad import distributions

    monkeypatch.setenv("PAVED_CACHE_DIR", str(tmp_path / "cache"))
    distributions._providers.cache_clear()
    fresh = dict(distributions._providers())

    def no_metadata() -> dict[str, list[str]]:
        raise AssertionError("the metadata was read again")

    monkeypatch.setattr(distributions, "packages_distributions", no_metadata)
    distributions._providers.cache_clear()
    assert dict(distributions._providers()) == fresh
    distributions._providers.cache_clear()


@pytest.mark.parametrize(
    "content",
    ['["sklearn"]', '{"sklearn": "scikit-learn"}', '{"sklearn": [1]}', "null", "[" * 100_000],
)
def test_a_cached_mapping_of_the_wrong_shape_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    from pavedroad import distributions

    monkeypatch.setenv("PAVED_CACHE_DIR", str(tmp_path / "cache"))
    distributions._providers.cache_clear()
    fresh = dict(distributions._providers())
    [cached] = (tmp_path / "cache").glob("environments-v1/*.json")
    cached.write_text(content, encoding="utf-8")
    distributions._providers.cache_clear()
    assert dict(distributions._providers()) == fresh
    assert json.loads(cached.read_text(encoding="utf-8"))["sklearn"] == ["scikit-learn"]
    distributions._providers.cache_clear()


def test_the_metadata_read_as_text_agrees_with_the_standard_library() -> None:
    """Names without the email parser, files without PackagePath: the same answers."""
    from pavedroad import distributions

    ours = distributions.packages_distributions()
    for top, names in importlib.metadata.packages_distributions().items():
        assert set(names) <= set(ours[top]), top
    for distribution in importlib.metadata.distributions():
        assert distributions._name_of(distribution) == distribution.metadata["Name"]
