-- Dead-lettered trace lines from completed dlt loads.
with

rejects as (
    select * from {{ ref('base_litellm__rejects') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

final as (
    select
        rejects.reject_id,
        rejects.tenant_id,
        rejects.source_file,
        rejects.source_line,
        rejects.source_item,
        rejects.reason,
        rejects.raw_text,
        rejects.ingested_at
    from rejects
    inner join completed_loads
        on rejects._dlt_load_id = completed_loads.load_id
)

select * from final
