-- Dashboard: why requests were routed where they were, and what that saved against the baseline model
-- (marts.routing_decisions), for one tenant.
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

routing as (
    select * from {{ ref('routing_decisions') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        routing_reason,
        model_served,
        baseline_model,
        count(*) as requests,
        round(sum(cost_actual), 4) as cost_actual,
        round(sum(cost_baseline), 4) as cost_baseline,
        round(sum(savings), 4) as raw_savings,
        count(*) filter (where expected_savings and cost_actual > cost_baseline) as costlier_than_expected
    from routing
    group by all
)

select * from final
order by requests desc
