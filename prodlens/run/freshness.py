"""Source freshness: `dbt source freshness` on the raw sources of the configured loaders.

Thresholds come from the run configuration and reach the sources' `freshness` blocks as dbt vars
(`traces_freshness_warn_hours`, ...). Results are read from dbt's sources.json. A source whose table
does not exist yet is reported as `not loaded`; one whose table has no rows (dbt reports its newest row
as 0001-01-01) as `empty`, which is not stale: a run that found no dead letters or PR events is healthy.

When the last build and publish were made from this project with these vars (prodlens.build_state), the
check does not start dbt: it runs dbt's own freshness query (`max(loaded_at_field)`, with the source's
filter) for each source of the manifest that build wrote, and applies the same thresholds. It costs
milliseconds where starting dbt costs seconds, which matters to a run that found nothing new.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from prodlens import build_state
from prodlens.dbt_runner import read_manifest, run_dbt
from prodlens.home import Home
from prodlens.warehouse import connect, table_exists

STALE = ("warn", "error")


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # e.g. litellm.litellm_requests
    status: str  # pass | warn | error | not loaded | empty | unknown
    age_hours: float | None = None
    max_loaded_at: str | None = None
    warn_after_hours: float | None = None
    error_after_hours: float | None = None

    @property
    def stale(self) -> bool:
        return self.status in STALE

    def describe(self) -> str:
        if self.age_hours is None:
            return f"{self.source}: {self.status}"
        limits = f"warn {self.warn_after_hours} h, error {self.error_after_hours} h"
        return f"{self.source}: {self.status} (last load {self.age_hours:.1f} h ago; {limits})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _hours(criteria: dict[str, Any], key: str) -> float | None:
    rule = criteria.get(key) or {}
    count, period = rule.get("count"), rule.get("period")
    if count is None:
        return None
    return int(count) * {"minute": 1 / 60, "hour": 1, "day": 24}.get(period or "hour", 1)


def parse_results(doc: dict[str, Any]) -> list[SourceFreshness]:
    results = []
    for item in doc.get("results", []):
        name = ".".join(item.get("unique_id", "source.?.?.?").split(".")[-2:])
        status = item.get("status", "unknown")
        if status == "runtime error":
            results.append(SourceFreshness(name, "not loaded"))
            continue
        if str(item.get("max_loaded_at") or "").startswith("0001-01-01"):  # max() of no rows
            results.append(SourceFreshness(name, "empty"))
            continue
        age = item.get("max_loaded_at_time_ago_in_s")
        criteria = item.get("criteria") or {}
        results.append(
            SourceFreshness(
                source=name,
                status=status,
                age_hours=None if age is None else round(float(age) / 3600, 2),
                max_loaded_at=item.get("max_loaded_at"),
                warn_after_hours=_hours(criteria, "warn_after"),
                error_after_hours=_hours(criteria, "error_after"),
            )
        )
    return sorted(results, key=lambda r: r.source)


def _status(age_s: float, criteria: dict[str, Any]) -> str:
    """dbt's rule: error past error_after, else warn past warn_after, else pass."""
    for status in ("error", "warn"):
        hours = _hours(criteria, f"{status}_after")
        if hours is not None and age_s > hours * 3600:
            return status
    return "pass"


def manifest_sources(home: Home, sources: list[str], vars_json: str) -> list[dict[str, Any]] | None:
    """The source nodes of the manifest the last successful build wrote, when that build was made from
    this project with these vars; None otherwise (then dbt itself must be asked)."""
    try:
        last = json.loads(build_state.state_path(home).read_text())
        manifest = read_manifest(home)
    except (OSError, ValueError):
        return None
    if last.get("dbt_vars") != vars_json or last.get("project") != build_state.project_hash():
        return None
    nodes = [n for n in manifest.get("sources", {}).values() if n.get("source_name") in sources]
    return [n for n in nodes if n.get("loaded_at_field") and n.get("freshness")]


def freshness_in_process(home: Home, nodes: list[dict[str, Any]]) -> list[SourceFreshness]:
    """dbt's freshness query for each source node, run on the working file."""
    results = []
    now = datetime.now(UTC)
    con = connect(home.warehouse)
    try:
        for node in nodes:
            name = f"{node['source_name']}.{node['name']}"
            if not table_exists(con, node["schema"], node["identifier"]):
                results.append(SourceFreshness(name, "not loaded"))
                continue
            criteria = node["freshness"]
            where = f" where {criteria['filter']}" if criteria.get("filter") else ""
            sql = (
                f'select max({node["loaded_at_field"]}) from "{node["schema"]}"."{node["identifier"]}"{where}'
            )
            row = con.execute(sql).fetchone()
            newest = row[0] if row else None
            if newest is None:
                results.append(SourceFreshness(name, "empty"))
                continue
            if newest.tzinfo is None:
                newest = newest.replace(tzinfo=UTC)
            age = (now - newest).total_seconds()
            results.append(
                SourceFreshness(
                    source=name,
                    status=_status(age, criteria),
                    age_hours=round(age / 3600, 2),
                    max_loaded_at=newest.isoformat(),
                    warn_after_hours=_hours(criteria, "warn_after"),
                    error_after_hours=_hours(criteria, "error_after"),
                )
            )
    finally:
        con.close()
    return sorted(results, key=lambda r: r.source)


def check_freshness(home: Home, sources: list[str], dbt_vars: dict[str, Any]) -> list[SourceFreshness]:
    """Freshness of the given dbt source names (e.g. ["litellm", "github"]): in process from the last
    build's manifest when it matches (see the module doc), else by `dbt source freshness`."""
    if not sources:
        return []
    nodes = manifest_sources(home, sources, json.dumps(dbt_vars, sort_keys=True))
    if nodes:
        return freshness_in_process(home, nodes)
    return freshness_by_dbt(home, sources, dbt_vars)


def freshness_by_dbt(home: Home, sources: list[str], dbt_vars: dict[str, Any]) -> list[SourceFreshness]:
    """`dbt source freshness` of the given sources, read from dbt's sources.json."""
    output = home.dbt_target / "sources.json"
    output.unlink(missing_ok=True)
    select = [f"source:{name}" for name in sources]
    run_dbt(
        home,
        ["source", "freshness", "--select", *select, "--vars", json.dumps(dbt_vars, sort_keys=True)],
        quiet=True,
    )
    if not output.is_file():
        return [SourceFreshness(name, "unknown") for name in sources]
    return parse_results(json.loads(output.read_text()))
