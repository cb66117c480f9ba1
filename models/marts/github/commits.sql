-- One row per commit on a repository's default branch (the ProdLens `commits` table), per (repo_slug, sha).
with

commits as (
    select * from {{ ref('int_github__commits') }}
),

final as (
    select
        -- ProdLens data model columns
        sha,
        author_name as author,
        authored_at as {{ adapter.quote('timestamp') }},
        -- added columns
        repo_slug,
        author_login,
        is_bot,
        committed_at,
        author_email_hash,
        developer_key,
        parent_count,
        html_url
    from commits
)

select * from final
