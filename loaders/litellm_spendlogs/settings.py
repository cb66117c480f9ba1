"""What ProdLens reads from LiteLLM's `LiteLLM_SpendLogs` table (columns as in LiteLLM's schema.prisma).

A whitelist, like the trace files' (loaders/litellm/fields.py): `messages`, `response` and
`proxy_server_request`, which LiteLLM fills when `store_prompts_in_spend_logs` is on, are never selected,
and of the `metadata` JSON only the keys below are: the query builds a new JSON object from them in
Postgres, so no other key (`proxy_server_request`, error messages, guardrail text) leaves the database,
not even into dlt's working files.
"""

from __future__ import annotations

TABLE = "LiteLLM_SpendLogs"
CURSOR = "startTime"
PRIMARY_KEY = "request_id"

#: Plain columns, selected as they are.
COLUMNS: tuple[str, ...] = (
    "request_id",
    "call_type",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "completionStartTime",
    "request_duration_ms",
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "api_base",
    "user",
    "cache_hit",
    "request_tags",
    "team_id",
    "organization_id",
    "end_user",
    "session_id",
    "status",
    "litellm_call_id",
)

#: The `metadata` column, rebuilt from these paths only: output key -> path in LiteLLM's metadata.
METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "user_api_key_hash": ("user_api_key",),
    "user_api_key_alias": ("user_api_key_alias",),
    "user_api_key_user_id": ("user_api_key_user_id",),
    "user_api_key_user_email": ("user_api_key_user_email",),
    "user_api_key_team_id": ("user_api_key_team_id",),
    "user_api_key_org_id": ("user_api_key_org_id",),
    "usage_object": ("usage_object",),
    "attempted_fallbacks": ("attempted_fallbacks",),
    "original_model_group": ("original_model_group",),
    # the client's own tags (`metadata.spend_logs_metadata` in the request)
    "repo": ("spend_logs_metadata", "repo"),
    "session_id": ("spend_logs_metadata", "session_id"),
    "developer_id": ("spend_logs_metadata", "developer_id"),
    "tenant_id": ("spend_logs_metadata", "tenant_id"),
}

#: The error's code and class and LiteLLM's own rejection markers (never its message or traceback, which
#: can quote the prompt).
ERROR_KEYS: tuple[str, ...] = (
    "error_code",
    "error_class",
    "normalized_error",
    "error_rate_limit_category",
    "error_budget_entity_type",
)


def metadata_sql(column: str = '"metadata"') -> str:
    """The Postgres expression that rebuilds `metadata` from the whitelisted keys."""
    pairs = [f"'{key}', {column} #> '{{{','.join(path)}}}'" for key, path in METADATA_KEYS.items()]
    errors = ", ".join(f"'{key}', {column} #> '{{error_information,{key}}}'" for key in ERROR_KEYS)
    pairs.append(f"'error_information', jsonb_strip_nulls(jsonb_build_object({errors}))")
    return f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))"
