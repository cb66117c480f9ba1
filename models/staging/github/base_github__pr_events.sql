-- raw.pr_events as dlt wrote it, rows of every load (stg_github__pr_events keeps the completed ones).
with

pr_events as (
    select * from {{ source('github', 'pr_events') }}
),

final as (
    select * from pr_events
)

select * from final
