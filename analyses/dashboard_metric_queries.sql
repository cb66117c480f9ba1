-- The metric definitions published with the marts (marts.metric_queries): what `prodlens report` runs for
-- a --since/--until window, and the parameters it takes.
with

queries as (
    select * from {{ ref('metric_queries') }}
),

final as (
    select
        query_name,
        description,
        parameter_names,
        length(sql_text) as sql_characters,
        invocation_id,
        created_at
    from queries
)

select * from final
