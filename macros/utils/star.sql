{#-
    The columns of `from` as a comma-separated select list, leaving out `except` (as dbt_utils.star does):
    a model that passes an upstream model's columns on states only what it adds or changes. Before the
    upstream relation exists (dbt parse, or compiling without a build), it renders `*`.
-#}
{% macro star(from, except=[], relation_alias=none) -%}
    {%- if not execute -%}
        {{ return('*') }}
    {%- endif -%}
    {%- set excluded = except | map('lower') | list -%}
    {%- set columns = adapter.get_columns_in_relation(from) | map(attribute='name')
        | reject('in', excluded) | list -%}
    {%- if not columns -%}
        {#- the relation does not exist yet (compiling without a build, e.g. sqlfluff): as dbt_utils.star -#}
        {{ return('*') }}
    {%- endif -%}
    {%- for column in columns %}
        {% if relation_alias %}{{ relation_alias }}.{% endif %}{{ adapter.quote(column) }}{{ "," if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
