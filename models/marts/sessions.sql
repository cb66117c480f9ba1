-- One row per LLM request (the ProdLens `sessions` table), deduplicated on trace_hash and priced, with
-- pricing_status saying which price applied, in this order:
--   cache_hit  LiteLLM answered from its response cache: cost 0, cache_savings_usd = what it would have cost;
--   override   a row of seeds/price_overrides.csv (the tenant's own row before a `*` row);
--   catalog    the model_prices row in effect at the timestamp (the lookups of macros/pricing/price_in_effect.sql),
--              at the tier its prompt size reaches;
--   proxy      no price known, and the proxy logged a cost above 0 (LiteLLM's response_cost, SpendLogs' spend);
--   default    the ProdLens default price (var default_price_usd_per_mtok).
-- The one priced copy of the requests: int_analytics__requests reads it. (A priced intermediate table
-- copied whole into this one cost ~20 s of a full build at 10M requests.)
-- Incremental (macros/utils/incremental_requests.sql): a run prices the requests staged since the newest
-- `load_completed_at` here, replacing rows by trace_hash (on Spark: rebuilding the event_date partitions of
-- their days), and every request again when the prices changed (`prices_version`: the seeds model_prices
-- and price_overrides and the default price, hashed).
{%- set watermark = request_grain_watermark('load_completed_at') %}
{%- set prices_changed = not request_grain_is_incremental('prices_version') %}
{%- if watermark and not prices_changed %}
    {%- set versions = run_query(
        'select (select max(prices_version) from ' ~ this ~ '), (' ~ prices_version() ~ ')'
    ).rows[0] %}
    {%- set prices_changed = versions[0] != versions[1] %}
{%- endif %}
{%- set whole_days = overwrites_day_partitions() and watermark and not prices_changed %}
{{
    config(
        materialized=incremental_materialization('event_date'),
        meta={'written_at': 'created_at'},
        incremental_strategy=incremental_strategy('event_date'),
        partition_by=incremental_partition_by('event_date'),
        unique_key='trace_hash',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_rows_gone_upstream(this, ref('stg_litellm__requests')) }}",
    )
}}

with

-- not materialised: the requests are read three times (price lookups, override keys, the priced rows), and
-- a materialised copy of every column cost more than the three column-pruned scans (1M requests: 1.4 s of
-- this model's full-build query against 1.05 s)
staged as {{ not_materialized() }} (
    select * from {{ ref('stg_litellm__requests') }}
),

{% if whole_days %}

-- the days this run rebuilds: those of the requests staged since the last run, and those of the rows here
-- that are no longer staged (a span whose parent arrived since: its day is rebuilt without it)
touched_days as (
    select staged.event_date
    from staged
    where staged.load_completed_at > {{ watermark }}
    union
    select this_model.event_date
    from {{ this }} as this_model
    left join staged
        on this_model.trace_hash = staged.trace_hash
    where this_model.parent_span_id is not null and staged.trace_hash is null
),

{% endif %}

requests as {{ not_materialized() }} (
    select * from staged
    {% if whole_days %}
        where event_date in (select touched_days.event_date from touched_days)
    {% elif watermark and not prices_changed %}
        where load_completed_at > {{ watermark }}
    {% endif %}
),

prices as (
    select * from {{ ref('model_prices') }}
),

overrides as (
    select * from {{ ref('price_overrides') }}
),

requests_named as {{ not_materialized() }} (
    select
        *,
        {{ model_name_part('model') }} as model_name
    from requests
),

price_lookups as (
    {{ price_lookups('requests_named', 'model', 'provider', 'catalog_key') }}
),

price_candidates as (
    {{ price_candidates('price_lookups', 'prices') }}
),

-- the catalogue row in effect per lookup and price period
catalog_segments as (
    {{ price_segments('price_candidates') }}
),

-- the distinct (tenant, provider, model) of the requests: overrides are matched once per key, not per request
override_keys as (
    select distinct
        coalesce(tenant_id, '') as key_tenant_id,
        coalesce(provider, '') as key_provider,
        model as key_model,
        tenant_id,
        provider,
        model,
        model_name
    from requests_named
    where model is not null
),

-- every override row that can apply to a key: its tenant (else `*`), provider (else `*`), and model (as
-- stored, else its name)
override_candidates as (
    select
        override_keys.key_tenant_id,
        override_keys.key_provider,
        override_keys.key_model,
        overrides.tenant_id as override_tenant_id,
        overrides.provider as override_provider,
        lower(overrides.model) = override_keys.model as exact_model,
        overrides.effective_from,
        overrides.effective_to,
        overrides.input_usd_per_mtok,
        overrides.output_usd_per_mtok,
        coalesce(overrides.cache_read_usd_per_mtok, overrides.input_usd_per_mtok) as cache_read_usd_per_mtok,
        coalesce(overrides.cache_write_usd_per_mtok, overrides.input_usd_per_mtok) as cache_write_usd_per_mtok
    from override_keys
    inner join overrides
        on (override_keys.model = lower(overrides.model) or override_keys.model_name = lower(overrides.model))
        and (overrides.provider = '*' or override_keys.provider = lower(overrides.provider))
        and (overrides.tenant_id = '*' or override_keys.tenant_id = overrides.tenant_id)
),

-- the override in effect per key and period: the tenant's own row first, then the provider's, the exact
-- model, the latest start
override_segments as (
    {{ effective_segments(
        'override_candidates',
        ['key_tenant_id', 'key_provider', 'key_model'],
        "(candidate.override_tenant_id <> '*') desc, (candidate.override_provider <> '*') desc, "
        ~ 'candidate.exact_model desc, candidate.effective_from desc'
    ) }}
),

-- the per-token prices that apply (null when none is known) and where they come from: each request meets
-- its catalogue row and its override by equality on a small relation and a range test on its timestamp
{%- set tier = price_tier(
    'requests_named.tokens_in', 'catalog_segments.tier_1_above_tokens', 'catalog_segments.tier_2_above_tokens'
) %}
known_prices as (
    select
        {{ star_except(['model_name'], 'requests_named') }},  -- noqa: RF02
        {% for price in ['input', 'output', 'cache_read', 'cache_write'] -%}
            coalesce(
                override_segments.{{ price }}_usd_per_mtok,
                {{ tiered_price(tier, price ~ '_usd_per_mtok', 'catalog_segments') }}
            ) as known_{{ price }},
        {% endfor -%}
        catalog_segments.catalog_key as price_catalog_key,
        case when catalog_segments.lookup_model is not null then {{ tier }} end as price_tier,
        case
            when override_segments.key_model is not null then 'override'
            when catalog_segments.lookup_model is not null then 'catalog'
            when requests_named.proxy_cost_usd > 0 then 'proxy'
            else 'default'
        end as price_source
    from requests_named
    left join catalog_segments
        on {{ price_segment_match('requests_named', 'catalog_segments', 'model', 'provider', 'catalog_key') }}
    left join override_segments
        on coalesce(requests_named.tenant_id, '') = override_segments.key_tenant_id
        and coalesce(requests_named.provider, '') = override_segments.key_provider
        and requests_named.model = override_segments.key_model
        and {{ in_segment('override_segments', 'requests_named.' ~ adapter.quote('timestamp')) }}
),

-- the per-token prices applied: the known ones, else the default; none when the proxy's cost priced it
priced as (
    select
        {{ star_except(['known_input', 'known_output', 'known_cache_read', 'known_cache_write']) }},
        case when price_source <> 'proxy' then {{ price_or_default('known_input') }} end as input_usd_per_mtok,
        case when price_source <> 'proxy' then {{ price_or_default('known_output') }} end as output_usd_per_mtok,
        case when price_source <> 'proxy' then {{ price_or_default('known_cache_read') }} end
            as cache_read_usd_per_mtok,
        case when price_source <> 'proxy' then {{ price_or_default('known_cache_write') }} end
            as cache_write_usd_per_mtok
    from known_prices
),

-- what the call costs at its price, before a response-cache hit makes it free
costed as (
    select
        *,
        case
            when price_source = 'proxy' then proxy_cost_usd
            else {{ token_cost(
                'input_usd_per_mtok', 'output_usd_per_mtok', 'cache_read_usd_per_mtok', 'cache_write_usd_per_mtok'
            ) }}
        end as list_cost_usd
    from priced
),

priced_requests as (
    select
        {{ star_except(['price_source', 'list_cost_usd']) }},
        case when coalesce(cache_hit, false) then 0 else list_cost_usd end as cost_usd,
        case
            -- a response-cache hit saved the whole call
            when coalesce(cache_hit, false) then list_cost_usd
            when price_source = 'proxy' then 0
            -- prompt caching: what the cached tokens would have cost at the full input price, minus what they cost
            else (cache_read_tokens * (input_usd_per_mtok - cache_read_usd_per_mtok)) / 1e6
        end as cache_savings_usd,
        case when coalesce(cache_hit, false) then 'cache_hit' else price_source end as pricing_status,
        ({{ prices_version() }}) as prices_version,
        {{ analytics_run_started_at() }} as created_at
    from costed
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
        created_at,
        -- added later: appended, in the order an existing table gains them
        catalog_key,
        original_model_group,
        source_item,
        prices_version
    from priced_requests
)

select * from final
