-- One row per request: the model group asked for, the model served, why (routing_reason), and what the
-- same tokens would have cost on the baseline model.
{{ incremental_by_day_config(permanent=false) }}

with

requests as {{ not_materialized() }} (
    select * from {{ ref('int_analytics__requests') }}
),

prices as (
    select * from {{ ref('model_prices') }}
),

{% if is_incremental() %}

    {%- set first_day = analytics_incremental_start(ref('int_analytics__requests')) %}

    -- the requests the rebuilt days need: their own, the day before (the previous request of a call just
    -- after midnight) and the trailing window the baselines and usual models count
    in_reach as {{ not_materialized() }} (
        select requests.*
        from requests
        where requests.event_date >= {{ first_day }} - {{ [(var('roi_baseline_window_days') | int) - 1, 1] | max }}
    ),

{% else %}

    in_reach as {{ not_materialized() }} (
        select * from requests
    ),

{% endif %}

-- The ROI baseline model of each tenant on each day it has requests: the `roi_baseline_model` var when set,
-- else the tenant's most-used model (by requests) over the trailing `roi_baseline_window_days` days (the
-- day itself and the days before it); ties go to the alphabetically first model.
tenant_days as (
    select distinct
        tenant_id,
        event_date
    from in_reach
),

{% if var('roi_baseline_model') %}

    baselines as (
        select
            tenant_id,
            event_date,
            lower({{ sql_literal(var("roi_baseline_model")) }}) as baseline_model,
            'var' as baseline_source
        from tenant_days
    ),

{% else %}

    daily_model_requests as (
        select
            tenant_id,
            event_date,
            model,
            count(*) as requests
        from in_reach
        where model is not null
        group by all
    ),

    tenant_trailing_usage as (
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

    baselines as (
        select
            tenant_id,
            event_date,
            model as baseline_model,
            'most_used_{{ var("roi_baseline_window_days") | int }}d' as baseline_source
        from tenant_trailing_usage
        qualify row_number() over (partition by tenant_id, event_date order by requests desc, model asc) = 1
    ),

{% endif %}

-- The usual model of each LiteLLM model group: per tenant, model_group and day, the model that served most
-- of the group's requests over the same trailing window; ties go to the alphabetically first model.
group_days as (
    select distinct
        tenant_id,
        model_group,
        event_date
    from in_reach
    where model_group is not null
),

daily_group_models as (
    select
        tenant_id,
        model_group,
        event_date,
        model,
        count(*) as requests
    from in_reach
    where model_group is not null and model is not null
    group by all
),

group_trailing_usage as (
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

usual_models as (
    select
        tenant_id,
        model_group,
        event_date,
        model as usual_model
    from group_trailing_usage
    qualify row_number() over (partition by tenant_id, model_group, event_date order by requests desc, model asc) = 1
),

{% if is_incremental() %}

    -- one day earlier than the window, so a request just after midnight still sees the failure before it
    scoped as (
        select in_reach.*
        from in_reach
        where in_reach.event_date >= {{ first_day }} - 1
    ),

{% else %}

    scoped as (
        select * from in_reach
    ),

{% endif %}

-- the calls (per tenant, LiteLLM's trace_id, which groups retries and fallbacks; without one, the session)
-- that have a failed request: only in those can a request follow a failure, which is all the previous
-- request is read for below
failed_calls as (
    select distinct
        tenant_id,
        coalesce(trace_id, session_key) as call_key
    from scoped
    where status = 'error'
),

-- the previous request of the same call, in the failed calls only. The window sorts only the key and the
-- two values it carries, then joins back: sorting whole rows spilled at 10M requests (this model's
-- full-build SQL there: 42.8 s → 32.1 s). Keeping to the failed calls: 1.4 s → 1.0 s at 1M requests,
-- with 2% of them failed.
call_order as (
    select
        scoped.trace_hash,
        lag(scoped.status) over (
            partition by scoped.tenant_id, coalesce(scoped.trace_id, scoped.session_key)
            order by scoped.{{ adapter.quote('timestamp') }}, scoped.trace_hash
        ) as previous_status,
        lag(scoped.{{ adapter.quote('timestamp') }}) over (
            partition by scoped.tenant_id, coalesce(scoped.trace_id, scoped.session_key)
            order by scoped.{{ adapter.quote('timestamp') }}, scoped.trace_hash
        ) as previous_timestamp
    from scoped
    inner join failed_calls
        on scoped.tenant_id = failed_calls.tenant_id
        and coalesce(scoped.trace_id, scoped.session_key) = failed_calls.call_key
),

-- previous_status and previous_timestamp are null in calls without a failure
chained as (
    select
        scoped.*,
        call_order.previous_status,
        call_order.previous_timestamp
    from scoped
    left join call_order
        on scoped.trace_hash = call_order.trace_hash
),

with_baseline as (
    select
        chained.*,
        usual_models.usual_model,
        baselines.baseline_model,
        baselines.baseline_source,
        {{ model_provider_part('baselines.baseline_model') }} as baseline_provider
    from chained
    left join baselines
        on chained.tenant_id = baselines.tenant_id
        and chained.event_date = baselines.event_date
    left join usual_models
        on chained.tenant_id = usual_models.tenant_id
        and chained.model_group = usual_models.model_group
        and chained.event_date = usual_models.event_date
    {% if is_incremental() %}
    where chained.event_date >= {{ first_day }}
    {% endif %}
),

-- the baseline models to look up, from the (few) tenant-day baselines: looked up from the requests, every
-- request would be read twice and DuckDB would keep a copy of all of them (1M requests: the model's
-- full-build query 3.5 s -> 2.1 s)
baseline_models as (
    select distinct
        baseline_model,
        {{ model_provider_part('baseline_model') }} as baseline_provider
    from baselines
),

-- the baseline model's catalogue row in effect at the request's timestamp (priced below at the tier the
-- request's prompt size reaches)
baseline_lookups as (
    {{ price_lookups('baseline_models', 'baseline_model', 'baseline_provider') }}
),

baseline_candidates as (
    {{ price_candidates('baseline_lookups', 'prices') }}
),

baseline_prices as (
    {{ price_segments('baseline_candidates') }}
),

priced as (
    select
        with_baseline.*,
        case
            when with_baseline.baseline_model is null then null
            when baseline_prices.lookup_model is null then 'default'
            else 'catalog'
        end as baseline_pricing_status,
        {{ price_or_default(tiered_price(
            price_tier('with_baseline.tokens_in', 'baseline_prices.tier_1_above_tokens', 'baseline_prices.tier_2_above_tokens'),
            'input_usd_per_mtok',
            'baseline_prices',
        )) }}
            as baseline_input_usd_per_mtok,
        {{ price_or_default(tiered_price(
            price_tier('with_baseline.tokens_in', 'baseline_prices.tier_1_above_tokens', 'baseline_prices.tier_2_above_tokens'),
            'output_usd_per_mtok',
            'baseline_prices',
        )) }}
            as baseline_output_usd_per_mtok,
        {{ price_or_default(tiered_price(
            price_tier('with_baseline.tokens_in', 'baseline_prices.tier_1_above_tokens', 'baseline_prices.tier_2_above_tokens'),
            'cache_read_usd_per_mtok',
            'baseline_prices',
        )) }}
            as baseline_cache_read_usd_per_mtok,
        {{ price_or_default(tiered_price(
            price_tier('with_baseline.tokens_in', 'baseline_prices.tier_1_above_tokens', 'baseline_prices.tier_2_above_tokens'),
            'cache_write_usd_per_mtok',
            'baseline_prices',
        )) }}
            as baseline_cache_write_usd_per_mtok
    from with_baseline
    left join baseline_prices
        on {{ price_segment_match('with_baseline', 'baseline_prices', 'baseline_model', 'baseline_provider') }}
),

final as (
    select
        trace_hash,
        request_id,
        tenant_id,
        event_date,
        {{ adapter.quote('timestamp') }},
        developer_id,
        session_key as session_id,
        repo_slug,
        call_type,
        status,
        latency_ms,
        total_tokens,
        model_group,
        model as model_served,
        provider,
        usual_model,
        case
            -- LiteLLM's router recorded the fallback: attempts before this call, or the group first asked for
            when attempted_fallbacks > 0 or original_model_group <> model_group then 'fallback'
            -- logs without that record: the served model is not the group's usual one, right after a failure
            when
                attempted_fallbacks is null
                and original_model_group is null
                and model_group is not null
                and (model is null or usual_model is null or model <> usual_model)
                and previous_status = 'error'
                and {{ seconds_between('previous_timestamp', adapter.quote('timestamp')) }}
                <= {{ number_var('fallback_window_seconds') }}
                then 'fallback'
            when model_group is null or model_group = model or model_group = model_name then 'provider_preference'
            else 'load_balancing'
        end as routing_reason,
        baseline_model,
        baseline_source,
        baseline_pricing_status,
        cost_usd as cost_actual,
        case
            when baseline_model is not null
                then {{ token_cost(
                    'baseline_input_usd_per_mtok',
                    'baseline_output_usd_per_mtok',
                    'baseline_cache_read_usd_per_mtok',
                    'baseline_cache_write_usd_per_mtok',
                ) }}
        end as cost_baseline,
        cost_baseline - cost_actual as savings,
        -- the served model is list-priced below the baseline: this request should have saved money
        coalesce(
            baseline_model is not null
            and input_usd_per_mtok <= baseline_input_usd_per_mtok
            and output_usd_per_mtok <= baseline_output_usd_per_mtok
            and (
                input_usd_per_mtok < baseline_input_usd_per_mtok
                or output_usd_per_mtok < baseline_output_usd_per_mtok
            ),
            false
        ) as expected_savings,
        ingested_at as source_loaded_at,
        {{ analytics_run_started_at() }} as created_at
    from priced
)

select * from final
