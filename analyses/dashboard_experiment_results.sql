-- Dashboard: A/B experiment verdicts for a tenant (marts.experiment_results): each variant against the
-- control, flagged when the success-rate or latency difference is significant at 5%.
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

results as (
    select * from {{ ref('experiment_results') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        experiment_id,
        variant,
        total_runs,
        success_rate,
        success_rate_diff,
        round(success_rate_p_value, 4) as success_rate_p_value,
        round(avg_latency_diff_ms) as avg_latency_diff_ms,
        round(latency_p_value, 4) as latency_p_value,
        case
            when variant = control_variant then 'control'
            when success_rate_p_value < 0.05 or latency_p_value < 0.05 then 'significant difference'
            when success_rate_p_value is null and latency_p_value is null then 'not testable'
            else 'no significant difference'
        end as verdict,
        note
    from results
)

select * from final
order by experiment_id, variant
