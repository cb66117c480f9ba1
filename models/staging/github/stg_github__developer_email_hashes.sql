-- Keyed hashes of the trace developer ids that look like e-mail addresses (written by the GitHub loader).
with

email_hashes as (
    select * from {{ source('github', 'developer_email_hashes') }}
),

final as (
    select
        developer_id,
        email_hash,
        hashed_at
    from email_hashes
)

select * from final
