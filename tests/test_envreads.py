"""Environment reads found in module ASTs: the os forms, aliases, and pydantic-settings classes."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from pavedroad.envreads import EnvRead, env_reads

PATH = Path("src/churn/settings.py")


def reads(source: str) -> list[tuple[str, int, str]]:
    """(name, line, via) of every read in `source`."""
    found = env_reads(ast.parse(textwrap.dedent(source)), PATH)
    return [(r.name, r.line, r.via) for r in found]


def names(source: str) -> list[str]:
    return [name for name, _, _ in reads(source)]


def test_every_os_form_is_a_read_with_its_line_and_how() -> None:
    source = """\
        import os
        a = os.environ["A"]
        b = os.environ.get("B", "x")
        c = os.environ.setdefault("C", "1")
        d = os.environ.pop("D", None)
        e = os.getenv("E")
        f = os.getenv(key="F")
        if "G" in os.environ:
            pass
        if "H" not in os.environ:
            pass
        """
    assert reads(source) == [
        ("A", 2, "os.environ[...]"),
        ("B", 3, "os.environ.get()"),
        ("C", 4, "os.environ.setdefault()"),
        ("D", 5, "os.environ.pop()"),
        ("E", 6, "os.getenv()"),
        ("F", 7, "os.getenv()"),
        ("G", 8, "... in os.environ"),
        ("H", 10, "... in os.environ"),
    ]


def test_imports_are_followed_through_aliases() -> None:
    source = """\
        import os as o
        from os import environ as env, getenv as ge
        from os import environ, getenv
        o.environ["A"]
        o.getenv("B")
        env["C"]
        env.get("D")
        ge("E")
        environ["F"]
        getenv("G")
        "H" in env
        """
    assert names(source) == ["A", "B", "C", "D", "E", "F", "G", "H"]


def test_look_alikes_that_are_not_os_are_not_reads() -> None:
    source = """\
        import os as o
        from settings import environ, getenv
        os = {"X": 1}
        os.get("X")
        environ["NOT_OS"]
        getenv("NOT_OS_EITHER")
        o.environ.copy()
        """
    assert names(source) == []


def test_os_is_bound_by_import_of_a_submodule() -> None:
    assert names("import os.path\nos.environ['A']\n") == ["A"]


def test_writes_are_not_reads() -> None:
    source = """\
        import os
        os.environ["WRITTEN"] = "1"
        del os.environ["DELETED"]
        """
    assert names(source) == []


def test_names_from_module_constants_resolve_and_dynamic_names_do_not() -> None:
    source = """\
        import os
        MODEL_PATH_VAR = "CHURN_MODEL_PATH"
        REBOUND = "FIRST"
        REBOUND = "SECOND"
        os.environ[MODEL_PATH_VAR]
        os.environ[REBOUND]
        def read(name: str) -> str | None:
            return os.environ.get(name) or os.getenv(f"CHURN_{name}")
        """
    assert names(source) == ["CHURN_MODEL_PATH"]


def test_reads_inside_functions_and_classes_are_found() -> None:
    source = """\
        from os import getenv
        class Loader:
            def path(self) -> str:
                return getenv("CHURN_MODEL_PATH", "m.joblib")
        """
    assert reads(source) == [("CHURN_MODEL_PATH", 4, "os.getenv()")]


def test_pydantic_settings_fields_read_prefix_plus_name_case_insensitively() -> None:
    source = """\
        from typing import ClassVar
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="churn_")

            model_path: str = "m.joblib"
            threshold: float = 0.5
            registry: ClassVar[dict[str, str]] = {}
            _cache: dict[str, str] = {}

            def describe(self) -> str:
                return self.model_path
        """
    found = env_reads(ast.parse(textwrap.dedent(source)), PATH)
    assert [(r.name, r.line, r.via) for r in found] == [
        ("CHURN_MODEL_PATH", 7, "pydantic-settings field Settings.model_path"),
        ("CHURN_THRESHOLD", 8, "pydantic-settings field Settings.threshold"),
    ]
    assert found[0].reads("CHURN_MODEL_PATH")
    assert found[0].reads("churn_model_path")  # pydantic-settings' default


def test_case_sensitive_settings_read_the_exact_name() -> None:
    source = """\
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="CHURN_", case_sensitive=True)
            threshold: float = 0.5
        """
    (read,) = env_reads(ast.parse(textwrap.dedent(source)), PATH)
    assert read.name == "CHURN_threshold"
    assert not read.reads("CHURN_THRESHOLD")
    assert read.reads("CHURN_threshold")


def test_aliases_name_the_variable_without_the_prefix() -> None:
    source = """\
        from typing import Annotated
        from pydantic import AliasChoices, Field
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="CHURN_")
            token: str = Field("", validation_alias="SERVICE_TOKEN")
            url: str = Field("", alias="SERVICE_URL")
            region: Annotated[str, Field(validation_alias=AliasChoices("AWS_REGION", "REGION"))] = ""
        """
    assert names(source) == ["SERVICE_TOKEN", "SERVICE_URL", "AWS_REGION", "REGION"]


def test_subclasses_inherit_the_prefix_and_may_override_it() -> None:
    source = """\
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class Base(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="CHURN_")
            model_path: str = ""

        class Serving(Base):
            port: int = 8000

        class Batch(Base):
            model_config = SettingsConfigDict(env_prefix="BATCH_")
            size: int = 256

        class Plain:
            not_a_setting: int = 1
        """
    assert names(source) == ["CHURN_MODEL_PATH", "CHURN_PORT", "BATCH_SIZE"]


@pytest.mark.parametrize(
    ("imports", "base"),
    [
        ("from pydantic import BaseSettings", "BaseSettings"),
        ("from pydantic.v1 import BaseSettings", "BaseSettings"),
        ("from pydantic_settings import BaseSettings as Base_", "Base_"),
        ("import pydantic_settings", "pydantic_settings.BaseSettings"),
        ("import pydantic_settings as ps", "ps.BaseSettings"),
        ("import pydantic.v1", "pydantic.v1.BaseSettings"),
    ],
)
def test_import_spellings_and_the_v1_config_class(imports: str, base: str) -> None:
    source = f"""\
{imports}

class Settings({base}):
    threshold: float = 0.5

    class Config:
        env_prefix = "CHURN_"
"""
    assert names(source) == ["CHURN_THRESHOLD"]


def test_pydantic_v1_field_env_names_the_variable() -> None:
    source = """\
        from pydantic import BaseSettings, Field

        class Settings(BaseSettings):
            dsn: str = Field(..., env="DATABASE_URL")
            hosts: list[str] = Field([], env=["HOSTS", "HOST_LIST"])
        """
    assert names(source) == ["DATABASE_URL", "HOSTS", "HOST_LIST"]


def test_a_class_named_like_base_settings_but_not_imported_is_not_settings() -> None:
    source = """\
        class BaseSettings:
            pass

        class Settings(BaseSettings):
            threshold: float = 0.5
        """
    assert names(source) == []


def test_env_read_reports_where_it_is() -> None:
    (read,) = env_reads(ast.parse("import os\nos.getenv('X')\n"), PATH)
    assert read == EnvRead(name="X", path=PATH, line=2, via="os.getenv()")
