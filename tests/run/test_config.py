"""The run configuration: where it is found, what it may contain, and environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.run.config import SCHEMA, env_name, load_config
from tests.run.harness import REPO_ROOT

FULL = """
retention_days = 120

[traces]
paths = ["logs/proxy", "/abs/litellm/*.jsonl"]
repo = "acme/web"
tenant = "acme"

[github]
repos = ["acme/web", "acme/api"]
since = "2025-01-01"

[freshness]
traces_warn_after_hours = 6
traces_error_after_hours = 12
fail_on_error = true

[build]
args = ["--exclude", "tag:slow"]

[export]
parquet = false
"""


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_every_key_from_prodlens_toml(cwd: Path, tmp_path: Path) -> None:
    (cwd / "prodlens.toml").write_text(FULL)
    config = load_config(home=Home(tmp_path / "home"), env={})
    assert config.source == cwd / "prodlens.toml"
    assert config.retention_days == 120
    assert config.traces.paths == (str(cwd / "logs/proxy"), "/abs/litellm/*.jsonl")  # relative to the file
    assert (config.traces.repo, config.traces.tenant) == ("acme/web", "acme")
    assert config.github.repos == ("acme/web", "acme/api") and config.github.since == "2025-01-01"
    assert config.freshness.dbt_vars() == {
        "traces_freshness_warn_hours": 6,
        "traces_freshness_error_hours": 12,
        "github_freshness_warn_hours": 24,
        "github_freshness_error_hours": 72,
    }
    assert config.freshness.fail_on_error is True and config.freshness.enabled is True
    assert config.build_args == ("--exclude", "tag:slow")
    assert config.export_parquet is False


def test_defaults_without_a_file(cwd: Path, tmp_path: Path) -> None:
    config = load_config(home=Home(tmp_path / "home"), env={})
    assert config.source is None
    assert config.retention_days == 0
    assert config.traces.paths == () and config.github.repos == ()
    assert config.export_parquet is True and config.freshness.enabled is True


def test_environment_overrides_the_file(cwd: Path, tmp_path: Path) -> None:
    (cwd / "prodlens.toml").write_text(FULL)
    env = {
        "PRODLENS_RETENTION_DAYS": "400",
        "PRODLENS_TRACES_PATHS": "a.jsonl, b/",
        "PRODLENS_TRACES_TENANT": "globex",
        "PRODLENS_GITHUB_REPOS": '["x/y"]',
        "PRODLENS_FRESHNESS_ENABLED": "false",
        "PRODLENS_EXPORT_PARQUET": "yes",
    }
    config = load_config(home=Home(tmp_path / "home"), env=env)
    assert config.retention_days == 400
    assert config.traces.paths == (str(cwd / "a.jsonl"), str(cwd / "b"))
    assert config.traces.tenant == "globex" and config.traces.repo == "acme/web"
    assert config.github.repos == ("x/y",)
    assert config.freshness.enabled is False and config.export_parquet is True


def test_every_key_has_an_environment_variable() -> None:
    names = {env_name(section, key) for section, keys in SCHEMA.items() for key in keys}
    assert "PRODLENS_RETENTION_DAYS" in names and "PRODLENS_TRACES_PATHS" in names
    assert "PRODLENS_FRESHNESS_TRACES_WARN_AFTER_HOURS" in names
    assert len(names) == sum(len(keys) for keys in SCHEMA.values())


def test_search_order(cwd: Path, tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    home.root.mkdir()
    (home.root / "prodlens.toml").write_text("retention_days = 50\n")
    assert load_config(home=home, env={}).retention_days == 50
    (cwd / ".dlt").mkdir()
    (cwd / ".dlt" / "config.toml").write_text("[runtime]\nlog_level = 'INFO'\n")  # no [prodlens]: skipped
    assert load_config(home=home, env={}).retention_days == 50
    (cwd / ".dlt" / "config.toml").write_text(
        "[prodlens]\nretention_days = 60\n[prodlens.traces]\npaths = ['x']\n"
    )
    config = load_config(home=home, env={})
    assert config.retention_days == 60 and config.traces.paths == (str(cwd / ".dlt" / "x"),)
    (cwd / "prodlens.toml").write_text("retention_days = 70\n")
    assert load_config(home=home, env={}).retention_days == 70
    explicit = tmp_path / "other.toml"
    explicit.write_text("[prodlens]\nretention_days = 80\n")
    assert load_config(str(explicit), home=home, env={}).retention_days == 80
    assert load_config(home=home, env={"PRODLENS_CONFIG": str(explicit)}).retention_days == 80


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("retension_days = 3\n", "unknown setting 'retension_days'"),
        ("[traces]\npath = ['x']\n", "unknown key [traces] path"),
        ("[traces]\npaths = 'x'\n", "must be a list of strings"),
        ("retention_days = -1\n", "must not be negative"),
        ("retention_days = true\n", "must be an integer"),
        ("[github]\nrepos = ['not a slug']\n", "not an OWNER/NAME"),
        ("[github]\nsince = '2025-13-01'\n", "must be a date as YYYY-MM-DD"),
        ("[freshness]\ntraces_warn_after_hours = 10\ntraces_error_after_hours = 5\n", "exceeds"),
        ("[traces\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_one_clear_error(cwd: Path, tmp_path: Path, text: str, message: str) -> None:
    (cwd / "prodlens.toml").write_text(text)
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(home=Home(tmp_path / "home"), env={})


def test_bad_environment_value(cwd: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="PRODLENS_RETENTION_DAYS must be an integer"):
        load_config(home=Home(tmp_path / "home"), env={"PRODLENS_RETENTION_DAYS": "soon"})


def test_missing_explicit_file(cwd: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_config(str(tmp_path / "nope.toml"), home=Home(tmp_path / "home"), env={})


def test_the_example_config_is_valid(tmp_path: Path) -> None:
    config = load_config(str(REPO_ROOT / "prodlens.example.toml"), home=Home(tmp_path / "home"), env={})
    assert config.traces.paths and config.freshness.enabled


@pytest.mark.parametrize("tenant", ["../../etc", "tenant=evil", ".x", "a b"])
def test_a_tenant_that_breaks_the_tenant_id_rule_is_refused(cwd: Path, tmp_path: Path, tenant: str) -> None:
    (cwd / "prodlens.toml").write_text(f'[traces]\npaths = ["logs"]\ntenant = "{tenant}"\n')
    with pytest.raises(UserError, match=r"^\[traces\] tenant .* is not a tenant id"):
        load_config(home=Home(tmp_path / "home"), env={})
