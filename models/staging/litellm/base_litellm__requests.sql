-- raw.litellm_requests as dlt wrote it, rows of every load (stg_litellm__requests keeps the completed ones).
with

requests as (
    select * from {{ source('litellm', 'litellm_requests') }}
),

final as (
    select * from requests
)

select * from final
