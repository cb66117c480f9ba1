{#-
    Catalogue prices for requests, in three CTEs and one join:

        price_lookups    as ({{ price_lookups('requests', 'model', 'provider', 'catalog_key') }}),
        price_candidates as ({{ price_candidates('price_lookups', 'prices') }}),
        price_segments   as ({{ price_segments('price_candidates') }}),
        ...
        from requests
        left join price_segments
            on {{ price_segment_match('requests', 'price_segments', 'model', 'provider', 'catalog_key') }}

    A request names its model as ProdLens stores it (`provider/name` or a bare name), its provider, and,
    for LiteLLM payloads, LiteLLM's own price-map key (model_map_information.model_map_key). The
    catalogue row is found by the first of these lookups that finds a row in effect at the request's
    timestamp (lookup_rank):
      1. the catalogue key LiteLLM itself used (this resolves Azure deployments through their base model);
      2. the model as stored is a catalogue key (`gemini/gemini-2.5-pro`, `azure/gpt-4o`, `vertex_ai/...`);
      3. the name without the provider is a key (`claude-sonnet-4-5`, `us.anthropic.claude-...-v1:0`);
      4. the name is a model of the request's provider;
      5. the name without Bedrock's route (`converse/`, `invoke/`) and regional prefix (`us.`, `eu.`,
         `apac.`, `global.`, ...) is a key: a regional id with no price of its own gets the base price;
      6. a bare model name (no provider) is a model of any provider.
    The matching works on the distinct (model, provider, key) triples and their price periods, so a
    request costs one equality join on a small relation and a range test on its timestamp.
-#}

{#- The distinct lookups of `requests` (a relation with the named columns). -#}
{% macro price_lookups(requests, model, provider, catalog_key=none) -%}
    select distinct
        coalesce({{ model }}, '') as lookup_model,
        coalesce({{ provider }}, '') as lookup_provider,
        coalesce({{ catalog_key if catalog_key else 'cast(null as string)' }}, '') as lookup_catalog_key,
        {{ model_name_part(model) }} as lookup_name,
        regexp_replace(
            regexp_replace({{ model_name_part(model) }}, '^(converse|invoke)/', ''),
            '^(us|eu|apac|au|ca|jp|global|us-gov)\.',
            ''
        ) as lookup_base_name
    from {{ requests }}
    where {{ model }} is not null
{%- endmacro %}


{#- Every catalogue row each lookup finds, with the rank of the lookup that found it. -#}
{% macro price_candidates(lookups, prices) -%}
    {%- set rules = [
        (1, prices ~ '.catalog_key = ' ~ lookups ~ '.lookup_catalog_key'),
        (2, prices ~ '.catalog_key = ' ~ lookups ~ '.lookup_model'),
        (3, prices ~ '.catalog_key = ' ~ lookups ~ '.lookup_name'),
        (4, prices ~ '.model = ' ~ lookups ~ '.lookup_name and ' ~ prices ~ '.provider = ' ~ lookups ~ '.lookup_provider'),
        (5, prices ~ '.catalog_key = ' ~ lookups ~ '.lookup_base_name'),
        (6, prices ~ '.model = ' ~ lookups ~ '.lookup_name and not contains(' ~ lookups ~ ".lookup_model, '/')"),
    ] %}
    {%- for rank, condition in rules %}
    select
        {{ lookups }}.lookup_model,
        {{ lookups }}.lookup_provider,
        {{ lookups }}.lookup_catalog_key,
        {{ rank }} as lookup_rank,
        {{ prices }}.*
    from {{ lookups }}
    inner join {{ prices }}
        on {{ condition }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#-
    The catalogue row in effect per lookup and price period (effective_segments): the candidate of the
    lowest lookup rank, then the preferred provider's, then the first key. Base cache prices fall back to
    the input price. Join requests to it with price_segment_match.
-#}
{% macro price_segments(candidates) -%}
    select
        lookup_model,
        lookup_provider,
        lookup_catalog_key,
        segment_start,
        segment_end,
        catalog_key,
        input_usd_per_mtok,
        output_usd_per_mtok,
        coalesce(cache_read_usd_per_mtok, input_usd_per_mtok) as cache_read_usd_per_mtok,
        coalesce(cache_write_usd_per_mtok, input_usd_per_mtok) as cache_write_usd_per_mtok,
        {%- for n in [1, 2] %}
        tier_{{ n }}_above_tokens,
        tier_{{ n }}_input_usd_per_mtok,
        tier_{{ n }}_output_usd_per_mtok,
        coalesce(tier_{{ n }}_cache_read_usd_per_mtok, tier_{{ n }}_input_usd_per_mtok)
            as tier_{{ n }}_cache_read_usd_per_mtok,
        coalesce(tier_{{ n }}_cache_write_usd_per_mtok, tier_{{ n }}_input_usd_per_mtok)
            as tier_{{ n }}_cache_write_usd_per_mtok{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        {{ effective_segments(
            candidates,
            ['lookup_model', 'lookup_provider', 'lookup_catalog_key'],
            'candidate.lookup_rank, (candidate.provider = candidate.lookup_provider) desc, '
            ~ 'candidate.catalog_key, candidate.provider'
        ) }}
    ) as in_effect
{%- endmacro %}


{#- The join condition of a request of `requests` and its row of `segments` (price_segments), if any. -#}
{% macro price_segment_match(requests, segments, model, provider, catalog_key=none) -%}
    coalesce({{ requests }}.{{ model }}, '') = {{ segments }}.lookup_model
    and coalesce({{ requests }}.{{ provider }}, '') = {{ segments }}.lookup_provider
    and coalesce({{ (requests ~ '.' ~ catalog_key) if catalog_key else 'cast(null as string)' }}, '')
    = {{ segments }}.lookup_catalog_key
    and {{ in_segment(segments, requests ~ '.' ~ adapter.quote('timestamp')) }}
{%- endmacro %}


{#-
    The price tier (0 = base, 1, 2) that applies to a request of `tokens_in` prompt tokens: above a
    tier's size the whole request is billed at that tier's prices (LiteLLM's rule).
-#}
{% macro price_tier(tokens_in, tier_1_above, tier_2_above) -%}
    case
        when {{ tokens_in }} > {{ tier_2_above }} then 2
        when {{ tokens_in }} > {{ tier_1_above }} then 1
        else 0
    end
{%- endmacro %}


{#- A price of the tier `tier` picks: `tier_<n>_<price>` for a tier, else the base `<price>`. -#}
{% macro tiered_price(tier, price, relation=none) -%}
    {%- set prefix = (relation ~ '.') if relation else '' -%}
    case {{ tier }} when 2 then {{ prefix }}tier_2_{{ price }} when 1 then {{ prefix }}tier_1_{{ price }} else {{ prefix }}{{ price }} end
{%- endmacro %}


{#- A price of `price_in_effect`, or the ProdLens default (var default_price_usd_per_mtok) when none matched. -#}
{% macro price_or_default(price) -%}
    coalesce({{ price }}, {{ number_var('default_price_usd_per_mtok') }})
{%- endmacro %}


{#-
    A scalar query: a hash of everything a request's price depends on besides the request, the rows of
    the seeds model_prices and price_overrides and var default_price_usd_per_mtok. sessions
    stores it on each row and re-prices every request when it changes.
-#}
{% macro prices_version() -%}
    select md5(
        (
            select {{ rows_as_text('prices') }}
            from {{ ref('model_prices') }} as prices
        )
        || '#'
        || (
            select {{ rows_as_text('overrides') }}
            from {{ ref('price_overrides') }} as overrides
        )
        || '#{{ number_var("default_price_usd_per_mtok") }}'
    )
{%- endmacro %}
