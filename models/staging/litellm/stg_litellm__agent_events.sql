-- Coding-agent events (Claude Code's OpenTelemetry logs and metrics) from completed dlt loads, one row per
-- event_id.
with

agent_events as (
    select * from {{ ref('base_litellm__agent_events') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

completed as (
    select agent_events.*
    from agent_events
    inner join completed_loads
        on agent_events._dlt_load_id = completed_loads.load_id
),

final as (
    select
        event_id,
        event_kind,
        tenant_id,
        {{ adapter.quote('timestamp') }},
        event_date,
        developer_id,
        session_id,
        tool_name,
        decision,
        decision_source,
        language,
        line_type,
        value,
        sequence,
        source_file,
        source_line,
        source_item,
        ingested_at,
        _dlt_load_id as load_id
    from completed
    -- merge keeps event_id unique; this guards reads of a table written outside dlt
    qualify row_number() over (partition by event_id order by ingested_at desc, _dlt_load_id desc) = 1
)

select * from final
