-- Dead letters: every input line that did not become a request, with the reason.
with

rejects as (
    select * from {{ ref('stg_litellm__rejects') }}
),

final as (
    select
        reject_id,
        tenant_id,
        source_file,
        source_line,
        source_item,
        reason,
        raw_text,
        ingested_at
    from rejects
)

select * from final
