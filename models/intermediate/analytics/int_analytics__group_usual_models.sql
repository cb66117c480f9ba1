-- The usual model of each LiteLLM model group: per tenant, model_group and day, the model that served most
-- of the group's requests over the trailing `roi_baseline_window_days` days (the day included); ties go to
-- the alphabetically first model. routing_decisions compares the served model with it to spot fallbacks.
with

requests as (
    select * from {{ ref('int_analytics__requests') }}
),

group_days as (
    select distinct
        tenant_id,
        model_group,
        event_date
    from requests
    where model_group is not null
),

daily_group_models as (
    select
        tenant_id,
        model_group,
        event_date,
        model,
        count(*) as requests
    from requests
    where model_group is not null and model is not null
    group by all
),

trailing_usage as (
    select
        group_days.tenant_id,
        group_days.model_group,
        group_days.event_date,
        daily_group_models.model,
        sum(daily_group_models.requests) as requests
    from group_days
    inner join daily_group_models
        on group_days.tenant_id = daily_group_models.tenant_id
        and group_days.model_group = daily_group_models.model_group
        and daily_group_models.event_date
        between group_days.event_date - {{ (var('roi_baseline_window_days') | int) - 1 }} and group_days.event_date
    group by all
),

final as (
    select
        tenant_id,
        model_group,
        event_date,
        model as usual_model,
        requests as usual_model_requests
    from trailing_usage
    qualify row_number() over (partition by tenant_id, model_group, event_date order by requests desc, model asc) = 1
)

select * from final
