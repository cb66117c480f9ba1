"""`prodlens report` refuses bad input with one clear line (exit 2), never a traceback or an empty page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prodlens.home import Home
from tests.report.conftest import Reports
from tests.report.demo_run import DemoRun, cli

TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


def report_error(demo_home: Home, tmp_path: Path, *args: str, output: str = "out.html") -> str:
    proc = cli("report", *args, "--output", str(tmp_path / output), home=demo_home, cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / output).exists()
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--since", TOMORROW], f"--since {TOMORROW} is in the future (today is "),
        (["--repo", "acme/nope", "--since", "2025-09-01"], "unknown repository acme/nope: no requests or GitHub"),
        (["--tenant", "nobody", "--since", "2025-09-01"], "unknown tenant 'nobody'; known tenants: "),
        (["--tenant", "globex", "--since", "2025-09-01"], "tenant 'globex' has no requests in "),
        (["--since", "2000-01-01", "--until", "2000-01-31"], "no AI requests from tenant "),
        (["--since", "2025-09-01", "--lag-days", "30"], "--lag-days 30 is more than the lags in marts.correlation_cache"),
        (["--since", "2025-09-10", "--until", "2025-09-01"], "--until 2025-09-01 is before --since 2025-09-10"),
    ],
    ids=["future-since", "unknown-repo", "unknown-tenant", "tenant-not-in-repo", "empty-window", "lag", "until"],
)  # fmt: skip
def test_clear_one_line_errors(
    demo: DemoRun, reports: Reports, tmp_path: Path, args: list[str], expected: str
) -> None:
    defaults = ["--repo", reports.repo, "--tenant", reports.tenant]  # later options win in argparse
    line = report_error(demo.home, tmp_path, *defaults, *args)
    assert line.startswith(f"prodlens: error: {expected}"), line


def test_bad_date_is_an_option_error(demo: DemoRun, tmp_path: Path) -> None:
    line = report_error(demo.home, tmp_path, "--repo", "acme/web", "--since", "1 Sept")
    assert line == (
        "prodlens: argument --since: expected a date as YYYY-MM-DD, got '1 Sept' (see 'prodlens report --help')"
    )


def test_empty_window_names_the_data_span(demo: DemoRun, reports: Reports, tmp_path: Path) -> None:
    line = report_error(
        demo.home, tmp_path, "--repo", reports.repo, "--tenant", reports.tenant,
        "--since", "2000-01-01", "--until", "2000-01-31",
    )  # fmt: skip
    meta = reports.json["metadata"]
    assert line == (
        f"prodlens: error: no AI requests from tenant '{reports.tenant}' in {reports.repo} from 2000-01-01 to "
        f"2000-01-31; its requests run from {meta['period_start']} to {meta['period_end']}"
    )


def test_window_after_the_data_is_empty(demo: DemoRun, reports: Reports, tmp_path: Path) -> None:
    since = (datetime.fromisoformat(reports.json["metadata"]["period_end"]) + timedelta(days=1)).date()
    line = report_error(
        demo.home, tmp_path, "--repo", reports.repo, "--tenant", reports.tenant, "--since", str(since)
    )
    assert line.startswith(
        f"prodlens: error: no AI requests from tenant '{reports.tenant}' in {reports.repo} since"
    )


def test_several_tenants_need_tenant(demo: DemoRun, tmp_path: Path) -> None:
    # the demo's default tenant and acme both use acme/web
    line = report_error(demo.home, tmp_path, "--repo", "acme/web", "--since", "2025-09-01")
    assert line == (
        "prodlens: error: repository acme/web has requests from several tenants (acme, default): "
        "choose one with --tenant"
    )


@pytest.mark.parametrize("output", ["report.xlsx", "report", "report.pdf"])
def test_unknown_extension(demo: DemoRun, reports: Reports, tmp_path: Path, output: str) -> None:
    line = report_error(
        demo.home, tmp_path, "--repo", reports.repo, "--tenant", reports.tenant, "--since", "2025-09-01",
        output=output,
    )  # fmt: skip
    suffix = Path(output).suffix
    shown = f"('{suffix}')" if suffix else "(no extension)"
    assert (
        line
        == f"prodlens: error: cannot tell the report format from {output} {shown}: use a .csv, .json or .html file"
    )


def test_bad_slug(demo: DemoRun, tmp_path: Path) -> None:
    line = report_error(demo.home, tmp_path, "--repo", "acme-web", "--since", "2025-09-01")
    assert line == "prodlens: error: --repo must be OWNER/NAME, got 'acme-web'"


def test_no_database_yet(tmp_path: Path) -> None:
    home = Home(tmp_path / "empty-home")
    line = report_error(home, tmp_path, "--repo", "acme/web", "--since", "2025-09-01")
    assert line.startswith(f"prodlens: error: no ProdLens database at {home.published}")


def test_future_until_is_clamped_with_a_note(demo: DemoRun, reports: Reports, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = cli(
        "report", "--repo", reports.repo, "--tenant", reports.tenant, "--since", str(reports.since),
        "--until", TOMORROW, "--output", str(out),
        home=demo.home, cwd=tmp_path,
    )  # fmt: skip
    today = datetime.now(UTC).date().isoformat()
    assert proc.stdout.splitlines()[0] == (
        f"prodlens: note: --until {TOMORROW} is in the future; the report ends today ({today})"
    )
    assert f"wrote {out} ({reports.repo}, tenant {reports.tenant}, {reports.since} to {today}:" in proc.stdout
