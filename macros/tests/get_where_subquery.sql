{#-
    The relation a data test reads (dbt's own macro, extended). A test's `where` config applies as in dbt.
    Without one, on a scheduled incremental run (env PRODLENS_TEST_SCOPE=new_rows, set by `prodlens run`;
    never with --full-refresh), a model tested on the rows this run added only, as the rows before were
    tested by the runs that added them:

      * a model whose config names `meta.written_at` (the column holding the start of the run that wrote
        each row): the rows written since this run started;
      * a model whose config names `meta.loaded_by` (the column holding each row's dlt load id): the rows
        of the loads after env PRODLENS_TESTED_LOADS_AFTER (set by `prodlens run`; without it every row):
        the load up to which every load the last build read had completed. A completed load gets no rows
        later; one that failed midway does, under the same id, and so is after it
        (prodlens/build_state.py, RawLoads). Only for models where a row of a new load cannot break a test
        together with an older row: the raw views, whose keys include the load id, and
        stg_litellm__requests, whose incremental delete+insert replaces an older row of the same key. Load
        ids grow with time, and the run lock lets one load at a time into a home.

    `prodlens build`, `dbt build` and CI test every row.
-#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- if execute and not flags.FULL_REFRESH and env_var('PRODLENS_TEST_SCOPE', 'all') == 'new_rows' -%}
        {%- set meta = model_meta(relation) -%}
        {%- if meta.get('written_at') -%}
            {%- do return(
                '(select * from ' ~ relation ~ ' where ' ~ adapter.quote(meta['written_at']) ~ ' >= '
                ~ analytics_run_started_at() ~ ') dbt_subquery'
            ) -%}
        {%- endif -%}
        {%- set loads_after = env_var('PRODLENS_TESTED_LOADS_AFTER', '') -%}
        {%- if meta.get('loaded_by') and loads_after -%}
            {%- do return(
                '(select * from ' ~ relation ~ ' where ' ~ adapter.quote(meta['loaded_by']) ~ ' > '
                ~ sql_literal(loads_after) ~ ') dbt_subquery'
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- The config meta of the model behind `relation` ({} for other relations). -#}
{% macro model_meta(relation) -%}
    {%- if relation.identifier is not defined -%}
        {%- do return({}) -%}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and (node.alias or node.name) == relation.identifier
            and node.schema == relation.schema -%}
            {%- do return(node.config.meta) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return({}) -%}
{%- endmacro %}
