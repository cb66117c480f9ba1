-- One row per LLM request (the ProdLens `sessions` table), priced, deduplicated on trace_hash.
-- Incremental (macros/utils/incremental_requests.sql): a run copies the requests priced since the newest
-- `created_at` here, replacing rows by trace_hash.
{%- set watermark = request_grain_watermark('created_at') %}
{{
    config(
        materialized=incremental_materialization(),
        meta={'written_at': 'created_at'},
        incremental_strategy='delete+insert',
        unique_key='trace_hash',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_rows_gone_upstream(this, ref('int_requests_priced')) }}",
    )
}}

with

priced as (
    select * from {{ ref('int_requests_priced') }}
    {% if watermark %}
        where created_at > {{ watermark }}
    {% endif %}
),

final as (
    select
        -- ProdLens data model columns
        {{ hex_to_bigint('left(trace_hash, 15)') }} as id,
        session_id,
        developer_id,
        {{ adapter.quote('timestamp') }},
        model,
        tokens_in,
        tokens_out,
        latency_ms,
        status_code,
        accepted_flag,
        repo_slug,
        event_date,
        total_tokens,
        cost_usd,
        diff_ratio,
        accepted_lines,
        trace_hash,
        -- added columns
        accepted,
        request_id,
        tenant_id,
        team_id,
        api_key_alias,
        api_key_hash,
        org_id,
        provider,
        model_group,
        call_type,
        status,
        error_code,
        error_class,
        ttft_ms,
        cache_read_tokens,
        cache_write_tokens,
        cache_hit,
        cache_savings_usd,
        pricing_status,
        price_catalog_key,
        price_tier,
        input_usd_per_mtok,
        output_usd_per_mtok,
        cache_read_usd_per_mtok,
        cache_write_usd_per_mtok,
        proxy_cost_usd,
        prompt_id,
        prompt_version,
        experiment_id,
        variant,
        trace_id,
        request_tags,
        attempted_fallbacks,
        malformed_fields,
        source_file,
        source_line,
        ingested_at,
        load_id,
        parent_span_id,
        load_completed_at,
        created_at
    from priced
)

select * from final
