-- Vars pasted into SQL, safely. dbt.string_literal does not escape quotes, so a var holding a quote could
-- change the query (read information_schema, say).

-- `value` as an SQL string literal, quotes doubled; null for none.
{% macro sql_literal(value) -%}
    {%- if value is none -%}null{%- else -%}'{{ (value | string) | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}

-- The var `name` as an SQL number; a compile error naming the var when it is not one.
{% macro number_var(name, default=none) -%}
    {%- set value = var(name) if default is none else var(name, default) -%}
    {%- if value is number and value is not boolean -%}
        {{ value }}
    {%- elif value is string and modules.re.fullmatch('-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?', value.strip()) -%}
        {{ value.strip() }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a number, got " ~ (value | string)[:80]) }}
    {%- endif -%}
{%- endmacro %}
