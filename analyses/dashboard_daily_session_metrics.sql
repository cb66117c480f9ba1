-- Dashboard: a tenant's developer leaderboard for the last 7 days of data (sessions, requests, error rate,
-- median latency, cost) from marts.daily_session_metrics.
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

daily as (
    select * from {{ ref('daily_session_metrics') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

latest as (
    select max(event_date) as last_day from daily
),

last_week as (
    select daily.*
    from daily
    cross join latest
    where daily.event_date > latest.last_day - 7
),

final as (
    select
        coalesce(developer_id, '(unknown)') as developer_id,
        sum(session_count) as sessions,
        sum(request_count) as requests,
        round(100.0 * sum(error_count) / sum(request_count), 1) as error_rate_pct,
        round(median(median_latency_ms)) as typical_daily_median_latency_ms,
        round(sum(cost_usd), 4) as cost_usd
    from last_week
    group by all
)

select * from final
order by cost_usd desc
