-- The ROI baseline model of each tenant on each day it has requests: the `roi_baseline_model` var when set,
-- else the tenant's most-used model (by requests) over the trailing `roi_baseline_window_days` days
-- (the day itself and the days before it); ties go to the alphabetically first model.
with

requests as (
    select * from {{ ref('int_analytics__requests') }}
),

tenant_days as (
    select distinct
        tenant_id,
        event_date
    from requests
),

{% if var('roi_baseline_model') %}

    final as (
        select
            tenant_id,
            event_date,
            lower('{{ var("roi_baseline_model") }}') as baseline_model,
            'var' as baseline_source,
            cast(null as bigint) as baseline_model_requests
        from tenant_days
    )

{% else %}

    daily_model_requests as (
        select
            tenant_id,
            event_date,
            model,
            count(*) as requests
        from requests
        where model is not null
        group by all
    ),

    trailing_usage as (
        select
            tenant_days.tenant_id,
            tenant_days.event_date,
            daily_model_requests.model,
            sum(daily_model_requests.requests) as requests
        from tenant_days
        inner join daily_model_requests
            on tenant_days.tenant_id = daily_model_requests.tenant_id
            and daily_model_requests.event_date
            between tenant_days.event_date
            - {{ (var('roi_baseline_window_days') | int) - 1 }} and tenant_days.event_date
        group by all
    ),

    final as (
        select
            tenant_id,
            event_date,
            model as baseline_model,
            'most_used_{{ var("roi_baseline_window_days") }}d' as baseline_source,
            requests as baseline_model_requests
        from trailing_usage
        qualify row_number() over (partition by tenant_id, event_date order by requests desc, model asc) = 1
    )

{% endif %}

select * from final
