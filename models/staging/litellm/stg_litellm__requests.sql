-- Usable LiteLLM requests from completed dlt loads, one row per trace_hash.
-- Incremental: each run reads the raw rows of the loads completed since the newest `load_completed_at` here
-- and replaces the rows with the same trace_hash (a record dlt merged again); on Spark, which cannot
-- replace rows of Parquet, it rebuilds the event_date partition of each day those rows fall on, from every
-- completed row of that day. A table, unlike the other staging models: pricing, the identity map, the
-- entitlements and this model's tests all read it.
{%- set watermark = request_grain_watermark('load_completed_at') %}
{%- set whole_days = overwrites_day_partitions() and watermark %}
{{
    config(
        materialized=incremental_materialization('event_date'),
        incremental_strategy=incremental_strategy('event_date'),
        partition_by=incremental_partition_by('event_date'),
        unique_key='trace_hash',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_nested_spans(this, ref('base_litellm__requests'), ref('base_dlt__completed_loads')) }}",
    )
}}

with

requests as {{ not_materialized() }} (
    select * from {{ ref('base_litellm__requests') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

-- the loads this run reads: all of them, or on an incremental run those completed since the last one
new_loads as (
    select
        load_id,
        inserted_at
    from completed_loads
    {% if watermark %}
        where inserted_at > {{ watermark }}
    {% endif %}
),

{% if whole_days %}

-- the days this run rebuilds: those of the new loads' rows, and those of the older spans a new row is the
-- parent of (rebuilt without them)
touched_days as (
    select requests.event_date
    from requests
    inner join new_loads
        on requests._dlt_load_id = new_loads.load_id
    union
    select child.event_date
    from requests as child
    inner join completed_loads
        on child._dlt_load_id = completed_loads.load_id
    inner join requests as parent
        on child.tenant_id = parent.tenant_id
        and child.trace_id = parent.trace_id
        and child.parent_span_id = parent.request_id
    inner join new_loads
        on parent._dlt_load_id = new_loads.load_id
),

-- every completed row of those days
batch as (
    select
        requests.*,
        completed_loads.inserted_at as load_completed_at
    from requests
    inner join completed_loads
        on requests._dlt_load_id = completed_loads.load_id
    where requests.event_date in (select touched_days.event_date from touched_days)
),

{% else %}

    batch as (
        select
            requests.*,
            new_loads.inserted_at as load_completed_at
        from requests
        inner join new_loads
            on requests._dlt_load_id = new_loads.load_id
    ),

{% endif %}

-- the span keys of every completed row, narrow (five columns, not `requests`): a span of the batch whose
-- parent is among them is dropped below
spans as (
    select
        requests.trace_hash,
        requests.tenant_id,
        requests.trace_id,
        requests.parent_span_id,
        requests.request_id
    from requests
    inner join completed_loads
        on requests._dlt_load_id = completed_loads.load_id
    where requests.trace_id is not null
),

-- An OpenTelemetry span whose parent span (same tenant and trace) is a loaded call is part of that call:
-- one LLM call stays one row. The loader skips such spans within a run and against earlier loads; this
-- catches a parent loaded in the same run, and the post-hook (delete_nested_spans) a parent that arrives
-- in a later run than its child (on Spark, the rebuild of the child's day: touched_days).
nested as (
    select child.trace_hash
    {%- if whole_days %}
    from batch as child
    {%- else %}
        from requests as child
        inner join new_loads
            on child._dlt_load_id = new_loads.load_id
    {%- endif %}
    inner join spans as parent
        on child.tenant_id = parent.tenant_id
        and child.trace_id = parent.trace_id
        and child.parent_span_id = parent.request_id
),

calls as (
    select batch.*
    from batch
    left join nested
        on batch.trace_hash = nested.trace_hash
    where nested.trace_hash is null
),

final as (
    select
        trace_hash,
        request_id,
        tenant_id,
        session_id,
        developer_id,
        {{ adapter.quote('timestamp') }},
        event_date,
        model,
        provider,
        model_group,
        call_type,
        tokens_in,
        tokens_out,
        total_tokens,
        cache_read_tokens,
        cache_write_tokens,
        latency_ms,
        ttft_ms,
        status_code,
        -- a failure that never reached a provider: refused by the proxy (invalid key, budget, its own
        -- rate limit). LiteLLM's budget and rate-limit markers say so outright; an auth, permission or
        -- rate-limit failure says so when no provider endpoint was called.
        case
            when status = 'error' and (
                error_budget_entity_type is not null
                or error_rate_limit_category in ('litellm_rate_limit', 'litellm_batch_rate_limit')
                or error_normalized = '429_BUDGET_EXCEEDED'
                or (
                    not coalesce(api_base_present, false)
                    and (
                        error_normalized in (
                            '401_AUTHENTICATION_FAILED', '403_MODEL_ACCESS_DENIED', '403_PERMISSION_DENIED'
                        )
                        or (
                            not coalesce(provider_reported, false)
                            and (
                                status_code in (401, 403, 429)
                                or error_class in (
                                    'AuthenticationError', 'PermissionDeniedError', 'BudgetExceededError',
                                    'RateLimitError', 'ProxyException'
                                )
                            )
                        )
                    )
                )
            ) then 'rejected'
            else status
        end as status,
        error_code,
        error_class,
        repo_slug,
        accepted_flag,
        accepted,
        diff_ratio,
        accepted_lines,
        team_id,
        api_key_alias,
        api_key_hash,
        org_id,
        proxy_cost_usd,
        cache_hit,
        catalog_key,
        attempted_fallbacks,
        original_model_group,
        -- LiteLLM's request tags as a list (the raw column holds a JSON array)
        {{ json_string_list('request_tags') }} as request_tags,
        prompt_id,
        prompt_version,
        experiment_id,
        variant,
        trace_id,
        parent_span_id,
        malformed_fields,
        source_file,
        source_line,
        source_item,
        ingested_at,
        _dlt_load_id as load_id,
        load_completed_at
    -- the loader skips a trace_hash already loaded (against the working file, or on a lake target a copy
    -- of the lake's keys) and dlt's merge backs that up; the unique test on this model fails the build
    -- should a table written outside ProdLens break it (deduplicating here cost a sort of every request)
    from calls
)

select * from final
