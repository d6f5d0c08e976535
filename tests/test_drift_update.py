"""`copier update` on a project made from pavedroad's template, for real, and PKG004 around it.

A user's project records `_src_path: https://github.com/pavedroad/pavedroad.git` and the release
tag. Here that URL leads, through git's own `url.<base>.insteadOf` (as on a machine that reaches
GitHub through a mirror), to a local repository laid out as pavedroad's: the root copier.yml and
the bundled template, with two releases: v0.0.0, an older template (one ignore line and one
script fewer), and this release, the template as it is in this checkout. Copier, git and the
commands the gaps print all run as a user would run them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import results_of

from pavedroad import __version__, cli
from pavedroad.results import Result, Status
from pavedroad.scaffold import new as scaffold
from pavedroad.scaffold import upstream

REPO = Path(__file__).resolve().parent.parent
RELEASE, OLD = f"v{__version__}", "v0.0.0"
BUNDLED = scaffold.TEMPLATE.relative_to(REPO)  # src/pavedroad/templates/project
ADDED = "scripts/record_sha256.py"  # a file the newer template adds
CHANGED = ".gitignore"  # a file whose last line the newer template adds
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.slow


def git(root: Path, env: dict[str, str], *args: str) -> str:
    return run(["git", *args], root, env)


def run(command: list[str], root: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def shell(command: str, root: Path, env: dict[str, str]) -> None:
    run(["bash", "-c", command], root, env)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Git configured for the test alone: an identity, and pavedroad's URL rewritten to the
    local repository with the two releases. Copier from this venv first on the PATH."""
    mirror = tmp_path / "pavedroad"
    config = tmp_path / "gitconfig"
    config.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        f'[url "{mirror}"]\n\tinsteadOf = {upstream.REPOSITORY}\n',
        encoding="utf-8",
    )
    environment = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    make_releases(mirror, environment)
    return environment


def make_releases(mirror: Path, env: dict[str, str]) -> None:
    template = mirror / BUNDLED
    shutil.copytree(REPO / BUNDLED, template, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "copier.yml", mirror / "copier.yml")
    git(mirror, env, "init", "--quiet")
    real_ignore = (template / "template/.gitignore.jinja").read_text(encoding="utf-8")
    real_script = (template / "template" / ADDED).read_text(encoding="utf-8")
    (template / "template/.gitignore.jinja").write_text(
        "".join(real_ignore.splitlines(keepends=True)[:-1]), encoding="utf-8"
    )
    (template / "template" / ADDED).unlink()
    git(mirror, env, "add", "--all")
    git(mirror, env, "commit", "--quiet", "-m", "the older template")
    git(mirror, env, "tag", OLD)
    (template / "template/.gitignore.jinja").write_text(real_ignore, encoding="utf-8")
    (template / "template" / ADDED).write_text(real_script, encoding="utf-8")
    git(mirror, env, "add", "--all")
    git(mirror, env, "commit", "--quiet", "-m", "this release's template")
    git(mirror, env, "tag", RELEASE)


def copier_copy(ref: str, root: Path, env: dict[str, str], *data: str) -> None:
    """A project from pavedroad's repository at `ref`, as a user makes one with Copier."""
    answers = [arg for pair in ("project_name=demo", *data) for arg in ("--data", pair)]
    command = ["copier", "copy", "--quiet", "--defaults", "--vcs-ref", ref, *answers]
    run([*command, upstream.REPOSITORY, str(root)], root.parent, env)


def drift(root: Path) -> list[Result]:
    return results_of(root, "PKG004")


def commands_in(fix: str | None) -> list[str]:
    """The shell commands a fix gives, in backquotes."""
    assert fix is not None
    return [c for c in re.findall(r"`([^`]+)`", fix) if " --" in c]


def answers_of(root: Path) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load(
        (root / ".copier-answers.yml").read_text(encoding="utf-8")
    )
    return data


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def test_copier_update_brings_the_release_and_the_gap_closes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = tmp_path / "demo"
    copier_copy(OLD, root, env, f"python_version={PYTHON}")
    assert answers_of(root)["_commit"] == OLD
    assert answers_of(root)["_src_path"] == upstream.REPOSITORY
    assert not (root / ADDED).exists()
    old_ignore = (root / CHANGED).read_text(encoding="utf-8")
    with (root / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("\nOur team's own notes.\n")
    git(root, env, "init", "--quiet")
    git(root, env, "add", "--all")
    git(root, env, "commit", "--quiet", "-m", "made from the template")

    [behind] = drift(root)
    assert behind.status is Status.FAIL
    assert behind.message == f"the project was made from pavedroad's template {OLD}; " + (
        f"this release's is {RELEASE}"
    )
    [update] = commands_in(behind.fix)
    assert update == f"copier update --defaults --vcs-ref {RELEASE}"
    shell(update, root, env)

    assert answers_of(root)["_commit"] == RELEASE
    assert (root / ADDED).read_bytes() == (REPO / BUNDLED / "template" / ADDED).read_bytes()
    new_ignore = (root / CHANGED).read_text(encoding="utf-8")
    assert new_ignore.startswith(old_ignore) and len(new_ignore) > len(old_ignore)
    assert (root / "README.md").read_text(encoding="utf-8").endswith("Our team's own notes.\n")
    [current] = drift(root)
    assert current.status is Status.PASS

    # The update leaves the project as `paved new` of this release makes it, answers included
    # (paved new records the same source and tag as Copier rendering the tag does), but for
    # the team's own lines.
    with pytest.raises(SystemExit) as exited:
        cli.main(["new", str(tmp_path / "fresh" / "demo"), "--defaults"])
    assert exited.value.code == 0
    fresh, updated = tree(tmp_path / "fresh" / "demo"), tree(root)
    assert set(fresh) == set(updated)
    assert {path for path in fresh if fresh[path] != updated[path]} == {"README.md"}


def test_a_deleted_file_comes_back_with_the_command_the_gap_gives(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = tmp_path / "demo"
    copier_copy(RELEASE, root, env)
    git(root, env, "init", "--quiet")
    git(root, env, "add", "--all")
    git(root, env, "commit", "--quiet", "-m", "made from the template")
    kept = (root / ".pre-commit-config.yaml").read_bytes()
    git(root, env, "rm", "--quiet", ".pre-commit-config.yaml", ".github/workflows/paved.yml")
    git(root, env, "commit", "--quiet", "-m", "no hooks, no CI")

    gaps = {r.subject: r for r in drift(root)}
    assert {r.status for r in gaps.values()} == {Status.FAIL}
    assert set(gaps) == {".pre-commit-config.yaml", ".github/workflows/paved.yml"}
    [restore] = commands_in(gaps[".pre-commit-config.yaml"].fix)
    shell(restore, root, env)
    assert (root / ".pre-commit-config.yaml").read_bytes() == kept
    git(root, env, "add", "--all")
    git(root, env, "commit", "--quiet", "-m", "hooks back")

    # The CI workflow stays away, by an answer: the update records ci=none.
    restore_ci, opt_out = commands_in(gaps[".github/workflows/paved.yml"].fix)
    assert restore_ci.endswith(
        'cp "$fresh/.github/workflows/paved.yml" .github/workflows/paved.yml'
    )
    assert opt_out == f"copier update --defaults --vcs-ref {RELEASE} --data ci=none"
    shell(opt_out, root, env)
    assert answers_of(root)["ci"] == "none"
    assert not (root / ".github/workflows/paved.yml").exists()
    [passing] = drift(root)
    assert passing.status is Status.PASS
