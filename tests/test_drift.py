"""PKG004, template drift: a project made by `paved new` is on this release's template and still
holds the files the template gives it. test_drift_update.py runs the fixes for real (slow)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from helpers import FIXTURES, results_of, write_tree

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from pavedroad import __version__, cli
from pavedroad.results import Result, Status
from pavedroad.scaffold import new as scaffold
from pavedroad.scaffold import upstream

REPO = Path(__file__).resolve().parent.parent
RELEASE = f"v{__version__}"
CONTRACT = '[contract]\nversion = 1\nname = "demo"\n'


def answers_file(commit: str | None = RELEASE, **answers: object) -> str:
    """The answers file as `paved new` writes it (test_new.py holds it to that)."""
    data: dict[str, object] = {"_src_path": upstream.REPOSITORY, "ci": "none", "serving": False}
    if commit is not None:
        data["_commit"] = commit
    data.update(answers)
    header = "# Changes here will be overwritten by Copier; do NOT edit manually\n"
    return header + yaml.safe_dump(data, default_flow_style=False)


def project(tmp_path: Path, answers: str | None) -> Path:
    tree = {"handoff.toml": CONTRACT, ".pre-commit-config.yaml": "repos: []\n"}
    if answers is not None:
        tree[".copier-answers.yml"] = answers
    return write_tree(tmp_path / "demo", tree)


def drift(root: Path) -> list[Result]:
    return results_of(root, "PKG004")


def only_gap(root: Path) -> Result:
    results = drift(root)
    assert [r.status for r in results] == [Status.FAIL], results
    return results[0]


# -- the fixtures, read in full ---------------------------------------------------------------


def test_the_passing_fixture_is_on_this_release() -> None:
    answers = yaml.safe_load((FIXTURES / "pkg004/pass/.copier-answers.yml").read_text("utf-8"))
    assert answers["_commit"] == RELEASE, "a release bump moves tests/fixtures/pkg004/*/_commit"
    [result] = drift(FIXTURES / "pkg004/pass")
    assert result.status is Status.PASS
    assert result.message == (
        f"made from pavedroad's template {RELEASE} (this release's: {RELEASE}); in place: "
        ".pre-commit-config.yaml, .github/workflows/paved.yml, Dockerfile"
    )


def test_a_project_behind_the_release_is_told_the_exact_update() -> None:
    gap = only_gap(FIXTURES / "pkg004/fail-behind")
    assert gap.subject == ".copier-answers.yml"
    assert gap.message == (
        f"the project was made from pavedroad's template v0.0.9; this release's is {RELEASE}"
    )
    assert gap.location is not None and (gap.location.path, gap.location.line) == (
        ".copier-answers.yml",
        2,
    )
    assert gap.fix is not None and f"`copier update --defaults --vcs-ref {RELEASE}`" in gap.fix


def test_each_file_the_template_gives_and_the_project_deleted_is_a_gap() -> None:
    results = drift(FIXTURES / "pkg004/fail-removed")
    assert {r.status for r in results} == {Status.FAIL}
    gaps = {r.subject: r for r in results}
    assert set(gaps) == {".gitlab-ci.yml", "Dockerfile"}
    ci, docker = gaps[".gitlab-ci.yml"], gaps["Dockerfile"]
    assert ci.message == (
        ".gitlab-ci.yml is missing: the template gives the GitLab CI gate to every project "
        "made with `ci: gitlab`"
    )
    assert ci.location is not None and ci.location.line == 4  # the `ci:` answer
    assert ci.fix is not None and docker.fix is not None
    assert f"--vcs-ref {RELEASE} {upstream.REPOSITORY}" in ci.fix
    assert 'cp "$fresh/.gitlab-ci.yml" .gitlab-ci.yml' in ci.fix
    assert f"`copier update --defaults --vcs-ref {RELEASE} --data ci=none`" in ci.fix
    assert f"--vcs-ref {RELEASE} --data serving=false`" in docker.fix


# -- what applies, and what does not ----------------------------------------------------------


def test_a_project_without_answers_is_not_concerned(tmp_path: Path) -> None:
    [result] = drift(project(tmp_path, None))
    assert result.status is Status.SKIP
    assert result.message == "not made from pavedroad's template: no .copier-answers.yml"


def test_a_project_made_from_another_template_is_not_concerned(tmp_path: Path) -> None:
    answers = answers_file(_src_path="gh:acme/ml-template")
    [result] = drift(project(tmp_path, answers))
    assert result.status is Status.SKIP
    assert result.message == "made from another template (gh:acme/ml-template)"


@pytest.mark.parametrize(
    ("source", "ours"),
    [
        ("https://github.com/pavedroad/pavedroad.git", True),
        ("https://github.com/pavedroad/pavedroad", True),
        ("https://github.com/PavedRoad/pavedroad/", True),
        ("gh:pavedroad/pavedroad", True),
        ("git@github.com:pavedroad/pavedroad.git", True),
        ("git+https://github.com/pavedroad/pavedroad.git", True),
        ("https://github.com/pavedroad/pavedroad-fork.git", False),
        ("https://gitlab.com/pavedroad/pavedroad.git", False),
        ("/site-packages/pavedroad/templates/project", False),
    ],
)
def test_pavedroads_repository_however_spelt(source: str, ours: bool) -> None:
    assert upstream.names_pavedroad(source) is ours


@pytest.mark.parametrize(
    "commit",
    [RELEASE, f"{RELEASE}-3-g1a2b3c4", "v99.0.0", __version__],
    ids=["release", "past-it", "newer", "no-v"],
)
def test_this_release_or_later_passes(tmp_path: Path, commit: str) -> None:
    [result] = drift(project(tmp_path, answers_file(commit)))
    assert result.status is Status.PASS, result


@pytest.mark.parametrize(
    ("commit", "message"),
    [
        ("v0.0.1-7-g1a2b3c4", "made from pavedroad's template v0.0.1-7-g1a2b3c4; this release"),
        ("1a2b3c4d", "made from 1a2b3c4d, not a release of pavedroad's template"),
        ("main", "made from main, not a release of pavedroad's template"),
        (None, "records no `_commit`, so `copier update` cannot tell"),
    ],
)
def test_an_old_or_unknown_version_is_a_gap(
    tmp_path: Path, commit: str | None, message: str
) -> None:
    gap = only_gap(project(tmp_path, answers_file(commit)))
    assert message in gap.message
    assert gap.fix is not None and f"copier update --defaults --vcs-ref {RELEASE}" in gap.fix


def test_a_deleted_pre_commit_configuration_comes_back_from_the_projects_version(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, answers_file("v0.0.9"))
    (root / ".pre-commit-config.yaml").unlink()
    results = drift(root)
    assert [r.subject for r in results] == [".copier-answers.yml", ".pre-commit-config.yaml"]
    restore = results[1]
    assert restore.fix is not None
    assert "--vcs-ref v0.0.9 " in restore.fix  # the version the project's other files are at
    assert "no longer wants it" not in restore.fix  # no answer turns pre-commit off


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("_commit: v0.1.0\nci: [github\n", ".copier-answers.yml is not valid YAML", 3),
        ("- just\n- a list\n", ".copier-answers.yml holds no answers", None),
    ],
)
def test_an_unreadable_answers_file_is_a_gap(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    gap = only_gap(project(tmp_path, text))
    assert gap.message.startswith(message)
    assert gap.location is not None and gap.location.line == line
    assert gap.fix is not None and "Restore .copier-answers.yml from git" in gap.fix


# -- the template, as rendered ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [("ci=github", "serving=yes"), ("ci=gitlab", "serving=no"), ("ci=none", "serving=yes")],
    ids=["github-served", "gitlab", "no-ci"],
)
def test_a_fresh_project_holds_every_file_the_check_expects(
    tmp_path: Path, data: tuple[str, ...]
) -> None:
    root = tmp_path / "demo"
    with pytest.raises(SystemExit) as exited:
        cli.main(["new", str(root), "--defaults", *(a for d in data for a in ("--data", d))])
    assert exited.value.code == 0
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
    expected = {f.path for f in upstream.provided_files(answers)}
    assert len(expected) == 1 + (answers["ci"] != "none") + answers["serving"]
    assert all((root / path).is_file() for path in expected)
    [result] = drift(root)
    assert result.status is Status.PASS


class _Includes(yaml.SafeLoader):
    """Reads copier.yml's `!include` as the path it names."""


_Includes.add_constructor("!include", lambda loader, node: loader.construct_scalar(node))


def test_the_repositorys_copier_yml_is_the_bundled_template() -> None:
    """`copier update` reads the template from the repository's root: its copier.yml must take
    the bundled questions and name the bundled files (test_drift_update.py renders it)."""
    documents = list(yaml.load_all((REPO / "copier.yml").read_text("utf-8"), Loader=_Includes))
    included, overrides = documents
    bundled = scaffold.TEMPLATE.relative_to(REPO / "src").as_posix()
    assert included == f"src/{bundled}/copier.yml"
    assert overrides == {"_subdirectory": f"src/{bundled}/template"}
    assert (REPO / overrides["_subdirectory"]).is_dir()


def test_the_template_home_is_the_repository_pyproject_names() -> None:
    """One repository for the package, the hooks, the action and `copier update`."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Repository"] + ".git" == upstream.REPOSITORY
