-- The ProdLens data model's "Correlate AI Usage with PRs", adapted to the marts: AI sessions, tokens and
-- cost of each merged PR's author while the PR was open (creation to merge day), in the PR's repository.
-- The author is matched to trace developer ids through marts.developer_identity_map (seeded and verified
-- matches), never by joining an e-mail to a login.
-- Parameters: --vars '{analysis_tenant_id: acme}'
with

pull_requests as (
    select * from {{ ref('pull_requests') }}
),

identities as (
    select * from {{ ref('developer_identity_map') }}
),

requests as (
    select * from {{ ref('sessions') }}
),

merged as (
    select
        id,
        number,
        title,
        author,
        repo_slug,
        developer_key,
        cast({{ utc_timestamp('created_at') }} as date) as created_date,
        cast({{ utc_timestamp('merged_at') }} as date) as merged_date,
        merge_hours
    from pull_requests
    where state = 'merged' and not is_bot
),

author_requests as (
    select
        merged.id,
        requests.trace_hash,
        coalesce(requests.session_id, 'request:' || requests.trace_hash) as session_key,
        requests.total_tokens,
        requests.cost_usd
    from merged
    inner join identities
        on merged.developer_key = identities.developer_key
    inner join requests
        on identities.developer_id = requests.developer_id
        and merged.repo_slug = requests.repo_slug
        and requests.event_date between merged.created_date and merged.merged_date
    where requests.tenant_id = {{ sql_literal(var("analysis_tenant_id", "acme")) }}
),

final as (
    select
        merged.repo_slug,
        merged.number,
        merged.title,
        merged.author,
        merged.merge_hours,
        count(distinct author_requests.session_key) as ai_sessions,
        count(author_requests.trace_hash) as ai_requests,
        coalesce(sum(author_requests.total_tokens), 0) as tokens_used,
        coalesce(sum(author_requests.cost_usd), 0) as cost
    from merged
    left join author_requests
        on merged.id = author_requests.id
    group by all
)

select * from final
order by cost desc
limit 10
