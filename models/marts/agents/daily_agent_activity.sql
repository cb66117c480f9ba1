-- What coding agents did per tenant, day and developer, from Claude Code's telemetry: lines of code added
-- and removed (claude_code.lines_of_code.count), prompts entered and their total length
-- (claude_code.user_prompt events: only the length is ever read), and the sessions that reported them.
with

agent_events as (
    select * from {{ ref('stg_litellm__agent_events') }}
),

final as (
    select
        {{ generate_surrogate_key(['tenant_id', 'event_date', 'developer_id']) }} as activity_key,
        tenant_id,
        event_date,
        developer_id,
        cast(coalesce(sum(value) filter (where event_kind = 'lines_of_code' and line_type = 'added'), 0) as bigint)
            as lines_added,
        cast(coalesce(sum(value) filter (where event_kind = 'lines_of_code' and line_type = 'removed'), 0) as bigint)
            as lines_removed,
        count(*) filter (where event_kind = 'user_prompt') as prompts,
        cast(coalesce(sum(value) filter (where event_kind = 'user_prompt'), 0) as bigint) as prompt_characters,
        count(distinct session_id) as sessions
    from agent_events
    where event_kind in ('lines_of_code', 'user_prompt')
    group by tenant_id, event_date, developer_id
)

select * from final
