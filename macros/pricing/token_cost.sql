{#-
    Cost of a request's tokens at the given prices (USD per million tokens), the foundation's formula:
    ((tokens_in - cache_read - cache_write) * input + cache_read * cache_read_price
      + cache_write * cache_write_price + tokens_out * output) / 1e6.
    The one definition: sessions prices every request with it, and routing_decisions re-prices
    a request at its baseline model's prices with it.
-#}
{% macro token_cost(input_price, output_price, cache_read_price, cache_write_price) -%}
    (
        greatest(tokens_in - cache_read_tokens - cache_write_tokens, 0) * {{ input_price }}
        + cache_read_tokens * {{ cache_read_price }}
        + cache_write_tokens * {{ cache_write_price }}
        + tokens_out * {{ output_price }}
    ) / 1e6
{%- endmacro %}
