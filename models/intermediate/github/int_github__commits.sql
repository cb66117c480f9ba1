-- Commits with the bot flag and the developer_key of their author: by the GitHub login when GitHub linked
-- the author e-mail to an account, else by the keyed e-mail hash when it equals exactly one developer's.
with

commits as (
    select * from {{ ref('stg_github__commits') }}
),

email_hashes as (
    select * from {{ ref('stg_github__developer_email_hashes') }}
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

email_keys as (
    select
        email_hashes.email_hash,
        min(developers.developer_key) as developer_key
    from email_hashes
    inner join developers
        on email_hashes.developer_id = developers.developer_id
    group by all
    having count(distinct developers.developer_key) = 1
),

final as (
    select
        commits.repo_slug,
        commits.sha,
        commits.author_name,
        commits.author_email_hash,
        commits.authored_at,
        commits.committed_at,
        commits.author_login,
        commits.committer_login,
        commits.parent_count,
        (
            coalesce(commits.author_type = 'Bot', false)
            or {{ is_bot_login('commits.author_login') }}
        ) as is_bot,
        coalesce(login_keys.developer_key, email_keys.developer_key) as developer_key,
        commits.html_url
    from commits
    left join login_keys
        on lower(commits.author_login) = login_keys.github_login
    left join email_keys
        on commits.author_login is null
        and commits.author_email_hash = email_keys.email_hash
)

select * from final
