{#-
    True when a GitHub login belongs to a bot: it ends in `[bot]` (GitHub Apps) or is listed in the
    `bot_logins` seed (bots running as ordinary accounts). Null logins are not bots.
-#}
{% macro is_bot_login(login) -%}
    coalesce(
        {{ prodlens.ends_with('lower(' ~ login ~ ')', "'[bot]'") }}
        or lower({{ login }}) in (select lower(bot_logins.login) from {{ ref('bot_logins') }} as bot_logins),
        false
    )
{%- endmacro %}
