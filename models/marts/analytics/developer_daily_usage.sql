-- One row per tenant, UTC day, developer, repository and provider: requests, cost, savings and latency
-- sums. The permanent daily grain under customer_roi_snapshots and usage_analytics.new_users: retention
-- purges routing_decisions (one row per request), never this table, so neither changes after a purge.
-- Money is added exactly (exact_sum), so a day recomputed later gives the same figures to the last bit.
{{ incremental_by_day_config() }}

with

routing as (
    select * from {{ ref('routing_decisions') }}
),

scoped as (
    select * from routing
    {% if is_incremental() %}
    where
        event_date >= {{ analytics_incremental_start(ref('routing_decisions'), source_loaded='source_loaded_at') }}
    {% endif %}
),

final as (
    select
        tenant_id,
        event_date,
        developer_id,
        repo_slug,
        provider,
        count(*) as requests,
        count(*) filter (where status = 'success') as successful_requests,
        {{ exact_sum('cost_actual') }} as cost_actual,
        {{ exact_sum('cost_baseline') }} as cost_baseline,
        {{ exact_sum('savings') }} as savings,
        sum(latency_ms) filter (where status = 'success') as success_latency_ms_sum,
        count(latency_ms) filter (where status = 'success') as success_latency_count,
        max(source_loaded_at) as source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from scoped
    group by tenant_id, event_date, developer_id, repo_slug, provider
)

select * from final
