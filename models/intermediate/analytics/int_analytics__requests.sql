-- One row per priced LLM request with the derived keys the analytics marts group on: every column of
-- int_requests_priced, with provider and call_type defaulted to 'unknown'.
with

priced as (
    select * from {{ ref('int_requests_priced') }}
),

final as (
    select
        {{ star(ref('int_requests_priced'), except=['provider', 'call_type']) }},
        -- a request without a session id counts as its own session
        coalesce(session_id, 'request:' || trace_hash) as session_key,
        date_trunc('hour', "timestamp") as event_hour,
        {{ model_name_part('model') }} as model_name,
        coalesce(provider, 'unknown') as provider,
        coalesce(call_type, 'unknown') as call_type,
        status = 'error' as is_error
    from priced
)

select * from final
