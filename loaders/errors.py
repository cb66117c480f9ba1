"""Errors a user can act on. The CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """A problem with the user's input or environment; the message names the input and the fix."""

    exit_code = 2


class DatabaseLocked(UserError):
    """Another process holds the DuckDB file open for writing."""

    exit_code = 3
