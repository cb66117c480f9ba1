-- One row per tenant and repository whose GitHub outcomes that tenant may see. A request's repo tag is
-- set by the client, so it names a repository without entitling its tenant to that repository's pull
-- requests and commits: the entitlement comes from the seed tenant_repositories, or, in a home whose
-- requests carry a single tenant, from every synced repository.
with

mapped as (
    select * from {{ ref('tenant_repositories') }}
),

requests as (
    select * from {{ ref('stg_litellm__requests') }}
),

activity as (
    select * from {{ ref('int_github__activity') }}
),

etag_state as (
    select * from {{ ref('stg_github__etag_state') }}
),

seeded as (
    select distinct
        tenant_id,
        lower(repo_slug) as repo_slug
    from mapped
),

tenants as (
    select distinct tenant_id
    from requests
    where tenant_id is not null
),

tenant_count as (
    select count(*) as n
    from tenants
),

single_tenant as (
    select tenants.tenant_id
    from tenants
    cross join tenant_count
    where tenant_count.n = 1
),

synced_repositories as (
    select repo_slug from activity
    union
    select repo_slug from etag_state
),

implied as (
    select
        single_tenant.tenant_id,
        synced_repositories.repo_slug
    from single_tenant
    cross join synced_repositories
    where synced_repositories.repo_slug is not null
),

final as (
    select
        tenant_id,
        repo_slug,
        'seed' as entitlement_source
    from seeded
    union all
    select
        implied.tenant_id,
        implied.repo_slug,
        'single_tenant' as entitlement_source
    from implied
    anti join seeded
        on implied.tenant_id = seeded.tenant_id
        and implied.repo_slug = seeded.repo_slug
)

select * from final
