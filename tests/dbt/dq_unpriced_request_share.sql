-- Data quality (warn): days on which more than `dq_max_unpriced_share` (1%) of a tenant's requests were
-- priced at the default price (pricing_status = 'default': a model missing from seeds/model_prices.csv).
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
        count(*) filter (where pricing_status = 'default') as unpriced_requests,
        {{ sorted_distinct_list('model', "pricing_status = 'default'") }} as unpriced_models
    from requests
    group by tenant_id, event_date
),

final as (
    select
        tenant_id,
        event_date,
        requests,
        unpriced_requests,
        unpriced_requests / requests as unpriced_share,
        unpriced_models
    from daily
    where unpriced_requests / requests > {{ var('dq_max_unpriced_share') }}
)

select * from final
