-- The report's metric definition compiled for one parameterised window, published as SQL text next to the
-- marts so that `prodlens report` (loaders.metrics.report_metrics) runs exactly what marts.report_metrics ran.
-- Each input is narrowed to the one tenant and repository asked for before the definition reads it: the
-- figures of that pair are the same, and the query reads that pair's daily rows only. At 10M requests it
-- took 2.8 s over every pair's requests, 0.36 s over the pair's requests, and ~31 ms over the pair's rows
-- of report_daily_figures.
{%- set same_pair = 'tenant_id = cast($tenant_id as string) and repo_slug = cast($repo_slug as string)' -%}
{%- set same_repo = 'repo_slug = cast($repo_slug as string)' -%}
{%- set report_window_sql -%}
{{ report_metrics_sql(
    windows=report_parameter_window_sql(),
    days=narrowed(ref('report_daily_figures'), same_pair),
    pull_requests=narrowed(ref('pull_requests'), same_repo),
    commits=narrowed(ref('commits'), same_repo),
    repositories=narrowed(ref('repository_entitlements'), same_pair),
    policy_models='cast($policy_models as string[])',
) }}
{%- endset %}

with

final as (
    select
        'report_metrics_window' as query_name,
        'Every marts.report_metrics figure for one tenant, repository and date window.' as description,
        {{ string_list_literal(["'tenant_id'", "'repo_slug'", "'since'", "'until'", "'policy_models'"]) }}
            as parameter_names,
        '{{ report_window_sql | replace("'", "''") }}' as sql_text,
        '{{ invocation_id }}' as invocation_id,
        {{ analytics_run_started_at() }} as created_at
)

select * from final
