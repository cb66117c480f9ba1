{#-
    dbt's test materialization on DuckDB, with the stored failures written by one statement: `create or
    replace view` (or table) of the test's query, where dbt's own drops the old relation in one transaction
    and creates the new one in a second. Everything else is dbt's: store_failures / store_failures_as,
    limit, sql_header, fail_calc, warn_if and error_if mean what they mean there, and a relation of the
    other type (a table where a view is wanted) is dropped first.
    Both statements run in autocommit: a data test costs two statements instead of nine, ~0.5 s of the
    69 tests of a scheduled run at 1M (issue 13; docs/operations.md, "stored failures").
-#}
{%- materialization test, adapter='duckdb' -%}
    {%- set relations = [] -%}
    {%- set limit = config.get('limit') -%}
    {%- set sql_header = config.get('sql_header') if flags.REQUIRE_SQL_HEADER_IN_TEST_CONFIGS else none -%}
    {%- set sql_with_limit = get_limit_subquery_sql(sql, limit) -%}

    {%- if should_store_failures() -%}
        {%- set store_failures_as = config.get('store_failures_as') or 'table' -%}
        {%- if store_failures_as not in ['table', 'view'] -%}
            {{ exceptions.raise_compiler_error(
                "'" ~ store_failures_as ~ "' is not a valid value for `store_failures_as`. "
                "Accepted values are: ['ephemeral', 'table', 'view']"
            ) }}
        {%- endif -%}
        {%- set target_relation = api.Relation.create(
            identifier=model['alias'], schema=schema, database=database, type=store_failures_as
        ) -%}
        {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=model['alias']) -%}
        {%- if old_relation and old_relation.type != target_relation.type -%}
            {%- do adapter.drop_relation(old_relation) -%}
        {%- endif -%}
        {%- call statement(auto_begin=False) -%}
            {%- if sql_header %}{{ sql_header }}{% endif %}
            create or replace {{ store_failures_as }} {{ target_relation }} as (
                {{ sql_with_limit }}
            )
        {%- endcall -%}
        {%- do relations.append(target_relation) -%}
        {%- set main_sql = 'select * from ' ~ target_relation -%}
    {%- else -%}
        {%- set main_sql = sql_with_limit -%}
    {%- endif -%}

    {%- call statement('main', fetch_result=True, auto_begin=False) -%}
        {%- if sql_header %}{{ sql_header }}{% endif %}
        {{ get_test_sql(main_sql, config.get('fail_calc'), config.get('warn_if'), config.get('error_if'), limit=none) }}
    {%- endcall -%}

    {{ return({'relations': relations}) }}
{%- endmaterialization -%}
