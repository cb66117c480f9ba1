-- GitHub commits on each repository's default branch from completed dlt loads, one row per (repo_slug, sha).
with

commits as (
    select * from {{ ref('base_github__commits') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

completed as (
    select commits.*
    from commits
    inner join completed_loads
        on commits._dlt_load_id = completed_loads.load_id
),

final as (
    select
        repo_slug,
        sha,
        author_name,
        author_email_hash,
        authored_at,
        committed_at,
        author_login,
        author_type,
        committer_login,
        parent_count,
        html_url,
        _dlt_load_id as load_id,
        {{ timestamp_from_epoch('cast(_dlt_load_id as double)') }} as loaded_at
    from completed
    qualify row_number() over (partition by repo_slug, sha order by _dlt_load_id desc) = 1
)

select * from final
