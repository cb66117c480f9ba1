"""The whitelist of fields ProdLens reads from a trace record.

Privacy by construction: DuckDB's `json_transform` extracts exactly these keys and nothing else, so
prompt and response content (`messages`, `response`, `input`, `output`, ...) is never materialised in a
column. Every leaf is read as VARCHAR and typed afterwards in SQL, so a wrongly typed value becomes a
clear dead-letter reason instead of a cast error.
"""

from __future__ import annotations

import json
from typing import Any

V = "VARCHAR"

_TOKEN_USAGE = {
    "prompt_tokens": V,
    "completion_tokens": V,
    "total_tokens": V,
    "input_tokens": V,
    "output_tokens": V,
    "cache_read_input_tokens": V,
    "cache_creation_input_tokens": V,
    "prompt_tokens_details": {"cached_tokens": V, "cache_creation_tokens": V},
}

_OTEL_GENAI = {
    "gen_ai.request.model": V,
    "gen_ai.response.model": V,
    "gen_ai.usage.input_tokens": V,
    "gen_ai.usage.output_tokens": V,
    "gen_ai.usage.cache_read.input_tokens": V,
    "gen_ai.usage.cache_creation.input_tokens": V,
    "gen_ai.provider.name": V,
    "gen_ai.system": V,
}

_PROMPT_MANAGEMENT = {"prompt_id": V, "prompt_version": V, "experiment_id": V, "variant": V}

_ACCEPTANCE = {
    "prod_lens.accepted": V,
    "accepted": V,
    "accepted_flag": V,
    "diff_ratio": V,
    "prod_lens.diff_ratio": V,
    "accepted_lines": V,
    "prod_lens.accepted_lines": V,
}

_REPO = {"repo": V, "repository": V, "repo_slug": V}

# the error's code and class and LiteLLM's own markers (never its message or traceback, which can quote
# the prompt)
_ERROR = {
    "error_code": V,
    "error_class": V,
    "normalized_error": V,
    "error_rate_limit_category": V,
    "error_budget_entity_type": V,
}

TRACE_STRUCTURE: dict[str, Any] = {
    # identity of the request
    "id": V,
    "litellm_call_id": V,
    "request_id": V,
    "span_id": V,
    "context": {"span_id": V},
    "trace_id": V,
    "parent_span_id": V,
    "call_type": V,
    "status": V,
    "status_code": V,
    "http.status_code": V,
    # model and provider
    "model": V,
    "model_group": V,
    "custom_llm_provider": V,
    "llm.provider": V,
    **_OTEL_GENAI,
    # time
    "startTime": V,
    "endTime": V,
    "completionStartTime": V,
    "timestamp": V,
    "start_time": V,
    "end_time": V,
    "latency_ms": V,
    "duration_ms": V,
    # tokens and cost
    **{k: v for k, v in _TOKEN_USAGE.items() if k in {"prompt_tokens", "completion_tokens", "total_tokens"}},
    "prompt_tokens_details": {"cached_tokens": V},
    "usage": _TOKEN_USAGE,
    "response_cost": V,
    "spend": V,  # LiteLLM_SpendLogs' name for response_cost
    "cache_hit": V,
    "hidden_params": {
        "response_cost": V,
        "api_base": V,
        # LiteLLM's router: how many fallbacks it tried before this call served the request
        "additional_headers": {"x-litellm-attempted-fallbacks": V},
    },
    "error_information": _ERROR,
    # the endpoint called (only whether there was one is kept) and LiteLLM's own price-map key
    "api_base": V,
    "model_map_information": {"model_map_key": V},
    # who and where
    "developer_id": V,
    "session_id": V,
    "end_user": V,
    "user": V,  # LiteLLM_SpendLogs: the request's `user` field
    "team_id": V,  # LiteLLM_SpendLogs
    "organization_id": V,  # LiteLLM_SpendLogs
    "request_tags": V,
    "metadata": {
        "developer_id": V,
        "session_id": V,
        "tenant_id": V,
        **_REPO,
        "user_api_key_hash": V,
        "user_api_key_alias": V,
        "user_api_key_user_id": V,
        "user_api_key_user_email": V,
        "user_api_key_team_id": V,
        "user_api_key_org_id": V,
        # headers the client sent through the proxy (LiteLLM keeps only x-* headers here)
        "requester_custom_headers": {
            "x-prodlens-repo": V,
            "x-prodlens-developer": V,
            "x-prodlens-session": V,
        },
        # LiteLLM_SpendLogs exports: the client's own keys (`metadata.spend_logs_metadata` in the request)
        "spend_logs_metadata": {"developer_id": V, "session_id": V, "tenant_id": V, "repo": V},
        "requester_metadata": {
            "developer_id": V,
            "user": V,
            "session_id": V,
            "repo": V,
            **_PROMPT_MANAGEMENT,
        },
        "usage_object": _TOKEN_USAGE,
        # LiteLLM_SpendLogs keeps the error and the router's fallback record here
        "error_information": _ERROR,
        "attempted_fallbacks": V,
        "original_model_group": V,
        "prompt_management_metadata": _PROMPT_MANAGEMENT,
        **_PROMPT_MANAGEMENT,
        **_ACCEPTANCE,
    },
    "attributes": {
        "llm.model_name": V,
        "llm.provider": V,
        "status_code": V,
        "http.status_code": V,
        "latency_ms": V,
        "duration_ms": V,
        "llm.token_count.prompt": V,
        "llm.token_count.completion": V,
        "llm.token_count.total": V,
        "llm.token_count.prompt_details.cache_read": V,
        "llm.token_count.prompt_details.cache_write": V,
        "llm.cost.total": V,
        "session.id": V,
        "user.id": V,
        "span_id": V,
        **_REPO,
        **_OTEL_GENAI,
        **_ACCEPTANCE,
        **_PROMPT_MANAGEMENT,
    },
}

TRACE_STRUCTURE_JSON = json.dumps(TRACE_STRUCTURE)
