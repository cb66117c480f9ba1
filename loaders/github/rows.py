"""GitHub JSON → the rows ProdLens keeps, and the dlt column hints of the raw tables.

Only the listed fields are kept; everything else in GitHub's answers (bodies, avatars, nested repos) is
dropped here. Timestamps are normalised to `YYYY-MM-DDTHH:MM:SSZ` strings so they sort as they compare
and can be used verbatim as cursors and `since` values. Commit e-mail addresses become keyed hashes here
and go no further.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from dlt.common.schema.typing import TColumnSchema, TDataType

Row = dict[str, Any]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hash(key: bytes, email: str | None) -> str | None:
    """HMAC-SHA256 (hex) of a normalised e-mail address; None for a missing or blank address."""
    if not email or not email.strip():
        return None
    return hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256).hexdigest()


def _col(data_type: TDataType, nullable: bool = True, description: str | None = None) -> TColumnSchema:
    hint: TColumnSchema = {"data_type": data_type, "nullable": nullable}
    if description:
        hint["description"] = description
    return hint


PULL_REQUEST_COLUMNS: dict[str, TColumnSchema] = {
    "id": _col("bigint", False),
    "number": _col("bigint", False),
    "repo_slug": _col("text", False),
    "title": _col("text"),
    "state": _col("text"),
    "is_draft": _col("bool"),
    "author_login": _col("text"),
    "author_type": _col("text"),
    "author_association": _col("text"),
    "created_at": _col("timestamp"),
    "updated_at": _col("timestamp", False),
    "closed_at": _col("timestamp"),
    "merged_at": _col("timestamp"),
    "merge_commit_sha": _col("text"),
    "base_ref": _col("text"),
    "html_url": _col("text"),
}

COMMIT_COLUMNS: dict[str, TColumnSchema] = {
    "repo_slug": _col("text", False),
    "sha": _col("text", False),
    "author_name": _col("text"),
    "author_email_hash": _col("text", description="HMAC-SHA256 of the lower-cased author e-mail"),
    "authored_at": _col("timestamp"),
    "committed_at": _col("timestamp", False),
    "author_login": _col("text"),
    "author_type": _col("text"),
    "committer_login": _col("text"),
    "parent_count": _col("bigint"),
    "html_url": _col("text"),
}

PR_EVENT_COLUMNS: dict[str, TColumnSchema] = {
    "id": _col("bigint", False),
    "repo_slug": _col("text", False),
    "pr_number": _col("bigint", False),
    "issue_id": _col("bigint"),
    "event": _col("text", False),
    "created_at": _col("timestamp", False),
    "actor_login": _col("text"),
    "commit_id": _col("text"),
}

ETAG_STATE_COLUMNS: dict[str, TColumnSchema] = {
    "repo_slug": _col("text", False),
    "resource": _col("text", False),
    "credential": _col("text", False),
    "endpoint": _col("text", False),
    "etag": _col("text"),
    "last_modified": _col("text"),
    "last_synced": _col("timestamp", False),
    "last_status": _col("bigint"),
}


def utc(value: Any) -> str | None:
    """An ISO 8601 timestamp as `YYYY-MM-DDTHH:MM:SSZ` (UTC); None when missing or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _login(user: Any) -> str | None:
    return user.get("login") if isinstance(user, dict) else None


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def pull_request_row(item: dict[str, Any], repo_slug: str) -> Row:
    return {
        "id": item["id"],
        "number": item["number"],
        "repo_slug": repo_slug,
        "title": item.get("title"),
        "state": item.get("state"),
        "is_draft": bool(item.get("draft")),
        "author_login": _login(item.get("user")),
        "author_type": _get(item, "user", "type"),
        "author_association": item.get("author_association"),
        "created_at": utc(item.get("created_at")),
        "updated_at": utc(item.get("updated_at")),
        "closed_at": utc(item.get("closed_at")),
        "merged_at": utc(item.get("merged_at")),
        "merge_commit_sha": item.get("merge_commit_sha"),
        "base_ref": _get(item, "base", "ref"),
        "html_url": item.get("html_url"),
    }


def commit_row(item: dict[str, Any], repo_slug: str, key: bytes) -> Row:
    parents = item.get("parents")
    return {
        "repo_slug": repo_slug,
        "sha": item["sha"],
        "author_name": _get(item, "commit", "author", "name"),
        "author_email_hash": email_hash(key, _get(item, "commit", "author", "email")),
        "authored_at": utc(_get(item, "commit", "author", "date")),
        "committed_at": utc(_get(item, "commit", "committer", "date")),
        "author_login": _login(item.get("author")),
        "author_type": _get(item, "author", "type"),
        "committer_login": _login(item.get("committer")),
        "parent_count": len(parents) if isinstance(parents, list) else None,
        "html_url": item.get("html_url"),
    }


def is_pull_request_event(item: dict[str, Any]) -> bool:
    """Repository issue events cover issues and pull requests; PRs carry `issue.pull_request`."""
    return isinstance(_get(item, "issue", "pull_request"), dict) and _get(item, "issue", "number") is not None


def pr_event_row(item: dict[str, Any], repo_slug: str) -> Row:
    return {
        "id": item["id"],
        "repo_slug": repo_slug,
        "pr_number": _get(item, "issue", "number"),
        "issue_id": _get(item, "issue", "id"),
        "event": item.get("event"),
        "created_at": utc(item.get("created_at")),
        "actor_login": _login(item.get("actor")),
        "commit_id": item.get("commit_id"),
    }
