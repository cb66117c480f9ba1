-- One row per tenant and UTC day: activity, request mix, cost and (conservative) savings.
{{ incremental_by_day_config() }}

with

routing as (
    select * from {{ ref('routing_decisions') }}
),

developer_days as (
    select * from {{ ref('developer_daily_usage') }}
),

-- first day each developer was ever seen, over the tenant's whole history (from the permanent daily
-- grain, so a retention purge of old requests does not make a returning developer look new)
first_seen as (
    select
        tenant_id,
        developer_id,
        min(event_date) as first_seen_date
    from developer_days
    where developer_id is not null
    group by all
),

scoped as (
    select * from routing
    {% if is_incremental() %}
    where
        event_date >= {{ analytics_incremental_start(ref('routing_decisions'), source_loaded='source_loaded_at') }}
    {% endif %}
),

by_call_type as (
    select
        tenant_id,
        event_date,
        call_type,
        count(*) as requests
    from scoped
    group by all
),

call_type_maps as (
    select
        tenant_id,
        event_date,
        {{ json_object_agg('call_type', 'requests') }} as tasks_by_type
    from by_call_type
    group by all
),

daily as (
    select
        scoped.tenant_id,
        scoped.event_date,
        count(distinct scoped.developer_id) as active_users,
        count(distinct scoped.developer_id) filter (where first_seen.first_seen_date = scoped.event_date)
            as new_users,
        count(*) as tasks_created,
        count(*) as api_calls_made,
        count(*) filter (where scoped.status = 'success') as successful_requests,
        {{ exact_sum('scoped.cost_actual') }} as total_cost,
        {{ exact_sum('scoped.cost_baseline') }} as baseline_cost,
        {{ exact_sum('scoped.savings') }} as raw_savings,
        max(scoped.source_loaded_at) as source_loaded_at
    from scoped
    left join first_seen
        on scoped.tenant_id = first_seen.tenant_id
        and scoped.developer_id = first_seen.developer_id
    group by all
),

final as (
    select
        daily.tenant_id,
        daily.event_date,
        daily.active_users,
        daily.new_users,
        daily.tasks_created,
        daily.api_calls_made,
        daily.successful_requests,
        call_type_maps.tasks_by_type,
        daily.total_cost,
        daily.baseline_cost,
        daily.raw_savings,
        {{ conservative_savings('daily.raw_savings', 'daily.baseline_cost') }} as total_savings,
        daily.source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from daily
    left join call_type_maps
        on daily.tenant_id = call_type_maps.tenant_id
        and daily.event_date = call_type_maps.event_date
)

select * from final
