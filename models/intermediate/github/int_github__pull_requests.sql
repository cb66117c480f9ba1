-- Pull requests with the ProdLens state (merged when merged_at is set), merge time, reopen flag and bot flag.
with

pull_requests as (
    select * from {{ ref('stg_github__pull_requests') }}
),

pr_events as (
    select * from {{ ref('stg_github__pr_events') }}
),

reopens as (
    select
        repo_slug,
        pr_number,
        count(*) as reopen_count
    from pr_events
    where event_type = 'reopened'
    group by all
),

final as (
    select
        pull_requests.id,
        pull_requests.number,
        pull_requests.repo_slug,
        pull_requests.title,
        pull_requests.author_login,
        pull_requests.author_type,
        case
            when pull_requests.merged_at is not null then 'merged'
            else pull_requests.github_state
        end as state,
        pull_requests.created_at,
        pull_requests.updated_at,
        pull_requests.closed_at,
        pull_requests.merged_at,
        pull_requests.is_draft,
        coalesce(reopens.reopen_count, 0) as reopen_count,
        coalesce(reopens.reopen_count, 0) > 0 as reopened,
        {{ seconds_between('pull_requests.created_at', 'pull_requests.merged_at') }} / 3600.0 as merge_hours,
        (
            coalesce(pull_requests.author_type = 'Bot', false)
            or {{ is_bot_login('pull_requests.author_login') }}
        ) as is_bot,
        pull_requests.html_url
    from pull_requests
    left join reopens
        on pull_requests.repo_slug = reopens.repo_slug
        and pull_requests.number = reopens.pr_number
)

select * from final
