{#-
    A raw GitHub table, or an empty relation with the same columns while `prodlens load github` has not
    created it yet, so a warehouse holding only traces still builds. The column lists mirror the dlt
    column hints in loaders/github/rows.py (plus dlt's own columns).
-#}
{% macro github_source(table_name) -%}
    {%- set relation = source('github', table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (
            select
            {%- for name, data_type in github_raw_columns(table_name).items() %}
                cast(null as {{ data_type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
            {%- endfor %}
            limit 0
        ) as empty_{{ table_name | replace('_dlt_', 'dlt_') }}
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}


{% macro github_raw_columns(table_name) -%}
    {%- set dlt_columns = {'_dlt_load_id': 'varchar', '_dlt_id': 'varchar'} -%}
    {%- set columns = {
        'pull_requests': {
            'id': 'bigint', 'number': 'bigint', 'repo_slug': 'varchar', 'title': 'varchar', 'state': 'varchar',
            'is_draft': 'boolean', 'author_login': 'varchar', 'author_type': 'varchar',
            'author_association': 'varchar', 'created_at': 'timestamptz', 'updated_at': 'timestamptz',
            'closed_at': 'timestamptz', 'merged_at': 'timestamptz', 'merge_commit_sha': 'varchar',
            'base_ref': 'varchar', 'html_url': 'varchar',
        },
        'commits': {
            'repo_slug': 'varchar', 'sha': 'varchar', 'author_name': 'varchar', 'author_email_hash': 'varchar',
            'authored_at': 'timestamptz', 'committed_at': 'timestamptz', 'author_login': 'varchar',
            'author_type': 'varchar', 'committer_login': 'varchar', 'parent_count': 'bigint',
            'html_url': 'varchar',
        },
        'pr_events': {
            'id': 'bigint', 'repo_slug': 'varchar', 'pr_number': 'bigint', 'issue_id': 'bigint',
            'event': 'varchar', 'created_at': 'timestamptz', 'actor_login': 'varchar', 'commit_id': 'varchar',
        },
        'etag_state': {
            'repo_slug': 'varchar', 'resource': 'varchar', 'credential': 'varchar', 'endpoint': 'varchar',
            'etag': 'varchar', 'last_modified': 'varchar', 'last_synced': 'timestamptz', 'last_status': 'bigint',
        },
    } -%}
    {%- if table_name == '_dlt_loads' -%}
        {%- do return({
            'load_id': 'varchar', 'schema_name': 'varchar', 'status': 'bigint', 'inserted_at': 'timestamptz',
            'schema_version_hash': 'varchar',
        }) -%}
    {%- elif table_name == 'developer_email_hashes' -%}
        {%- do return({'developer_id': 'varchar', 'email_hash': 'varchar', 'hashed_at': 'timestamptz'}) -%}
    {%- else -%}
        {%- set result = columns[table_name].copy() -%}
        {%- do result.update(dlt_columns) -%}
        {%- do return(result) -%}
    {%- endif -%}
{%- endmacro %}
