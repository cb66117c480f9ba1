-- raw.litellm_requests as dlt wrote it, rows of every load (stg_litellm__requests keeps the completed ones).
-- A table written by an older loader lacks the columns added since; they read as null here until the next
-- load adds them (dlt evolves the table), so an upgrade never breaks a build.
{%- set added_columns = {
    'accepted': 'boolean',
    'catalog_key': 'string',
    'api_base_present': 'boolean',
    'provider_reported': 'boolean',
    'error_normalized': 'string',
    'error_rate_limit_category': 'string',
    'error_budget_entity_type': 'string',
    'attempted_fallbacks': 'integer',
    'original_model_group': 'string',
    'request_tags': 'string',
} %}
{%- set present = [] %}
{%- if execute %}
    {%- for column in adapter.get_columns_in_relation(source('litellm', 'litellm_requests')) %}
        {%- do present.append(column.name | lower) %}
    {%- endfor %}
{%- endif %}

with

requests as (
    select * from {{ source('litellm', 'litellm_requests') }}
),

final as (
    select
        {% for name, type in added_columns.items() if execute and name not in present -%}
            cast(null as {{ type }}) as {{ name }},
        {% endfor -%}
        *
    from requests
)

select * from final
