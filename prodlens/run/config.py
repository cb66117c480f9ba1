"""The `prodlens run` configuration: one TOML file, overridden by environment variables.

The file is the first of: `--config PATH`, `$PRODLENS_CONFIG`, `./prodlens.toml`, `./.dlt/config.toml`
(its `[prodlens]` table), `$PRODLENS_HOME/prodlens.toml`. Keys may also sit under a `[prodlens]` table
in prodlens.toml. Every key has an environment variable `PRODLENS_<SECTION>_<KEY>` (upper case;
`PRODLENS_RETENTION_DAYS` for the top-level key) that wins over the file. Lists in the environment are
a JSON array or comma-separated. Unknown keys are errors, so a typo cannot silently disable a source.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from prodlens.dates import DateError, parse_day
from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.names import check_repo_slug, check_tenant_id

# section ("" = top level) -> key -> kind
SCHEMA: dict[str, dict[str, str]] = {
    "": {"retention_days": "int"},
    "traces": {"paths": "list", "repo": "str", "tenant": "str"},
    "github": {"repos": "list", "since": "date"},
    "spendlogs": {"enabled": "bool", "lookback_minutes": "int", "tenant": "str", "schema": "str"},
    "freshness": {
        "enabled": "bool",
        "traces_warn_after_hours": "int",
        "traces_error_after_hours": "int",
        "github_warn_after_hours": "int",
        "github_error_after_hours": "int",
        "fail_on_error": "bool",
    },
    "build": {"args": "list"},
    "export": {"parquet": "bool"},
}


@dataclass(frozen=True)
class TracesConfig:
    paths: tuple[str, ...] = ()
    repo: str | None = None
    tenant: str | None = None


@dataclass(frozen=True)
class GithubConfig:
    repos: tuple[str, ...] = ()
    since: str | None = None


@dataclass(frozen=True)
class SpendLogsConfig:
    """LiteLLM's SpendLogs table; the connection string is never configuration (PRODLENS_LITELLM_DATABASE_URL
    or dlt secrets)."""

    enabled: bool = False
    lookback_minutes: int = 60
    tenant: str | None = None
    schema: str | None = None


@dataclass(frozen=True)
class FreshnessConfig:
    enabled: bool = True
    traces_warn_after_hours: int = 24
    traces_error_after_hours: int = 72
    github_warn_after_hours: int = 24
    github_error_after_hours: int = 72
    fail_on_error: bool = False

    def dbt_vars(self) -> dict[str, int]:
        """The dbt vars the sources' freshness blocks read."""
        return {
            "traces_freshness_warn_hours": self.traces_warn_after_hours,
            "traces_freshness_error_hours": self.traces_error_after_hours,
            "github_freshness_warn_hours": self.github_warn_after_hours,
            "github_freshness_error_hours": self.github_error_after_hours,
        }


@dataclass(frozen=True)
class RunConfig:
    source: Path | None = None
    retention_days: int = 0
    traces: TracesConfig = field(default_factory=TracesConfig)
    github: GithubConfig = field(default_factory=GithubConfig)
    spendlogs: SpendLogsConfig = field(default_factory=SpendLogsConfig)
    freshness: FreshnessConfig = field(default_factory=FreshnessConfig)
    build_args: tuple[str, ...] = ()
    export_parquet: bool = True

    def describe(self) -> str:
        return str(self.source) if self.source else "no file (environment and defaults)"


def find_config(explicit: str | None, home: Home, env: Mapping[str, str]) -> Path | None:
    """The configuration file to read, or None when there is none."""
    if explicit or env.get("PRODLENS_CONFIG"):
        path = Path(explicit or env["PRODLENS_CONFIG"]).expanduser()
        if not path.is_file():
            raise UserError(
                f"config file {path} not found; give an existing file to --config / PRODLENS_CONFIG"
            )
        return path.resolve()
    dlt_config = Path(".dlt") / "config.toml"
    for candidate in (Path("prodlens.toml"), dlt_config, home.root / "prodlens.toml"):
        if candidate.is_file() and (candidate != dlt_config or "prodlens" in _read_toml(candidate)):
            return candidate.resolve()
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise UserError(f"cannot read config file {path}: {exc.strerror}") from None


def _flatten(doc: dict[str, Any], path: Path) -> dict[tuple[str, str], Any]:
    """{(section, key): value} with unknown sections and keys rejected."""
    if isinstance(doc.get("prodlens"), dict):
        doc = doc["prodlens"]
    elif path.name == "config.toml":
        doc = {}
    flat: dict[tuple[str, str], Any] = {}
    for name, value in doc.items():
        if isinstance(value, dict) and name in SCHEMA and name:
            for key, item in value.items():
                if key not in SCHEMA[name]:
                    raise UserError(
                        f"{path}: unknown key [{name}] {key}; known keys: {', '.join(SCHEMA[name])}"
                    )
                flat[(name, key)] = item
        elif name in SCHEMA[""]:
            flat[("", name)] = value
        else:
            known = ", ".join([*SCHEMA[""], *(f"[{s}]" for s in SCHEMA if s)])
            raise UserError(f"{path}: unknown setting {name!r}; known: {known}")
    return flat


def env_name(section: str, key: str) -> str:
    return "PRODLENS_" + (f"{section}_{key}" if section else key).upper()


def _from_env(text: str, kind: str) -> Any:
    if kind == "list":
        stripped = text.strip()
        if stripped.startswith("["):
            return json.loads(stripped)
        return [part.strip() for part in stripped.split(",") if part.strip()]
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        return text
    if kind == "int":
        try:
            return int(text.strip() or "0")
        except ValueError:
            return text
    return text


def _check(where: str, kind: str, value: Any) -> Any:
    """Validate one value against its kind; returns the normalised value."""
    ok = {
        "str": isinstance(value, str),
        "date": isinstance(value, str | date),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok:
        expected = {"list": "a list of strings", "int": "an integer", "bool": "true or false"}.get(
            kind, "a string"
        )
        raise UserError(f"{where} must be {expected}, not {value!r}")
    if kind == "date":
        try:
            day = parse_day(value, where)
        except DateError as exc:
            raise UserError(str(exc)) from None
        assert day is not None
        return day.isoformat()
    if kind == "int" and value < 0:
        raise UserError(f"{where} must not be negative, not {value}")
    return value


def load_config(
    explicit: str | None = None, *, home: Home, env: Mapping[str, str] | None = None
) -> RunConfig:
    """Read the configuration file (if any) and apply environment overrides."""
    env = os.environ if env is None else env
    path = find_config(explicit, home, env)
    flat = _flatten(_read_toml(path), path) if path else {}
    values: dict[tuple[str, str], Any] = {}
    for section, keys in SCHEMA.items():
        for key, kind in keys.items():
            name = env_name(section, key)
            label = f"[{section}] {key}" if section else key
            if env.get(name) is not None:
                values[(section, key)] = _check(
                    f"environment variable {name}", kind, _from_env(env[name], kind)
                )
            elif (section, key) in flat:
                values[(section, key)] = _check(f"{path}: {label}", kind, flat[(section, key)])
    base = path.parent if path else Path.cwd()
    return _build(values, path, base, env)


def _build(
    values: dict[tuple[str, str], Any], path: Path | None, base: Path, env: Mapping[str, str]
) -> RunConfig:
    def get(section: str, key: str, default: Any = None) -> Any:
        return values.get((section, key), default)

    # Relative trace paths in the file are relative to the file; in the environment, to the cwd.
    path_base = Path.cwd() if env_name("traces", "paths") in env else base
    paths = tuple(
        str(p) if Path(p).expanduser().is_absolute() else str(path_base / p)
        for p in get("traces", "paths", [])
    )
    repos = tuple(check_repo_slug(repo, "[github] repos:") for repo in get("github", "repos", []))
    freshness = FreshnessConfig(
        **{key: values[("freshness", key)] for key in SCHEMA["freshness"] if ("freshness", key) in values}
    )
    for source in ("traces", "github"):
        warn, error = (
            getattr(freshness, f"{source}_warn_after_hours"),
            getattr(freshness, f"{source}_error_after_hours"),
        )
        if warn > error:
            raise UserError(
                f"[freshness] {source}_warn_after_hours ({warn}) exceeds {source}_error_after_hours ({error})"
            )
    tenant = get("traces", "tenant")
    if tenant is not None:
        check_tenant_id(tenant, "[traces] tenant")
    spendlogs = SpendLogsConfig(
        **{key: values[("spendlogs", key)] for key in SCHEMA["spendlogs"] if ("spendlogs", key) in values}
    )
    if spendlogs.tenant is not None:
        check_tenant_id(spendlogs.tenant, "[spendlogs] tenant")
    if spendlogs.lookback_minutes < 0:
        raise UserError(f"[spendlogs] lookback_minutes must be 0 or more, got {spendlogs.lookback_minutes}")
    return RunConfig(
        source=path,
        retention_days=get("", "retention_days", 0),
        traces=TracesConfig(paths=paths, repo=get("traces", "repo"), tenant=tenant),
        github=GithubConfig(repos=repos, since=get("github", "since")),
        spendlogs=spendlogs,
        freshness=freshness,
        build_args=tuple(get("build", "args", [])),
        export_parquet=get("export", "parquet", True),
    )
