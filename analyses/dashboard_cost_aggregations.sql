-- Dashboard: a tenant's daily cost by model with the prompt-cache savings (marts.cost_aggregations).
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

costs as (
    select * from {{ ref('cost_aggregations') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        event_date,
        model,
        sum(call_count) as calls,
        sum(total_tokens) as tokens,
        round(sum(total_cost), 4) as cost_usd,
        round(sum(cache_savings_usd), 4) as cache_savings_usd
    from costs
    group by all
)

select * from final
order by event_date asc, cost_usd desc
