"""CODEOWNERS parsing and GitHub's pattern rules (docs.github.com, "About code owners")."""

from __future__ import annotations

import pytest

from pavedroad.codeowners import Rule, compile_pattern, is_comparable, parse, same_owner

# (pattern, path, matches): the examples of GitHub's documentation and gitignore's rules.
PATTERNS = [
    ("*", "README.md", True),
    ("*", "src/churn/model.py", True),
    ("*.js", "app.js", True),
    ("*.js", "web/static/app.js", True),
    ("*.js", "app.jsx", False),
    ("*.go", "go.mod", False),
    ("/build/logs/", "build/logs/today.log", True),
    ("/build/logs/", "build/logs/2024/today.log", True),
    ("/build/logs/", "other/build/logs/today.log", False),
    ("/build/logs/", "build/logs", False),  # a trailing slash names the directory's content
    ("docs/*", "docs/getting-started.md", True),
    ("docs/*", "docs/build-app/troubleshooting.md", False),
    ("docs/*", "docs", False),
    ("apps/", "apps/web/index.js", True),
    ("apps/", "services/apps/api.py", True),  # no leading slash: a directory at any depth
    ("apps/", "apps", False),
    ("/docs/", "docs/index.md", True),
    ("/docs/", "src/docs/index.md", False),
    ("**/logs", "logs", True),
    ("**/logs", "deeply/nested/logs/x.log", True),
    ("**/logs", "logsheet", False),
    ("/scripts/", "scripts/deploy.sh", True),
    ("src/churn", "src/churn/model.py", True),  # a slash in the middle anchors at the root
    ("src/churn", "lib/src/churn/model.py", False),
    ("src/churn", "src/churnkit/model.py", False),
    ("/src/churn/", "src/churn/features/select.py", True),
    ("churn", "src/churn/model.py", True),  # one segment: a file or directory at any depth
    ("churn", "src/churnkit.py", False),
    ("/*", "setup.py", True),
    ("/*", "src/setup.py", False),
    ("src/**/model.py", "src/model.py", True),
    ("src/**/model.py", "src/a/b/model.py", True),
    ("src/**", "src/a/b.py", True),
    ("src/**", "src", False),
    ("f?o.py", "foo.py", True),
    ("f?o.py", "fooo.py", False),
    ("f\\*o", "f*o", True),
    ("f\\*o", "foo", False),
    ("a+b(c).py", "a+b(c).py", True),  # regex characters are literal
    ("/", "anything", False),
    ("a/***", "a/b", False),  # rejected by GitHub: owns nothing
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PATTERNS)
def test_pattern_matches_as_github_documents(pattern: str, path: str, expected: bool) -> None:
    assert Rule(pattern, ("@o",), 1).matches(path) is expected


def test_invalid_patterns_compile_to_nothing() -> None:
    assert compile_pattern("") is None
    assert compile_pattern("/") is None
    assert compile_pattern("x/***/y") is None


def test_parse_reads_rules_owners_and_lines_and_skips_comments() -> None:
    owners = parse(
        "# comment\n"
        "\n"
        "*       @acme/platform   # inline comment\n"
        "/docs/  docs@example.com @writer\n"
        "  /generated/\n"
        "path\\ with\\ spaces @someone\n"
        "file#1.py @hash\n"
    )
    assert owners.rules == (
        Rule("*", ("@acme/platform",), 3),
        Rule("/docs/", ("docs@example.com", "@writer"), 4),
        Rule("/generated/", (), 5),
        Rule("file#1.py", ("@hash",), 7),
    )
    assert owners.owners == {"@acme/platform", "docs@example.com", "@writer", "@hash"}


def test_last_matching_rule_wins() -> None:
    owners = parse("*  @everyone\n/src/churn/ @ds\n*.py @web\n")
    assert owners.owners_of("src/churn/model.py") == ("@web",)
    assert owners.owners_of("src/churn/data.csv") == ("@ds",)
    assert owners.owners_of("README.md") == ("@everyone",)
    assert [r.line for r in owners.rules_for("src/churn/model.py")] == [3]


def test_a_rule_without_owners_leaves_files_unowned() -> None:
    owners = parse("*  @everyone\n/generated/\n")
    assert owners.owners_of("generated/schema.py") == ()
    assert owners.rules_for("generated/schema.py") == (Rule("/generated/", (), 2),)


def test_no_rule_no_owner() -> None:
    owners = parse("/docs/ @writer\n")
    assert owners.rules_for("src/churn/model.py") == ()


def test_gitlab_sections_combine_and_give_default_owners() -> None:
    owners = parse(
        "[Platform] @acme/platform\n"
        "*\n"
        "\n"
        "[Model][2] @acme/ds\n"
        "/src/churn/\n"
        "/src/churn/serving.py @acme/serving\n"
        "\n"
        "^[Docs]\n"
        "/docs/ @acme/docs\n"
        "[platform]\n"  # section names are case-insensitive: this continues [Platform]
        "*.py @acme/python\n"
    )
    assert owners.owners_of("src/churn/model.py") == ("@acme/python", "@acme/ds")
    assert owners.owners_of("src/churn/serving.py") == ("@acme/python", "@acme/serving")
    assert owners.owners_of("docs/index.md") == ("@acme/platform", "@acme/docs")
    assert {r.section for r in owners.rules} == {"platform", "model", "docs"}


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ("@alice", "@alice", True),
        ("@Alice", "@alice", True),
        ("alice@example.com", "Alice@Example.com", True),
        ("@acme/ml-platform", "@acme/ml-platform", True),
        ("ml-platform", "@ml-platform", True),
        ("ml-platform", "@acme/ml-platform", True),
        ("ml-platform", "@acme/ml-platform-web", False),
        ("ml-platform", "ml-platform@example.com", False),
        ("@ml-platform", "@acme/ml-platform", False),  # a handle is not a team of that name
        ("alice@example.com", "@alice", False),
        ("@alice", "@bob", False),
    ],
)
def test_same_owner(ours: str, theirs: str, expected: bool) -> None:
    assert same_owner(ours, theirs) is expected


def test_free_text_names_are_not_comparable() -> None:
    assert is_comparable("@alice")
    assert is_comparable("alice@example.com")
    assert is_comparable("ml-platform")
    assert not is_comparable("Platform on-call rotation")
