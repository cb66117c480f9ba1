{#-
    The request-grain models (stg_litellm__requests, sessions) are incremental: a run
    reads only the rows that arrived or changed upstream since the newest watermark in the model's own
    table, and replaces rows by trace_hash (delete+insert). On Spark, whose Parquet tables can neither
    delete nor merge, a run rebuilds the event_date partition of every day those rows fall on from all of
    that day's rows (overwrites_day_partitions). A full refresh builds them from everything and gives the
    same rows (tests/analytics/test_incremental.py; tests/lake/test_spark_parity.py on Spark).
-#}

{#-
    True on an incremental run whose existing table already has `watermark` (a table built by a ProdLens
    release without it is rebuilt from every row, replacing its rows by key, and gains the column).
-#}
{% macro request_grain_is_incremental(watermark) -%}
    {%- if not (execute and this is not none and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{- return(watermark | lower in names) -}}
{%- endmacro %}


{#-
    The newest `watermark` in this model's table as a SQL literal, on an incremental run whose table has
    the column (none otherwise, or while the table is empty): the model reads the upstream rows newer than
    it. Queried first and inlined, so DuckDB skips the upstream row groups before it by their min/max.
-#}
{% macro request_grain_watermark(watermark) -%}
    {%- if not request_grain_is_incremental(watermark) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set newest = run_query('select cast(max(' ~ adapter.quote(watermark) ~ ') as string) from ' ~ this).rows[0][0] -%}
    {{- return(none if newest is none else "cast('" ~ newest ~ "' as " ~ type_timestamptz() ~ ")") -}}
{%- endmacro %}


{#-
    Post-hook of stg_litellm__requests: delete the spans whose parent span (same tenant and trace) is a
    completed call of `requests`. The model drops such spans as it reads them; this catches a parent that
    arrived in a later run than its child. Only rows with a parent_span_id are candidates, so a run without
    OpenTelemetry child spans scans one mostly-null column.
-#}
{% macro delete_nested_spans(relation, requests, completed_loads) -%}
    {%- if not is_incremental() or overwrites_day_partitions() -%}
        {#- a full build drops them as it reads, and on Spark (no delete) the child's day is rebuilt without
            them: nothing to delete -#}
        select 1
    {%- else -%}
    delete from {{ relation }}
    where trace_hash in (
        select child.trace_hash
        from {{ relation }} as child
        inner join {{ requests }} as parent
            on child.tenant_id = parent.tenant_id
            and child.trace_id = parent.trace_id
            and child.parent_span_id = parent.request_id
        inner join {{ completed_loads }} as completed_loads
            on parent._dlt_load_id = completed_loads.load_id
        where child.parent_span_id is not null
    )
    {%- endif -%}
{%- endmacro %}


{#-
    Post-hook of a model built from another request-grain table: delete its rows whose trace_hash is no
    longer upstream (a span delete_nested_spans removed). Candidates are the rows with a parent span only.
-#}
{% macro delete_rows_gone_upstream(relation, upstream) -%}
    {%- if not is_incremental() or overwrites_day_partitions() -%}
        {#- on Spark (no delete) their day is rebuilt without them (the model's touched_days) -#}
        select 1
    {%- else -%}
    delete from {{ relation }}
    where parent_span_id is not null
        and trace_hash not in (select trace_hash from {{ upstream }} where parent_span_id is not null)
    {%- endif -%}
{%- endmacro %}
