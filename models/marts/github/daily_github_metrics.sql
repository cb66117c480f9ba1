-- GitHub throughput per repository and UTC day over a continuous date spine: from the repository's first
-- activity to its last activity or last successful sync, whichever is later, so quiet days are present
-- with zeros. Bots are left out unless the var include_bots is true.
with

activity as (
    select * from {{ ref('int_github__activity') }}
),

etag_state as (
    select * from {{ ref('stg_github__etag_state') }}
),

counted as (
    select *
    from activity
    {%- if not var('include_bots', false) %}
        where not is_bot
    {%- endif %}
),

bounds as (
    select
        repo_slug,
        min(activity_date) as first_date,
        max(activity_date) as last_date
    from activity
    group by all
),

synced as (
    select
        repo_slug,
        max(cast({{ utc_timestamp('last_synced') }} as date)) as synced_date
    from etag_state
    group by all
),

spine as (
    select
        bounds.repo_slug,
        {{ unnest_date_series(
            'bounds.first_date',
            'greatest(bounds.last_date, coalesce(synced.synced_date, bounds.last_date))',
            'interval 1 day'
        ) }} as event_date
    from bounds
    left join synced
        on bounds.repo_slug = synced.repo_slug
),

daily as (
    select
        repo_slug,
        activity_date as event_date,
        count(*) filter (where activity_type = 'merge') as merged_pr_count,
        count(*) filter (where activity_type = 'commit') as commit_count,
        count(*) filter (where activity_type = 'reopen') as reopened_pr_count,
        avg(merge_hours) filter (where activity_type = 'merge') as avg_merge_hours,
        median(merge_hours) filter (where activity_type = 'merge') as median_merge_hours
    from counted
    group by all
),

final as (
    select
        spine.repo_slug,
        spine.event_date,
        coalesce(daily.merged_pr_count, 0) as merged_pr_count,
        coalesce(daily.commit_count, 0) as commit_count,
        coalesce(daily.reopened_pr_count, 0) as reopened_pr_count,
        daily.avg_merge_hours,
        daily.median_merge_hours
    from spine
    left join daily
        on spine.repo_slug = daily.repo_slug
        and spine.event_date = daily.event_date
)

select * from final
