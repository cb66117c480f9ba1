-- Each request priced at the catalogue price in effect at its timestamp.
-- The price row is matched on provider and model name; a model given without its provider is matched
-- on its name alone. Unknown models get the default price and pricing_status = 'default'.
with

requests as (
    select * from {{ ref('stg_litellm__requests') }}
),

prices as (
    select * from {{ ref('model_prices') }}
),

requests_named as (
    select
        *,
        {{ model_provider_part('model') }} as model_provider,
        {{ model_name_part('model') }} as model_name
    from requests
),

matched as (
    {{ price_in_effect('requests_named', 'prices', 'model_name', 'model_provider', 'provider') }}
),

priced as (
    select
        requests_named.* exclude (model_provider, model_name),  -- noqa: RF02
        matched.trace_hash is not null as is_catalog_priced,
        {{ price_or_default('matched.input_usd_per_mtok') }} as input_usd_per_mtok,
        {{ price_or_default('matched.output_usd_per_mtok') }} as output_usd_per_mtok,
        {{ price_or_default('matched.cache_read_usd_per_mtok') }} as cache_read_usd_per_mtok,
        {{ price_or_default('matched.cache_write_usd_per_mtok') }} as cache_write_usd_per_mtok
    from requests_named
    left join matched
        on requests_named.trace_hash = matched.trace_hash
),

final as (
    select
        * exclude (is_catalog_priced),
        {{ token_cost(
            'input_usd_per_mtok', 'output_usd_per_mtok', 'cache_read_usd_per_mtok', 'cache_write_usd_per_mtok'
        ) }} as cost_usd,
        -- what the cached tokens would have cost at the full input price, minus what they cost
        (
            cache_read_tokens * (input_usd_per_mtok - cache_read_usd_per_mtok)
        ) / 1e6 as cache_savings_usd,
        case when is_catalog_priced then 'catalog' else 'default' end as pricing_status
    from priced
)

select * from final
