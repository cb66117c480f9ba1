-- Usable LiteLLM requests from completed dlt loads, one row per trace_hash.
with

requests as (
    select * from {{ ref('base_litellm__requests') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

completed as (
    select requests.*
    from requests
    inner join completed_loads
        on requests._dlt_load_id = completed_loads.load_id
),

final as (
    select
        trace_hash,
        request_id,
        tenant_id,
        session_id,
        developer_id,
        "timestamp",
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
        status,
        error_code,
        error_class,
        repo_slug,
        accepted_flag,
        diff_ratio,
        accepted_lines,
        team_id,
        api_key_alias,
        api_key_hash,
        org_id,
        proxy_cost_usd,
        cache_hit,
        prompt_id,
        prompt_version,
        experiment_id,
        variant,
        trace_id,
        source_file,
        source_line,
        ingested_at,
        _dlt_load_id as load_id
    from completed
    -- merge keeps trace_hash unique; this guards reads of a table written outside dlt
    qualify row_number() over (partition by trace_hash order by ingested_at desc, _dlt_load_id desc) = 1
)

select * from final
