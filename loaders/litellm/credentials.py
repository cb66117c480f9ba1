"""The one rule for values that look like credentials: a bearer token, an `sk-` key, a key, token,
secret or password query parameter, a password in a URL. Used by the SQL normaliser (as the pattern of
its `pl_credential` macro), the OpenTelemetry reader and the dead-letter skeleton. Written for both
Python's `re` and DuckDB's RE2."""

from __future__ import annotations

import re

CREDENTIAL_PATTERN = (
    r"(?i)(bearer\s+\S+|\bsk-[a-z0-9_-]{6,}|[?&;](?:api[_-]?key|key|token|access_token|secret|password)=[^&\s\"']*"
    r"|://[^/\s:@]+:[^/\s@]+@)"
)
_CREDENTIAL = re.compile(CREDENTIAL_PATTERN)
CREDENTIAL_REMOVED = "[credential removed]"


def looks_like_credential(text: str) -> bool:
    return _CREDENTIAL.search(text) is not None


def scrub_credentials(text: str) -> str:
    """`text` with every credential-looking part replaced by CREDENTIAL_REMOVED."""
    return _CREDENTIAL.sub(CREDENTIAL_REMOVED, text)
