{#- Fails for rows where `expression` is not true (nulls fail too unless the expression handles them). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
