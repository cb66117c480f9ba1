-- Dashboard: a tenant's AI cost per developer and repository over the last 30 days of its data, with
-- success rate and mean latency, from marts.developer_daily_usage.
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

usage as (
    select * from {{ ref('developer_daily_usage') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

last_day as (
    select max(event_date) as event_date from usage
),

final as (
    select
        usage.developer_id,
        usage.repo_slug,
        sum(usage.requests) as requests,
        round(100.0 * sum(usage.successful_requests) / sum(usage.requests), 2) as success_rate_pct,
        round(sum(usage.success_latency_ms_sum) / nullif(sum(usage.success_latency_count), 0)) as mean_latency_ms,
        round(sum(usage.cost_actual), 2) as cost_usd,
        round(sum(usage.savings), 2) as raw_savings_usd
    from usage
    cross join last_day
    where usage.event_date > last_day.event_date - 30
    group by all
)

select * from final
order by cost_usd desc, developer_id asc, repo_slug asc
