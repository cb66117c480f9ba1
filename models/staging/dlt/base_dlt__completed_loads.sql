-- The dlt loads that completed (status 0). Staging models keep the raw rows these loads wrote, so the rows
-- of a load package that failed part-way never reach the marts.
with

loads as (
    select * from {{ source('dlt', '_dlt_loads') }}
),

final as (
    select
        load_id,
        schema_name,
        inserted_at
    from loads
    where status = 0
)

select * from final
