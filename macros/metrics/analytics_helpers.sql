{#-
    Helpers shared by the analytics marts (models/marts/analytics). Each rule is written once here.
-#}

{#- The dbt run's start time as a timestamptz: the `created_at` of every row a run writes. -#}
{% macro analytics_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as {{ type_timestamptz() }})
{%- endmacro %}


{#-
    First day an incremental analytics mart reprocesses (a scalar subquery). It is the earlier of
      * the mart's latest day minus `analytics_lookback_days` (late data within the look-back window), and
      * the earliest day of any source row loaded after the mart's watermark (`max(source_loaded_at)`,
        the newest `ingested_at` the mart has seen), so data arriving later than the window is absorbed too.
    Everything from that day on is recomputed from its source rows, which is why a full refresh and an
    incremental run give the same result.
    When dbt executes, the query runs first and the model gets the day as a literal (`date '2026-11-28'`),
    so DuckDB skips the row groups before it by their min/max (a scalar subquery would scan every row).
-#}
{% macro analytics_incremental_start(
    source_relation, source_date='event_date', target_date='event_date', source_loaded='ingested_at'
) -%}
    {%- if not (execute and this is not none) -%}
        {{ analytics_incremental_start_query(source_relation, source_date, target_date, source_loaded) }}
    {%- else -%}
        {%- set mart = run_query(
            'select cast(max(cast(' ~ target_date ~ ' as date)) - cast(' ~ number_var('analytics_lookback_days')
            ~ ' as integer) as string), cast(max(source_loaded_at) as string) from ' ~ this
        ).rows[0] -%}
        {%- set days = [] if mart[0] is none else [mart[0]] -%}
        {%- if mart[1] is not none -%}
            {%- set late = run_query(
                'select cast(min(cast(' ~ source_date ~ ' as date)) as string) from ' ~ source_relation
                ~ ' where ' ~ source_loaded ~ " > cast('" ~ mart[1] ~ "' as " ~ type_timestamptz() ~ ")"
            ).rows[0][0] -%}
            {%- if late is not none -%}{%- do days.append(late) -%}{%- endif -%}
        {%- endif -%}
        date '{{ (days | min) if days else '1900-01-01' }}'
    {%- endif -%}
{%- endmacro %}


{#- The same day as one scalar subquery (what analytics_incremental_start stands for when not executing). -#}
{% macro analytics_incremental_start_query(source_relation, source_date, target_date, source_loaded) -%}
    (
        select
            coalesce(
                least(
                    max(cast({{ target_date }} as date)) - cast({{ number_var('analytics_lookback_days') }} as integer),
                    (
                        select min(cast(src.{{ source_date }} as date))
                        from {{ source_relation }} as src
                        where src.{{ source_loaded }} > (select max(wm.source_loaded_at) from {{ this }} as wm)
                    )
                ),
                date '1900-01-01'
            )
        from {{ this }}
    )
{%- endmacro %}


{#-
    The config of an analytics mart built incrementally by UTC day (`event_date`; the daily aggregates and
    routing_decisions): every day from its first reprocessed day (analytics_incremental_start) recomputed
    whole, by delete+insert on DuckDB and insert_overwrite of the day partitions on Spark
    (macros/utils/portable.sql); its rows dated for the scheduled run's tests by `created_at`.
    `permanent`: the mart keeps the days that retention purges from the requests, so a --full-refresh
    after a purge is refused (refuse_full_refresh_after_purge); false for routing_decisions, whose rows
    retention purges with the requests.
-#}
{% macro incremental_by_day_config(permanent=true) -%}
    {{ config(
        materialized=incremental_materialization('event_date'),
        meta={'written_at': 'created_at'},
        incremental_strategy=incremental_strategy('event_date'),
        partition_by=incremental_partition_by('event_date'),
        unique_key=['tenant_id', 'event_date'],
    ) }}
    {%- if permanent %}{{ refuse_full_refresh_after_purge() }}{% endif -%}
{%- endmacro %}


{#-
    The permanent aggregate marts call this first. Once retention has purged rows (prodlens writes
    raw.retention_purges), a --full-refresh would rebuild them from the remaining rows only and lose every
    purged day, so it is refused unless var `allow_full_refresh_after_purge` is true.
-#}
{% macro refuse_full_refresh_after_purge() -%}
    {%- if execute and flags.FULL_REFRESH and model.resource_type == 'model'
        and not var('allow_full_refresh_after_purge', false) -%}
        {%- set purges = adapter.get_relation(database=target.database, schema='raw', identifier='retention_purges') -%}
        {%- if purges is not none -%}
            {{ exceptions.raise_compiler_error(
                model.name ~ ": --full-refresh refused: retention has purged old requests (raw.retention_purges), "
                ~ "so a full refresh would rebuild this aggregate without the purged days and lose them. "
                ~ "Leave --full-refresh out (incremental runs keep them), or pass "
                ~ "--vars '{allow_full_refresh_after_purge: true}' to accept the loss."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
    Σ of a DOUBLE column, added exactly (as DECIMAL(38, 12)) and returned as a DOUBLE: the result does not
    depend on the order in which DuckDB's threads add the rows, so the same report run twice gives the
    same figures to the last digit (a plain double sum can differ in its last bits). `where`: a filter.
-#}
{% macro exact_sum(column, where=none) -%}
    cast({{ exact_decimal_sum(column, where) }} as double)
{%- endmacro %}


{#- The same exact Σ kept as DECIMAL(38, 12): partial sums (per day) that a later exact_sum-like step adds
    up without rounding, then casts to DOUBLE. -#}
{% macro exact_decimal_sum(column, where=none) -%}
    sum(cast({{ column }} as decimal(38, 12))){% if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}


{#- Round an amount down to the cent (exactly: through DECIMAL, so 0.29 never becomes 0.28). -#}
{% macro round_down_to_cent(amount) -%}
    cast(floor(cast({{ amount }} as decimal(38, 9)) * 100) / 100 as decimal(18, 2))
{%- endmacro %}


{#-
    The analytics design's conservative savings rule: savings rounded down to the cent, shown as 0 when
    they are below 1% of the baseline cost (negative savings therefore show as 0). DECIMAL(18, 2).
-#}
{% macro conservative_savings(savings, baseline) -%}
    case
        when
            coalesce({{ baseline }}, 0) > 0
            and {{ round_down_to_cent(savings) }} >= 0.01 * {{ baseline }}
            then {{ round_down_to_cent(savings) }}
        else cast(0 as decimal(18, 2))
    end
{%- endmacro %}


{#-
    Savings percentage rounded down to the whole percent, from the conservative (shown) savings:
    floor(100 * shown_savings / baseline); 0 when there is no baseline cost. The 1e-9 absorbs binary
    floating-point noise (100 * 0.29 = 28.999999999999996) and never moves a real value across a percent.
-#}
{% macro conservative_savings_percentage(savings, baseline) -%}
    case
        when coalesce({{ baseline }}, 0) > 0
            then cast(floor(100 * cast({{ conservative_savings(savings, baseline) }} as double) / {{ baseline }} + 1e-9) as integer)
        else 0
    end
{%- endmacro %}


{#-
    Trend of a quantity between two equal windows: `increasing` / `decreasing` when the recent window differs
    from the earlier one by more than `trend_stable_pct` percent of the earlier one's magnitude, else `stable`.
    With an earlier value of 0: `stable` when the recent one is 0 too, else its sign decides.
-#}
{% macro trend_direction(recent, earlier) -%}
    case
        when coalesce({{ earlier }}, 0) = 0 and coalesce({{ recent }}, 0) = 0 then 'stable'
        when coalesce({{ earlier }}, 0) = 0 and {{ recent }} > 0 then 'increasing'
        when coalesce({{ earlier }}, 0) = 0 then 'decreasing'
        when ({{ recent }} - {{ earlier }}) / abs({{ earlier }}) > {{ number_var('trend_stable_pct') }} / 100.0 then 'increasing'
        when ({{ recent }} - {{ earlier }}) / abs({{ earlier }}) < -{{ number_var('trend_stable_pct') }} / 100.0 then 'decreasing'
        else 'stable'
    end
{%- endmacro %}


{#- A list of model names for SQL, lower case (`[]` when empty): used for policy_models. -#}
{% macro analytics_model_list(models) -%}
    {%- if models is string -%}{%- set models = [models] -%}{%- endif -%}
    {%- set quoted = [] -%}
    {%- for m in (models or []) -%}{%- do quoted.append("'" ~ (m | lower | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {{ string_list_literal(quoted) }}
{%- endmacro %}


{#- GitHub rows to keep in productivity metrics: bots are left out unless var include_bots is true. -#}
{% macro analytics_exclude_bots(is_bot_column) -%}
    {%- if var('include_bots', false) -%}
        true
    {%- else -%}
        not coalesce({{ is_bot_column }}, false)
    {%- endif -%}
{%- endmacro %}
