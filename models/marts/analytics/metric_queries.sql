-- The report's metric definition compiled for one parameterised window, published as SQL text next to the
-- marts so that `prodlens report` (loaders.metrics.report_metrics) runs exactly what marts.report_metrics ran.
{%- set report_window_sql -%}
{{ report_metrics_sql(
    windows=report_parameter_window_sql(),
    requests=ref('sessions').include(database=false),
    pull_requests=ref('pull_requests').include(database=false),
    commits=ref('commits').include(database=false),
    repositories=ref('repository_entitlements').include(database=false),
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
