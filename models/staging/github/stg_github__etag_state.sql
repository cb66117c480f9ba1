-- The GitHub loader's conditional-request state, one row per (repo_slug, resource, credential).
with

etag_state as (
    select * from {{ ref('base_github__etag_state') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

completed as (
    select etag_state.*
    from etag_state
    inner join completed_loads
        on etag_state._dlt_load_id = completed_loads.load_id
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
