-- Dashboard: weekly provider comparison for a tenant (success rate and exact latency percentiles) from
-- marts.provider_performance.
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

performance as (
    select * from {{ ref('provider_performance') }}
),

final as (
    select
        period_start,
        provider,
        total_executions,
        success_rate,
        round(p50_duration_ms) as p50_ms,
        round(p95_duration_ms) as p95_ms,
        round(p99_duration_ms) as p99_ms,
        round(avg_ttft_ms) as avg_ttft_ms,
        round(avg_cost_per_task, 5) as avg_cost_per_task
    from performance
    where
        tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
        and aggregation_level = 'weekly'
)

select * from final
order by period_start, provider
