"""Content-free dead letters.

Usable records never need this: they are read through a whitelist (fields.py, otel.py). A dead letter
keeps, instead of the line's text, its *skeleton*: the keys, the JSON types, the lengths of strings and
arrays, and the values of whitelisted identity and metric fields only (a string value elsewhere is never
kept). OTLP key/value lists are shown as objects, so the same whitelist applies to attribute names there.
A line that is not JSON keeps only its length and the parser's message. Values that look like
credentials are scrubbed even from whitelisted fields.
"""

from __future__ import annotations

import json
from typing import Any

from loaders.litellm.credentials import scrub_credentials
from loaders.litellm.fields import TRACE_STRUCTURE
from loaders.litellm.otel import ATTRIBUTES

MAX_TEXT = 4000
MAX_KEPT = 200  # a whitelisted string longer than this is not an identifier: only its length is kept
MAX_KEY = 100
MAX_DEPTH = 12


def _leaves(structure: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for key, value in structure.items():
        names.add(key) if not isinstance(value, dict) else names.update(_leaves(value))
    return names


#: Field names whose scalar values a dead letter keeps.
# api_base is read only for whether it is there (the URL is not kept); request tags are free text
KEPT_FIELDS: frozenset[str] = frozenset(_leaves(TRACE_STRUCTURE) | ATTRIBUTES) - {"request_tags", "api_base"}


def _key(key: str) -> str:
    key = scrub_credentials(key)
    return key if len(key) <= MAX_KEY else f"{key[:MAX_KEY]}…"


def _is_kv_list(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(v, dict) and isinstance(v.get("key"), str) for v in value)


def skeleton(value: Any, key: str | None = None, depth: int = 0) -> Any:
    """The content-free shape of a parsed JSON value found under `key`."""
    if depth > MAX_DEPTH:
        return "<deeper>"
    if isinstance(value, dict):
        if (
            set(value)
            <= {
                "stringValue",
                "intValue",
                "doubleValue",
                "boolValue",
                "arrayValue",
                "kvlistValue",
                "bytesValue",
            }
            and value
        ):
            # an OTLP AnyValue: judged by the attribute it belongs to
            inner_key, inner = next(iter(value.items()))
            if inner_key == "kvlistValue" and isinstance(inner, dict):
                return skeleton(inner.get("values", []), key, depth + 1)
            if inner_key == "arrayValue" and isinstance(inner, dict):
                return skeleton(inner.get("values", []), key, depth + 1)
            return skeleton(inner, key, depth + 1)
        return {_key(str(k)): skeleton(v, str(k), depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if _is_kv_list(value):
            return {_key(v["key"]): skeleton(v.get("value"), v["key"], depth + 1) for v in value}
        return f"<array {len(value)}>"
    if isinstance(value, str):
        if key in KEPT_FIELDS and len(value) <= MAX_KEPT:
            return scrub_credentials(value)
        return f"<string {len(value)}>"
    return value  # numbers, booleans, null


def dead_letter_text(line: str) -> str:
    """What a dead letter stores of `line`: its skeleton as compact JSON, capped at MAX_TEXT characters."""
    try:
        parsed = json.loads(line)
    except RecursionError:
        return json.dumps({"length": len(line), "json_error": "nested too deeply"})
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError):
            message = f"{error.msg} (character {error.pos})"
        else:
            message = "not JSON"
        return json.dumps({"length": len(line), "json_error": message})
    return of_value(parsed)


def of_value(value: Any) -> str:
    """The dead-letter text of an already parsed value."""
    text = json.dumps(skeleton(value), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"…[{len(text) - MAX_TEXT} more characters]"
