"""LiteLLM's own payloads (made by the real SDK, producer.py) loaded, built and priced: ProdLens's cost
equals LiteLLM's own cost for every catalogued call, and cache hits, operator prices, proxy rejections,
fallbacks and request tags come out as the costs issue defines them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodlens.home import Home
from tests.conftest import prodlens
from tests.litellm_sdk.producer import EXPECTED_PAYLOADS, PROMPT_MARKER, RESPONSE_MARKER
from tests.traces.helpers import assert_nowhere

PRODUCER = Path(__file__).with_name("producer.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Home, list[dict]]]:
    """The producer's payloads, loaded and built once into a fresh home: (home, the payloads)."""
    root = tmp_path_factory.mktemp("litellm-sdk")
    logs = root / "logs"
    logs.mkdir()
    out = logs / "litellm-payloads.jsonl"
    subprocess.run([sys.executable, str(PRODUCER), str(out)], check=True, capture_output=True, timeout=300)
    payloads = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(payloads) == EXPECTED_PAYLOADS
    home = Home(root / "home")
    prodlens("load", "traces", str(logs), home=home)
    prodlens("build", home=home)
    yield home, payloads


def sessions(home: Home) -> dict[str, list[dict]]:
    """marts.sessions rows by the payload's case tag."""
    rows = json.loads(
        prodlens(
            "query",
            "select * exclude (request_tags), request_tags, to_json(request_tags) as tags_json from sessions",
            "--format",
            "json",
            home=home,
        ).stdout
    )
    by_case: dict[str, list[dict]] = {}
    for row in rows:
        tags = json.loads(row["tags_json"])
        case = next(t.removeprefix("case:") for t in tags if t.startswith("case:"))
        by_case.setdefault(case, []).append(row)
    return by_case


def query(home: Home, sql: str) -> list[dict]:
    return json.loads(prodlens("query", sql, "--format", "json", home=home).stdout)


def test_every_catalogued_call_costs_what_litellm_charged(built: tuple[Home, list[dict]]) -> None:
    home, payloads = built
    litellm_cost = {p["id"]: p["response_cost"] for p in payloads}
    by_case = sessions(home)
    catalogued = ["gpt-4o", "tier", "embedding", "azure", "bedrock", "anthropic", "fallback"]
    checked = 0
    for case in catalogued:
        for row in by_case[case]:
            if row["status"] != "success":
                continue
            assert row["pricing_status"] == "catalog", (case, row["model"])
            expected = litellm_cost[row["request_id"]]
            assert expected > 0
            assert row["cost_usd"] == pytest.approx(expected, rel=1e-9, abs=0), (case, row["model"])
            checked += 1
    assert checked == len(catalogued)
    # the resolutions LiteLLM itself made: an Azure deployment's base model, Bedrock's regional id
    assert by_case["azure"][0]["price_catalog_key"] == "azure/gpt-4o-2024-08-06"
    assert by_case["bedrock"][0]["price_catalog_key"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    # 300,000 prompt tokens are above gpt-5.4's 272k tier: the whole request at the tier's prices
    assert by_case["tier"][0]["price_tier"] == 1
    assert by_case["gpt-4o"][0]["price_tier"] == 0


def test_operator_priced_model_uses_the_proxy_cost(built: tuple[Home, list[dict]]) -> None:
    home, payloads = built
    [row] = sessions(home)["operator"]
    [payload] = [p for p in payloads if p["id"] == row["request_id"]]
    # 1,000 × 1e-6 + 500 × 2e-6, LiteLLM's own figure from the deployment's prices
    assert payload["response_cost"] == pytest.approx(0.002, rel=1e-12)
    assert row["pricing_status"] == "proxy"
    assert row["cost_usd"] == payload["response_cost"]
    assert row["input_usd_per_mtok"] is None


def test_response_cache_hit_costs_nothing_and_records_its_saving(built: tuple[Home, list[dict]]) -> None:
    home, _ = built
    first, hit = sorted(sessions(home)["cache"], key=lambda r: r["pricing_status"] == "cache_hit")
    assert (hit["pricing_status"], hit["cost_usd"], hit["cache_hit"]) == ("cache_hit", 0.0, True)
    assert first["pricing_status"] == "catalog"
    # the hit saved what the same call cost the first time, at the model's price
    assert hit["cache_savings_usd"] == pytest.approx(first["cost_usd"], rel=1e-12)
    [daily] = query(
        home,
        "select sum(total_executions) as n, sum(cache_hit_count) as hits from provider_performance "
        "where aggregation_level = 'daily' and provider = 'openai'",
    )
    assert daily["hits"] == 1


def test_proxy_rejection_is_not_a_provider_error(built: tuple[Home, list[dict]]) -> None:
    home, _ = built
    by_case = sessions(home)
    assert [r["status"] for r in by_case["budget"]] == ["rejected"]
    assert [r["status"] for r in by_case["provider-error"]] == ["error"]
    openai = {r["status"] for case in by_case.values() for r in case if r["provider"] == "openai"}
    assert openai == {"success", "error", "rejected"}
    [daily] = query(
        home,
        "select total_executions, successful_executions, failed_executions, rejected_count, cache_hit_count, "
        "success_rate from provider_performance where aggregation_level = 'daily' and provider = 'openai'",
    )
    # openai: 10 requests; failures are the stand-in's 500 and the router's unreachable primary; the budget
    # refusal is a rejection; reliability counts 8 provider calls (no rejection, no cache hit), 6 served
    assert daily == {
        "total_executions": 10,
        "successful_executions": 7,
        "failed_executions": 2,
        "rejected_count": 1,
        "cache_hit_count": 1,
        "success_rate": 75.0,
    }


def test_router_fallback_is_labelled_from_litellms_record(built: tuple[Home, list[dict]]) -> None:
    home, _ = built
    rows = query(
        home,
        "select status, model_group, routing_reason from routing_decisions where model_group is not null "
        "order by model_group",
    )
    assert rows == [
        {"status": "success", "model_group": "backup", "routing_reason": "fallback"},
        {"status": "error", "model_group": "primary", "routing_reason": "load_balancing"},
    ]


def test_request_tags_reach_sessions_and_cost_by_tag(built: tuple[Home, list[dict]]) -> None:
    home, _ = built
    by_case = sessions(home)
    assert by_case["gpt-4o"][0]["request_tags"] == ["case:gpt-4o", "team-a"]
    [team] = query(
        home,
        "select sum(request_count) as n, sum(cost_usd) as cost from cost_by_tag where request_tag = 'team-a'",
    )
    expected = by_case["gpt-4o"][0]["cost_usd"] + by_case["anthropic"][0]["cost_usd"]
    assert team["n"] == 2
    assert team["cost"] == pytest.approx(expected, rel=1e-12)


def test_prompts_and_responses_are_stored_nowhere(built: tuple[Home, list[dict]]) -> None:
    home, payloads = built
    assert all(PROMPT_MARKER in json.dumps(p["messages"]) for p in payloads)  # LiteLLM did log them
    assert any(RESPONSE_MARKER in json.dumps(p["response"]) for p in payloads)
    assert_nowhere(home, [PROMPT_MARKER, RESPONSE_MARKER], kept="team-a")
