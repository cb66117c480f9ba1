-- Dashboard: one tenant and repository's daily requests, cost and median provider latency over the last
-- 30 days of data (marts.report_daily_figures: the report's daily inputs, all models of a day together).
-- Parameters: --vars '{analysis_tenant_id: acme, analysis_repo_slug: acme/web}'
with

days as (
    select * from {{ ref('report_daily_figures') }}
    where
        tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
        and repo_slug = {{ sql_literal(var("analysis_repo_slug", "acme/web")) }}
),

latest as (
    select max(event_date) as last_day from days
),

latencies as (
    select
        days.event_date,
        unnest(days.provider_latencies_ms) as latency_ms
    from days
    cross join latest
    where days.event_date > latest.last_day - 30
),

daily_latency as (
    select
        event_date,
        quantile_cont(latency_ms, 0.5) as median_latency_ms
    from latencies
    group by event_date
),

daily as (
    select
        days.event_date,
        sum(days.request_count) as requests,
        sum(days.error_count) as errors,
        cast(sum(days.cost_usd_sum) as double) as cost_usd
    from days
    cross join latest
    where days.event_date > latest.last_day - 30
    group by days.event_date
),

final as (
    select
        daily.event_date,
        daily.requests,
        daily.errors,
        round(daily.cost_usd, 4) as cost_usd,
        round(daily_latency.median_latency_ms) as median_latency_ms
    from daily
    left join daily_latency
        on daily.event_date = daily_latency.event_date
)

select * from final
order by event_date
