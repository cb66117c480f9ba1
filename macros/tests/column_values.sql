{#-
    A model's row-level value checks as one test (one dbt node instead of one per column and check):
    `not_null` (a list of columns), `accepted_range` (column: {min_value, max_value}, bounds inclusive and
    optional), `accepted_values` (column: [values]) and `expressions` (a list of {expression, name,
    description}: name and description are optional). Each means what the dbt or dbt_utils test of that
    name means: nulls pass the range and value checks, and an expression fails where it is not true (null
    included).
    A failing row comes back once per check it fails, with the column (for an expression, its name, or
    `expression`) and the check named in `failing_column` and `failure`, so the view stored in schema dq
    shows what broke and the whole row. One node per check and column cost dbt ~0.05-0.1 s each on every
    build (issue 13); the where config and the scheduled run's new-rows scope apply as to any test.
-#}
{% test column_values(model, not_null=[], accepted_range={}, accepted_values={}, expressions=[]) %}
{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append((column, 'is null', column ~ ' is null')) -%}
{%- endfor -%}
{%- for column, bounds in accepted_range.items() -%}
    {%- set outside = [] -%}
    {%- if bounds.get('min_value') is not none -%}
        {%- do outside.append(column ~ ' < ' ~ bounds['min_value']) -%}
    {%- endif -%}
    {%- if bounds.get('max_value') is not none -%}
        {%- do outside.append(column ~ ' > ' ~ bounds['max_value']) -%}
    {%- endif -%}
    {%- set label = 'outside [' ~ bounds.get('min_value', '') ~ ', ' ~ bounds.get('max_value', '') ~ ']' -%}
    {%- do checks.append((column, label, column ~ ' is not null and (' ~ outside | join(' or ') ~ ')')) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(value if value is number else "'" ~ value ~ "'") -%}
    {%- endfor -%}
    {%- do checks.append(
        (column, 'not an accepted value', column ~ ' is not null and ' ~ column ~ ' not in (' ~ literals | join(', ') ~ ')')
    ) -%}
{%- endfor -%}
{%- for check in expressions -%}
    {%- set expression = check['expression'] | replace('\n', ' ') | trim -%}
    {%- do checks.append(
        (check.get('name', 'expression'), 'not true: ' ~ expression, 'not coalesce((' ~ expression ~ '), false)')
    ) -%}
{%- endfor -%}
{%- if not checks -%}
    {{ exceptions.raise_compiler_error('column_values on ' ~ model ~ ': name at least one column to check') }}
{%- endif -%}
with tested as {{ not_materialized() }} (
    select * from {{ model }}
)

{% for column, failure, condition in checks -%}
select
    '{{ column | replace("'", "''") }}' as failing_column,
    '{{ failure | replace("'", "''") }}' as failure,
    tested.*
from tested
where {{ condition }}
{% if not loop.last %}
union all
{% endif -%}
{% endfor %}
{% endtest %}
