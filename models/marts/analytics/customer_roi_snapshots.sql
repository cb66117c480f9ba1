-- One row per tenant and snapshot day: trailing-30-day cost, conservative savings, productivity, provider
-- mix and trends. A table (not incremental): it mixes GitHub pull-request state, which is updated in place.
-- It reads the permanent daily grain (developer_daily_usage), not the requests, so a retention purge of
-- old requests leaves every snapshot as it was.
-- The window is `roi_window_days` (default 30, hence the *_30d names); trends compare its two halves.
{%- set window_days = var('roi_window_days') | int %}
{%- set half_days = (window_days // 2) %}

with

usage as (
    select * from {{ ref('developer_daily_usage') }}
),

pull_requests as (
    select * from {{ ref('pull_requests') }}
),

entitlements as (
    select * from {{ ref('repository_entitlements') }}
),

daily as (
    select
        tenant_id,
        event_date,
        sum(requests) as requests,
        sum(successful_requests) as successful_requests,
        {{ exact_sum('cost_actual') }} as cost_usd,
        {{ exact_sum('cost_baseline') }} as baseline_cost,
        {{ exact_sum('savings') }} as savings,
        sum(success_latency_ms_sum) as success_latency_sum,
        sum(success_latency_count) as success_latency_count
    from usage
    group by all
),

daily_providers as (
    select
        tenant_id,
        event_date,
        provider,
        sum(requests) as requests,
        sum(successful_requests) as successful_requests,
        {{ exact_sum('cost_actual') }} as cost_usd
    from usage
    group by all
),

daily_developers as (
    select distinct
        tenant_id,
        event_date,
        developer_id
    from usage
    where developer_id is not null
),

-- the repositories a tenant's requests name and it is entitled to (marts.repository_entitlements): their
-- pull requests are the tenant's engineering output; a repository tag alone entitles no one
tenant_repos as (
    select distinct
        usage.tenant_id,
        usage.repo_slug
    from usage
    inner join entitlements
        on usage.tenant_id = entitlements.tenant_id
        and usage.repo_slug = entitlements.repo_slug
),

tenant_merged_prs as (
    select
        tenant_repos.tenant_id,
        cast({{ utc_timestamp('pull_requests.merged_at') }} as date) as merged_date,
        count(*) as merged_prs
    from tenant_repos
    inner join pull_requests
        on tenant_repos.repo_slug = pull_requests.repo_slug
    where pull_requests.merged_at is not null and {{ analytics_exclude_bots('pull_requests.is_bot') }}
    group by all
),

tenants_with_github as (
    select distinct tenant_repos.tenant_id
    from tenant_repos
    inner join pull_requests
        on tenant_repos.repo_slug = pull_requests.repo_slug
),

spine as (
    select
        tenant_id,
        {{ unnest_date_series('min(event_date)', 'max(event_date)', 'interval 1 day') }} as snapshot_date
    from daily
    group by tenant_id
),

windows as (
    select
        spine.tenant_id,
        spine.snapshot_date,
        coalesce({{ exact_sum('daily.cost_usd') }}, 0) as cost_30d,
        coalesce({{ exact_sum('daily.baseline_cost') }}, 0) as baseline_cost_30d,
        coalesce({{ exact_sum('daily.savings') }}, 0) as raw_savings_30d,
        coalesce(sum(daily.requests), 0) as requests_30d,
        coalesce(sum(daily.successful_requests), 0) as tasks_completed_30d,
        sum(daily.success_latency_sum) / nullif(sum(daily.success_latency_count), 0) as avg_task_duration_30d,
        coalesce({{ exact_sum('daily.cost_usd', 'daily.event_date > spine.snapshot_date - ' ~ half_days) }}, 0)
            as cost_recent_half,
        coalesce({{ exact_sum('daily.cost_usd', 'daily.event_date <= spine.snapshot_date - ' ~ half_days) }}, 0)
            as cost_earlier_half,
        coalesce({{ exact_sum('daily.savings', 'daily.event_date > spine.snapshot_date - ' ~ half_days) }}, 0)
            as savings_recent_half,
        coalesce({{ exact_sum('daily.savings', 'daily.event_date <= spine.snapshot_date - ' ~ half_days) }}, 0)
            as savings_earlier_half
    from spine
    left join daily
        on spine.tenant_id = daily.tenant_id
        and daily.event_date between spine.snapshot_date - {{ window_days - 1 }} and spine.snapshot_date
    group by all
),

provider_windows as (
    select
        spine.tenant_id,
        spine.snapshot_date,
        daily_providers.provider,
        sum(daily_providers.requests) as requests,
        sum(daily_providers.successful_requests) as successful_requests,
        {{ exact_sum('daily_providers.cost_usd') }} as cost_usd
    from spine
    inner join daily_providers
        on spine.tenant_id = daily_providers.tenant_id
        and daily_providers.event_date between spine.snapshot_date - {{ window_days - 1 }} and spine.snapshot_date
    group by all
),

provider_shares as (
    select
        *,
        requests / sum(requests) over (partition by tenant_id, snapshot_date) as request_share
    from provider_windows
),

provider_mix as (
    select
        tenant_id,
        snapshot_date,
        (
            {{ json_object_agg('provider', 'round(request_share, 4)') }}
        ) as provider_usage_distribution
    from provider_shares
    group by all
),

most_efficient as (
    select
        tenant_id,
        snapshot_date,
        provider as most_efficient_provider,
        cost_usd / successful_requests as most_efficient_cost_per_success
    from provider_windows
    where requests >= {{ number_var('most_efficient_min_requests') }} and successful_requests > 0
    qualify row_number() over (
        partition by tenant_id, snapshot_date order by cost_usd / successful_requests, provider
    ) = 1
),

developer_windows as (
    select
        spine.tenant_id,
        spine.snapshot_date,
        count(distinct daily_developers.developer_id) filter (
            where daily_developers.event_date > spine.snapshot_date - {{ window_days }}
        ) as active_developers_30d,
        count(distinct daily_developers.developer_id) filter (
            where daily_developers.event_date <= spine.snapshot_date - {{ window_days }}
        ) as active_developers_prior_30d
    from spine
    left join daily_developers
        on spine.tenant_id = daily_developers.tenant_id
        and daily_developers.event_date between spine.snapshot_date - {{ 2 * window_days - 1 }} and spine.snapshot_date
    group by all
),

pr_windows as (
    select
        spine.tenant_id,
        spine.snapshot_date,
        coalesce(sum(tenant_merged_prs.merged_prs) filter (
            where tenant_merged_prs.merged_date > spine.snapshot_date - {{ window_days }}
        ), 0) as merged_prs_30d,
        coalesce(sum(tenant_merged_prs.merged_prs) filter (
            where tenant_merged_prs.merged_date <= spine.snapshot_date - {{ window_days }}
        ), 0) as merged_prs_prior_30d
    from spine
    left join tenant_merged_prs
        on spine.tenant_id = tenant_merged_prs.tenant_id
        and tenant_merged_prs.merged_date
        between spine.snapshot_date - {{ 2 * window_days - 1 }} and spine.snapshot_date
    group by all
),

productivity as (
    select
        developer_windows.tenant_id,
        developer_windows.snapshot_date,
        developer_windows.active_developers_30d,
        developer_windows.active_developers_prior_30d,
        pr_windows.merged_prs_30d,
        pr_windows.merged_prs_prior_30d,
        pr_windows.merged_prs_30d / nullif(developer_windows.active_developers_30d, 0)
            as merged_prs_per_developer_30d,
        pr_windows.merged_prs_prior_30d / nullif(developer_windows.active_developers_prior_30d, 0)
            as merged_prs_per_developer_prior_30d,
        tenants_with_github.tenant_id is not null as has_github_data
    from developer_windows
    inner join pr_windows
        on developer_windows.tenant_id = pr_windows.tenant_id
        and developer_windows.snapshot_date = pr_windows.snapshot_date
    left join tenants_with_github
        on developer_windows.tenant_id = tenants_with_github.tenant_id
),

final as (
    select
        windows.tenant_id,
        windows.snapshot_date,
        round(windows.cost_30d, 2) as total_cost_30d,
        round(windows.baseline_cost_30d, 2) as baseline_cost_30d,
        {{ conservative_savings('windows.raw_savings_30d', 'windows.baseline_cost_30d') }} as total_savings_30d,
        {{ conservative_savings_percentage('windows.raw_savings_30d', 'windows.baseline_cost_30d') }}
            as savings_percentage_30d,
        windows.raw_savings_30d,
        windows.requests_30d,
        windows.tasks_completed_30d,
        round(windows.avg_task_duration_30d) as avg_task_duration_30d,
        case
            when productivity.has_github_data and productivity.merged_prs_per_developer_prior_30d > 0
                then round(
                    100.0
                    * (productivity.merged_prs_per_developer_30d - productivity.merged_prs_per_developer_prior_30d)
                    / productivity.merged_prs_per_developer_prior_30d,
                    2
                )
        end as productivity_gain_30d,
        case when productivity.has_github_data then productivity.merged_prs_30d end as merged_prs_30d,
        case when productivity.has_github_data then productivity.merged_prs_prior_30d end as merged_prs_prior_30d,
        productivity.active_developers_30d,
        productivity.active_developers_prior_30d,
        provider_mix.provider_usage_distribution,
        most_efficient.most_efficient_provider,
        most_efficient.most_efficient_cost_per_success,
        {{ trend_direction('windows.cost_recent_half', 'windows.cost_earlier_half') }} as cost_trend,
        {{ trend_direction('windows.savings_recent_half', 'windows.savings_earlier_half') }} as savings_trend,
        {{ analytics_run_started_at() }} as created_at
    from windows
    left join productivity
        on windows.tenant_id = productivity.tenant_id
        and windows.snapshot_date = productivity.snapshot_date
    left join provider_mix
        on windows.tenant_id = provider_mix.tenant_id
        and windows.snapshot_date = provider_mix.snapshot_date
    left join most_efficient
        on windows.tenant_id = most_efficient.tenant_id
        and windows.snapshot_date = most_efficient.snapshot_date
)

select * from final
