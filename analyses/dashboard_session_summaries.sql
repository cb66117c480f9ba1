-- Dashboard: session length and cost distribution per developer of a tenant (marts.session_summaries).
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

sessions as (
    select * from {{ ref('session_summaries') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        coalesce(developer_id, '(unknown)') as developer_id,
        count(*) as sessions,
        round(avg(request_count), 1) as avg_requests_per_session,
        round({{ percentile_cont('duration_minutes', 0.5) }}, 1) as median_duration_minutes,
        round({{ percentile_cont('cost_usd', 0.9) }}, 4) as p90_session_cost_usd,
        count(*) filter (where model_count > 1) as multi_model_sessions
    from sessions
    group by all
)

select * from final
order by sessions desc
