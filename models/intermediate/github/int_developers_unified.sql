-- The identity map where AI usage and GitHub activity meet: one row per (developer_id, github_login) pair,
-- plus unmatched developer ids and unmatched logins. Matches, strongest first:
--   1. seed developer_identities (explicit);
--   2. a developer id equal to a GitHub login (case-insensitive);
--   3. a developer id whose keyed e-mail hash equals the author e-mail hash of commits GitHub linked to
--      exactly one login (hashes from the loader; the key never reaches SQL).
-- Nothing is matched on names or e-mail local parts. developer_key is the lower-case login when there is
-- one, else the developer id.
-- A table: it is small, and the GitHub models and their tests would otherwise each scan every request.
{{ config(materialized='table') }}

with

requests as (
    select * from {{ ref('stg_litellm__requests') }}
),

seed as (
    select * from {{ ref('developer_identities') }}
),

email_hashes as (
    select * from {{ ref('stg_github__developer_email_hashes') }}
),

pull_requests as (
    select * from {{ ref('stg_github__pull_requests') }}
),

commits as (
    select * from {{ ref('stg_github__commits') }}
),

developer_ids as (
    select developer_id from requests
    where developer_id is not null
    union
    select developer_id from seed
),

github_activity as (
    select
        lower(author_login) as github_login,
        author_type
    from pull_requests
    where author_login is not null
    union all
    select
        lower(author_login) as github_login,
        author_type
    from commits
    where author_login is not null
),

logins as (
    select
        github_login,
        bool_or(author_type = 'Bot') as is_bot_account
    from github_activity
    group by all
),

-- author e-mail hashes that GitHub linked to exactly one account
linked_hashes as (
    select
        author_email_hash as email_hash,
        min(lower(author_login)) as github_login
    from commits
    where author_email_hash is not null and author_login is not null
    group by all
    having count(distinct lower(author_login)) = 1
),

candidates as (
    select
        developer_id,
        lower(github_login) as github_login,
        'seed' as match_method,
        1 as priority
    from seed
    union all
    select
        developer_ids.developer_id,
        logins.github_login,
        'login' as match_method,
        2 as priority
    from developer_ids
    inner join logins
        on lower(developer_ids.developer_id) = logins.github_login
    union all
    select
        email_hashes.developer_id,
        linked_hashes.github_login,
        'email_hash' as match_method,
        3 as priority
    from email_hashes
    inner join linked_hashes
        on email_hashes.email_hash = linked_hashes.email_hash
),

matches as (
    select
        developer_id,
        github_login,
        match_method
    from candidates
    qualify row_number() over (partition by developer_id order by priority, github_login) = 1
),

pairs as (
    select
        developer_id,
        github_login,
        match_method
    from matches
    union all
    select
        developer_ids.developer_id,
        cast(null as string) as github_login,
        cast(null as string) as match_method
    from developer_ids
    anti join matches
        on developer_ids.developer_id = matches.developer_id
    union all
    select
        cast(null as string) as developer_id,
        logins.github_login,
        cast(null as string) as match_method
    from logins
    anti join matches
        on logins.github_login = matches.github_login
),

final as (
    select
        coalesce(pairs.github_login, pairs.developer_id) as developer_key,
        pairs.developer_id,
        pairs.github_login,
        pairs.match_method,
        (
            coalesce(logins.is_bot_account, false)
            or {{ is_bot_login('pairs.github_login') }}
        ) as is_bot
    from pairs
    left join logins
        on pairs.github_login = logins.github_login
)

select * from final
