"""The dlt source for trace logs (LiteLLM, OpenTelemetry, Claude Code): `litellm_requests` (usable
rows), `agent_events` (coding-agent events) and `litellm_rejects` (dead letters), defined in source.py.

The source is imported on first use of its names: finding and reading trace files (files.py) and the
normaliser do not need dlt, so a scheduled run whose files did not change does not pay dlt's import
(about 1 s of a 2 s no-op run on 2 cores)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loaders.litellm.source import MERGE, TracePass, litellm_traces

__all__ = ["MERGE", "TracePass", "litellm_traces"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from loaders.litellm import source

        return getattr(source, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
