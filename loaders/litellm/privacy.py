"""Removing prompt/response content and credentials from dead-letter text.

Usable records never need this: they are read through a whitelist (fields.py). Dead letters keep the
line's text for debugging, so that text is stripped here first, before it reaches dlt or DuckDB.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Keys whose values are prompt or response content.
CONTENT_KEYS = frozenset(
    {
        "messages",
        "message",
        "response",
        "input",
        "output",
        "prompt",
        "completion",
        "content",
        "choices",
        "proxy_server_request",
        "input.value",
        "output.value",
        "system",
        "tools",
        "functions",
    }
)
CONTENT_PREFIXES = (
    "llm.input_messages",
    "llm.output_messages",
    "llm.prompts",
    "gen_ai.prompt",
    "gen_ai.completion",
)
# Keys that carry credentials; matched case-insensitively, with '-' and '_' treated alike.
CREDENTIAL_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "api_key",
        "x_api_key",
        "apikey",
        "secret",
        "client_secret",
        "password",
        "cookie",
        "set_cookie",
        "access_token",
        "refresh_token",
        "token",
        "bearer",
        "x_goog_api_key",
        "headers",
    }
)
# LiteLLM identity fields are not credentials: ProdLens needs them.
IDENTITY_KEYS = frozenset(
    {
        "user_api_key_hash",
        "user_api_key_alias",
        "user_api_key_user_id",
        "user_api_key_user_email",
        "user_api_key_team_id",
        "user_api_key_org_id",
    }
)
REDACTED = "[removed]"
MAX_TEXT = 4000


def _canonical(key: str) -> str:
    return key.strip().lower().replace("-", "_")


def is_sensitive_key(key: str) -> bool:
    """True for a key whose value must never be stored."""
    k = _canonical(key)
    if k in IDENTITY_KEYS:
        return False
    if k in CONTENT_KEYS or k.startswith(CONTENT_PREFIXES):
        return True
    return k in CREDENTIAL_KEYS or k.endswith(("_api_key", "_secret", "_password", "_token"))


def strip_content(value: Any) -> Any:
    """A copy of a parsed JSON value with sensitive keys' values replaced, at any depth."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_sensitive_key(str(k)) else strip_content(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_content(v) for v in value]
    return value


_KEY_IN_TEXT = re.compile(r'"([^"\\]{1,200})"\s*:')


def redact_text(line: str) -> str:
    """Dead-letter text for a line: stripped JSON when it parses, else the text cut before the first
    sensitive key (an unparseable line cannot be stripped structurally). Capped at MAX_TEXT characters."""
    try:
        return _cap(json.dumps(strip_content(json.loads(line)), ensure_ascii=False, separators=(",", ":")))
    except (ValueError, RecursionError):
        pass
    for match in _KEY_IN_TEXT.finditer(line):
        if is_sensitive_key(match.group(1)):
            return _cap(line[: match.start()]) + f"…[cut at sensitive key {match.group(1)!r}]"
    return _cap(line)


def _cap(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"…[{len(text) - MAX_TEXT} more characters]"
