-- Dashboard: compare the versions of each prompt of a tenant (marts.prompt_version_metrics).
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

versions as (
    select * from {{ ref('prompt_version_metrics') }}
    where tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        prompt_id,
        prompt_version,
        requests,
        success_rate,
        round(avg_tokens) as avg_tokens,
        round(avg_cost, 5) as avg_cost,
        round(avg_latency_ms) as avg_latency_ms,
        first_seen,
        last_seen
    from versions
)

select * from final
order by prompt_id, prompt_version
