-- The GitHub loader's conditional-request state (the ProdLens `etag_state` table), one row per
-- (repo_slug, resource, credential).
with

etag_state as (
    select * from {{ ref('stg_github__etag_state') }}
),

final as (
    select
        -- ProdLens data model columns
        endpoint,
        etag,
        last_modified,
        last_synced,
        -- added columns
        repo_slug,
        resource,
        credential,
        last_status
    from etag_state
)

select * from final
