-- One row per tenant and session. A request without a session id is its own session.
{{
    config(
        materialized='incremental',
        meta={'written_at': 'created_at'},
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'session_id'],
    )
}}

with

requests as {{ not_materialized() }} (
    select * from {{ ref('int_analytics__requests') }}
),

{% if is_incremental() %}

-- every session with a request in the reprocessed window is rebuilt from all of its requests
touched_sessions as (
    select distinct
        tenant_id,
        session_key,
    from requests
    where event_date >= {{ analytics_incremental_start(ref('int_analytics__requests'), target_date='started_at') }}
),

scoped as (
    select requests.*
    from requests
    inner join touched_sessions
        on requests.tenant_id = touched_sessions.tenant_id
        and requests.session_key = touched_sessions.session_key
),

{% else %}

    scoped as (
        select * from requests
    ),

{% endif %}

final as (
    select
        tenant_id,
        session_key as session_id,
        bool_or(session_id is not null) as has_session_id,
        first(developer_id order by "timestamp", trace_hash) filter (where developer_id is not null)
            as developer_id,
        count(distinct developer_id) as developer_count,
        first(repo_slug order by "timestamp", trace_hash) filter (where repo_slug is not null) as repo_slug,
        min("timestamp") as started_at,
        max("timestamp" + to_milliseconds(coalesce(latency_ms, 0))) as ended_at,
        epoch(max("timestamp" + to_milliseconds(coalesce(latency_ms, 0))) - min("timestamp")) / 60.0
            as duration_minutes,
        count(*) as request_count,
        list_sort(list(distinct model) filter (where model is not null)) as models_used,
        count(distinct model) as model_count,
        sum(total_tokens) as total_tokens,
        {{ exact_sum('cost_usd') }} as cost_usd,
        count(*) filter (where is_error) as error_count,
        sum(accepted_flag) as accepted_count,
        count(accepted) as acceptance_tracked_count,
        max(ingested_at) as source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from scoped
    group by tenant_id, session_key
)

select * from final
