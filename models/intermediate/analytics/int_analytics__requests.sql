-- One row per LLM request (marts.sessions) with the derived keys the analytics marts group on.
with

sessions as (
    select * from {{ ref('sessions') }}
),

final as (
    select
        trace_hash,
        request_id,
        tenant_id,
        -- a request without a session id counts as its own session
        coalesce(session_id, 'request:' || trace_hash) as session_key,
        session_id,
        developer_id,
        "timestamp",
        event_date,
        date_trunc('hour', "timestamp") as event_hour,
        model,
        case when contains(model, '/') then substr(model, strpos(model, '/') + 1) else model end as model_name,
        coalesce(provider, 'unknown') as provider,
        model_group,
        coalesce(call_type, 'unknown') as call_type,
        trace_id,
        repo_slug,
        tokens_in,
        tokens_out,
        total_tokens,
        cache_read_tokens,
        cache_write_tokens,
        latency_ms,
        ttft_ms,
        status_code,
        status,
        status = 'error' as is_error,
        accepted_flag,
        diff_ratio,
        accepted_lines,
        cost_usd,
        cache_savings_usd,
        pricing_status,
        input_usd_per_mtok,
        output_usd_per_mtok,
        cache_read_usd_per_mtok,
        cache_write_usd_per_mtok,
        proxy_cost_usd,
        prompt_id,
        prompt_version,
        experiment_id,
        variant,
        ingested_at
    from sessions
)

select * from final
