{#-
    SQL that DuckDB and Spark spell differently, one macro per idea (adapter.dispatch), so that no model is
    forked per adapter. The DuckDB form is what the models used before the Spark target existed: the
    embedded build runs exactly the same SQL. dbt's own cross-database macros (dbt.datediff, dbt.type_*)
    cover the rest.
-#}

{#- A timestamp with time zone: DuckDB's timestamptz; Spark's timestamp is one (an instant). -#}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz', 'prodlens')()) }}
{%- endmacro %}
{% macro default__type_timestamptz() -%}timestamptz{%- endmacro %}
{% macro spark__type_timestamptz() -%}timestamp{%- endmacro %}


{#- The instant `ts` as a wall-clock timestamp in UTC (for date parts and day boundaries). Spark's session
    time zone is UTC (profiles.yml), so its timestamps already read as UTC. -#}
{% macro utc_timestamp(ts) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'prodlens')(ts)) }}
{%- endmacro %}
{% macro default__utc_timestamp(ts) -%}timezone('UTC', {{ ts }}){%- endmacro %}
{% macro spark__utc_timestamp(ts) -%}{{ ts }}{%- endmacro %}


{#- The number of the UTC clock hour of the instant `ts` (whole hours since 1970-01-01 00:00 UTC): an
    identifier of the hour that costs an integer division, where truncating a UTC wall-clock timestamp
    costs a time zone conversion per row. -#}
{% macro utc_hour_number(ts) -%}
    {{ return(adapter.dispatch('utc_hour_number', 'prodlens')(ts)) }}
{%- endmacro %}
{% macro default__utc_hour_number(ts) -%}(epoch_us({{ ts }}) // 3600000000){%- endmacro %}
{% macro spark__utc_hour_number(ts) -%}(unix_micros({{ ts }}) div 3600000000){%- endmacro %}


{#- The seconds from timestamp `start` to `end`, as a double: the difference is taken in whole
    microseconds first, so it is exact (a difference of two epoch seconds in doubles is off by up to a
    quarter of a microsecond today, and not by the same amount on every engine). -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'prodlens')(start, end)) }}
{%- endmacro %}
{% macro default__seconds_between(start, end) -%}
    (cast(epoch_us({{ end }}) - epoch_us({{ start }}) as double) / 1000000)
{%- endmacro %}
{% macro spark__seconds_between(start, end) -%}
    (cast(unix_micros({{ end }}) - unix_micros({{ start }}) as double) / 1000000)
{%- endmacro %}


{#- The timestamp `seconds` (a number, fractions kept) after 1970-01-01 UTC. -#}
{% macro timestamp_from_epoch(seconds) -%}
    {{ return(adapter.dispatch('timestamp_from_epoch', 'prodlens')(seconds)) }}
{%- endmacro %}
{% macro default__timestamp_from_epoch(seconds) -%}to_timestamp({{ seconds }}){%- endmacro %}
{% macro spark__timestamp_from_epoch(seconds) -%}timestamp_micros(cast({{ seconds }} * 1000000 as bigint)){%- endmacro %}


{#- `ts` plus `ms` milliseconds (a number). -#}
{% macro add_milliseconds(ts, ms) -%}
    {{ return(adapter.dispatch('add_milliseconds', 'prodlens')(ts, ms)) }}
{%- endmacro %}
{% macro default__add_milliseconds(ts, ms) -%}({{ ts }} + to_milliseconds({{ ms }})){%- endmacro %}
{% macro spark__add_milliseconds(ts, ms) -%}
    timestamp_micros(unix_micros({{ ts }}) + cast(round({{ ms }} * 1000) as bigint))
{%- endmacro %}


{#- `select * except these columns`: DuckDB's `* exclude (...)`, Spark's `* except (...)`. -#}
{% macro star_except(columns, relation_alias=none) -%}
    {{ return(adapter.dispatch('star_except', 'prodlens')(columns, relation_alias)) }}
{%- endmacro %}
{% macro default__star_except(columns, relation_alias) -%}
    {% if relation_alias %}{{ relation_alias }}.{% endif %}* exclude ({{ columns | join(', ') }})
{%- endmacro %}
{% macro spark__star_except(columns, relation_alias) -%}
    {% if relation_alias %}{{ relation_alias }}.{% endif %}* except ({{ columns | join(', ') }})
{%- endmacro %}


{#- The exact (interpolated) percentile `fraction` of `expr` (linear interpolation between the closest
    ranks, as scipy's default), over the rows where `where` holds (an aggregate's filter clause). Both
    engines interpolate in doubles, which can leave 480 as 479.99999999999994, and not always the same
    way: the result is rounded to 9 decimals, far below the precision of any latency or duration, so
    that both engines give the same number and a hand-computed 480 is 480. -#}
{% macro percentile_cont(expr, fraction, where=none) -%}
    {{ return(adapter.dispatch('percentile_cont', 'prodlens')(expr, fraction, where)) }}
{%- endmacro %}
{% macro default__percentile_cont(expr, fraction, where) -%}
    round(quantile_cont({{ expr }}, {{ fraction }}){% if where %} filter (where {{ where }}){% endif %}, 9)
{%- endmacro %}
{% macro spark__percentile_cont(expr, fraction, where) -%}
    round(percentile({{ expr }}, {{ fraction }}){% if where %} filter (where {{ where }}){% endif %}, 9)
{%- endmacro %}


{#- The value of `expr` on the first row by `order_by` (a list of expressions, ties broken by the later
    ones); use with `filter (where expr is not null)` to skip nulls. -#}
{% macro first_by(expr, order_by) -%}
    {{ return(adapter.dispatch('first_by', 'prodlens')(expr, order_by)) }}
{%- endmacro %}
{% macro default__first_by(expr, order_by) -%}first({{ expr }} order by {{ order_by | join(', ') }}){%- endmacro %}
{% macro spark__first_by(expr, order_by) -%}min_by({{ expr }}, struct({{ order_by | join(', ') }})){%- endmacro %}


{#- The distinct non-null values of `expr` (on the rows where `where` holds) as a sorted list. -#}
{% macro sorted_distinct_list(expr, where='true') -%}
    {{ return(adapter.dispatch('sorted_distinct_list', 'prodlens')(expr, where)) }}
{%- endmacro %}
{% macro default__sorted_distinct_list(expr, where) -%}
    list_sort(list(distinct {{ expr }}) filter (where {{ expr }} is not null and {{ where }}))
{%- endmacro %}
{% macro spark__sorted_distinct_list(expr, where) -%}
    array_sort(collect_set({{ expr }}) filter (where {{ where }}))
{%- endmacro %}


{#- The non-null values of `expr` (on the rows where `where` holds), duplicates kept, as a sorted list: a
    group's values in a form whose order does not depend on the engine's scan. -#}
{% macro sorted_list(expr, where='true') -%}
    {{ return(adapter.dispatch('sorted_list', 'prodlens')(expr, where)) }}
{%- endmacro %}
{% macro default__sorted_list(expr, where) -%}
    list_sort(list({{ expr }}) filter (where {{ expr }} is not null and {{ where }}))
{%- endmacro %}
{% macro spark__sorted_list(expr, where) -%}
    array_sort(collect_list({{ expr }}) filter (where {{ where }}))
{%- endmacro %}


{#- A JSON object text {key: value, ...} of the rows of a group, keys in order (`key` is never null). -#}
{% macro json_object_agg(key, value) -%}
    {{ return(adapter.dispatch('json_object_agg', 'prodlens')(key, value)) }}
{%- endmacro %}
{% macro default__json_object_agg(key, value) -%}
    to_json(map(list({{ key }} order by {{ key }}), list({{ value }} order by {{ key }})))
{%- endmacro %}
{% macro spark__json_object_agg(key, value) -%}
    to_json(map_from_entries(array_sort(collect_list(struct({{ key }}, {{ value }})))))
{%- endmacro %}


{#- A JSON array of strings (text) as a list of strings; null for null. -#}
{% macro json_string_list(text) -%}
    {{ return(adapter.dispatch('json_string_list', 'prodlens')(text)) }}
{%- endmacro %}
{% macro default__json_string_list(text) -%}from_json({{ text }}, '["VARCHAR"]'){%- endmacro %}
{% macro spark__json_string_list(text) -%}from_json({{ text }}, 'array<string>'){%- endmacro %}


{#- True when `text` ends with `suffix`. -#}
{% macro ends_with(text, suffix) -%}
    {{ return(adapter.dispatch('ends_with', 'prodlens')(text, suffix)) }}
{%- endmacro %}
{% macro default__ends_with(text, suffix) -%}ends_with({{ text }}, {{ suffix }}){%- endmacro %}
{% macro spark__ends_with(text, suffix) -%}endswith({{ text }}, {{ suffix }}){%- endmacro %}


{#- One row per element of the list `expr` (a select-list expression: the other columns repeat). -#}
{% macro unnest_list(expr) -%}
    {{ return(adapter.dispatch('unnest_list', 'prodlens')(expr)) }}
{%- endmacro %}
{% macro default__unnest_list(expr) -%}unnest({{ expr }}){%- endmacro %}
{% macro spark__unnest_list(expr) -%}explode({{ expr }}){%- endmacro %}


{#- One row per date from `start` to `stop` (dates or timestamps, both included) in steps of `step` (an
    interval literal such as `interval 1 day`): a select-list expression, like unnest_list. -#}
{% macro unnest_date_series(start, stop, step) -%}
    {{ return(adapter.dispatch('unnest_date_series', 'prodlens')(start, stop, step)) }}
{%- endmacro %}
{% macro default__unnest_date_series(start, stop, step) -%}
    cast(unnest(generate_series({{ start }}, {{ stop }}, {{ step }})) as date)
{%- endmacro %}
{% macro spark__unnest_date_series(start, stop, step) -%}
    explode(sequence(cast({{ start }} as date), cast({{ stop }} as date), {{ step }}))
{%- endmacro %}


{#- A list of strings from already-quoted SQL string literals (`[]` when there are none). -#}
{% macro string_list_literal(quoted) -%}
    {{ return(adapter.dispatch('string_list_literal', 'prodlens')(quoted)) }}
{%- endmacro %}
{% macro default__string_list_literal(quoted) -%}cast([{{ quoted | join(', ') }}] as string[]){%- endmacro %}
{% macro spark__string_list_literal(quoted) -%}cast(array({{ quoted | join(', ') }}) as array<string>){%- endmacro %}


{#-
    How the models that DuckDB builds incrementally (delete+insert on their key) are built per adapter.
    `partition_by`: the model's day column when an incremental run on Spark recomputes whole days: the
    daily marts (every row of every day from their first reprocessed day) and the request-grain models
    (every row of each day a new row falls on: overwrites_day_partitions); none for the session- and
    period-grain models, which replace single rows by key.
    - DuckDB: incremental, delete+insert on the model's unique_key.
    - Spark (Parquet, no delete nor merge): a model with a day column is incremental with insert_overwrite
      of the day partitions it recomputes (dbt-spark overwrites them dynamically); another is rebuilt as a
      table on every run (docs/scale.md: merge needs Delta Lake).
    The three macros are called together in a model's config():
        materialized=incremental_materialization('event_date'),
        incremental_strategy=incremental_strategy('event_date'),
        partition_by=incremental_partition_by('event_date'),
-#}
{% macro incremental_materialization(partition_by=none) -%}
    {{ return(adapter.dispatch('incremental_materialization', 'prodlens')(partition_by)) }}
{%- endmacro %}
{% macro default__incremental_materialization(partition_by) -%}{{ return('incremental') }}{%- endmacro %}
{% macro spark__incremental_materialization(partition_by) -%}
    {{ return('incremental' if partition_by else 'table') }}
{%- endmacro %}

{% macro incremental_strategy(partition_by=none) -%}
    {{ return(adapter.dispatch('incremental_strategy', 'prodlens')(partition_by)) }}
{%- endmacro %}
{% macro default__incremental_strategy(partition_by) -%}{{ return('delete+insert') }}{%- endmacro %}
{% macro spark__incremental_strategy(partition_by) -%}
    {{ return('insert_overwrite' if partition_by else none) }}
{%- endmacro %}

{% macro incremental_partition_by(partition_by=none) -%}
    {{ return(adapter.dispatch('incremental_partition_by', 'prodlens')(partition_by)) }}
{%- endmacro %}
{% macro default__incremental_partition_by(partition_by) -%}{{ return(none) }}{%- endmacro %}
{% macro spark__incremental_partition_by(partition_by) -%}
    {{ return([partition_by] if partition_by else none) }}
{%- endmacro %}

{#-
    True where an incremental run replaces whole day partitions rather than rows (Spark: insert_overwrite):
    a request-grain model (stg_litellm__requests, sessions) then selects every row of each day it touches,
    not only the new rows, and deletes nothing (a row that must go is left out of its day's new
    partition). On Spark it refuses an existing table that is not partitioned by event_date, which
    overwriting would replace whole.
-#}
{% macro overwrites_day_partitions() -%}
    {{ return(adapter.dispatch('overwrites_day_partitions', 'prodlens')()) }}
{%- endmacro %}
{% macro default__overwrites_day_partitions() -%}{{ return(false) }}{%- endmacro %}
{% macro spark__overwrites_day_partitions() -%}
    {#- a model's incremental run on its existing table (not a unit test, whose `this` is a fixture) -#}
    {%- if execute and this is not none and model.resource_type == 'model' and is_incremental() -%}
        {%- set partitions = spark_partition_columns(this) -%}
        {%- if partitions != ['event_date'] -%}
            {{ exceptions.raise_compiler_error(
                model.name ~ ": the Spark table " ~ this ~ " is partitioned by " ~ (partitions or ['nothing'])
                ~ ", not by event_date (an earlier ProdLens built it as a plain table), so overwriting the days "
                ~ "of the new rows would replace the whole table. Rebuild the request tables once, partitioned "
                ~ "(only these two: a full refresh of the aggregates would lose the days retention purged): "
                ~ "prodlens build -- --full-refresh --select stg_litellm__requests sessions"
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(true) }}
{%- endmacro %}

{#- The partition columns of a Spark table, lower case, from DESCRIBE TABLE (its `# Partition Information`
    section). -#}
{% macro spark_partition_columns(relation) -%}
    {%- set found = namespace(section=false, columns=[]) -%}
    {%- for row in run_query('describe table ' ~ relation).rows -%}
        {%- set name = (row[0] or '') | trim -%}
        {%- if name == '# Partition Information' -%}
            {%- set found.section = true -%}
        {%- elif found.section and (name == '' or (name.startswith('#') and name != '# col_name')) -%}
            {%- set found.section = false -%}
        {%- elif found.section and name != '# col_name' -%}
            {%- set found.columns = found.columns + [name | lower] -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found.columns) }}
{%- endmacro %}


{#-
    dbt-spark's safe_cast, but a unit-test fixture value for an array column may be written as a list
    literal with quoted strings (`['a', 'b']`, as for DuckDB): dbt escapes the quotes as for a string
    literal before this cast and dbt-spark only strips the outer ones, so the quotes are restored and the
    list becomes array(...); unquoted items (`[p/a, p/b]`, which DuckDB casts from the string) are quoted
    as strings. Everything else is dbt-spark's macro as it is.
-#}
{% macro spark__safe_cast(field, type) -%}
    {%- if field is string and cast_from_string_unsupported_for(type) -%}
        {%- set value = field.strip('"').strip("'").replace("\\'", "'") | trim -%}
        {%- if value.startswith('[') and value.endswith(']') and type.lower().startswith('array') -%}
            {%- set items = [] -%}
            {%- for item in value[1:-1].split(',') if item | trim -%}
                {%- set item = item | trim -%}
                {%- do items.append(item if item[0] in ('"', "'") else "'" ~ item.replace("'", "\\'") ~ "'") -%}
            {%- endfor -%}
            {%- set value = 'array(' ~ items | join(', ') ~ ')' -%}
        {%- endif -%}
        cast({{ value }} as {{ type }})
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}


{#- `a` divided by `b`, rounded towards zero to an integer (DuckDB's `//`, Spark's `div`). -#}
{% macro integer_divide(a, b) -%}
    {{ return(adapter.dispatch('integer_divide', 'prodlens')(a, b)) }}
{%- endmacro %}
{% macro default__integer_divide(a, b) -%}({{ a }} // {{ b }}){%- endmacro %}
{% macro spark__integer_divide(a, b) -%}({{ a }} div {{ b }}){%- endmacro %}


{#- The number of elements of the list `expr`. -#}
{% macro list_size(expr) -%}
    {{ return(adapter.dispatch('list_size', 'prodlens')(expr)) }}
{%- endmacro %}
{% macro default__list_size(expr) -%}len({{ expr }}){%- endmacro %}
{% macro spark__list_size(expr) -%}size({{ expr }}){%- endmacro %}


{#- An aggregate: every element of the lists `expr` of a group's rows, as one list (null lists add none, so a
    group without any gives []). -#}
{% macro concat_lists(expr) -%}
    {{ return(adapter.dispatch('concat_lists', 'prodlens')(expr)) }}
{%- endmacro %}
{% macro default__concat_lists(expr) -%}flatten(list({{ expr }})){%- endmacro %}
{% macro spark__concat_lists(expr) -%}flatten(collect_list({{ expr }})){%- endmacro %}


{#- The number of distinct elements of the list `expr` (whose elements are never null). -#}
{% macro list_distinct_count(expr) -%}
    {{ return(adapter.dispatch('list_distinct_count', 'prodlens')(expr)) }}
{%- endmacro %}
{% macro default__list_distinct_count(expr) -%}len(list_distinct({{ expr }})){%- endmacro %}
{% macro spark__list_distinct_count(expr) -%}size(array_distinct({{ expr }})){%- endmacro %}


{#- The exact `fraction` percentile of the elements of the list `expr` (never null), interpolated linearly
    between the two nearest ranks as percentile_cont does; null for an empty list. Rounded to 9 decimals, as
    percentile_cont is. Spark has no list percentile: its version sorts the list once (transform binds it to
    `s`) and interpolates between the elements at 0-based rank fraction * (n - 1), rounded down and up. -#}
{% macro list_percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('list_percentile_cont', 'prodlens')(expr, fraction)) }}
{%- endmacro %}
{% macro default__list_percentile_cont(expr, fraction) -%}
    round(list_aggregate({{ expr }}, 'quantile_cont', {{ fraction }}), 9)
{%- endmacro %}
{% macro spark__list_percentile_cont(expr, fraction) -%}
    {%- set rank = '(' ~ fraction ~ ' * (size(s) - 1))' -%}
    {%- set below = 'element_at(s, cast(floor(' ~ rank ~ ') as int) + 1)' -%}
    {%- set above = 'element_at(s, cast(ceil(' ~ rank ~ ') as int) + 1)' -%}
    round(element_at(transform(array(array_sort({{ expr }})), s -> case when size(s) > 0 then
        {{ below }} + ({{ rank }} - floor({{ rank }})) * ({{ above }} - {{ below }})
    end), 1), 9)
{%- endmacro %}


{#- Every row of the relation aliased `alias` as text, sorted and joined by `|` ('' for no rows): an
    aggregate, for fingerprints such as prices_version(). -#}
{% macro rows_as_text(alias) -%}
    {{ return(adapter.dispatch('rows_as_text', 'prodlens')(alias)) }}
{%- endmacro %}
{% macro default__rows_as_text(alias) -%}
    coalesce(string_agg(cast({{ alias }} as string), '|' order by cast({{ alias }} as string)), '')
{%- endmacro %}
{% macro spark__rows_as_text(alias) -%}
    coalesce(array_join(array_sort(collect_list(to_json(struct({{ alias }}.*)))), '|'), '')
{%- endmacro %}


{#- The integer whose hexadecimal digits are `text` (at most 15 of them, so it fits a bigint). -#}
{% macro hex_to_bigint(text) -%}
    {{ return(adapter.dispatch('hex_to_bigint', 'prodlens')(text)) }}
{%- endmacro %}
{% macro default__hex_to_bigint(text) -%}cast(('0x' || {{ text }}) as bigint){%- endmacro %}
{% macro spark__hex_to_bigint(text) -%}cast(conv({{ text }}, 16, 10) as bigint){%- endmacro %}
