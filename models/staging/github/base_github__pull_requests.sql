-- raw.pull_requests as dlt wrote it, rows of every load (stg_github__pull_requests keeps the completed ones).
with

pull_requests as (
    select * from {{ source('github', 'pull_requests') }}
),

final as (
    select * from pull_requests
)

select * from final
