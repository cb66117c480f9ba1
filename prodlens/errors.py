"""Errors a user can act on. The CLI prints them as one line, never a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class UserError(Exception):
    """A problem with the user's input or environment; the message names the input and the fix."""

    exit_code = 2


class DatabaseLocked(UserError):
    """Another process holds the DuckDB file open for writing."""

    exit_code = 3


class PendingPackageStuck(UserError):
    """A pending dlt load package fails every time it is retried (e.g. a schema-contract violation)."""

    exit_code = 11


class RateLimited(UserError):
    """GitHub's rate limit stopped a load; what was loaded is kept and the next run resumes."""

    exit_code = 75  # EX_TEMPFAIL: try again later


@contextlib.contextmanager
def as_user_error(*errors: type[Exception]) -> Iterator[None]:
    """Re-raise the input errors of a dlt source (whose messages already name the input and the fix)
    as UserErrors, so that the CLI prints them as one line."""
    try:
        yield
    except errors as exc:
        raise UserError(str(exc)) from None
