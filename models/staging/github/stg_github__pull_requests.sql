-- GitHub pull requests from completed dlt loads, one row per pull request id in its latest state.
with

pull_requests as (
    select * from {{ ref('base_github__pull_requests') }}
),

completed_loads as (
    select * from {{ ref('base_dlt__completed_loads') }}
),

completed as (
    select pull_requests.*
    from pull_requests
    inner join completed_loads
        on pull_requests._dlt_load_id = completed_loads.load_id
),

final as (
    select
        id,
        number,
        repo_slug,
        title,
        state as github_state,
        coalesce(is_draft, false) as is_draft,
        author_login,
        author_type,
        author_association,
        created_at,
        updated_at,
        closed_at,
        merged_at,
        merge_commit_sha,
        base_ref,
        html_url,
        _dlt_load_id as load_id,
        {{ timestamp_from_epoch('cast(_dlt_load_id as double)') }} as loaded_at
    from completed
    -- merge keeps id unique; this guards reads of a table written outside dlt
    qualify row_number() over (partition by id order by updated_at desc, _dlt_load_id desc) = 1
)

select * from final
