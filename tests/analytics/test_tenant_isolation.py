"""Two planted tenants with the same developer, model, session, repository, prompt, experiment and trace
names: every analytics mart keeps their figures apart, and the dbt tenant-isolation test catches a mart that
mixes them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from prodlens.home import Home
from prodlens.report.metrics import report_metrics
from tests.analytics.conftest import ANALYTICS_SUBGRAPH, query
from tests.conftest import prodlens, tampered_copy, write_jsonl

SONNET = ("anthropic", "claude-sonnet-4-20250514")  # 3 / 15 USD per million tokens
MINI = ("openai", "gpt-4o-mini")  # 0.15 / 0.60
HAIKU = ("anthropic", "claude-3-5-haiku-20241022")  # used by red only


def request(
    tenant: str,
    n: int,
    when: str,
    dev: str,
    model: tuple[str, str],
    prompt: int,
    completion: int,
    *,
    failed: bool = False,
    session: str | None = "shared-session",
    variant: str | None = None,
) -> dict:
    start = datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp()
    metadata: dict = {"tenant_id": tenant, "user_api_key_user_email": dev, "repo": "shared/repo"}
    if session:
        metadata["session_id"] = session
    if variant:
        metadata["prompt_management_metadata"] = {
            "prompt_id": "p1",
            "prompt_version": "v1",
            "experiment_id": "exp1",
            "variant": variant,
        }
    return {
        "id": f"{tenant}-{n}",
        "trace_id": f"shared-trace-{n}",
        "call_type": "acompletion",
        "status": "failure" if failed else "success",
        "model": model[1],
        "model_group": "coding",
        "custom_llm_provider": model[0],
        "startTime": start,
        "endTime": start + 1.0,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "metadata": metadata,
        "error_information": {"error_code": "500", "error_class": "APIError"} if failed else None,
    }


PLANTED = [
    request("red", 1, "2025-10-01T10:00:00", "alice@example.com", SONNET, 1000, 100, variant="control"),
    request("red", 2, "2025-10-01T10:05:00", "alice@example.com", MINI, 2000, 200, variant="treatment"),
    request("red", 3, "2025-10-01T11:00:00", "bob@example.com", SONNET, 500, 50, failed=True),
    request("red", 4, "2025-10-02T09:00:00", "alice@example.com", HAIKU, 100, 10, session=None),
    request("blue", 1, "2025-10-01T10:00:00", "alice@example.com", SONNET, 3000, 300, variant="control"),
    request("blue", 2, "2025-10-01T10:30:00", "alice@example.com", MINI, 1000, 100, variant="treatment"),
    request("blue", 3, "2025-10-01T10:40:00", "alice@example.com", MINI, 1000, 100),
]


def cost(model: tuple[str, str], prompt: int, completion: int) -> float:
    price_in, price_out = (3.0, 15.0) if model == SONNET else (0.15, 0.60)
    return (prompt * price_in + completion * price_out) / 1e6


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Home:
    home = Home(tmp_path_factory.mktemp("tenants") / "home")
    path = write_jsonl(home.root.parent / "planted.jsonl", PLANTED)
    prodlens("load", "traces", str(path), home=home)
    # every test of these models runs, the tenant-isolation test included
    prodlens("build", "--", *ANALYTICS_SUBGRAPH, home=home)
    return home


def one(home: Home, sql: str) -> dict:
    rows = query(home, sql)
    assert len(rows) == 1, rows
    return rows[0]


def test_daily_metrics_and_sessions_stay_per_tenant(planted: Home) -> None:
    red = one(
        planted,
        "select * from daily_session_metrics where tenant_id = 'red' and developer_id = "
        "'alice@example.com' and event_date = '2025-10-01'",
    )
    blue = one(
        planted,
        "select * from daily_session_metrics where tenant_id = 'blue' and developer_id = "
        "'alice@example.com' and event_date = '2025-10-01'",
    )
    assert (red["request_count"], red["session_count"]) == (2, 1)
    assert (blue["request_count"], blue["session_count"]) == (3, 1)
    assert math.isclose(red["cost_usd"], cost(SONNET, 1000, 100) + cost(MINI, 2000, 200))
    assert math.isclose(blue["cost_usd"], cost(SONNET, 3000, 300) + 2 * cost(MINI, 1000, 100))
    red_session = one(
        planted, "select * from session_summaries where tenant_id = 'red' and session_id = 'shared-session'"
    )
    blue_session = one(
        planted, "select * from session_summaries where tenant_id = 'blue' and session_id = 'shared-session'"
    )
    assert (red_session["request_count"], red_session["developer_count"], red_session["error_count"]) == (
        3,
        2,
        1,
    )
    assert (blue_session["request_count"], blue_session["developer_count"], blue_session["error_count"]) == (
        3,
        1,
        0,
    )


def test_new_users_and_baselines_are_per_tenant(planted: Home) -> None:
    usage = {(r["tenant_id"], r["event_date"]): r for r in query(planted, "select * from usage_analytics")}
    assert (usage["red", "2025-10-01"]["active_users"], usage["red", "2025-10-01"]["new_users"]) == (2, 2)
    assert (usage["red", "2025-10-02"]["active_users"], usage["red", "2025-10-02"]["new_users"]) == (1, 0)
    # alice is new in blue although red saw her first
    assert (usage["blue", "2025-10-01"]["active_users"], usage["blue", "2025-10-01"]["new_users"]) == (1, 1)
    baselines = {
        (r["tenant_id"], r["baseline_model"])
        for r in query(planted, "select distinct tenant_id, baseline_model from routing_decisions")
    }
    # red mostly uses sonnet, blue mostly gpt-4o-mini: neither tenant's habits leak into the other's baseline
    assert baselines == {("red", "anthropic/claude-sonnet-4-20250514"), ("blue", "openai/gpt-4o-mini")}


def test_experiments_prompts_and_reports_are_per_tenant(planted: Home) -> None:
    runs = {
        (r["tenant_id"], r["variant"]): r["total_runs"]
        for r in query(planted, "select tenant_id, variant, total_runs from experiment_results")
    }
    assert runs == {
        ("red", "control"): 1,
        ("red", "treatment"): 1,
        ("blue", "control"): 1,
        ("blue", "treatment"): 1,
    }
    prompts = {r["tenant_id"]: r["requests"] for r in query(planted, "select * from prompt_version_metrics")}
    assert prompts == {"red": 2, "blue": 2}
    report = {
        r["tenant_id"]: r
        for r in query(
            planted, "select * from report_metrics where period_type = 'all' and repo_slug = 'shared/repo'"
        )
    }
    assert (report["red"]["request_count"], report["red"]["error_count"]) == (4, 1)
    assert (report["blue"]["request_count"], report["blue"]["error_count"]) == (3, 0)
    con = duckdb.connect(str(planted.published), read_only=True)
    assert report_metrics(con, "blue", "shared/repo", None, None)["request_count"] == 3
    roi = one(
        planted,
        "select * from customer_roi_snapshots where tenant_id = 'red' and snapshot_date = '2025-10-02'",
    )
    assert (roi["requests_30d"], roi["tasks_completed_30d"], roi["active_developers_30d"]) == (4, 3, 2)
    assert json.loads(roi["provider_usage_distribution"]) == {"anthropic": 0.75, "openai": 0.25}


TAMPERING = {
    # blue's figures attributed to red
    "update marts.daily_session_metrics set tenant_id = 'red' where tenant_id = 'blue'": "daily_session_metrics",
    # new users counted across tenants (alice was already seen in red)
    "update marts.usage_analytics set new_users = 0 where tenant_id = 'blue'": "usage_analytics",
    # a baseline taken from the other tenant's usage
    "update marts.routing_decisions set baseline_model = 'anthropic/claude-3-5-haiku-20241022' "
    "where tenant_id = 'blue'": "routing_decisions",
    # a 30-day window that counted one of the other tenant's successful requests
    "update marts.customer_roi_snapshots set tasks_completed_30d = tasks_completed_30d + 1 "
    "where tenant_id = 'blue'": "customer_roi_snapshots",
}


def test_the_isolation_test_fails_on_a_mixing_mart(tmp_path: Path, planted: Home) -> None:
    copy = tampered_copy(planted, tmp_path, TAMPERING)
    proc = prodlens(
        "build", "--", "--select", "assert_analytics_marts_do_not_mix_tenants", home=copy, check=False
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "assert_analytics_marts_do_not_mix_tenants" in proc.stdout + proc.stderr
    con = duckdb.connect(str(copy.warehouse), read_only=True)
    failures = con.execute(
        "select mart, tenant_id, problem from dq.assert_analytics_marts_do_not_mix_tenants"
    ).fetchall()
    flagged = {mart for mart, _, _ in failures}
    assert set(TAMPERING.values()) <= flagged, failures
    assert (
        "routing_decisions",
        "blue",
        "names a model the tenant never used: anthropic/claude-3-5-haiku-20241022",
    ) in failures
