-- Issue events on pull requests (closed, reopened, merged, ...) from completed dlt loads, one row per event.
with

pr_events as (
    select * from {{ ref('base_github__pr_events') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

completed as (
    select pr_events.*
    from pr_events
    inner join completed_loads
        on pr_events._dlt_load_id = completed_loads.load_id
),

final as (
    select
        id as event_id,
        repo_slug,
        pr_number,
        issue_id,
        event as event_type,
        created_at,
        actor_login,
        commit_id,
        _dlt_load_id as load_id
    from completed
    qualify row_number() over (partition by id order by _dlt_load_id desc) = 1
)

select * from final
