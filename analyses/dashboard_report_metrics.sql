-- Dashboard: the weekly ProdLens report trend of one tenant and repository (marts.report_metrics):
-- AI velocity, acceptance and errors next to PR throughput, merge time and cost per merged PR.
-- Parameters: --vars '{analysis_tenant_id: acme, analysis_repo_slug: acme/web}'
with

report as (
    select * from {{ ref('report_metrics') }}
),

final as (
    select
        period_start as week,
        request_count,
        round(median_latency_ms) as median_latency_ms,
        round(requests_per_active_hour, 2) as requests_per_active_hour,
        round(acceptance_rate, 3) as acceptance_rate,
        round(error_rate, 3) as error_rate,
        merged_pr_count,
        pr_throughput_per_week,
        round(median_merge_hours, 1) as median_merge_hours,
        round(rework_rate, 3) as rework_rate,
        round(total_cost_usd, 4) as total_cost_usd,
        round(cost_per_merged_pr, 4) as cost_per_merged_pr
    from report
    where
        tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
        and repo_slug = {{ sql_literal(var("analysis_repo_slug", "acme/web")) }}
        and period_type = 'week'
)

select * from final
order by week
