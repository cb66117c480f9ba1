-- One row per dated GitHub activity the daily metrics count: a merge (on its UTC merge date), a commit (on
-- its UTC author date) and a reopened pull request (once per PR and day).
with

pull_requests as (
    select * from {{ ref('int_github__pull_requests') }}
),

commits as (
    select * from {{ ref('int_github__commits') }}
),

pr_events as (
    select * from {{ ref('stg_github__pr_events') }}
),

merge_days as (
    select
        repo_slug,
        cast({{ utc_timestamp('merged_at') }} as date) as activity_date,
        'merge' as activity_type,
        '#' || number as item_key,
        merge_hours,
        is_bot
    from pull_requests
    where merged_at is not null
),

commit_days as (
    select
        repo_slug,
        cast({{ utc_timestamp('authored_at') }} as date) as activity_date,
        'commit' as activity_type,
        sha as item_key,
        cast(null as double) as merge_hours,
        is_bot
    from commits
    where authored_at is not null
),

reopens as (
    select distinct
        pr_events.repo_slug,
        cast({{ utc_timestamp('pr_events.created_at') }} as date) as activity_date,
        'reopen' as activity_type,
        '#' || pr_events.pr_number as item_key,
        cast(null as double) as merge_hours,
        coalesce(pull_requests.is_bot, false) as is_bot
    from pr_events
    left join pull_requests
        on pr_events.repo_slug = pull_requests.repo_slug
        and pr_events.pr_number = pull_requests.number
    where pr_events.event_type = 'reopened'
),

final as (
    select * from merge_days
    union all
    select * from commit_days
    union all
    select * from reopens
)

select * from final
