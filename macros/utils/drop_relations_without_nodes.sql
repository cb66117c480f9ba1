{#-
    on-run-end of `dbt build` and `dbt run`: drop the tables and views in the schemas of this project's
    models and seeds that no model or seed builds any more: a model a release removed (int_requests_priced,
    a full copy of every request), or dbt's `__dbt_tmp`/`__dbt_backup` left by a crashed build. dbt keeps
    them; in the working file they would be read by nothing and copied into every published file, and in a
    Spark warehouse they would keep their files and stay listed for analysts. The schemas are the project's
    own (staging, intermediate, marts, seeds); the raw data (dlt's tables, or the lake's external tables)
    and the stored test failures (dq) are other schemas.
-#}
{% macro drop_relations_without_nodes() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set built = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed') -%}
        {%- do built.setdefault(node.schema | lower, []).append((node.alias or node.name) | lower) -%}
    {%- endfor -%}
    {%- for relation in adapter.dispatch('project_schema_relations')(built.keys() | list)
        if relation.schema | lower in built and relation.identifier | lower not in built[relation.schema | lower] -%}
        {{- log('dropping ' ~ relation.schema ~ '.' ~ relation.identifier
            ~ ': no model or seed of this project builds it', info=true) -}}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor -%}
{%- endmacro %}


{#- The tables and views in `schemas` (lower-case names) of the target's database, as relations; none
    on an adapter without a version here (nothing is dropped there). -#}
{% macro default__project_schema_relations(schemas) -%}
    {{- return([]) -}}
{%- endmacro %}


{#- Spark (and Databricks, whose adapter falls back to these): SHOW TABLES lists tables and views alike,
    SHOW VIEWS tells the views; a session's temporary views (isTemporary) belong to no schema and stay. -#}
{% macro spark__project_schema_relations(schemas) -%}
    {%- set relations = [] -%}
    {%- for schema in schemas if adapter.check_schema_exists(target.database, schema) -%}
        {%- set views = [] -%}
        {%- for row in run_query('show views in ' ~ schema).rows if not row[2] -%}
            {%- do views.append(row[1] | lower) -%}
        {%- endfor -%}
        {%- for row in run_query('show tables in ' ~ schema).rows if not row[2] -%}
            {%- do relations.append(api.Relation.create(
                schema=schema, identifier=row[1], type='view' if row[1] | lower in views else 'table'
            )) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(relations) -}}
{%- endmacro %}


{#- DuckDB: one query over information_schema for every schema at once. -#}
{% macro duckdb__project_schema_relations(schemas) -%}
    {%- if not schemas -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for schema in schemas -%}
        {%- do quoted.append("'" ~ schema | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- set found = run_query(
        'select table_schema, table_name, table_type from information_schema.tables'
        ~ ' where table_catalog = current_database() and lower(table_schema) in (' ~ quoted | join(', ') ~ ')'
    ) -%}
    {%- set relations = [] -%}
    {%- for schema, name, kind in found.rows -%}
        {%- do relations.append(api.Relation.create(
            database=target.database, schema=schema, identifier=name, type='view' if kind == 'VIEW' else 'table'
        )) -%}
    {%- endfor -%}
    {{- return(relations) -}}
{%- endmacro %}
