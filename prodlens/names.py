"""Names ProdLens accepts from users and records: repository slugs and tenant ids.

One rule, used by every command, the config file, the report, the Parquet export and (as a DuckDB
regular expression passed to the trace normaliser) every trace record.
"""

from __future__ import annotations

import re

from prodlens.errors import UserError

#: A GitHub repository slug, compared in lower case (GitHub slugs are case-insensitive): an owner of 1–39
#: letters, digits and hyphens starting with a letter or digit, and a name of 1–100 letters, digits,
#: `.`, `_` and `-` that is not `.` or `..`. Written for both Python's `re` and DuckDB's RE2.
REPO_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,38}/[a-z0-9._-]{1,100}$"
_REPO_SLUG = re.compile(REPO_SLUG_PATTERN)
_DOT_NAMES = frozenset({".", ".."})


def repo_slug(value: str | None) -> str | None:
    """`value` as a canonical (lower-case) repository slug, or None when it is missing or not one."""
    if value is None:
        return None
    slug = value.strip().lower()
    if not _REPO_SLUG.match(slug) or slug.split("/", 1)[1] in _DOT_NAMES:
        return None
    return slug


def check_repo_slug(value: str, where: str | None = "--repo") -> str:
    """`value` as a canonical repository slug; a UserError naming `where` (an option, a config key) when
    it is not one."""
    slug = repo_slug(value)
    if slug is None:
        prefix = f"{where} " if where else ""
        raise UserError(f"{prefix}{value!r} is not an OWNER/NAME repository slug (for example acme/web)")
    return slug


#: A tenant id: 1–64 letters, digits, `.`, `_` and `-`, starting with a letter or digit (so never `.`,
#: `..`, a hidden name or a path). LiteLLM's organisation ids (UUIDs) pass. Case is kept. Written for both
#: Python's `re` and DuckDB's RE2; the trace normaliser dead-letters a record whose tenant breaks it.
TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_TENANT_ID = re.compile(TENANT_ID_PATTERN)


def is_tenant_id(value: str) -> bool:
    """True when `value` follows the tenant-id rule."""
    return bool(_TENANT_ID.fullmatch(value))


def check_tenant_id(value: str, where: str | None = "--tenant") -> str:
    """`value` when it is a valid tenant id; a UserError naming `where` (an option, a config key) when not."""
    if not is_tenant_id(value):
        prefix = f"{where} " if where else ""
        raise UserError(
            f"{prefix}{value[:80]!r} is not a tenant id (1-64 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit)"
        )
    return value
