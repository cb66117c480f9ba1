-- raw.litellm_rejects as dlt wrote it, rows of every load (stg_litellm__rejects keeps the completed ones).
with

rejects as (
    select * from {{ source('litellm', 'litellm_rejects') }}
),

final as (
    select * from rejects
)

select * from final
