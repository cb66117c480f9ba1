-- Dashboard: a tenant's monthly cost per LiteLLM request tag, against a tag budget (marts.cost_by_tag).
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

tagged as (
    select * from {{ ref('cost_by_tag') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        date_trunc('month', event_date) as month_start,
        request_tag,
        sum(request_count) as requests,
        sum(rejected_count) as rejected,
        round(sum(cost_usd), 4) as cost_usd,
        sum(default_priced_count) as unpriced_requests
    from tagged
    group by all
)

select * from final
order by month_start asc, cost_usd desc
