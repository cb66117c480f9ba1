-- One row per GitHub pull request (the ProdLens `pull_requests` table) in its latest loaded state.
with

pull_requests as (
    select * from {{ ref('int_github__pull_requests') }}
),

developers as (
    select * from {{ ref('int_developers_unified') }}
),

login_keys as (
    select distinct
        github_login,
        developer_key
    from developers
    where github_login is not null
),

final as (
    select
        -- ProdLens data model columns
        pull_requests.id,
        pull_requests.number,
        pull_requests.title,
        pull_requests.author_login as author,
        pull_requests.state,
        pull_requests.created_at,
        pull_requests.merged_at,
        pull_requests.updated_at,
        pull_requests.reopened,
        -- added columns
        pull_requests.repo_slug,
        pull_requests.closed_at,
        pull_requests.is_draft,
        pull_requests.is_bot,
        pull_requests.merge_hours,
        pull_requests.reopen_count,
        login_keys.developer_key,
        pull_requests.html_url
    from pull_requests
    left join login_keys
        on lower(pull_requests.author_login) = login_keys.github_login
)

select * from final
