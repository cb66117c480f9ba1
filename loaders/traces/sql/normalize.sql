-- Normalise one batch of trace lines into ProdLens request rows, in one vectorised pass.
-- Input relation `batch(source_file, source_line, line)`; parameters $structure (the whitelist of
-- fields, see fields.py), $default_repo and $default_tenant.
-- Output: one row per input line, `reject_reason` null for usable rows. Only whitelisted fields are
-- extracted, so prompt and response content never leaves this query.
with

src as (
    select
        source_file,
        source_line,
        line,
        json_valid(line) as is_json,
    from batch
),

typed as (
    select
        *,
        case when is_json then json_type(line) end as json_kind,
    from src
),

extracted as (
    select
        source_file,
        source_line,
        is_json,
        json_kind,
        case when json_kind = 'OBJECT' then json_transform(line, $structure) end as j,
    from typed
),

fields as (
    select
        source_file,
        source_line,
        is_json,
        json_kind,
        j.metadata as md,
        j.attributes as att,
        j.usage as us,
        j.metadata.usage_object as uo,
        j.metadata.requester_metadata as rq,
        j.metadata.prompt_management_metadata as pm,
        j,
    from extracted
),

raw_values as (
    select
        source_file,
        source_line,
        is_json,
        json_kind,
        j,
        md,
        att,
        rq,
        pm,

        -- time
        pl_ts(j.startTime) as start_ts,
        coalesce(pl_ts(j.startTime), pl_ts(j.timestamp), pl_ts(j.start_time)) as request_ts,
        coalesce(pl_ts(j.endTime), pl_ts(j.end_time)) as end_ts,
        pl_ts(j.completionStartTime) as completion_start_ts,

        -- token fields as given, checked one by one below
        [
            {'field': 'prompt_tokens', 'value': j.prompt_tokens},
            {'field': 'completion_tokens', 'value': j.completion_tokens},
            {'field': 'total_tokens', 'value': j.total_tokens},
            {'field': 'usage.prompt_tokens', 'value': us.prompt_tokens},
            {'field': 'usage.completion_tokens', 'value': us.completion_tokens},
            {'field': 'usage.total_tokens', 'value': us.total_tokens},
            {'field': 'usage.input_tokens', 'value': us.input_tokens},
            {'field': 'usage.output_tokens', 'value': us.output_tokens},
            {'field': 'usage.cache_read_input_tokens', 'value': us.cache_read_input_tokens},
            {'field': 'usage.cache_creation_input_tokens', 'value': us.cache_creation_input_tokens},
            {'field': 'attributes.llm.token_count.prompt', 'value': att['llm.token_count.prompt']},
            {'field': 'attributes.llm.token_count.completion', 'value': att['llm.token_count.completion']},
            {'field': 'gen_ai.usage.input_tokens',
             'value': coalesce(j['gen_ai.usage.input_tokens'], att['gen_ai.usage.input_tokens'])},
            {'field': 'gen_ai.usage.output_tokens',
             'value': coalesce(j['gen_ai.usage.output_tokens'], att['gen_ai.usage.output_tokens'])}
        ] as token_fields,

        -- input tokens that already include cached tokens
        coalesce(
            pl_tok(j.prompt_tokens),
            pl_tok(us.prompt_tokens),
            pl_tok(att['llm.token_count.prompt']),
            pl_tok(coalesce(j['gen_ai.usage.input_tokens'], att['gen_ai.usage.input_tokens'])),
            pl_tok(uo.prompt_tokens)
        ) as inclusive_input,
        -- Anthropic-style input tokens that exclude cached tokens
        pl_tok(us.input_tokens) as exclusive_input,
        coalesce(
            pl_tok(j.completion_tokens),
            pl_tok(us.completion_tokens),
            pl_tok(us.output_tokens),
            pl_tok(att['llm.token_count.completion']),
            pl_tok(coalesce(j['gen_ai.usage.output_tokens'], att['gen_ai.usage.output_tokens'])),
            pl_tok(uo.completion_tokens)
        ) as output_given,
        coalesce(
            pl_tok(j.total_tokens), pl_tok(us.total_tokens), pl_tok(att['llm.token_count.total'])
        ) as total_given,
        coalesce(
            pl_tok(us.cache_read_input_tokens),
            pl_tok(us.prompt_tokens_details.cached_tokens),
            pl_tok(j.prompt_tokens_details.cached_tokens),
            pl_tok(att['llm.token_count.prompt_details.cache_read']),
            pl_tok(coalesce(j['gen_ai.usage.cache_read.input_tokens'], att['gen_ai.usage.cache_read.input_tokens'])),
            pl_tok(uo.cache_read_input_tokens),
            pl_tok(uo.prompt_tokens_details.cached_tokens)
        ) as cache_read_given,
        coalesce(
            pl_tok(us.cache_creation_input_tokens),
            pl_tok(us.prompt_tokens_details.cache_creation_tokens),
            pl_tok(att['llm.token_count.prompt_details.cache_write']),
            pl_tok(
                coalesce(j['gen_ai.usage.cache_creation.input_tokens'], att['gen_ai.usage.cache_creation.input_tokens'])
            ),
            pl_tok(uo.cache_creation_input_tokens),
            pl_tok(uo.prompt_tokens_details.cache_creation_tokens)
        ) as cache_write_given,

        -- model and provider
        pl_first([
            j.model,
            att['llm.model_name'],
            j['gen_ai.response.model'],
            att['gen_ai.response.model'],
            j['gen_ai.request.model'],
            att['gen_ai.request.model']
        ]) as model_name,
        lower(pl_first([
            j.custom_llm_provider,
            att['llm.provider'],
            j['llm.provider'],
            j['gen_ai.provider.name'],
            att['gen_ai.provider.name'],
            j['gen_ai.system'],
            att['gen_ai.system']
        ])) as provider_given,

        -- latency
        coalesce(
            pl_num(j.latency_ms), pl_num(att.latency_ms), pl_num(j.duration_ms), pl_num(att.duration_ms)
        ) as latency_given,

        -- status
        coalesce(
            try_cast(pl_num(j.status_code) as integer),
            try_cast(pl_num(j['http.status_code']) as integer),
            try_cast(pl_num(att.status_code) as integer),
            try_cast(pl_num(att['http.status_code']) as integer),
            try_cast(pl_num(j.error_information.error_code) as integer),
            case lower(j.status) when 'success' then 200 when 'failure' then 500 end
        ) as status_code_given,

        -- people and places
        pl_first(list_filter([
            j.developer_id,
            md.developer_id,
            md.user_api_key_user_email,
            md.user_api_key_user_id,
            rq.developer_id,
            rq.user,
            j.end_user,
            att['user.id']
        ], lambda x: x not ilike '%session%')) as developer_id,
        regexp_replace(
            pl_first([md.session_id, j.session_id, rq.session_id, att['session.id']]), '^session[-_]', ''
        ) as session_raw,
        lower(pl_first([
            md.repo, md.repository, md.repo_slug, rq.repo, att.repo, att.repository, $default_repo
        ])) as repo_given,

        -- acceptance
        pl_first([
            att['prod_lens.accepted'], att.accepted, att.accepted_flag,
            md['prod_lens.accepted'], md.accepted, md.accepted_flag
        ]) as accepted_given,
        pl_num(pl_first([md.diff_ratio, md['prod_lens.diff_ratio'], att.diff_ratio, att['prod_lens.diff_ratio']]))
            as diff_ratio_given,
        pl_num(pl_first([
            md.accepted_lines, md['prod_lens.accepted_lines'], att.accepted_lines, att['prod_lens.accepted_lines']
        ])) as accepted_lines_given,

        pl_first([j.id, j.litellm_call_id, j.request_id, j.span_id, j.context.span_id, att.span_id]) as request_id,
        pl_first([md.tenant_id, md.user_api_key_org_id, $default_tenant, 'default']) as tenant_id,
    from fields
),

checked as (
    select
        *,
        list_filter(
            list_transform(
                token_fields,
                lambda f: case
                    when pl_token_problem(f.value) is not null
                        then pl_token_problem(f.value) || ' token count in ' || f.field
                end
            ),
            lambda r: r is not null
        )[1] as token_problem,
    from raw_values
),

derived as (
    select
        *,
        case
            when inclusive_input is not null
                then inclusive_input
                + case
                    -- guard: cached tokens larger than the prompt count mean it excluded them
                    when coalesce(cache_read_given, 0) + coalesce(cache_write_given, 0) > inclusive_input
                        then coalesce(cache_read_given, 0) + coalesce(cache_write_given, 0)
                    else 0
                end
            when exclusive_input is not null
                then exclusive_input + coalesce(cache_read_given, 0) + coalesce(cache_write_given, 0)
            when total_given is not null and output_given is not null and total_given >= output_given
                then total_given - output_given
        end as tokens_in_derived,
        coalesce(
            provider_given,
            case when contains(model_name, '/') then lower(split_part(model_name, '/', 1)) end
        ) as provider,
    from checked
),

normalised as (
    select
        source_file,
        source_line,
        case
            when not is_json then 'invalid JSON'
            when json_kind <> 'OBJECT' then 'JSON is not an object (' || lower(json_kind) || ')'
            when request_ts is null then 'no usable timestamp'
            when token_problem is not null then token_problem
        end as reject_reason,
        request_ts as "timestamp",
        cast(request_ts as date) as event_date,
        request_id,
        tenant_id,
        session_raw as session_id,
        developer_id,
        case
            when provider is null then lower(model_name)
            when starts_with(lower(model_name), provider || '/') then lower(model_name)
            when contains(model_name, '/') then lower(model_name)
            else provider || '/' || lower(model_name)
        end as model,
        provider,
        lower(j.model_group) as model_group,
        coalesce(tokens_in_derived, 0) as tokens_in,
        coalesce(
            output_given,
            case when total_given >= coalesce(tokens_in_derived, 0) then total_given - coalesce(tokens_in_derived, 0) end,
            0
        ) as tokens_out,
        coalesce(cache_read_given, 0) as cache_read_tokens,
        coalesce(cache_write_given, 0) as cache_write_tokens,
        case
            when latency_given >= 0 then latency_given
            when end_ts is not null and start_ts is not null and end_ts >= start_ts
                then (epoch(end_ts) - epoch(start_ts)) * 1000.0
        end as latency_ms,
        case
            when completion_start_ts is not null and start_ts is not null and completion_start_ts >= start_ts
                and (end_ts is null or completion_start_ts < end_ts)
                then (epoch(completion_start_ts) - epoch(start_ts)) * 1000.0
        end as ttft_ms,
        case when status_code_given between 100 and 599 then status_code_given end as status_code,
        case
            when status_code_given >= 400 then 'error'
            when lower(j.status) in ('failure', 'failed', 'error') then 'error'
            else 'success'
        end as status,
        case
            when regexp_matches(repo_given, '^[a-z0-9_.-]+/[a-z0-9_.-]+$')
                and split_part(repo_given, '/', 1) not in ('.', '..')
                and split_part(repo_given, '/', 2) not in ('.', '..')
                then repo_given
        end as repo_slug,
        pl_flag(accepted_given) as accepted_flag,
        case when diff_ratio_given between 0 and 1 then diff_ratio_given end as diff_ratio,
        case
            when accepted_lines_given >= 0 and accepted_lines_given = floor(accepted_lines_given)
                and accepted_lines_given < 1e9
                then cast(accepted_lines_given as bigint)
        end as accepted_lines,
        md.user_api_key_team_id as team_id,
        md.user_api_key_alias as api_key_alias,
        md.user_api_key_hash as api_key_hash,
        md.user_api_key_org_id as org_id,
        lower(j.call_type) as call_type,
        pl_num(coalesce(j.response_cost, att['llm.cost.total'], j.hidden_params.response_cost)) as proxy_cost_usd,
        case when lower(j.cache_hit) in ('true', '1') then true when lower(j.cache_hit) in ('false', '0') then false end
            as cache_hit,
        j.error_information.error_code as error_code,
        j.error_information.error_class as error_class,
        pl_first([md.prompt_id, pm.prompt_id, rq.prompt_id, att.prompt_id]) as prompt_id,
        pl_first([md.prompt_version, pm.prompt_version, rq.prompt_version, att.prompt_version]) as prompt_version,
        pl_first([md.experiment_id, pm.experiment_id, rq.experiment_id, att.experiment_id]) as experiment_id,
        pl_first([md.variant, pm.variant, rq.variant, att.variant]) as variant,
        j.trace_id as trace_id,
    from derived
),

final as (
    select
        *,
        tokens_in + tokens_out as total_tokens,
        case
            when request_id is not null then sha1(request_id)
            else sha1(to_json(struct_pack(
                accepted_flag := accepted_flag,
                developer_id := developer_id,
                event_date := event_date,
                latency_ms := latency_ms,
                model := model,
                repo_slug := repo_slug,
                session_id := session_id,
                status_code := status_code,
                timestamp := strftime("timestamp", '%Y-%m-%dT%H:%M:%S.%f+00:00'),
                tokens_in := tokens_in,
                tokens_out := tokens_out
            )))
        end as trace_hash,
    from normalised
)

select * from final
