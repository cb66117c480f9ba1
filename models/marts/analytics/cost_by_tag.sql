-- Daily cost per tenant, LiteLLM request tag, provider and model: what LiteLLM users budget by. A request
-- with several tags counts under each of them (sum over one tag, never across tags); untagged requests
-- are not here (cost_aggregations has every request).
{{ incremental_by_day_config() }}

with

requests as (
    select * from {{ ref('int_analytics__requests') }}
    where request_tags is not null
    {% if is_incremental() %}
        and event_date >= {{ analytics_incremental_start(ref('int_analytics__requests')) }}
    {% endif %}
),

tagged as (
    select
        requests.*,
        {{ unnest_list('array_distinct(requests.request_tags)') }} as request_tag
    from requests
),

final as (
    select
        tenant_id,
        event_date,
        request_tag,
        provider,
        model,
        count(*) as request_count,
        count(*) filter (where is_error) as error_count,
        count(*) filter (where is_rejected) as rejected_count,
        sum(tokens_in) as tokens_in,
        sum(tokens_out) as tokens_out,
        {{ exact_sum('cost_usd') }} as cost_usd,
        {{ exact_sum('cache_savings_usd') }} as cache_savings_usd,
        count(*) filter (where pricing_status = 'default') as default_priced_count,
        max(ingested_at) as source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from tagged
    group by tenant_id, event_date, request_tag, provider, model
)

select * from final
