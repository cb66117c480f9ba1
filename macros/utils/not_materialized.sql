{#-
    `name as {{ not_materialized() }} (...)`: DuckDB materialises every CTE that a query reads more than
    once, which for a wide import CTE means a copy of every row and column (at 10M requests, gigabytes
    that spill past the memory limit). Not materialised, the CTE is inlined and each reader scans only
    the columns it uses. Other adapters get no hint.
-#}
{% macro not_materialized() -%}
    {{- return(adapter.dispatch('not_materialized', 'prodlens')()) -}}
{%- endmacro %}

{% macro default__not_materialized() -%}{%- endmacro %}

{% macro duckdb__not_materialized() -%}not materialized{%- endmacro %}
