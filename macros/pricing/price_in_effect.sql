{#-
    The catalogue price row in effect for each request of `requests` (a CTE with trace_hash and
    "timestamp"), matched on a model name and provider: the row of `prices` whose model is the request's
    `model_name`, whose provider is `model_provider` when the request names one, and whose effective dates
    hold the request's timestamp. Several providers may list a bare name: the row of `preferred_provider`
    wins, then a stable order. Cache prices fall back to the input price. One row per matched trace_hash.
    int_requests_priced prices every request with it (its own model); routing_decisions prices the
    baseline model with it.
-#}
{% macro price_in_effect(requests, prices, model_name, model_provider, preferred_provider) -%}
    select
        {{ requests }}.trace_hash,
        {{ prices }}.input_usd_per_mtok,
        {{ prices }}.output_usd_per_mtok,
        coalesce({{ prices }}.cache_read_usd_per_mtok, {{ prices }}.input_usd_per_mtok) as cache_read_usd_per_mtok,
        coalesce({{ prices }}.cache_write_usd_per_mtok, {{ prices }}.input_usd_per_mtok) as cache_write_usd_per_mtok
    from {{ requests }}
    inner join {{ prices }}
        on {{ requests }}.{{ model_name }} = {{ prices }}.model
        and ({{ requests }}.{{ model_provider }} is null or {{ requests }}.{{ model_provider }} = {{ prices }}.provider)
        and {{ requests }}."timestamp" >= {{ prices }}.effective_from
        and ({{ prices }}.effective_to is null or {{ requests }}."timestamp" < {{ prices }}.effective_to)
    qualify row_number() over (
        partition by {{ requests }}.trace_hash
        order by ({{ prices }}.provider = {{ requests }}.{{ preferred_provider }}) desc nulls last, {{ prices }}.provider
    ) = 1
{%- endmacro %}


{#- A price of `price_in_effect`, or the ProdLens default (var default_price_usd_per_mtok) when none matched. -#}
{% macro price_or_default(price) -%}
    coalesce({{ price }}, {{ number_var('default_price_usd_per_mtok') }})
{%- endmacro %}
