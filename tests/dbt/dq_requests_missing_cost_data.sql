-- Data quality (warn): days on which more than `dq_max_missing_cost_share` (5%) of a tenant's requests have
-- no usable cost data: no model, or a successful request that reported no tokens (so it is priced at 0).
{{ config(severity='warn', store_failures=true) }}

with

requests as (
    select * from {{ ref('sessions') }}
),

daily as (
    select
        tenant_id,
        event_date,
        count(*) as requests,
        count(*) filter (where model is null or (status = 'success' and total_tokens = 0)) as missing_cost_data
    from requests
    group by tenant_id, event_date
),

final as (
    select
        tenant_id,
        event_date,
        requests,
        missing_cost_data,
        missing_cost_data / requests as missing_cost_share
    from daily
    where missing_cost_data / requests > {{ var('dq_max_missing_cost_share') }}
)

select * from final
