-- One row per tenant and session. A request without a session id is its own session.
{{
    config(
        materialized=incremental_materialization(),
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

{%- set first_day = analytics_incremental_start(ref('int_analytics__requests'), target_date='started_at') %}
{#- the earliest day a request of a session touched by the window can have: the window's first day, or the
    day before the start of an older session it continues (a day early, whatever the session time zone),
    so the scan skips every row group before it -#}
{%- set earliest = first_day %}
{%- if execute %}
    {%- set earliest = "date '" ~ run_query(
        "select cast(least(" ~ first_day ~ ", min(cast(started_at as date)) - 1) as string) from " ~ this
        ~ " where (tenant_id, session_id) in (select (tenant_id, session_key) from "
        ~ ref('int_analytics__requests') ~ " where event_date >= " ~ first_day ~ ")"
    ).rows[0][0] ~ "'" %}
{%- endif %}

-- every session with a request in the reprocessed window is rebuilt from all of its requests
touched_sessions as (
    select distinct
        tenant_id,
        session_key
    from requests
    where event_date >= {{ first_day }}
),

scoped as (
    select requests.*
    from requests
    inner join touched_sessions
        on requests.tenant_id = touched_sessions.tenant_id
        and requests.session_key = touched_sessions.session_key
    where requests.event_date >= {{ earliest }}
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
        {{ first_by('developer_id', [adapter.quote('timestamp'), 'trace_hash']) }} filter (
            where developer_id is not null
        ) as developer_id,
        count(distinct developer_id) as developer_count,
        {{ first_by('repo_slug', [adapter.quote('timestamp'), 'trace_hash']) }} filter (
            where repo_slug is not null
        ) as repo_slug,
        min({{ adapter.quote('timestamp') }}) as started_at,
        max({{ add_milliseconds(adapter.quote('timestamp'), 'coalesce(latency_ms, 0)') }}) as ended_at,
        {{ seconds_between(
            'min(' ~ adapter.quote('timestamp') ~ ')',
            'max(' ~ add_milliseconds(adapter.quote('timestamp'), 'coalesce(latency_ms, 0)') ~ ')',
        ) }} / 60.0 as duration_minutes,
        count(*) as request_count,
        {{ sorted_distinct_list('model') }} as models_used,
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
