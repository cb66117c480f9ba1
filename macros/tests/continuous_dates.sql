{#- Fails for every partition whose dates have a gap or a repeat: a date spine must hold each day once. -#}
{% test continuous_dates(model, column_name, partition_by) %}
select
    {{ partition_by }},
    min({{ column_name }}) as first_date,
    max({{ column_name }}) as last_date,
    count(*) as row_count
from {{ model }}
group by {{ partition_by }}
having count(*) != {{ dbt.datediff('min(' ~ column_name ~ ')', 'max(' ~ column_name ~ ')', 'day') }} + 1
    or count(*) != count(distinct {{ column_name }})
{% endtest %}
