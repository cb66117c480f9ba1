-- The GitHub loader's conditional-request state, one row per (repo_slug, resource, credential).
with

etag_state as (
    select * from {{ github_source('etag_state') }}
),

loads as (
    select * from {{ github_source('_dlt_loads') }}
),

completed as (
    select etag_state.*
    from etag_state
    inner join loads
        on etag_state._dlt_load_id = loads.load_id
    where loads.status = 0
),

final as (
    select
        repo_slug,
        resource,
        credential,
        endpoint,
        etag,
        last_modified,
        last_synced,
        last_status,
        _dlt_load_id as load_id
    from completed
    qualify row_number() over (
        partition by repo_slug, resource, credential order by last_synced desc, _dlt_load_id desc
    ) = 1
)

select * from final
