-- Fails when marts.report_metrics and marts.metric_queries were built by different dbt runs (e.g. a partial
-- `--select report_metrics`): `prodlens report` must run the definition the mart was built with.
with

report as (
    select distinct invocation_id from {{ ref('report_metrics') }}
),

queries as (
    select invocation_id from {{ ref('metric_queries') }}
    where query_name = 'report_metrics_window'
),

final as (
    select
        report.invocation_id as report_metrics_invocation_id,
        queries.invocation_id as metric_queries_invocation_id
    from report
    full outer join queries
        on report.invocation_id = queries.invocation_id
    where report.invocation_id is null or queries.invocation_id is null
)

select * from final
where exists (select 1 from report)
