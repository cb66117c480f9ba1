{#-
    The raw schema of a lake target: one external table per folder dlt writes under `lake`, with the
    columns of its dlt schema (prodlens/lake.py passes them). Re-created before every build, so a column
    a later load added is read, and a table no load has filled yet reads as empty.
    Run by `prodlens build` on a lake target: dbt run-operation create_lake_sources --args '{...}'.
-#}
{% macro create_lake_sources(lake, schema, tables) %}
    {%- do run_query('create database if not exists ' ~ schema) -%}
    {%- for name, table in tables.items() -%}
        {%- set columns = [] -%}
        {%- for column in table['columns'] -%}
            {%- do columns.append('`' ~ column[0] ~ '` ' ~ column[1]) -%}
        {%- endfor -%}
        {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ name) -%}
        {%- do run_query(
            'create table ' ~ schema ~ '.' ~ name ~ ' (' ~ columns | join(', ') ~ ') using '
            ~ table['format'] ~ " location '" ~ lake ~ '/' ~ name ~ "'"
        ) -%}
    {%- endfor -%}
    {{ log('lake sources: ' ~ tables | length ~ ' tables under ' ~ lake, info=true) }}
{% endmacro %}
