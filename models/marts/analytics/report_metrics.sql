-- One row per tenant, repository, period type (week, month, all) and period: the ProdLens report's figures.
-- Every metric is defined once, in macros/metrics/report_metrics.sql; marts.metric_queries publishes the
-- same compiled definition for `prodlens report` and loaders.metrics.report_metrics().
with

report as (
    {{ report_metrics_sql(
        windows=report_mart_windows_sql(),
        days=ref('report_daily_figures'),
        pull_requests=ref('pull_requests'),
        commits=ref('commits'),
        repositories=ref('repository_entitlements'),
        policy_models=analytics_model_list(var('policy_models')),
    ) }}
),

final as (
    select
        *,
        '{{ invocation_id }}' as invocation_id,
        {{ analytics_run_started_at() }} as created_at
    from report
)

select * from final
