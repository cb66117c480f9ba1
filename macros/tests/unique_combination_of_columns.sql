{#- Fails for every combination of `combination_of_columns` that occurs more than once (a composite key). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
