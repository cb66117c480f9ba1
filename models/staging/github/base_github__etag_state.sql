-- raw.etag_state as dlt wrote it, rows of every load (stg_github__etag_state keeps the completed ones).
with

etag_state as (
    select * from {{ source('github', 'etag_state') }}
),

final as (
    select * from etag_state
)

select * from final
