-- Dashboard: the ROI card of a tenant, as of its latest snapshot (marts.customer_roi_snapshots):
-- "You saved $X (Y%) over the last 30 days".
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

snapshots as (
    select * from {{ ref('customer_roi_snapshots') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        snapshot_date,
        total_cost_30d,
        total_savings_30d,
        savings_percentage_30d,
        'You saved $' || total_savings_30d || ' (' || savings_percentage_30d || '%) over the last 30 days'
            as headline,
        tasks_completed_30d,
        avg_task_duration_30d,
        productivity_gain_30d,
        provider_usage_distribution,
        most_efficient_provider,
        cost_trend,
        savings_trend
    from snapshots
    qualify row_number() over (order by snapshot_date desc) = 1
)

select * from final
