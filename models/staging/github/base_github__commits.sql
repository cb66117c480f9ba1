-- raw.commits as dlt wrote it, rows of every load (stg_github__commits keeps the completed ones).
with

commits as (
    select * from {{ source('github', 'commits') }}
),

final as (
    select * from commits
)

select * from final
