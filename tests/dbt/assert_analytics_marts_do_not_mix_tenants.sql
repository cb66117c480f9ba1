-- Fails (one row per discrepancy) when an analytics mart mixes tenants: every tenant's figures must be
-- computed from that tenant's own requests (marts.sessions) alone. Checks, per tenant:
--   * additive totals (requests, cost) of every mart equal those of the tenant's requests;
--   * every developer, session, provider, model, prompt, experiment and baseline a mart names for a tenant
--     occurs in that tenant's requests;
--   * usage_analytics counts each of the tenant's developers as new exactly once;
--   * each ROI snapshot's 30-day request and success counts equal the tenant's own.
-- tests/analytics/test_tenant_isolation.py plants two tenants with the same developer, model, session,
-- repository, prompt and experiment names, and checks that this test fails when a mart is tampered with.
{{ config(severity='error') }}
-- union all branches take their column names from the first branch
-- noqa: disable=AL03

{%- set window_days = var('roi_window_days') | int %}

with

requests as (
    select
        *,
        coalesce(session_id, 'request:' || trace_hash) as session_key,
        coalesce(provider, 'unknown') as provider_key
    from {{ ref('sessions') }}
),

expected as (
    select
        tenant_id,
        count(*) as requests,
        sum(cost_usd) as cost,
        count(*) filter (where prompt_id is not null) as prompt_requests,
        sum(cost_usd) filter (where prompt_id is not null) as prompt_cost,
        count(*) filter (where experiment_id is not null and variant is not null) as experiment_requests,
        count(*) filter (where repo_slug is not null) as repo_requests,
        sum(cost_usd) filter (where repo_slug is not null) as repo_cost,
        count(distinct developer_id) as developers
    from requests
    group by tenant_id
),

observed as (
    select
        'daily_session_metrics' as mart,
        tenant_id,
        sum(request_count) as requests,
        sum(cost_usd) as cost
    from {{ ref('daily_session_metrics') }}
    group by tenant_id
    union all
    select
        'session_summaries',
        tenant_id,
        sum(request_count),
        sum(cost_usd)
    from {{ ref('session_summaries') }}
    group by tenant_id
    union all
    select
        'provider_performance:' || aggregation_level,
        tenant_id,
        sum(total_executions),
        sum(total_cost_usd)
    from {{ ref('provider_performance') }}
    group by aggregation_level, tenant_id
    union all
    select
        'cost_aggregations',
        tenant_id,
        sum(call_count),
        sum(total_cost)
    from {{ ref('cost_aggregations') }}
    group by tenant_id
    union all
    select
        'usage_analytics',
        tenant_id,
        sum(tasks_created),
        sum(total_cost)
    from {{ ref('usage_analytics') }}
    group by tenant_id
    union all
    select
        'routing_decisions',
        tenant_id,
        count(*),
        sum(cost_actual)
    from {{ ref('routing_decisions') }}
    group by tenant_id
    union all
    select
        'prompt_version_metrics',
        tenant_id,
        sum(requests),
        sum(total_cost)
    from {{ ref('prompt_version_metrics') }}
    group by tenant_id
    union all
    select
        'experiment_results',
        tenant_id,
        sum(total_runs),
        sum(avg_cost * total_runs)
    from {{ ref('experiment_results') }}
    group by tenant_id
    union all
    select
        'report_metrics:' || period_type,
        tenant_id,
        sum(request_count),
        sum(total_cost_usd)
    from {{ ref('report_metrics') }}
    where period_type in ('week', 'all')
    group by period_type, tenant_id
),

-- which expected figures each mart must match (prompt, experiment and report marts cover a subset)
total_mismatches as (
    select
        coalesce(observed.mart, 'every analytics mart') as mart,
        coalesce(observed.tenant_id, expected.tenant_id) as tenant_id,
        'requests / cost differ from the tenant''s own requests' as problem,
        observed.requests as observed_requests,
        case
            when observed.mart = 'prompt_version_metrics' then expected.prompt_requests
            when observed.mart = 'experiment_results' then expected.experiment_requests
            when observed.mart like 'report_metrics:%' then expected.repo_requests
            else expected.requests
        end as expected_requests,
        observed.cost as observed_cost,
        case
            when observed.mart = 'prompt_version_metrics' then expected.prompt_cost
            when observed.mart = 'experiment_results' then null
            when observed.mart like 'report_metrics:%' then expected.repo_cost
            else expected.cost
        end as expected_cost
    from observed
    left join expected
        on observed.tenant_id = expected.tenant_id
    where
        expected.tenant_id is null
        or observed.requests is distinct from (
            case
                when observed.mart = 'prompt_version_metrics' then expected.prompt_requests
                when observed.mart = 'experiment_results' then expected.experiment_requests
                when observed.mart like 'report_metrics:%' then expected.repo_requests
                else expected.requests
            end
        )
        or abs(
            coalesce(observed.cost, 0) - coalesce(
                case
                    when observed.mart = 'prompt_version_metrics' then expected.prompt_cost
                    when observed.mart = 'experiment_results' then observed.cost
                    when observed.mart like 'report_metrics:%' then expected.repo_cost
                    else expected.cost
                end,
                0
            )
        ) > 1e-6 * greatest(1, abs(coalesce(observed.cost, 0)))
),

-- a tenant present in the requests must be present in every mart that covers all requests
covering_marts as (
    select distinct mart
    from observed
    where mart not in ('prompt_version_metrics', 'experiment_results') and mart not like 'report_metrics:%'
),

missing_tenants as (
    select
        covering_marts.mart,
        expected.tenant_id,
        'tenant missing from the mart' as problem
    from expected
    cross join covering_marts
    anti join observed
        on covering_marts.mart = observed.mart
        and expected.tenant_id = observed.tenant_id
),

named as (
    select distinct
        'daily_session_metrics' as mart,
        tenant_id,
        'developer' as kind,
        developer_id as item_name
    from {{ ref('daily_session_metrics') }}
    where developer_id is not null
    union all
    select distinct
        'session_summaries',
        tenant_id,
        'developer',
        developer_id
    from {{ ref('session_summaries') }}
    where developer_id is not null
    union all
    select distinct
        'session_summaries',
        tenant_id,
        'session',
        session_id
    from {{ ref('session_summaries') }}
    union all
    select distinct
        'cost_aggregations',
        tenant_id,
        'developer',
        developer_id
    from {{ ref('cost_aggregations') }}
    where developer_id is not null
    union all
    select distinct
        'cost_aggregations',
        tenant_id,
        'model',
        model
    from {{ ref('cost_aggregations') }}
    where model is not null
    union all
    select distinct
        'provider_performance',
        tenant_id,
        'provider',
        provider
    from {{ ref('provider_performance') }}
    union all
    select distinct
        'routing_decisions',
        tenant_id,
        'developer',
        developer_id
    from {{ ref('routing_decisions') }}
    where developer_id is not null
    union all
    select distinct
        'routing_decisions',
        tenant_id,
        'model',
        baseline_model
    from {{ ref('routing_decisions') }}
    where baseline_source <> 'var'
    union all
    select distinct
        'routing_decisions',
        tenant_id,
        'model',
        usual_model
    from {{ ref('routing_decisions') }}
    where usual_model is not null
    union all
    select distinct
        'prompt_version_metrics',
        tenant_id,
        'prompt',
        prompt_id
    from {{ ref('prompt_version_metrics') }}
    union all
    select distinct
        'experiment_results',
        tenant_id,
        'experiment',
        experiment_id || '/' || variant
    from {{ ref('experiment_results') }}
    union all
    select distinct
        'report_metrics',
        tenant_id,
        'repository',
        repo_slug
    from {{ ref('report_metrics') }}
),

known as (
    select distinct
        tenant_id,
        'developer' as kind,
        developer_id as item_name
    from requests
    where developer_id is not null
    union all
    select distinct
        tenant_id,
        'session',
        session_key
    from requests
    union all
    select distinct
        tenant_id,
        'model',
        model
    from requests
    where model is not null
    union all
    select distinct
        tenant_id,
        'provider',
        provider_key
    from requests
    union all
    select distinct
        tenant_id,
        'prompt',
        prompt_id
    from requests
    where prompt_id is not null
    union all
    select distinct
        tenant_id,
        'experiment',
        experiment_id || '/' || variant
    from requests
    where experiment_id is not null and variant is not null
    union all
    select distinct
        tenant_id,
        'repository',
        repo_slug
    from requests
    where repo_slug is not null
),

foreign_names as (
    select
        named.mart,
        named.tenant_id,
        'names a ' || named.kind || ' the tenant never used: ' || named.item_name as problem
    from named
    anti join known
        on named.tenant_id = known.tenant_id
        and named.kind = known.kind
        and named.item_name = known.item_name
),

new_users_by_tenant as (
    select
        tenant_id,
        sum(new_users) as new_users
    from {{ ref('usage_analytics') }}
    group by tenant_id
),

new_user_mismatches as (
    select
        'usage_analytics' as mart,
        expected.tenant_id,
        'new_users over all days (' || coalesce(usage_totals.new_users, 0) || ') <> the tenant''s developers ('
        || expected.developers || ')' as problem
    from expected
    left join new_users_by_tenant as usage_totals
        on expected.tenant_id = usage_totals.tenant_id
    where coalesce(usage_totals.new_users, 0) <> expected.developers
),

-- the tenant's own requests per day: a snapshot's 30 days are summed from at most 30 rows, not joined to
-- every request in them
daily_requests as (
    select
        tenant_id,
        event_date,
        count(*) as requests,
        count(*) filter (where status = 'success') as successes
    from requests
    group by tenant_id, event_date
),

roi_mismatches as (
    select
        'customer_roi_snapshots' as mart,
        snapshots.tenant_id,
        'snapshot ' || snapshots.snapshot_date || ': 30-day requests / successes differ from the tenant''s own'
            as problem
    from {{ ref('customer_roi_snapshots') }} as snapshots
    left join daily_requests
        on snapshots.tenant_id = daily_requests.tenant_id
        and daily_requests.event_date
        between snapshots.snapshot_date - {{ window_days - 1 }} and snapshots.snapshot_date
    group by snapshots.tenant_id, snapshots.snapshot_date, snapshots.requests_30d, snapshots.tasks_completed_30d
    having
        coalesce(sum(daily_requests.requests), 0) <> snapshots.requests_30d
        or coalesce(sum(daily_requests.successes), 0) <> snapshots.tasks_completed_30d
),

final as (
    select
        mart,
        tenant_id,
        problem
    from total_mismatches
    union all
    select
        mart,
        tenant_id,
        problem
    from missing_tenants
    union all
    select
        mart,
        tenant_id,
        problem
    from foreign_names
    union all
    select
        mart,
        tenant_id,
        problem
    from new_user_mismatches
    union all
    select
        mart,
        tenant_id,
        problem
    from roi_mismatches
)

select * from final
