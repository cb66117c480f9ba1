-- The ProdLens data model's "Query Sessions by Date Range", adapted to the marts: per developer of one
-- tenant and repository, real sessions (not requests), tokens and cost in a date range.
-- Parameters: --vars '{analysis_tenant_id: acme, analysis_repo_slug: acme/web,
--   analysis_since: 2025-10-01, analysis_until: 2025-10-31}'
with

sessions as (
    select * from {{ ref('session_summaries') }}
),

final as (
    select
        developer_id,
        count(*) as session_count,
        sum(request_count) as request_count,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as total_cost
    from sessions
    where
        tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
        and repo_slug = {{ sql_literal(var("analysis_repo_slug", "acme/web")) }}
        and cast(started_at as date)
        between date {{ sql_literal(var("analysis_since", "2025-10-01")) }}
        and date {{ sql_literal(var("analysis_until", "2025-10-31")) }}
    group by developer_id
)

select * from final
order by total_cost desc
