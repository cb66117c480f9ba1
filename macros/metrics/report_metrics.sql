{#-
    THE definition of the ProdLens report's metrics, written once.

    `report_metrics_sql(windows, days, pull_requests, commits, repositories, policy_models)` returns one SELECT that
    computes every report metric for every row of `windows`. Two models compile it in the same dbt run:

      * marts.report_metrics      windows = every week, month and the whole span of each tenant and repo;
      * marts.metric_queries      windows = one window taken from query parameters ($tenant_id, $repo_slug,
                                  $since, $until, $policy_models), stored as SQL text in the published
                                  database, where loaders.metrics.report_metrics() (and `prodlens report`)
                                  execute it for any --since/--until window.

    So the mart and the report run the same compiled SQL and cannot disagree.

    Arguments:
      windows        SQL of a relation with tenant_id, repo_slug, period_type, period_start, period_end
                     (dates, both inclusive). It may select from `report_bounds` (tenant_id, repo_slug,
                     first_activity_date, last_activity_date), defined by this macro.
      days           relation of daily figures (marts.report_daily_figures columns: one row per tenant,
                     repository, UTC day and model, with the day's counts, exact sums and sorted lists of
                     developers, active hours and provider-call latencies). A window adds up its days, so
                     no figure reads a request: the exact median latency takes every value of the lists.
      pull_requests  relation of pull requests (marts.pull_requests columns).
      commits        relation of commits (marts.commits columns).
      repositories   relation of the (tenant_id, repo_slug) pairs entitled to GitHub outcomes
                     (marts.repository_entitlements).
      policy_models  SQL expression of a string[] of policy models (`provider/name` or bare names).

    A request belongs to a window when its tenant and repository match and its UTC event_date is in
    [period_start, period_end]. Pull requests and commits belong to a repository, not to a tenant: a
    tenant's report for a repository counts that repository's GitHub activity only when the pair is in
    `repositories`; otherwise its GitHub figures (and cost per merged PR) are null and GitHub activity
    does not widen its window. Bots are left out unless var include_bots is true.
-#}
{% macro report_metrics_sql(windows, days, pull_requests, commits, repositories, policy_models) -%}
    {#- whole weeks from the period's first week to its last (both Monday-started) -#}
    {%- set merged_in_window =
        'report_pull_requests.merged_date between report_windows.period_start and report_windows.period_end' -%}
    {#- a window's key: every *_figures CTE has one row per window, selected and grouped by it -#}
    {%- set window_key =
        'report_windows.tenant_id, report_windows.repo_slug, report_windows.period_type, report_windows.period_start' -%}
    {%- set weeks_diff = dbt.datediff(
        "date_trunc('week', report_windows.period_start)", "date_trunc('week', report_windows.period_end)", 'day'
    ) -%}
with

report_days as (
    select * from {{ days }}
),

report_pull_requests as (
    select
        repo_slug,
        cast({{ utc_timestamp('created_at') }} as date) as created_date,
        cast({{ utc_timestamp('merged_at') }} as date) as merged_date,
        cast({{ utc_timestamp('coalesce(closed_at, merged_at)') }} as date) as closed_date,
        coalesce(cast(reopened as boolean), false) as was_reopened,
        merge_hours
    from {{ pull_requests }}
    where {{ analytics_exclude_bots('is_bot') }}
),

report_commits as (
    select
        repo_slug,
        cast({{ utc_timestamp(adapter.quote('timestamp')) }} as date) as commit_date
    from {{ commits }}
    where {{ analytics_exclude_bots('is_bot') }}
),

report_entitled as (
    select distinct
        tenant_id,
        repo_slug
    from {{ repositories }}
),

report_bounds as (
    select
        pairs.tenant_id,
        pairs.repo_slug,
        least(pairs.first_request_date, github.first_github_date) as first_activity_date,
        greatest(pairs.last_request_date, github.last_github_date) as last_activity_date
    from (
        select
            tenant_id,
            repo_slug,
            min(event_date) as first_request_date,
            max(event_date) as last_request_date
        from report_days
        group by all
    ) as pairs
    left join (
        select
            repo_slug,
            min(activity_date) as first_github_date,
            max(activity_date) as last_github_date
        from (
            select repo_slug, created_date as activity_date from report_pull_requests
            union all
            select repo_slug, closed_date from report_pull_requests
            union all
            select repo_slug, commit_date from report_commits
        )
        group by all
    ) as github
        on pairs.repo_slug = github.repo_slug
        and exists (
            select 1
            from report_entitled
            where report_entitled.tenant_id = pairs.tenant_id and report_entitled.repo_slug = pairs.repo_slug
        )
),

report_windows as (
    select
        tenant_id,
        repo_slug,
        period_type,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end
    from ({{ windows }})
),

report_policy as (
    select {{ policy_models }} as policy_models  -- already lower case (analytics_model_list)
),

-- What a window adds up from its days: counts and exact sums, and the distinct developers and active hours
-- and the exact median latency of every value of its days' lists (the lists of a window's days concatenated
-- in one aggregate, so the request figures take one join of windows to days and no row per value).
request_figures as (
    select
        {{ window_key }},
        {%- for count in [
            'request_count', 'error_count', 'provider_call_count', 'acceptance_tracked_count', 'diff_ratio_count',
            'diff_ratio_ge_07_count',
        ] %}
        cast(coalesce(sum(report_days.{{ count }}), 0) as {{ dbt.type_bigint() }}) as {{ count }},
        {%- endfor %}
        coalesce(sum(report_days.accepted_count), 0) as accepted_count,
        coalesce(sum(report_days.tracked_total_tokens), 0) as tracked_total_tokens,
        coalesce(sum(report_days.total_tokens), 0) as total_tokens,
        sum(report_days.accepted_lines) as accepted_lines,
        cast({{ list_distinct_count(concat_lists('report_days.developer_ids')) }} as {{ dbt.type_bigint() }}) as active_developers,
        cast({{ list_distinct_count(concat_lists('report_days.active_hours')) }} as {{ dbt.type_bigint() }}) as active_hours,
        {{ list_percentile_cont(concat_lists('report_days.provider_latencies_ms'), 0.5) }} as median_latency_ms,
        cast(sum(report_days.diff_ratio_sum) as double) / nullif(sum(report_days.diff_ratio_count), 0)
            as mean_diff_ratio,
        coalesce(cast(sum(report_days.cost_usd_sum) as double), 0) as total_cost_usd,
        cast(coalesce(sum(report_days.request_count) filter (
            where
                array_contains(report_policy.policy_models, lower(report_days.model))
                or array_contains(report_policy.policy_models, lower({{ model_name_part('report_days.model') }}))
        ), 0) as {{ dbt.type_bigint() }}) as policy_model_requests
    from report_windows
    left join report_days
        on report_windows.tenant_id = report_days.tenant_id
        and report_windows.repo_slug = report_days.repo_slug
        and report_days.event_date between report_windows.period_start and report_windows.period_end
    cross join report_policy
    group by {{ window_key }}
),

pull_request_figures as (
    select
        {{ window_key }},
        count(*) filter (
            where report_pull_requests.merged_date between report_windows.period_start and report_windows.period_end
        ) as merged_pr_count,
        {{ percentile_cont('report_pull_requests.merge_hours', 0.5, merged_in_window) }} as median_merge_hours,
        {{ percentile_cont('report_pull_requests.merge_hours', 0.9, merged_in_window) }} as p90_merge_hours,
        count(*) filter (
            where report_pull_requests.closed_date between report_windows.period_start and report_windows.period_end
        ) as closed_pr_count,
        count(*) filter (
            where
                report_pull_requests.closed_date between report_windows.period_start and report_windows.period_end
                and report_pull_requests.was_reopened
        ) as reopened_closed_pr_count
    from report_windows
    inner join report_entitled
        on report_windows.tenant_id = report_entitled.tenant_id
        and report_windows.repo_slug = report_entitled.repo_slug
    left join report_pull_requests
        on report_windows.repo_slug = report_pull_requests.repo_slug
        and (
            report_pull_requests.merged_date between report_windows.period_start and report_windows.period_end
            or report_pull_requests.closed_date between report_windows.period_start and report_windows.period_end
        )
    group by {{ window_key }}
),

commit_figures as (
    select
        {{ window_key }},
        count(report_commits.commit_date) as commit_count,
        count(distinct report_commits.commit_date) as commit_days
    from report_windows
    inner join report_entitled
        on report_windows.tenant_id = report_entitled.tenant_id
        and report_windows.repo_slug = report_entitled.repo_slug
    left join report_commits
        on report_windows.repo_slug = report_commits.repo_slug
        and report_commits.commit_date between report_windows.period_start and report_windows.period_end
    group by {{ window_key }}
),

report_final as (
    select
        {{ window_key }},
        report_windows.period_end,
        {{ dbt.datediff('report_windows.period_start', 'report_windows.period_end', 'day') }} + 1 as days_in_period,
        {{ integer_divide(weeks_diff, 7) }} + 1 as weeks_in_period,
        -- AI interaction velocity
        request_figures.request_count,
        request_figures.active_hours,
        request_figures.active_developers,
        request_figures.median_latency_ms,
        request_figures.request_count / nullif(request_figures.active_hours, 0) as requests_per_active_hour,
        -- acceptance, policy, errors
        request_figures.accepted_count,
        request_figures.acceptance_tracked_count,
        request_figures.accepted_count / nullif(request_figures.acceptance_tracked_count, 0) as acceptance_rate,
        case
            when {{ list_size('(select policy_models from report_policy)') }} > 0
                then request_figures.policy_model_requests / nullif(request_figures.request_count, 0)
        end as model_selection_accuracy,
        request_figures.error_count,
        request_figures.error_count / nullif(request_figures.provider_call_count, 0) as error_rate,
        -- token efficiency
        request_figures.total_tokens,
        request_figures.accepted_lines,
        -- tokens of the requests whose acceptance was tracked, per accepted request and line
        request_figures.tracked_total_tokens / nullif(request_figures.accepted_count, 0) as tokens_per_accepted_request,
        request_figures.tracked_total_tokens / nullif(request_figures.accepted_lines, 0) as tokens_per_accepted_line,
        -- acceptance quality
        request_figures.diff_ratio_count,
        request_figures.mean_diff_ratio,
        request_figures.diff_ratio_ge_07_count / nullif(request_figures.diff_ratio_count, 0)
            as diff_ratio_share_ge_07,
        -- GitHub outcomes
        pull_request_figures.merged_pr_count,
        pull_request_figures.merged_pr_count
        / (
            {{ integer_divide(weeks_diff, 7) }} + 1
        ) as pr_throughput_per_week,
        commit_figures.commit_count,
        commit_figures.commit_days,
        commit_figures.commit_count / nullif(commit_figures.commit_days, 0) as commits_per_active_day,
        pull_request_figures.median_merge_hours,
        pull_request_figures.p90_merge_hours,
        pull_request_figures.closed_pr_count,
        pull_request_figures.reopened_closed_pr_count,
        pull_request_figures.reopened_closed_pr_count / nullif(pull_request_figures.closed_pr_count, 0)
            as rework_rate,
        -- cost
        request_figures.total_cost_usd,
        request_figures.total_cost_usd / nullif(pull_request_figures.merged_pr_count, 0) as cost_per_merged_pr
    from report_windows
    {#- every window has request figures; GitHub ones when the pair is entitled -#}
    {%- for figures, join in [
        ('request_figures', 'inner'), ('pull_request_figures', 'left'), ('commit_figures', 'left'),
    ] %}
    {{ join }} join {{ figures }}
        on report_windows.tenant_id = {{ figures }}.tenant_id
        and report_windows.repo_slug = {{ figures }}.repo_slug
        and report_windows.period_type = {{ figures }}.period_type
        and report_windows.period_start = {{ figures }}.period_start
    {%- endfor %}
)

select * from report_final
{%- endmacro %}


{#- The windows of marts.report_metrics: every calendar week (Monday–Sunday) and month from each tenant and
    repository's first to last activity day, and the whole span (`all`). -#}
{% macro report_mart_windows_sql() -%}
    select
        tenant_id,
        repo_slug,
        'week' as period_type,
        cast(week_start as date) as period_start,
        cast(week_start as date) + 6 as period_end
    from (
        select
            tenant_id,
            repo_slug,
            {{ unnest_date_series(
                "date_trunc('week', first_activity_date)", "date_trunc('week', last_activity_date)", 'interval 1 week'
            ) }} as week_start
        from report_bounds
    )
    union all
    select
        tenant_id,
        repo_slug,
        'month' as period_type,
        cast(month_start as date) as period_start,
        last_day(cast(month_start as date)) as period_end
    from (
        select
            tenant_id,
            repo_slug,
            {{ unnest_date_series(
                "date_trunc('month', first_activity_date)", "date_trunc('month', last_activity_date)", 'interval 1 month'
            ) }} as month_start
        from report_bounds
    )
    union all
    select
        tenant_id,
        repo_slug,
        'all' as period_type,
        first_activity_date as period_start,
        last_activity_date as period_end
    from report_bounds
{%- endmacro %}


{#- The single window of a report: the parameters $tenant_id, $repo_slug, $since and $until (dates, inclusive;
    null = the pair's first / last activity day, so since = until = null gives the mart's `all` row). -#}
{% macro report_parameter_window_sql() -%}
    select
        params.tenant_id,
        params.repo_slug,
        'custom' as period_type,
        coalesce(params.since, report_bounds.first_activity_date) as period_start,
        coalesce(params.until, report_bounds.last_activity_date) as period_end
    from (
        select
            cast($tenant_id as string) as tenant_id,
            cast($repo_slug as string) as repo_slug,
            cast($since as date) as since,
            cast($until as date) as until,
    ) as params
    left join report_bounds
        on params.tenant_id = report_bounds.tenant_id
        and params.repo_slug = report_bounds.repo_slug
{%- endmacro %}


{#- `relation` (named without its database, as the published file has another) narrowed to the rows where
    `condition` holds: an input of marts.metric_queries' one-window query. -#}
{% macro narrowed(relation, condition) -%}
    (select * from {{ relation.include(database=false) }} where {{ condition }}) as {{ relation.identifier }}
{%- endmacro %}
