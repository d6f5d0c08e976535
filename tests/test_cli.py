"""The `paved` command: exit codes are public interface, and so is what it prints."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import click
import pytest

from pavedroad import __version__, cli, engine
from pavedroad.commands import pipeline
from pavedroad.contract import json_schema
from pavedroad.project import Project
from pavedroad.registry import Family, Gap

Tree = Callable[[Mapping[str, str]], Path]
PAVED = Path(sys.executable).with_name("paved")  # the installed console script
WEIGHTS = "pretend these are weights\n"


def invoke(*args: str) -> int:
    """Run the real entry point in-process and return its exit code."""
    with pytest.raises(SystemExit) as exited:
        cli.main(list(args))
    code = exited.value.code
    assert isinstance(code, int)
    return code


def model_project(tree: Tree, *, artifact: bool = True) -> Path:
    """A project whose only enforced check here (MOD001) passes, or fails without the artifact."""
    digest = hashlib.sha256(WEIGHTS.encode()).hexdigest()
    files = {
        "handoff.toml": f'[model]\nartifact = "models/m.bin"\nsha256 = "{digest}"\n',
    }
    if artifact:
        files["models/m.bin"] = WEIGHTS
    return tree(files)


# -- check: 0, 1, 2 ------------------------------------------------------------------------


def test_ready_exits_0(tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("check", str(model_project(tree)), "--only", "MOD001") == 0
    out = capsys.readouterr().out
    assert "✓ MOD001" in out
    assert out.rstrip().endswith("READY: 1 pass")


def test_not_ready_exits_1_with_the_gap_and_its_fix(
    tree: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke("check", str(model_project(tree, artifact=False)), "--only", "mod") == 1
    out = capsys.readouterr().out
    assert "✗ MOD001  the model artifact models/m.bin does not exist" in out
    assert "at handoff.toml:2" in out
    assert "fix: Commit the artifact" in out
    assert "NOT READY: 1 fail" in out


def test_a_contract_error_exits_2_with_a_short_message_and_no_traceback(
    tree: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tree({"handoff.toml": '[packge]\nname = "x"\n\n[tests]\ncoverage_min = "high"\n'})
    assert invoke("check", str(root)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"error: {root / 'handoff.toml'}:1: [packge] unknown key 'packge'",
        "  hint: did you mean 'package'?",
        f"{root / 'handoff.toml'}:5: [tests.coverage_min] Input should be a valid number, "
        "unable to parse string as a number (got 'high')",
    ]


def test_rich_markup_in_a_contract_is_printed_literally(
    tree: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tree({"handoff.toml": '[package]\nname = "[bold red]x[/]"\n'})
    assert invoke("check", str(root)) == 2
    assert "(got '[bold red]x[/]')" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("check", "/nonexistent/project"), "does not exist"),
        (("check", "--format", "xml", "."), "'xml' is not one of"),
        (
            ("check", "--only", "MOD01", "."),
            "unknown check or family 'MOD01' (did you mean MOD001?)",
        ),
        (("nonsense",), "No such command 'nonsense'"),
    ],
)
def test_usage_errors_exit_2(
    tree: Tree, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    os.chdir(model_project(tree))
    assert invoke(*args) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err


def test_no_contract_exits_2_with_a_hint(tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("check", str(tree({"README.md": "# x\n"}))) == 2
    assert "hint: create handoff.toml" in capsys.readouterr().err


def test_the_contract_option_reads_another_file(
    tree: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = model_project(tree)
    (root / "handoff.toml").rename(root / "other.toml")
    assert invoke("check", str(root), "--contract", str(root / "other.toml"), "--only", "MOD") == 0


# -- check: 3 and 130 ----------------------------------------------------------------------


def test_an_internal_error_exits_3_and_saves_the_traceback(
    tree: Tree,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr(engine, "run", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert invoke("check", str(model_project(tree))) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: the engine fell over" in err
    assert "Traceback" not in err
    logs = list(tmp_path.glob("paved-crash-*.log"))
    assert len(logs) == 1
    assert f"The traceback is in {logs[0]}." in err.splitlines()[1]  # whole, to copy
    text = logs[0].read_text(encoding="utf-8")
    assert text.startswith(f"pavedroad {__version__}\nTraceback")
    assert "RuntimeError: the engine fell over" in text


def test_two_crashes_keep_two_logs(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("again")

    monkeypatch.setattr(engine, "run", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    root = str(model_project(tree))
    assert (invoke("check", root), invoke("check", root)) == (3, 3)
    assert len(list(tmp_path.glob("paved-crash-*.log"))) == 2


def test_interrupted_exits_130(
    tree: Tree, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "run", interrupted)
    assert invoke("check", str(model_project(tree))) == 130
    assert "interrupted" in capsys.readouterr().err


# -- formats and --output ------------------------------------------------------------------


def test_json_format_on_stdout(tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        invoke(
            "check",
            str(model_project(tree, artifact=False)),
            "--only",
            "MOD001",
            "--format",
            "json",
        )
        == 1
    )
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "not_ready"
    assert [r["id"] for r in report["results"]] == ["MOD001"]


def test_output_is_written_atomically_and_equals_the_format_output(
    tree: Tree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(model_project(tree, artifact=False))
    assert invoke("check", root, "--only", "MOD001", "--format", "json") == 1
    printed = capsys.readouterr().out
    out_dir = tmp_path / "reports"
    target = out_dir / "report.json"
    assert invoke("check", root, "--only", "MOD001", "--format", "json", "-o", str(target)) == 1
    terminal = capsys.readouterr().out
    assert target.read_text(encoding="utf-8") == printed
    assert sorted(p.name for p in out_dir.iterdir()) == ["report.json"]  # no temporary left
    assert "✗ MOD001" in terminal  # people still see the text report
    assert terminal.rstrip().endswith(f"json report written to {target}")


def test_output_that_cannot_be_written_is_a_usage_error(
    tree: Tree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    code = invoke("check", str(model_project(tree)), "--only", "MOD", "-o", str(blocker / "r.json"))
    assert code == 2
    assert f"cannot write the report to {blocker / 'r.json'}" in capsys.readouterr().err


# -- version, explain, schema --------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("--version") == 0
    assert capsys.readouterr().out == f"paved, version {__version__}\n"


def test_explain_prints_why_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("explain", "mod001") == 0
    out = capsys.readouterr().out
    assert "MOD001: The model artifact exists and matches its sha256" in out
    assert "Why it matters. The metrics, the latency and the sign-off" in out
    assert "How to fix. If the new artifact is the one to ship" in out
    assert "enforced when the contract has [model]" in out


@pytest.mark.parametrize(
    ("wanted", "hint"),
    [("MOD01", "(did you mean MOD001?)"), ("XYZ999", "(the families are ")],
)
def test_explain_an_unknown_id_exits_2_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], wanted: str, hint: str
) -> None:
    assert invoke("explain", wanted) == 2
    err = capsys.readouterr().err
    assert f"error: no check '{wanted}' {hint}" in err
    assert "MOD" in err
    assert "Traceback" not in err


def test_explain_lists_every_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = Family("ODD", "Odd")

    @odd.check("ODD001", "The [package] table names a package, [/] included")
    def odd_check(project: Project) -> Iterator[Gap]:
        """What.\n\nWhy: w.\n\nExample: e.\n\nFix: f."""
        yield from ()

    monkeypatch.setattr(pipeline, "builtin_families", lambda: [odd])
    assert invoke("explain") == 0
    assert capsys.readouterr().out.splitlines() == [
        "ODD001  The [package] table names a package, [/] included",
        "CON001  Every waiver matches a gap",
        "CON002  Every check plugin loads",
    ]


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("schema") == 0
    assert json.loads(capsys.readouterr().out) == json_schema()


# -- the installed console script ----------------------------------------------------------


def paved(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PAVED), *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=120
    )


@pytest.mark.slow
def test_the_console_script_reports_its_version() -> None:
    done = paved("--version")
    assert (done.returncode, done.stdout) == (0, f"paved, version {__version__}\n")


@pytest.mark.slow
def test_the_console_script_checks_a_project(tree: Tree) -> None:
    ready = paved("check", "--only", "MOD001", cwd=model_project(tree))
    assert ready.returncode == 0, ready.stderr
    assert "READY: 1 pass" in ready.stdout


@pytest.mark.slow
def test_the_console_script_reports_a_contract_error(tree: Tree) -> None:
    root = tree({"handoff.toml": '[owners]\nenginering = "x"\n'})
    done = paved("check", str(root))
    assert done.returncode == 2
    assert "handoff.toml:2: [owners.enginering] unknown key 'enginering'" in done.stderr
    assert "did you mean 'engineering'?" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.slow
def test_the_console_script_explains_and_rejects(tree: Tree) -> None:
    explained = paved("explain", "MOD001")
    assert explained.returncode == 0
    assert "Why it matters." in explained.stdout
    unknown = paved("explain", "XYZ999")
    assert unknown.returncode == 2
    missing = paved("check", str(tree({}) / "nowhere"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


def test_check_from_a_subfolder_checks_the_project_above_it(
    tree: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    root = model_project(tree)
    (root / "models" / "deep").mkdir()
    assert invoke("check", str(root / "models" / "deep"), "--only", "MOD001") == 0
    assert "✓ MOD001" in capsys.readouterr().out


@pytest.mark.slow
def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """`paved schema | head -1`: the pipe closes before paved writes, which must not crash
    (click turns EPIPE into a quiet exit 1, as it does for every click program)."""
    process = subprocess.Popen(
        [str(PAVED), "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # long before the interpreter has started and written anything
    with process.stderr:
        stderr = process.stderr.read()
    assert process.wait(timeout=120) == 1
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_a_report_gets_ordinary_permissions_not_the_temporary_file_s(tree: Tree) -> None:
    output = tree({}) / "report.json"
    assert (
        invoke(
            "check",
            str(model_project(tree)),
            "--only",
            "MOD001",
            "--format",
            "json",
            "--output",
            str(output),
        )
        == 0
    )
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(output.stat().st_mode) == 0o666 & ~umask


# -- commands are imported only when they run ------------------------------------------------

MODULES_AFTER = """
import json, sys
from pavedroad.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
finally:
    sys.stdout.flush()
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def modules_after(*args: str, cwd: Path) -> set[str]:
    """The modules a real `paved ARGS` process has imported by the time it exits."""
    done = subprocess.run(
        [sys.executable, "-c", MODULES_AFTER, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "TTY_COMPATIBLE": "0"},  # as a hook or CI runs it: no terminal
    )
    assert done.returncode in (0, 1), done.stderr
    modules: list[str] = json.loads(done.stderr.splitlines()[-1])
    return set(modules)


def test_paved_deps_imports_neither_the_other_commands_nor_rich_nor_tomlkit(tree: Tree) -> None:
    root = tree({"pyproject.toml": '[project]\nname = "p"\ndependencies = []\n', "p.py": ""})
    loaded = modules_after("deps", str(root), "--format", "json", cwd=root)
    assert "pavedroad.commands.deps" in loaded
    for module in (
        "pavedroad.commands.check",
        "pavedroad.commands.explain",
        "pavedroad.commands.lock",
        "pavedroad.lock",
        "pavedroad.fix_deps",
        "tomlkit",
        "pavedroad.checks.mod",
    ):
        assert module not in loaded, module


def test_commands_map_to_click_commands_of_that_name() -> None:
    for name, target in cli.COMMANDS.items():
        module, _, attribute = target.partition(":")
        command = getattr(__import__(module, fromlist=[attribute]), attribute)
        assert cli.cli.commands[name] is command
        assert command.name == name


def test_help_lists_every_command_with_its_short_help() -> None:
    done = paved("--help")
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Commands:\n", 1)[1]
    for name in cli.COMMANDS:
        command = cli.cli.commands[name]
        assert f"  {name}  " in listed
        assert " ".join((command.help or "").split()[:4]) in listed


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("depz") == 2
    assert "No such command 'depz'" in capsys.readouterr().err


def test_lazy_commands_behave_as_a_mapping() -> None:
    commands = cli.LazyCommands({"schema": "pavedroad.commands.schema:schema"})
    assert list(commands) == ["schema"] and len(commands) == 1 and "schema" in commands
    assert commands.get("nope") is None
    extra = click_command("extra")
    commands["extra"] = extra
    assert sorted(commands) == ["extra", "schema"] and commands["extra"] is extra
    del commands["schema"]
    assert list(commands) == ["extra"]
    with pytest.raises(KeyError):
        del commands["schema"]
    broken = cli.LazyCommands({"bad": "pavedroad.cli:COMMANDS"})
    with pytest.raises(TypeError, match="not a click command"):
        broken["bad"]


def click_command(name: str) -> click.Command:
    return click.Command(name, callback=lambda: None)
