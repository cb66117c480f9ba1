{#-
    The winning row of `candidates` over time, per key: a row of `candidates` applies from its
    `effective_from` to before its `effective_to` (null: open-ended). The boundaries of every candidate of a
    key cut its timeline into segments [segment_start, segment_end) (segment_end null: open-ended); in each
    one the candidates in effect are the same all through, and the first by `order_by` (an `order by` list
    over the alias `candidate`) wins. One row per key and segment, with every column of the winner.

    A request then finds its price by an equality join on the key and one range test on its timestamp:
    exactly the row a per-request `row_number()` over every candidate in effect would pick, at the cost of
    ranking a few rows per key instead of one row per request and candidate.
-#}
{% macro effective_segments(candidates, keys, order_by) -%}
    {%- set key_list = keys | join(', ') -%}
    select
        segments.segment_start,
        segments.segment_end,
        candidate.*
    from (
        select
            {{ key_list }},
            segment_start,
            lead(segment_start) over (partition by {{ key_list }} order by segment_start) as segment_end
        from (
            select
                {{ key_list }},
                effective_from as segment_start
            from {{ candidates }}
            union
            select
                {{ key_list }},
                effective_to as segment_start
            from {{ candidates }}
            where effective_to is not null
        ) as boundaries
    ) as segments
    inner join {{ candidates }} as candidate
        on
        {%- for key in keys %}
        segments.{{ key }} = candidate.{{ key }} and
        {%- endfor %}
        candidate.effective_from <= segments.segment_start
        -- a candidate ending at or after the segment's end covers it; none covers an open-ended last segment
        -- unless it is open-ended too
        and (candidate.effective_to is null or candidate.effective_to >= segments.segment_end)
    qualify row_number() over (
        partition by {% for key in keys %}segments.{{ key }}, {% endfor %}segments.segment_start
        order by {{ order_by }}
    ) = 1
{%- endmacro %}


{#- `timestamp` falls in the segment of `segments` (a relation of effective_segments). -#}
{% macro in_segment(segments, timestamp) -%}
    {{ timestamp }} >= {{ segments }}.segment_start
    and ({{ segments }}.segment_end is null or {{ timestamp }} < {{ segments }}.segment_end)
{%- endmacro %}
