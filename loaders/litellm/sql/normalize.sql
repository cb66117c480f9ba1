-- Normalise one batch of trace lines into ProdLens request rows, in one vectorised pass.
-- Input relation `batch(source_file, source_line, source_item, line, block)` (source_item: the 1-based position
-- of an OpenTelemetry span, record or data point within its line, null for other lines); parameters $structure (the whitelist of
-- fields, see fields.py), $default_repo, $default_tenant, $repo_slug_pattern and $tenant_id_pattern (the repository-slug and tenant-id rules,
-- prodlens/names.py).
-- Output: one row per input line, `reject_reason` null for usable rows. Only whitelisted fields are
-- extracted, so prompt and response content never leaves this query: a rejected line leaves it as its
-- content-free dead letter (`dead_letter`, made by pl_dead_letter, privacy.dead_letter_text), every other
-- line not at all. Input column `block`: the line still ends with its newline (trimmed for the dead letter).
--
-- Speed: a line is parsed twice (json_valid, json_transform), and every leaf is cast to a number or
-- parsed as a time once, in a column of its own (`numbers`, `times`), which the macros then reuse:
-- DuckDB expands macros inline and does not share work between CASE branches.
with

src as (
    select
        source_file,
        source_line,
        source_item,
        line,
        block,
        json_valid(line) as is_json,
    from batch
),

typed as (
    select
        *,
        -- Valid JSON that starts with `{` is an object; only other lines need json_type (another parse).
        case when is_json then case when starts_with(line, '{') then 'OBJECT' else json_type(line) end end
            as json_kind,
    from src
),

extracted as (
    select
        source_file,
        source_line,
        source_item,
        line,
        block,
        is_json,
        json_kind,
        case when json_kind = 'OBJECT' then json_transform(line, $structure) end as j,
    from typed
),

fields as (
    select
        source_file,
        source_line,
        source_item,
        line,
        block,
        is_json,
        json_kind,
        j.metadata as md,
        j.attributes as att,
        j.usage as us,
        j.metadata.usage_object as uo,
        j.metadata.requester_metadata as rq,
        j.metadata.prompt_management_metadata as pm,
        j.metadata.requester_custom_headers as hd,
        j.metadata.spend_logs_metadata as sl,
        j,
    from extracted
),

leaves as (
    select
        *,
        -- leaves read from the top level or from attributes
        coalesce(j['gen_ai.usage.input_tokens'], att['gen_ai.usage.input_tokens']) as genai_input,
        coalesce(j['gen_ai.usage.output_tokens'], att['gen_ai.usage.output_tokens']) as genai_output,
        coalesce(j['gen_ai.usage.cache_read.input_tokens'], att['gen_ai.usage.cache_read.input_tokens'])
            as genai_cache_read,
        coalesce(j['gen_ai.usage.cache_creation.input_tokens'], att['gen_ai.usage.cache_creation.input_tokens'])
            as genai_cache_write,
        coalesce(
            pl_text(md.diff_ratio), pl_text(md['prod_lens.diff_ratio']),
            pl_text(att.diff_ratio), pl_text(att['prod_lens.diff_ratio'])
        ) as diff_ratio_text,
        coalesce(
            pl_text(md.accepted_lines), pl_text(md['prod_lens.accepted_lines']),
            pl_text(att.accepted_lines), pl_text(att['prod_lens.accepted_lines'])
        ) as accepted_lines_text,
        coalesce(j.response_cost, j.spend, att['llm.cost.total'], j.hidden_params.response_cost) as proxy_cost_text,
    from fields
),

numbers as (
    -- every numeric leaf cast to DOUBLE once
    select
        *,
        -- times
        try_cast(j.startTime as double) as n_start_time_camel,
        try_cast(j.timestamp as double) as n_timestamp,
        try_cast(j.start_time as double) as n_start_time,
        try_cast(j.endTime as double) as n_end_time_camel,
        try_cast(j.end_time as double) as n_end_time,
        try_cast(j.completionStartTime as double) as n_completion_start_time,
        -- token counts that are checked (a bad one dead-letters the line)
        try_cast(j.prompt_tokens as double) as n_prompt_tokens,
        try_cast(j.completion_tokens as double) as n_completion_tokens,
        try_cast(j.total_tokens as double) as n_total_tokens,
        try_cast(us.prompt_tokens as double) as n_us_prompt_tokens,
        try_cast(us.completion_tokens as double) as n_us_completion_tokens,
        try_cast(us.total_tokens as double) as n_us_total_tokens,
        try_cast(us.input_tokens as double) as n_us_input_tokens,
        try_cast(us.output_tokens as double) as n_us_output_tokens,
        try_cast(us.cache_read_input_tokens as double) as n_us_cache_read,
        try_cast(us.cache_creation_input_tokens as double) as n_us_cache_creation,
        try_cast(att['llm.token_count.prompt'] as double) as n_att_prompt,
        try_cast(att['llm.token_count.completion'] as double) as n_att_completion,
        try_cast(genai_input as double) as n_genai_input,
        try_cast(genai_output as double) as n_genai_output,
        -- other token counts
        try_cast(uo.prompt_tokens as double) as n_uo_prompt_tokens,
        try_cast(uo.completion_tokens as double) as n_uo_completion_tokens,
        try_cast(att['llm.token_count.total'] as double) as n_att_total,
        try_cast(us.prompt_tokens_details.cached_tokens as double) as n_us_cached,
        try_cast(j.prompt_tokens_details.cached_tokens as double) as n_cached,
        try_cast(att['llm.token_count.prompt_details.cache_read'] as double) as n_att_cache_read,
        try_cast(genai_cache_read as double) as n_genai_cache_read,
        try_cast(uo.cache_read_input_tokens as double) as n_uo_cache_read,
        try_cast(uo.prompt_tokens_details.cached_tokens as double) as n_uo_cached,
        try_cast(us.prompt_tokens_details.cache_creation_tokens as double) as n_us_cache_creation_details,
        try_cast(att['llm.token_count.prompt_details.cache_write'] as double) as n_att_cache_write,
        try_cast(genai_cache_write as double) as n_genai_cache_write,
        try_cast(uo.cache_creation_input_tokens as double) as n_uo_cache_creation,
        try_cast(uo.prompt_tokens_details.cache_creation_tokens as double) as n_uo_cache_creation_details,
        -- other numbers
        try_cast(j.latency_ms as double) as n_latency_ms,
        try_cast(att.latency_ms as double) as n_att_latency_ms,
        try_cast(j.duration_ms as double) as n_duration_ms,
        try_cast(att.duration_ms as double) as n_att_duration_ms,
        try_cast(j.status_code as double) as n_status_code,
        try_cast(j['http.status_code'] as double) as n_http_status_code,
        try_cast(att.status_code as double) as n_att_status_code,
        try_cast(att['http.status_code'] as double) as n_att_http_status_code,
        try_cast(coalesce(j.error_information.error_code, md.error_information.error_code) as double) as n_error_code,
        try_cast(diff_ratio_text as double) as n_diff_ratio,
        try_cast(accepted_lines_text as double) as n_accepted_lines,
        try_cast(proxy_cost_text as double) as n_proxy_cost,
    from leaves
),

times as (
    select
        *,
        pl_ts(pl_ts_parse(j.startTime, n_start_time_camel)) as ts_start_time_camel,
        pl_ts(pl_ts_parse(j.timestamp, n_timestamp)) as ts_timestamp,
        pl_ts(pl_ts_parse(j.start_time, n_start_time)) as ts_start_time,
        pl_ts(pl_ts_parse(j.endTime, n_end_time_camel)) as ts_end_time_camel,
        pl_ts(pl_ts_parse(j.end_time, n_end_time)) as ts_end_time,
        pl_ts(pl_ts_parse(j.completionStartTime, n_completion_start_time)) as ts_completion_start_time,
    from numbers
),

raw_values as (
    select
        source_file,
        source_line,
        source_item,
        line,
        block,
        is_json,
        json_kind,
        j,
        md,
        att,
        rq,
        pm,
        hd,
        sl,

        -- time
        coalesce(ts_start_time_camel, ts_start_time) as start_ts,
        coalesce(ts_start_time_camel, ts_timestamp, ts_start_time) as request_ts,
        coalesce(ts_end_time_camel, ts_end_time) as end_ts,
        ts_completion_start_time as completion_start_ts,

        -- the first bad token count, in this order, dead-letters the line
        coalesce(
            pl_token_problem(j.prompt_tokens, n_prompt_tokens) || ' token count in prompt_tokens',
            pl_token_problem(j.completion_tokens, n_completion_tokens) || ' token count in completion_tokens',
            pl_token_problem(j.total_tokens, n_total_tokens) || ' token count in total_tokens',
            pl_token_problem(us.prompt_tokens, n_us_prompt_tokens) || ' token count in usage.prompt_tokens',
            pl_token_problem(us.completion_tokens, n_us_completion_tokens)
                || ' token count in usage.completion_tokens',
            pl_token_problem(us.total_tokens, n_us_total_tokens) || ' token count in usage.total_tokens',
            pl_token_problem(us.input_tokens, n_us_input_tokens) || ' token count in usage.input_tokens',
            pl_token_problem(us.output_tokens, n_us_output_tokens) || ' token count in usage.output_tokens',
            pl_token_problem(us.cache_read_input_tokens, n_us_cache_read)
                || ' token count in usage.cache_read_input_tokens',
            pl_token_problem(us.cache_creation_input_tokens, n_us_cache_creation)
                || ' token count in usage.cache_creation_input_tokens',
            pl_token_problem(att['llm.token_count.prompt'], n_att_prompt)
                || ' token count in attributes.llm.token_count.prompt',
            pl_token_problem(att['llm.token_count.completion'], n_att_completion)
                || ' token count in attributes.llm.token_count.completion',
            pl_token_problem(genai_input, n_genai_input) || ' token count in gen_ai.usage.input_tokens',
            pl_token_problem(genai_output, n_genai_output) || ' token count in gen_ai.usage.output_tokens'
        ) as token_problem,

        -- input tokens that already include cached tokens
        coalesce(
            pl_tok(j.prompt_tokens, n_prompt_tokens),
            pl_tok(us.prompt_tokens, n_us_prompt_tokens),
            pl_tok(att['llm.token_count.prompt'], n_att_prompt),
            pl_tok(genai_input, n_genai_input),
            pl_tok(uo.prompt_tokens, n_uo_prompt_tokens)
        ) as inclusive_input,
        -- Anthropic-style input tokens that exclude cached tokens
        pl_tok(us.input_tokens, n_us_input_tokens) as exclusive_input,
        coalesce(
            pl_tok(j.completion_tokens, n_completion_tokens),
            pl_tok(us.completion_tokens, n_us_completion_tokens),
            pl_tok(us.output_tokens, n_us_output_tokens),
            pl_tok(att['llm.token_count.completion'], n_att_completion),
            pl_tok(genai_output, n_genai_output),
            pl_tok(uo.completion_tokens, n_uo_completion_tokens)
        ) as output_given,
        coalesce(
            pl_tok(j.total_tokens, n_total_tokens),
            pl_tok(us.total_tokens, n_us_total_tokens),
            pl_tok(att['llm.token_count.total'], n_att_total)
        ) as total_given,
        coalesce(
            pl_tok(us.cache_read_input_tokens, n_us_cache_read),
            pl_tok(us.prompt_tokens_details.cached_tokens, n_us_cached),
            pl_tok(j.prompt_tokens_details.cached_tokens, n_cached),
            pl_tok(att['llm.token_count.prompt_details.cache_read'], n_att_cache_read),
            pl_tok(genai_cache_read, n_genai_cache_read),
            pl_tok(uo.cache_read_input_tokens, n_uo_cache_read),
            pl_tok(uo.prompt_tokens_details.cached_tokens, n_uo_cached)
        ) as cache_read_given,
        coalesce(
            pl_tok(us.cache_creation_input_tokens, n_us_cache_creation),
            pl_tok(us.prompt_tokens_details.cache_creation_tokens, n_us_cache_creation_details),
            pl_tok(att['llm.token_count.prompt_details.cache_write'], n_att_cache_write),
            pl_tok(genai_cache_write, n_genai_cache_write),
            pl_tok(uo.cache_creation_input_tokens, n_uo_cache_creation),
            pl_tok(uo.prompt_tokens_details.cache_creation_tokens, n_uo_cache_creation_details)
        ) as cache_write_given,

        -- model and provider
        coalesce(
            pl_text(j.model),
            pl_text(att['llm.model_name']),
            pl_text(j['gen_ai.response.model']),
            pl_text(att['gen_ai.response.model']),
            pl_text(j['gen_ai.request.model']),
            pl_text(att['gen_ai.request.model'])
        ) as model_name,
        lower(coalesce(
            pl_text(j.custom_llm_provider),
            pl_text(att['llm.provider']),
            pl_text(j['llm.provider']),
            pl_text(j['gen_ai.provider.name']),
            pl_text(att['gen_ai.provider.name']),
            pl_text(j['gen_ai.system']),
            pl_text(att['gen_ai.system'])
        )) as provider_given,

        -- latency
        coalesce(
            pl_num(n_latency_ms), pl_num(n_att_latency_ms), pl_num(n_duration_ms), pl_num(n_att_duration_ms)
        ) as latency_given,

        -- status
        coalesce(
            try_cast(pl_num(n_status_code) as integer),
            try_cast(pl_num(n_http_status_code) as integer),
            try_cast(pl_num(n_att_status_code) as integer),
            try_cast(pl_num(n_att_http_status_code) as integer),
            try_cast(pl_num(n_error_code) as integer),
            case lower(j.status) when 'success' then 200 when 'failure' then 500 end
        ) as status_code_given,

        -- people and places (developer ids that mention a session are skipped)
        coalesce(
            case when j.developer_id not ilike '%session%' then pl_text(j.developer_id) end,
            case when md.developer_id not ilike '%session%' then pl_text(md.developer_id) end,
            case when md.user_api_key_user_email not ilike '%session%' then pl_text(md.user_api_key_user_email) end,
            case when md.user_api_key_user_id not ilike '%session%' then pl_text(md.user_api_key_user_id) end,
            case when rq.developer_id not ilike '%session%' then pl_text(rq.developer_id) end,
            case when rq.user not ilike '%session%' then pl_text(rq.user) end,
            case when sl.developer_id not ilike '%session%' then pl_text(sl.developer_id) end,
            case when hd['x-prodlens-developer'] not ilike '%session%' then pl_text(hd['x-prodlens-developer']) end,
            case when j.user not ilike '%session%' then pl_text(j.user) end,
            case when j.end_user not ilike '%session%' then pl_text(j.end_user) end,
            case when att['user.id'] not ilike '%session%' then pl_text(att['user.id']) end
        ) as developer_id,
        regexp_replace(
            coalesce(
                pl_text(md.session_id), pl_text(j.session_id), pl_text(rq.session_id), pl_text(sl.session_id),
                pl_text(hd['x-prodlens-session']),
                pl_text(att['session.id']),
                -- LiteLLM logs a client's x-litellm-session-id (Claude Code sends one) as trace_id; not for
                -- OpenTelemetry calls (numbered by source_item), whose trace is not a session
                case when source_item is null then pl_text(j.trace_id) end
            ),
            '^session[-_]',
            ''
        ) as session_raw,
        lower(coalesce(
            pl_text(md.repo),
            pl_text(md.repository),
            pl_text(md.repo_slug),
            pl_text(rq.repo),
            pl_text(sl.repo),
            pl_text(hd['x-prodlens-repo']),
            pl_text(att.repo),
            pl_text(att.repository),
            pl_text($default_repo)
        )) as repo_given,

        -- acceptance
        coalesce(
            pl_text(att['prod_lens.accepted']), pl_text(att.accepted), pl_text(att.accepted_flag),
            pl_text(md['prod_lens.accepted']), pl_text(md.accepted), pl_text(md.accepted_flag)
        ) as accepted_given,
        pl_num(n_diff_ratio) as diff_ratio_given,
        pl_num(n_accepted_lines) as accepted_lines_given,
        pl_num(n_proxy_cost) as proxy_cost_usd,

        coalesce(
            pl_text(j.id),
            pl_text(j.request_id),
            pl_text(j.litellm_call_id),
            pl_text(j.span_id),
            pl_text(j.context.span_id),
            pl_text(att.span_id)
        ) as request_id,
        coalesce(
            pl_scrub(pl_text(md.tenant_id)), pl_scrub(pl_text(sl.tenant_id)), pl_scrub(pl_text(md.user_api_key_org_id)),
            pl_scrub(pl_text(j.organization_id)), pl_text($default_tenant), 'default'
        ) as tenant_id,
    from times
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
    from raw_values
),

normalised as (
    select
        source_file,
        source_line,
        source_item,
        line,
        block,
        case
            when not is_json then 'invalid JSON'
            when json_kind <> 'OBJECT' then 'JSON is not an object (' || lower(json_kind) || ')'
            when not regexp_full_match(tenant_id, $tenant_id_pattern) then 'invalid tenant id'
            when request_ts is null then 'no usable timestamp'
            when token_problem is not null then token_problem
            when proxy_cost_usd < 0 then 'negative cost (response_cost, llm.cost.total or gen_ai.cost.*)'
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
        lower(pl_text(j.model_group)) as model_group,
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
            when regexp_full_match(repo_given, $repo_slug_pattern)
                and split_part(repo_given, '/', 2) not in ('.', '..')
                then repo_given
        end as repo_slug,
        pl_flag(accepted_given) as accepted_flag,
        -- tracked only when the record carried an acceptance field (null: not tracked, not rejected)
        case when accepted_given is not null then pl_flag(accepted_given) = 1 end as accepted,
        case when diff_ratio_given between 0 and 1 then diff_ratio_given end as diff_ratio,
        case
            when accepted_lines_given >= 0 and accepted_lines_given = floor(accepted_lines_given)
                and accepted_lines_given < 1e9
                then cast(accepted_lines_given as bigint)
        end as accepted_lines,
        coalesce(pl_text(md.user_api_key_team_id), pl_text(j.team_id)) as team_id,
        pl_text(md.user_api_key_alias) as api_key_alias,
        pl_text(md.user_api_key_hash) as api_key_hash,
        coalesce(pl_text(md.user_api_key_org_id), pl_text(j.organization_id)) as org_id,
        lower(pl_text(j.call_type)) as call_type,
        proxy_cost_usd,
        case when lower(j.cache_hit) in ('true', '1') then true when lower(j.cache_hit) in ('false', '0') then false end
            as cache_hit,
        coalesce(pl_text(j.error_information.error_code), pl_text(md.error_information.error_code)) as error_code,
        coalesce(pl_text(j.error_information.error_class), pl_text(md.error_information.error_class)) as error_class,
        coalesce(pl_text(md.prompt_id), pl_text(pm.prompt_id), pl_text(rq.prompt_id), pl_text(att.prompt_id)) as prompt_id,
        coalesce(pl_text(md.prompt_version), pl_text(pm.prompt_version), pl_text(rq.prompt_version), pl_text(att.prompt_version)) as prompt_version,
        coalesce(pl_text(md.experiment_id), pl_text(pm.experiment_id), pl_text(rq.experiment_id), pl_text(att.experiment_id)) as experiment_id,
        coalesce(pl_text(md.variant), pl_text(pm.variant), pl_text(rq.variant), pl_text(att.variant)) as variant,
        pl_text(j.trace_id) as trace_id,
        pl_text(j.parent_span_id) as parent_span_id,
        -- pricing: LiteLLM's own price-map key for the call
        lower(pl_text(j.model_map_information.model_map_key)) as catalog_key,
        -- proxy rejections: whether a provider endpoint or provider was named, and LiteLLM's own markers
        coalesce(pl_text(j.api_base), pl_text(j.hidden_params.api_base)) is not null as api_base_present,
        provider_given is not null as provider_reported,
        coalesce(pl_text(j.error_information.normalized_error), pl_text(md.error_information.normalized_error))
            as error_normalized,
        coalesce(
            pl_text(j.error_information.error_rate_limit_category),
            pl_text(md.error_information.error_rate_limit_category)
        ) as error_rate_limit_category,
        coalesce(
            pl_text(j.error_information.error_budget_entity_type),
            pl_text(md.error_information.error_budget_entity_type)
        ) as error_budget_entity_type,
        -- fallbacks: how many the router tried before this call served the request
        try_cast(coalesce(
            pl_text(j.hidden_params.additional_headers['x-litellm-attempted-fallbacks']),
            pl_text(md.attempted_fallbacks)
        ) as integer) as attempted_fallbacks,
        lower(pl_text(md.original_model_group)) as original_model_group,
        -- LiteLLM's request tags: a JSON array of non-blank scalar tags, null when there are none
        case when starts_with(j.request_tags, '[') then nullif(to_json(list_filter(
            list_transform(try(from_json(j.request_tags, '["VARCHAR"]')), lambda t: pl_scrub(pl_text(t))),
            lambda t: t is not null
        )), '[]') end as request_tags,
        -- whitelisted text fields that held an object or array (read as null: scalars are scalars)
        len(list_filter(
            [
                j.id, j.litellm_call_id, j.request_id, j.span_id, j.trace_id, j.model, j.model_group,
                j.custom_llm_provider, j.call_type, j.status, j.developer_id, j.session_id, j.end_user,
                md.developer_id, md.session_id, md.tenant_id, md.repo, md.repository, md.repo_slug,
                md.user_api_key_hash, md.user_api_key_alias, md.user_api_key_user_id, md.user_api_key_user_email,
                md.user_api_key_team_id, md.user_api_key_org_id, md.prompt_id, md.prompt_version,
                md.experiment_id, md.variant, rq.developer_id, rq.user, rq.session_id, rq.repo,
                hd['x-prodlens-repo'], hd['x-prodlens-developer'], hd['x-prodlens-session'], j.user, j.team_id,
                sl.developer_id, sl.session_id, sl.tenant_id, sl.repo,
                j.organization_id,
                j.error_information.error_code, j.error_information.error_class,
                md.error_information.error_code, md.error_information.error_class
            ],
            lambda x: pl_structured(x)
        )) as malformed_fields,
    from derived
),

-- credential-looking values never stay in a kept text column (the tenant was scrubbed above, before
-- falling back to the default)
scrubbed as (
    select
        * replace (
            pl_scrub(request_id) as request_id,
            pl_scrub(session_id) as session_id,
            pl_scrub(developer_id) as developer_id,
            pl_scrub(model) as model,
            pl_scrub(provider) as provider,
            pl_scrub(model_group) as model_group,
            pl_scrub(team_id) as team_id,
            pl_scrub(api_key_alias) as api_key_alias,
            pl_scrub(api_key_hash) as api_key_hash,
            pl_scrub(org_id) as org_id,
            pl_scrub(call_type) as call_type,
            pl_scrub(error_code) as error_code,
            pl_scrub(error_class) as error_class,
            pl_scrub(prompt_id) as prompt_id,
            pl_scrub(prompt_version) as prompt_version,
            pl_scrub(experiment_id) as experiment_id,
            pl_scrub(variant) as variant,
            pl_scrub(trace_id) as trace_id,
            pl_scrub(parent_span_id) as parent_span_id,
            pl_scrub(catalog_key) as catalog_key,
            pl_scrub(error_normalized) as error_normalized,
            pl_scrub(error_rate_limit_category) as error_rate_limit_category,
            pl_scrub(error_budget_entity_type) as error_budget_entity_type,
            pl_scrub(original_model_group) as original_model_group
        )
    from normalised
),

final as (
    select
        * exclude (line, block),
        -- a rejected line's content-free dead letter; its tenant is not kept when it breaks the rule
        case
            when reject_reason is not null
                then pl_dead_letter(rtrim(line, case when block then chr(13) || chr(10) else chr(13) end))
        end as dead_letter,
        tokens_in + tokens_out as total_tokens,
        -- always within the tenant: another tenant's equal ids are not duplicates (see col_trace_hash)
        case
            when request_id is not null then sha1(tenant_id || chr(31) || request_id)
            else sha1(to_json(struct_pack(
                tenant_id := tenant_id,
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
    from scrubbed
)

select * from final
