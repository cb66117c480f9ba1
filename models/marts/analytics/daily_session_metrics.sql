-- One row per tenant, UTC day and developer: the ProdLens daily session metrics.
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
        event_date,
        developer_id,
        count(distinct session_key) as session_count,
        count(*) as request_count,
        sum(total_tokens) as total_tokens,
        sum(accepted_flag) as accepted_count,
        count(accepted) as acceptance_tracked_count,
        count(*) filter (where is_error) as error_count,
        {{ percentile_cont('latency_ms', 0.5, 'is_provider_call') }} as median_latency_ms,
        {{ percentile_cont('latency_ms', 0.95, 'is_provider_call') }} as p95_latency_ms,
        {{ exact_sum('cost_usd') }} as cost_usd,
        sum(cache_read_tokens) as cache_read_tokens,
        count(*) filter (where is_rejected) as rejected_count,
        count(*) filter (where is_cache_hit) as cache_hit_count,
        max(ingested_at) as source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from requests
    group by tenant_id, event_date, developer_id
)

select * from final
