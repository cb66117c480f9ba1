-- Dead-lettered trace lines from completed dlt loads.
with

rejects as (
    select * from {{ source('litellm', 'litellm_rejects') }}
),

loads as (
    select * from {{ source('litellm', '_dlt_loads') }}
),

final as (
    select
        rejects.reject_id,
        rejects.tenant_id,
        rejects.source_file,
        rejects.source_line,
        rejects.reason,
        rejects.raw_text,
        rejects.ingested_at
    from rejects
    inner join loads
        on rejects._dlt_load_id = loads.load_id
    where loads.status = 0
)

select * from final
