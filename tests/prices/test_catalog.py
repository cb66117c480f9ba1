"""The price catalogue: LiteLLM's price map as the model_prices seed, and `prodlens prices update`'s
effective dating. The map is LiteLLM's own (the copy in the installed litellm wheel); the costs are
checked against LiteLLM's own cost function."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.prices.catalog import MODES, bundled_catalog, parse_catalog, read_catalog
from prodlens.prices.seed import FIRST_DAY, read_seed, update_rows, write_seed
from tests.conftest import REPO_ROOT, prodlens

SEED = REPO_ROOT / "seeds" / "model_prices.csv"


@pytest.fixture(scope="module")
def litellm_map() -> dict:
    return json.loads(bundled_catalog().read_text())


def test_every_token_priced_entry_of_the_map_is_a_row(litellm_map: dict) -> None:
    catalog = parse_catalog(litellm_map)
    priced = {
        key.lower()
        for key, entry in litellm_map.items()
        if isinstance(entry, dict)
        and entry.get("mode") in MODES
        and (entry.get("input_cost_per_token") is not None or entry.get("tiered_pricing"))
    }
    assert len(priced) > 3500
    assert set(catalog.prices) | {k.lower() for k in catalog.skipped} == priced
    # only entries with more tiers than the seed holds are left out, each with its reason
    assert len(catalog.skipped) < 20
    assert all("price tiers" in reason for reason in catalog.skipped.values())
    for key in ("claude-sonnet-4-5", "azure/gpt-4o", "vertex_ai/claude-sonnet-4-5", "gemini/gemini-2.5-pro",
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "mistral/mistral-large-latest",
                "text-embedding-3-small", "deepseek/deepseek-chat"):  # fmt: skip
        entry = litellm_map[key]
        price = catalog.prices[key]
        assert price.provider == entry["litellm_provider"]
        assert price.input == Decimal(str(entry["input_cost_per_token"])) * 1_000_000
        assert price.output == Decimal(str(entry.get("output_cost_per_token", 0))) * 1_000_000


def test_token_costs_equal_litellms_own_cost_for_every_flat_priced_model(litellm_map: dict) -> None:
    """cost_per_token (LiteLLM's cost function) against the seed row's formula, for every entry whose price
    does not depend on anything but tokens (no tiers, no service tiers)."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    catalog = parse_catalog(litellm_map)
    prompt, completion = 12_345, 678
    checked = 0
    for key, price in catalog.prices.items():
        entry = litellm_map.get(key)
        if entry is None or price.tiers or entry.get("mode") not in ("chat", "completion"):
            continue
        if any(k.startswith(("input_cost_per_token_", "output_cost_per_token_")) for k in entry):
            continue  # batch/priority/flex variants, priced by LiteLLM only on request
        try:
            expected = sum(
                litellm.cost_per_token(model=key, prompt_tokens=prompt, completion_tokens=completion)
            )
        except Exception:  # a few entries LiteLLM cannot price by key alone
            continue
        ours = (prompt * float(price.input) + completion * float(price.output)) / 1e6
        assert ours == pytest.approx(expected, rel=1e-9, abs=1e-15), key
        checked += 1
    assert checked > 1500


def test_tiers_come_from_above_keys_and_from_tiered_pricing(litellm_map: dict) -> None:
    catalog = parse_catalog(litellm_map)
    gemini = catalog.prices["gemini/gemini-2.5-pro"]
    entry = litellm_map["gemini/gemini-2.5-pro"]
    [tier] = gemini.tiers
    assert tier.above_tokens == 200_000
    assert tier.input == Decimal(str(entry["input_cost_per_token_above_200k_tokens"])) * 1_000_000
    assert tier.output == Decimal(str(entry["output_cost_per_token_above_200k_tokens"])) * 1_000_000
    ranged = parse_catalog(
        {
            "acme/ranged": {
                "litellm_provider": "acme",
                "mode": "chat",
                "tiered_pricing": [
                    {"range": [32000, 128000], "input_cost_per_token": 2e-6, "output_cost_per_token": 8e-6},
                    {
                        "range": [0, 32000],
                        "input_cost_per_token": 1e-6,
                        "output_cost_per_token": 4e-6,
                        "cache_read_input_token_cost": 1e-7,
                    },
                ],
            }
        }
    ).prices["acme/ranged"]
    assert (ranged.provider, ranged.model) == ("acme", "ranged")
    assert (ranged.input, ranged.output, ranged.cache_read) == (1, 4, Decimal("0.1"))
    # a range starting at 32,000 applies from 32,000 tokens: stored as "above 31,999"; its missing cache
    # prices are its own input price
    [upper] = ranged.tiers
    assert (upper.above_tokens, upper.input, upper.output, upper.cache_read, upper.cache_write) == (
        31_999,
        2,
        8,
        2,
        2,
    )


def test_shipped_seed_is_the_pinned_litellm_map(tmp_path: Path) -> None:
    """The seed in the repository is what `prices update` makes from the pinned litellm: nothing new,
    nothing changed (the dev dependency pins the release it was generated from)."""
    copy = tmp_path / "model_prices.csv"
    shutil.copy(SEED, copy)
    rows, update = update_rows(read_seed(copy), read_catalog(bundled_catalog()), dt.date(2026, 12, 2))
    assert (update.added, update.changed) == (0, 0)
    assert update.unchanged > 3500
    assert rows == sorted(read_seed(copy), key=lambda r: (r["catalog_key"], r["effective_from"]))


def _map(**prices: tuple[float, float]) -> dict:
    return {
        key: {
            "litellm_provider": "acme",
            "mode": "chat",
            "input_cost_per_token": i,
            "output_cost_per_token": o,
        }
        for key, (i, o) in prices.items()
    }


def test_a_changed_price_ends_its_row_and_starts_a_new_one() -> None:
    day1, day2, day3 = dt.date(2026, 1, 1), dt.date(2026, 3, 1), dt.date(2026, 6, 1)
    rows, first = update_rows([], parse_catalog(_map(a=(1e-6, 2e-6), b=(3e-6, 4e-6))), day1)
    assert (first.added, first.changed) == (2, 0)
    # a key new to the seed applies from FIRST_DAY: no earlier price is known
    assert {(r["catalog_key"], r["effective_from"], r["effective_to"]) for r in rows} == {
        ("a", FIRST_DAY.isoformat(), ""),
        ("b", FIRST_DAY.isoformat(), ""),
    }
    # day 2: a's price changes, b leaves the map, c arrives
    rows, second = update_rows(rows, parse_catalog(_map(a=(1.5e-6, 2e-6), c=(5e-6, 6e-6))), day2)
    assert (second.added, second.changed, second.unchanged, second.kept) == (1, 1, 0, 1)
    table = [
        (r["catalog_key"], r["effective_from"], r["effective_to"], r["input_usd_per_mtok"]) for r in rows
    ]
    assert table == [
        ("a", "2000-01-01", "2026-03-01", "1"),
        ("a", "2026-03-01", "", "1.5"),
        ("b", "2000-01-01", "", "3"),  # dropped by the map, still priced
        ("c", "2000-01-01", "", "5"),
    ]
    # day 3: the same map again changes nothing
    again, third = update_rows(rows, parse_catalog(_map(a=(1.5e-6, 2e-6), c=(5e-6, 6e-6))), day3)
    assert again == rows
    assert (third.added, third.changed, third.unchanged) == (0, 0, 2)


def test_a_second_change_on_the_same_day_replaces_that_days_row() -> None:
    day = dt.date(2026, 3, 1)
    rows, _ = update_rows([], parse_catalog(_map(a=(1e-6, 2e-6))), dt.date(2026, 1, 1))
    rows, _ = update_rows(rows, parse_catalog(_map(a=(2e-6, 2e-6))), day)
    rows, update = update_rows(rows, parse_catalog(_map(a=(3e-6, 2e-6))), day)
    assert update.changed == 1
    table = [(r["effective_from"], r["effective_to"], r["input_usd_per_mtok"]) for r in rows]
    assert table == [("2000-01-01", "2026-03-01", "1"), ("2026-03-01", "", "3")]


def test_prices_update_command_rewrites_the_seed(home: Home, tmp_path: Path) -> None:
    source = tmp_path / "model_prices_and_context_window.json"
    source.write_text(json.dumps(_map(a=(1e-6, 2e-6))))
    seed = tmp_path / "model_prices.csv"
    write_seed(seed, [])
    args = ("prices", "update", "--from", str(source), "--seed", str(seed))
    first = prodlens(*args, "--effective-date", "2026-01-01", home=home)
    assert "1 new, 0 changed" in first.stdout
    source.write_text(json.dumps(_map(a=(4e-6, 2e-6))))
    second = prodlens(*args, "--effective-date", "2026-02-01", home=home)
    assert "0 new, 1 changed" in second.stdout
    with seed.open() as handle:
        got = [
            (r["effective_from"], r["effective_to"], r["input_usd_per_mtok"]) for r in csv.DictReader(handle)
        ]
    assert got == [("2000-01-01", "2026-02-01", "1"), ("2026-02-01", "", "4")]


def test_a_file_that_is_not_a_price_map_is_one_clear_error(home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text('{"not": "a price map"}')
    proc = prodlens("prices", "update", "--from", str(bad), "--seed", str(tmp_path / "s.csv"), home=home,
                    check=False)  # fmt: skip
    assert proc.returncode == 2  # a UserError: bad input, nothing written
    assert not (tmp_path / "s.csv").exists()
    assert proc.stderr.strip().splitlines() == [
        f"prodlens: error: {bad} is not LiteLLM's model_prices_and_context_window.json "
        "(no entry names a litellm_provider)"
    ]
    with pytest.raises(UserError, match="does not exist"):
        read_catalog(tmp_path / "missing.json")
