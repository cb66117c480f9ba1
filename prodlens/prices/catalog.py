"""LiteLLM's price map (`model_prices_and_context_window.json`) as rows of the `model_prices` seed.

Every entry with token prices in a chat, completion, responses or embedding mode becomes one row, for
every provider, keyed by LiteLLM's own key. Prices are converted from USD per token to USD per million
tokens exactly (decimal arithmetic, so `3e-06` is written `3`). Tiered prices come in two forms in the
map, and both become the seed's `tier_<n>_*` columns (see _seeds.yml):

- `input_cost_per_token_above_200k_tokens` and its siblings: above that many prompt tokens, the whole
  request is billed at the tier's rates (LiteLLM's rule). A tier's missing cache price is the base
  cache price, else the tier's input price.
- `tiered_pricing`, a list of `range: [start, end]` tiers: the tier whose range holds the prompt is
  billed for the whole request; a range starting at N is stored as "above N - 1 tokens". A tier's
  missing cache price is its input price and a missing output price the entry's own.

Entries with more tiers than the seed has columns for are left out and reported: LiteLLM's own
`response_cost` then prices them (pricing_status `proxy`).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from prodlens.errors import UserError

#: The modes whose requests are priced per token.
MODES = ("chat", "completion", "responses", "embedding")
#: How many tiers above the base price the seed holds.
TIERS = 2
#: LiteLLM ships its price map inside the wheel under this name.
BUNDLED_NAME = "model_prices_and_context_window_backup.json"

_MILLION = Decimal(1_000_000)
_ABOVE = re.compile(r"^input_cost_per_token_above_(\d+)(k?)_tokens$")
_PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True)
class Tier:
    """Prices (USD per million tokens) for a request with more than `above_tokens` prompt tokens."""

    above_tokens: int
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal


@dataclass(frozen=True)
class CatalogPrice:
    """One priced entry of LiteLLM's map. `model` is the key without its `provider/` prefix."""

    catalog_key: str
    provider: str
    model: str
    mode: str
    input: Decimal
    output: Decimal
    cache_read: Decimal | None
    cache_write: Decimal | None
    tiers: tuple[Tier, ...] = ()

    def prices(self) -> tuple[object, ...]:
        """Everything that, when it changes, makes a new effective-dated row."""
        return (self.provider, self.model, self.mode, self.input, self.output, self.cache_read,
                self.cache_write, self.tiers)  # fmt: skip


@dataclass
class Catalog:
    """The priced entries, and the entries left out with the reason."""

    prices: dict[str, CatalogPrice] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def bundled_catalog() -> Path:
    """The copy of the price map inside the installed litellm wheel (litellm is a dev dependency only).

    Found without importing litellm, whose import fetches the map from the network."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "litellm is not installed here, so there is no bundled price map to read; pass "
            "--from FILE with a copy of LiteLLM's model_prices_and_context_window.json"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_NAME
    if not path.is_file():
        raise UserError(f"the installed litellm has no {BUNDLED_NAME}; pass --from FILE instead")
    return path


def read_catalog(path: Path) -> Catalog:
    """The priced entries of the price map at `path`; a file that is not one is a UserError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"price map {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"price map {path} is not readable JSON ({exc})") from None
    if not isinstance(data, dict) or not any(
        isinstance(v, dict) and "litellm_provider" in v for v in data.values()
    ):
        raise UserError(
            f"{path} is not LiteLLM's model_prices_and_context_window.json (no entry names a litellm_provider)"
        )
    return parse_catalog(data)


def parse_catalog(data: Mapping[str, Any]) -> Catalog:
    """The priced entries of a parsed price map, keyed by LiteLLM's key in lower case."""
    catalog = Catalog()
    for key, entry in data.items():
        if key == "sample_spec" or not isinstance(entry, dict):
            continue
        if entry.get("mode") not in MODES:
            continue
        try:
            price = _entry_price(key, entry)
        except (TypeError, ValueError, ArithmeticError) as exc:
            catalog.skipped[key] = f"unreadable price ({exc})"
            continue
        if isinstance(price, str):
            catalog.skipped[key] = price
            continue
        if price is None:
            continue
        if price.catalog_key in catalog.prices:
            catalog.skipped[key] = f"same key as {price.catalog_key!r} in lower case"
            continue
        catalog.prices[price.catalog_key] = price
    return catalog


def _entry_price(key: str, entry: Mapping[str, Any]) -> CatalogPrice | str | None:
    """The entry's price; None when it has no token price; a reason when it cannot be represented."""
    provider = str(entry.get("litellm_provider") or "").strip().lower()
    if not provider:
        return "no litellm_provider"
    catalog_key = key.strip().lower()
    model = catalog_key.removeprefix(f"{provider}/")
    mode = str(entry["mode"])
    ranges = entry.get("tiered_pricing")
    if entry.get("input_cost_per_token") is None and isinstance(ranges, list) and ranges:
        return _ranged_price(catalog_key, provider, model, mode, entry, ranges)
    if entry.get("input_cost_per_token") is None:
        return None
    base_input = _mtok(entry["input_cost_per_token"])
    base_output = _mtok(entry.get("output_cost_per_token") or 0)
    cache_read = _optional_mtok(entry.get("cache_read_input_token_cost"))
    cache_write = _optional_mtok(entry.get("cache_creation_input_token_cost"))
    tiers = []
    for threshold, suffix in sorted(
        {
            (int(m[1]) * (1000 if m[2] else 1), f"above_{m[1]}{m[2]}_tokens")
            for m in map(_ABOVE.match, entry)
            if m
        }
    ):
        tier_input = _optional_mtok(entry.get(f"input_cost_per_token_{suffix}"))
        if tier_input is None:
            continue
        tiers.append(
            Tier(
                above_tokens=threshold,
                input=tier_input,
                output=_optional_mtok(entry.get(f"output_cost_per_token_{suffix}")) or base_output,
                cache_read=_first(entry.get(f"cache_read_input_token_cost_{suffix}"), cache_read, tier_input),
                cache_write=_first(
                    entry.get(f"cache_creation_input_token_cost_{suffix}"), cache_write, tier_input
                ),
            )
        )
    if len(tiers) > TIERS:
        return f"{len(tiers)} price tiers (the seed holds {TIERS})"
    return CatalogPrice(catalog_key, provider, model, mode, base_input, base_output, cache_read, cache_write,
                        tuple(tiers))  # fmt: skip


def _ranged_price(
    catalog_key: str, provider: str, model: str, mode: str, entry: Mapping[str, Any], ranges: list[Any]
) -> CatalogPrice | str:
    """An entry priced by `tiered_pricing` ranges: the range from 0 is the base, the others tiers."""
    ordered = sorted(ranges, key=lambda r: float(r["range"][0]))
    if float(ordered[0]["range"][0]) != 0:
        return "tiered_pricing has no range starting at 0"
    if len(ordered) - 1 > TIERS:
        return f"{len(ordered) - 1} price tiers (the seed holds {TIERS})"
    own_output = entry.get("output_cost_per_token") or 0

    def prices(tier: Mapping[str, Any]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        tier_input = _mtok(tier["input_cost_per_token"])
        return (
            tier_input,
            _mtok(tier.get("output_cost_per_token", own_output)),
            _first(tier.get("cache_read_input_token_cost"), None, tier_input),
            _first(tier.get("cache_creation_input_token_cost"), None, tier_input),
        )

    base = prices(ordered[0])
    tiers = tuple(Tier(int(float(r["range"][0])) - 1, *prices(r)) for r in ordered[1:])
    return CatalogPrice(catalog_key, provider, model, mode, *base, tiers=tiers)


def _mtok(per_token: object) -> Decimal:
    """USD per token (a JSON number) as USD per million tokens, exactly."""
    if isinstance(per_token, bool) or not isinstance(per_token, (int, float, str)):
        raise TypeError(f"{per_token!r} is not a number")
    value = Decimal(str(per_token)) * _MILLION
    if not value.is_finite() or value < 0:
        raise ValueError(f"{per_token!r} is not a price")
    return value.normalize() if value != 0 else Decimal(0)


def _optional_mtok(per_token: object) -> Decimal | None:
    return None if per_token is None else _mtok(per_token)


def _first(per_token: object, fallback: Decimal | None, last: Decimal) -> Decimal:
    """A tier's price: its own (per token), else `fallback`, else `last` (both per million)."""
    own = _optional_mtok(per_token)
    return own if own is not None else fallback if fallback is not None else last
