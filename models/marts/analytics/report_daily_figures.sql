-- One row per tenant, repository, UTC day and model: what the report's metrics are added up from (its
-- counts and exact sums, and the distinct developers, active hours and provider-call latencies as sorted
-- lists). marts.report_metrics and the report's one-window query (marts.metric_queries) read these rows
-- instead of every request: a window is the union of its days.
{{ incremental_by_day_config() }}

with

requests as (
    select * from {{ ref('int_analytics__requests') }}
    where repo_slug is not null
    {% if is_incremental() %}
        and event_date >= {{ analytics_incremental_start(ref('int_analytics__requests'), source_loaded='priced_at') }}
    {% endif %}
),

final as (
    select
        tenant_id,
        repo_slug,
        event_date,
        model,
        count(*) as request_count,
        count(*) filter (where is_error) as error_count,
        count(*) filter (where is_provider_call) as provider_call_count,
        sum(accepted_flag) as accepted_count,
        count(accepted) as acceptance_tracked_count,
        sum(total_tokens) as total_tokens,
        sum(total_tokens) filter (where accepted is not null) as tracked_total_tokens,
        -- acceptance figures count the requests whose acceptance was tracked only
        sum(accepted_lines) filter (where accepted is not null) as accepted_lines,
        {{ exact_decimal_sum('diff_ratio', 'accepted is not null') }} as diff_ratio_sum,
        count(diff_ratio) filter (where accepted is not null) as diff_ratio_count,
        count(*) filter (where accepted is not null and diff_ratio >= 0.7) as diff_ratio_ge_07_count,
        {{ exact_decimal_sum('cost_usd') }} as cost_usd_sum,
        {{ sorted_distinct_list('developer_id') }} as developer_ids,
        {{ sorted_distinct_list(utc_hour_number(adapter.quote('timestamp'))) }} as active_hours,
        {{ sorted_list('latency_ms', 'is_provider_call') }} as provider_latencies_ms,
        -- the newest pricing of the day's requests: a run that re-prices every request (new prices) makes
        -- every day newer than this and so recomputes them all, as the report read sessions before
        max(priced_at) as source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from requests
    group by tenant_id, repo_slug, event_date, model
)

-- stored in key order, so a report's rows (one tenant and repository) lie together and DuckDB reads the
-- lists of those rows only (10M requests: the one-window query 66 ms -> 42 ms)
select * from final
order by tenant_id, repo_slug, event_date, model
