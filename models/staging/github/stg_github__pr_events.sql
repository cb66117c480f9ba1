-- Issue events on pull requests (closed, reopened, merged, ...) from completed dlt loads, one row per event.
with

pr_events as (
    select * from {{ github_source('pr_events') }}
),

loads as (
    select * from {{ github_source('_dlt_loads') }}
),

completed as (
    select pr_events.*
    from pr_events
    inner join loads
        on pr_events._dlt_load_id = loads.load_id
    where loads.status = 0
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
