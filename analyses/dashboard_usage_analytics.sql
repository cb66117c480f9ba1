-- Dashboard: weekly adoption of a tenant (active and new users, requests, cost, conservative savings) from
-- marts.usage_analytics.
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

usage as (
    select * from {{ ref('usage_analytics') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        date_trunc('week', event_date) as week,
        max(active_users) as peak_daily_active_users,
        sum(new_users) as new_users,
        sum(tasks_created) as requests,
        round(sum(total_cost), 2) as total_cost,
        sum(total_savings) as total_savings
    from usage
    group by all
)

select * from final
order by week
