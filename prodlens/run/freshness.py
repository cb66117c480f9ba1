"""Source freshness: `dbt source freshness` on the raw sources of the configured loaders.

Thresholds come from the run configuration and reach the sources' `freshness` blocks as dbt vars
(`traces_freshness_warn_hours`, ...). Results are read from dbt's sources.json. A source whose table
does not exist yet is reported as `not loaded`; one whose table has no rows (dbt reports its newest row
as 0001-01-01) as `empty`, which is not stale: a run that found no dead letters or PR events is healthy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from prodlens.dbt_runner import run_dbt
from prodlens.home import Home

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


def check_freshness(home: Home, sources: list[str], dbt_vars: dict[str, Any]) -> list[SourceFreshness]:
    """Run `dbt source freshness` for the given dbt source names (e.g. ["litellm", "github"])."""
    if not sources:
        return []
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
