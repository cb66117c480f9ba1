-- One row per tenant, prompt and prompt version seen on requests (prompt management metadata).
with

requests as (
    select * from {{ ref('int_analytics__requests') }}
    where prompt_id is not null
),

final as (
    select
        tenant_id,
        prompt_id,
        prompt_version,
        min({{ adapter.quote('timestamp') }}) as first_seen,
        max({{ adapter.quote('timestamp') }}) as last_seen,
        count(*) as requests,
        count(*) filter (where not is_error) as successful_requests,
        avg(total_tokens) as avg_tokens,
        avg(cost_usd) as avg_cost,
        {{ exact_sum('cost_usd') }} as total_cost,
        round(100.0 * count(*) filter (where not is_error) / count(*), 2) as success_rate,
        avg(latency_ms) as avg_latency_ms,
        count(distinct experiment_id) as experiment_count,
        {{ analytics_run_started_at() }} as created_at
    from requests
    group by tenant_id, prompt_id, prompt_version
)

select * from final
