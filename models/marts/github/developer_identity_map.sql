-- Which trace developer ids and GitHub logins are the same person: join marts.sessions on developer_id and
-- pull_requests/commits on developer_key (or github_login) to put AI usage next to GitHub activity.
with

developers as (
    select * from {{ ref('int_developers_unified') }}
),

final as (
    select
        developer_key,
        developer_id,
        github_login,
        match_method,
        is_bot
    from developers
)

select * from final
