"""The report's inputs (`prodlens report` options) and the checks that need no database."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from prodlens.dates import DateError, check_window
from prodlens.errors import UserError
from prodlens.names import repo_slug

#: Output formats, chosen by the output file's extension.
FORMATS: tuple[str, ...] = ("csv", "json", "html")


class ReportError(UserError):
    """A report cannot be written for these inputs; the message says why and what to do."""


def today_utc() -> date:
    return datetime.now(UTC).date()


def output_format(path: Path) -> str:
    """`csv`, `json` or `html` from the file extension; ReportError for anything else."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "htm":
        suffix = "html"
    if suffix not in FORMATS:
        shown = f"'.{suffix}'" if suffix else "no extension"
        raise ReportError(
            f"cannot tell the report format from {path.name} ({shown}): use a .csv, .json or .html file"
        )
    return suffix


@dataclass(frozen=True)
class ReportRequest:
    """What to report on. ``until`` None = the last day with activity; ``lag_days`` None = every lag in
    marts.correlation_cache; ``tenant`` None = the only tenant with requests in the repository."""

    repo: str
    since: date
    output: Path
    until: date | None = None
    tenant: str | None = None
    lag_days: int | None = None
    policy_models: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def format(self) -> str:
        return output_format(self.output)

    def checked(self, today: date | None = None) -> ReportRequest:
        """This request after the checks that need no database (format, slug, dates, lag); ``until`` in the
        future is clamped to today, with a note."""
        output_format(self.output)
        slug = repo_slug(self.repo)
        if slug is None:
            raise ReportError(f"--repo must be OWNER/NAME, got {self.repo!r}")
        request = replace(self, repo=slug)  # slugs are case-insensitive: ACME/WEB is acme/web
        today = today or today_utc()
        if self.since > today:
            raise ReportError(
                f"--since {self.since} is in the future (today is {today} UTC): choose a day with data"
            )
        try:
            check_window(self.since, self.until, ("--since", "--until"))
        except DateError as exc:
            raise ReportError(str(exc)) from None
        if self.lag_days is not None and self.lag_days < 0:
            raise ReportError(f"--lag-days must be 0 or more, got {self.lag_days}")
        if self.until is not None and self.until > today:
            note = f"--until {self.until} is in the future; the report ends today ({today})"
            return replace(request, until=today, notes=(*self.notes, note))
        return request
