-- The ProdLens data model's "Find High-Cost Sessions", adapted to the marts: the most expensive real
-- sessions (not single requests) of one tenant above a cost threshold.
-- Parameters: --vars '{analysis_tenant_id: acme, analysis_min_session_cost_usd: 0.01}'
with

sessions as (
    select * from {{ ref('session_summaries') }}
),

final as (
    select
        session_id,
        developer_id,
        repo_slug,
        models_used,
        request_count,
        total_tokens,
        cost_usd,
        started_at,
        duration_minutes
    from sessions
    where
        tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
        and cost_usd > {{ number_var("analysis_min_session_cost_usd", 0.01) }}
)

select * from final
order by cost_usd desc
limit 20
