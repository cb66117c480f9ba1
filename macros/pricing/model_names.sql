{#-
    A model as LiteLLM names it is `provider/name` (e.g. `anthropic/claude-sonnet-4-5`) or a bare `name`.
    These two macros split it, everywhere a model is matched to a price or grouped by name.
-#}

{#- The provider part of `provider/name`; null for a bare name. -#}
{% macro model_provider_part(model) -%}
    case when contains({{ model }}, '/') then split_part({{ model }}, '/', 1) end
{%- endmacro %}


{#- The name part: everything after the first `/`, or the whole value for a bare name. -#}
{% macro model_name_part(model) -%}
    case when contains({{ model }}, '/') then substr({{ model }}, instr({{ model }}, '/') + 1) else {{ model }} end
{%- endmacro %}
