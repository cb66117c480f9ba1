-- Claude Code's permission decisions on its tools, the acceptance signal of AI-assisted coding: per tenant,
-- day, developer, session, tool, decision, decision source and language, how many decisions. `signal`
-- tells the two places Claude Code reports them: the claude_code.code_edit_tool.decision metric (`metric`,
-- code-editing tools) and claude_code.tool_decision events (`event`, every tool). Both describe the same
-- decisions where both are exported: count one signal, not their sum.
with

agent_events as (
    select * from {{ ref('stg_litellm__agent_events') }}
),

decisions as (
    select
        tenant_id,
        event_date,
        developer_id,
        session_id,
        tool_name,
        decision,
        -- `source` and `signal` are the published column names
        decision_source as source,  -- noqa: RF04
        language,
        case event_kind when 'code_edit_decision' then 'metric' else 'event' end as signal,  -- noqa: RF04
        value
    from agent_events
    where event_kind in ('code_edit_decision', 'tool_decision')
),

counted as (
    select
        tenant_id,
        event_date,
        developer_id,
        session_id,
        tool_name,
        decision,
        source,
        language,
        signal,
        cast(sum(value) as bigint) as count
    from decisions
    group by tenant_id, event_date, developer_id, session_id, tool_name, decision, source, language, signal
),

final as (
    select
        {{ generate_surrogate_key([
            'tenant_id', 'event_date', 'developer_id', 'session_id', 'tool_name', 'decision', 'source',
            'language', 'signal',
        ]) }} as decision_key,
        tenant_id,
        event_date,
        developer_id,
        session_id,
        tool_name,
        decision,
        source,
        language,
        signal,
        count
    from counted
)

select * from final
