-- Each request priced, and pricing_status saying which price applied, in this order:
--   cache_hit  LiteLLM answered from its response cache: cost 0, cache_savings_usd = what it would have cost;
--   override   a row of seeds/price_overrides.csv (the tenant's own row before a `*` row);
--   catalog    the model_prices row in effect at the timestamp (the lookups of macros/pricing/price_in_effect.sql),
--              at the tier its prompt size reaches;
--   proxy      no price known, and the proxy logged a cost above 0 (LiteLLM's response_cost, SpendLogs' spend);
--   default    the ProdLens default price (var default_price_usd_per_mtok).
-- A table: every request-grain mart and test reads it, and a view would price every request again for each.
{{ config(materialized='table') }}

with

requests as (
    select * from {{ ref('stg_litellm__requests') }}
),

prices as (
    select * from {{ ref('model_prices') }}
),

overrides as (
    select * from {{ ref('price_overrides') }}
),

requests_named as (
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

catalog_matched as (
    {{ price_in_effect('requests_named', 'price_candidates', 'model', 'provider', 'catalog_key') }}
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

override_matched as (
    select
        requests_named.trace_hash,
        override_segments.input_usd_per_mtok,
        override_segments.output_usd_per_mtok,
        override_segments.cache_read_usd_per_mtok,
        override_segments.cache_write_usd_per_mtok
    from requests_named
    inner join override_segments
        on coalesce(requests_named.tenant_id, '') = override_segments.key_tenant_id
        and coalesce(requests_named.provider, '') = override_segments.key_provider
        and requests_named.model = override_segments.key_model
        and {{ in_segment('override_segments', 'requests_named."timestamp"') }}
),

catalog_sized as (
    select
        catalog_matched.*,
        requests_named.tokens_in
    from catalog_matched
    inner join requests_named
        on catalog_matched.trace_hash = requests_named.trace_hash
),

-- the catalogue price at the tier the request's prompt reaches
{%- set tier = price_tier('tokens_in', 'tier_1_above_tokens', 'tier_2_above_tokens') %}
catalog_tiered as (
    select
        trace_hash,
        price_catalog_key,
        {{ tier }} as price_tier,
        {{ tiered_price(tier, 'input_usd_per_mtok') }} as input_usd_per_mtok,
        {{ tiered_price(tier, 'output_usd_per_mtok') }} as output_usd_per_mtok,
        {{ tiered_price(tier, 'cache_read_usd_per_mtok') }} as cache_read_usd_per_mtok,
        {{ tiered_price(tier, 'cache_write_usd_per_mtok') }} as cache_write_usd_per_mtok
    from catalog_sized
),

-- the per-token prices that apply (null when none is known) and where they come from
known_prices as (
    select
        requests_named.* exclude (model_name),  -- noqa: RF02
        catalog_tiered.price_catalog_key,
        catalog_tiered.price_tier,
        case
            when override_matched.trace_hash is not null then 'override'
            when catalog_tiered.trace_hash is not null then 'catalog'
            when requests_named.proxy_cost_usd > 0 then 'proxy'
            else 'default'
        end as price_source,
        coalesce(override_matched.input_usd_per_mtok, catalog_tiered.input_usd_per_mtok) as known_input,
        coalesce(override_matched.output_usd_per_mtok, catalog_tiered.output_usd_per_mtok) as known_output,
        coalesce(override_matched.cache_read_usd_per_mtok, catalog_tiered.cache_read_usd_per_mtok)
            as known_cache_read,
        coalesce(override_matched.cache_write_usd_per_mtok, catalog_tiered.cache_write_usd_per_mtok)
            as known_cache_write
    from requests_named
    left join catalog_tiered
        on requests_named.trace_hash = catalog_tiered.trace_hash
    left join override_matched
        on requests_named.trace_hash = override_matched.trace_hash
),

-- the per-token prices applied: the known ones, else the default; none when the proxy's cost priced it
priced as (
    select
        * exclude (known_input, known_output, known_cache_read, known_cache_write),
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

final as (
    select
        * exclude (price_source, list_cost_usd),
        case when coalesce(cache_hit, false) then 0 else list_cost_usd end as cost_usd,
        case
            -- a response-cache hit saved the whole call
            when coalesce(cache_hit, false) then list_cost_usd
            when price_source = 'proxy' then 0
            -- prompt caching: what the cached tokens would have cost at the full input price, minus what they cost
            else (cache_read_tokens * (input_usd_per_mtok - cache_read_usd_per_mtok)) / 1e6
        end as cache_savings_usd,
        case when coalesce(cache_hit, false) then 'cache_hit' else price_source end as pricing_status
    from costed
)

select * from final
