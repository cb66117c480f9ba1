-- Hourly cost per tenant, provider, model and developer (the prompt-store design's cost_aggregations,
-- whose user_id is ProdLens's developer_id).
{{ incremental_by_day_config() }}

with

requests as (
    select * from {{ ref('int_analytics__requests') }}
    {% if is_incremental() %}
    where event_date >= {{ analytics_incremental_start(ref('int_analytics__requests')) }}
    {% endif %}
),

final as (
    select
        tenant_id,
        event_hour as time_bucket,
        provider,
        model,
        developer_id,
        developer_id as user_id,
        event_date,
        count(*) as call_count,
        count(*) filter (where is_error) as error_count,
        sum(tokens_in) as tokens_in,
        sum(tokens_out) as tokens_out,
        sum(total_tokens) as total_tokens,
        {{ exact_sum('cost_usd') }} as total_cost,
        avg(latency_ms) as avg_latency_ms,
        sum(cache_read_tokens) as cache_read_tokens,
        {{ exact_sum('cache_savings_usd') }} as cache_savings_usd,
        max(ingested_at) as source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from requests
    group by tenant_id, event_hour, provider, model, developer_id, event_date
)

select * from final
