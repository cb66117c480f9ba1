{#-
    on-run-end of `dbt build` and `dbt run`: drop the tables and views in the schemas of this project's
    models and seeds that no model or seed builds any more: a model a release removed (int_requests_priced,
    a full copy of every request), or dbt's `__dbt_tmp`/`__dbt_backup` left by a crashed build. dbt keeps
    them; in the working file they would be read by nothing and copied into every published file. The
    schemas are the project's own (staging, intermediate, marts, seeds); dlt's raw data and the stored test
    failures (dq) are other schemas. DuckDB only: on Spark the lake holds the tables.
-#}
{% macro drop_relations_without_nodes() -%}
    {{ return(adapter.dispatch('drop_relations_without_nodes')()) }}
{%- endmacro %}


{% macro default__drop_relations_without_nodes() -%}
{%- endmacro %}


{% macro duckdb__drop_relations_without_nodes() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set built = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed') -%}
        {%- do built.setdefault(node.schema | lower, []).append((node.alias or node.name) | lower) -%}
    {%- endfor -%}
    {%- if not built -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set schemas = [] -%}
    {%- for schema in built -%}
        {%- do schemas.append("'" ~ schema | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- set relations = run_query(
        'select table_schema, table_name, table_type from information_schema.tables'
        ~ ' where table_catalog = current_database() and lower(table_schema) in (' ~ schemas | join(', ') ~ ')'
    ) -%}
    {%- for schema, name, kind in relations.rows if name | lower not in built[schema | lower] -%}
        {%- set relation = api.Relation.create(
            database=target.database, schema=schema, identifier=name, type='view' if kind == 'VIEW' else 'table'
        ) -%}
        {{- log('dropping ' ~ schema ~ '.' ~ name ~ ': no model or seed of this project builds it', info=true) -}}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor -%}
{%- endmacro %}
