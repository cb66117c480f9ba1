-- raw.agent_events as dlt wrote it, rows of every load (stg_litellm__agent_events keeps the completed ones).
with

agent_events as (
    select * from {{ source('litellm', 'agent_events') }}
),

final as (
    select * from agent_events
)

select * from final
