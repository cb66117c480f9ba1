{#-
    The relation a data test reads (dbt's own macro, extended). A test's `where` config applies as in dbt.
    Without one, on a scheduled incremental run (env PRODLENS_TEST_SCOPE=new_rows, set by `prodlens run`;
    never with --full-refresh), a model whose config names `meta.written_at` (the column holding the start
    of the run that wrote each row) is tested on the rows this run wrote only: the rows before were tested
    by the runs that wrote them. `prodlens build`, `dbt build` and CI test every row.
-#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- set column = written_at_column(relation) if execute and not flags.FULL_REFRESH else none -%}
    {%- if column and env_var('PRODLENS_TEST_SCOPE', 'all') == 'new_rows' -%}
        {%- do return(
            '(select * from ' ~ relation ~ ' where ' ~ adapter.quote(column) ~ ' >= '
            ~ analytics_run_started_at() ~ ') dbt_subquery'
        ) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- meta.written_at of the model behind `relation` (none for other relations or without it). -#}
{% macro written_at_column(relation) -%}
    {%- if relation.identifier is not defined -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and (node.alias or node.name) == relation.identifier
            and node.schema == relation.schema -%}
            {%- do return(node.config.meta.get('written_at')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}
