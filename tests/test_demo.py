"""The README's first command on a fresh home: `prodlens demo` loads the bundled samples, builds every
model and test, publishes, and prints the summary. Also checks that dbt's docs generate."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from prodlens.home import Home
from tests.conftest import REPO_ROOT, prodlens, query
from tests.report.demo_run import shared_demo

SAMPLES = REPO_ROOT / "sample_data" / "litellm"


def sample_lines() -> int:
    """Non-blank input records in the bundled samples, counted independently of the loader."""
    total = 0
    for path in SAMPLES.rglob("*"):
        if path.name.endswith(".jsonl.gz"):
            with gzip.open(path, "rt") as fh:
                total += sum(1 for line in fh if line.strip())
        elif path.suffix in {".jsonl", ".ndjson"}:
            total += sum(1 for line in path.read_text().splitlines() if line.strip())
        elif path.suffix == ".json":
            doc = json.loads(path.read_text())
            total += len(doc) if isinstance(doc, list) else 1
    return total


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, str]:
    """The session's one `prodlens demo` run (tests/report/demo_run.py), on a fresh home."""
    run = shared_demo(tmp_path_factory)
    return run.home, run.stdout


def test_demo_prints_summary_and_reconciles(demo_home: tuple[Home, str]) -> None:
    home, out = demo_home
    assert f"{sample_lines()} lines read" in out
    for title in ("Cost by model (USD)", "Requests per developer", "Error rate"):
        assert title in out
    sessions = query(home, "select count(*) as n, count(distinct trace_hash) as k from marts.sessions")[0]
    rejected = query(home, "select count(*) as n from marts.rejected_traces")[0]["n"]
    # the September log repeats one record: read = loaded + 1 duplicate + dead letters
    assert sessions["n"] == sessions["k"] == sample_lines() - 1 - rejected
    assert rejected == 5


def test_demo_marts_cover_every_shape(demo_home: tuple[Home, str]) -> None:
    home, _ = demo_home
    rows = query(
        home,
        """
        select
            count(*) filter (where source_file like '%openinference%') as openinference,
            count(*) filter (where source_file like '%custom-callback%') as custom_callback,
            count(*) filter (where source_file like '%otel-genai%') as otel,
            count(*) filter (where source_file like '%.jsonl.gz') as gzip,
            count(*) filter (where source_file like '%/s3/%.json') as s3_json,
            count(*) filter (where tenant_id = 'globex') as globex,
            count(*) filter (where pricing_status = 'default') as unpriced,
            count(*) filter (where cost_usd is null) as no_cost
        from marts.sessions
        """,
    )[0]
    assert rows == {
        "openinference": 150,
        "custom_callback": 150,
        "otel": 100,
        "gzip": 900,
        "s3_json": 72,
        "globex": 60,
        "unpriced": 0,
        "no_cost": 0,
    }


def test_published_cost_matches_hand_formula_on_one_request(demo_home: tuple[Home, str]) -> None:
    home, _ = demo_home
    row = query(
        home,
        """
        select tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_usd, model
        from marts.sessions
        where model = 'anthropic/claude-sonnet-4-20250514' and cache_read_tokens > 0
        order by trace_hash limit 1
        """,
    )[0]
    expected = (
        (row["tokens_in"] - row["cache_read_tokens"] - row["cache_write_tokens"]) * 3.0
        + row["cache_read_tokens"] * 0.30
        + row["cache_write_tokens"] * 3.75
        + row["tokens_out"] * 15.0
    ) / 1e6
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-12)


def test_dbt_docs_generate(demo_home: tuple[Home, str]) -> None:
    home, _ = demo_home
    prodlens("docs", home=home)
    catalog = json.loads((home.dbt_target / "catalog.json").read_text())
    assert any(key.endswith(".sessions") for key in catalog["nodes"])
    assert (home.dbt_target / "index.html").exists()


def test_demo_is_repeatable(demo_home: tuple[Home, str], tmp_path: Path) -> None:
    """A second demo on the same home loads nothing new and publishes the same marts (the other tests
    of the shared demo may run after this one: they see the same data)."""
    home, _ = demo_home
    before = query(home, "select count(*) as n, round(sum(cost_usd), 9) as c from marts.sessions")[0]
    out = prodlens("demo", home=home, cwd=tmp_path).stdout
    assert "0 loaded" in out
    assert query(home, "select count(*) as n, round(sum(cost_usd), 9) as c from marts.sessions")[0] == before


@pytest.mark.parametrize(
    "sql",
    [
        "attach '{home}/warehouse.duckdb' as working",  # the private working database
        "select * from read_csv('{home}/hash.key')",  # the e-mail HMAC key
        "copy (select * from sessions) to '{home}/../leak.csv'",
        "export database '{home}/../exported'",
        "select * from glob('{home}/*')",
        "set enable_external_access = true",
        "load httpfs",
    ],
)
def test_query_reads_the_published_marts_and_nothing_else(demo_home: tuple[Home, str], sql: str) -> None:
    home, _ = demo_home
    proc = prodlens("query", sql.format(home=home.root), home=home, check=False)
    assert proc.returncode != 0
    message = proc.stderr.strip().splitlines()
    assert len(message) == 1, proc.stderr  # one clear line, no traceback
    assert "query refused" in message[0] or "configuration has been locked" in message[0], message
    assert not (home.root.parent / "leak.csv").exists() and not (home.root.parent / "exported").exists()
    # the marts are still there to read
    assert query(home, "select count(*) > 0 as ok from sessions") == [{"ok": True}]


def test_query_allow_files_reads_that_folder_only_and_never_writes(
    demo_home: tuple[Home, str], tmp_path: Path
) -> None:
    home, _ = demo_home
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "teams.csv").write_text("developer_id,team\nalice@acme.dev,core\n")
    (tmp_path / "elsewhere.csv").write_text("a\n1\n")
    joined = prodlens(
        "query",
        f"select t.team, count(*) as n from sessions s join read_csv('{shared}/teams.csv') t using (developer_id) "
        "group by all",
        "--format",
        "json",
        "--allow-files",
        str(shared),
        home=home,
    )
    alice = query(home, "select count(*) as n from sessions where developer_id = 'alice@acme.dev'")[0]["n"]
    assert json.loads(joined.stdout) == [{"team": "core", "n": alice}]
    refused = [
        f"select * from read_csv('{tmp_path}/elsewhere.csv')",  # outside the allowed folder
        f"copy (select * from sessions) to '{shared}/leak.csv'",  # a write inside it
        f"export database '{shared}/exported'",
        f"attach '{shared}/x.duckdb' as x",
    ]
    for sql in refused:
        proc = prodlens("query", sql, "--allow-files", str(shared), home=home, check=False)
        assert proc.returncode != 0 and "query refused" in proc.stderr, (sql, proc.stderr)
    assert sorted(p.name for p in shared.iterdir()) == ["teams.csv"]
    # the home's private files can never be allowed; its Parquet tree can
    for folder in (home.root, home.root.parent):
        proc = prodlens("query", "select 1", "--allow-files", str(folder), home=home, check=False)
        message = proc.stderr.strip().splitlines()
        assert proc.returncode != 0 and len(message) == 1 and "never reads" in message[0], proc.stderr
    missing = prodlens("query", "select 1", "--allow-files", str(tmp_path / "nope"), home=home, check=False)
    assert missing.returncode != 0 and "not a directory" in missing.stderr


def test_a_repository_tag_does_not_entitle_a_tenant_to_its_github_figures(
    demo_home: tuple[Home, str],
) -> None:
    """The sample's exports carry no tenant (so `default`) but tag acme's repositories; only acme is mapped
    to them (seeds/tenant_repositories.csv): default keeps its AI figures and gets no GitHub ones."""
    home, _ = demo_home
    assert query(home, "select * from marts.repository_entitlements order by repo_slug") == [
        {"tenant_id": "acme", "repo_slug": "acme/api", "entitlement_source": "seed"},
        {"tenant_id": "acme", "repo_slug": "acme/web", "entitlement_source": "seed"},
    ]
    figures = {
        r["tenant_id"]: r
        for r in query(
            home,
            "select tenant_id, request_count, merged_pr_count, commit_count, cost_per_merged_pr "
            "from marts.report_metrics where period_type = 'all' and repo_slug = 'acme/web'",
        )
    }
    merged = query(
        home,
        "select count(*) as n from marts.pull_requests where repo_slug = 'acme/web' and merged_at is not null "
        "and not is_bot",
    )[0]["n"]
    assert figures["acme"]["merged_pr_count"] == merged > 0
    assert figures["default"]["request_count"] > 0
    assert (
        figures["default"]["merged_pr_count"],
        figures["default"]["commit_count"],
        figures["default"]["cost_per_merged_pr"],
    ) == (None, None, None)
    pairs = query(home, "select distinct tenant_id, repo_slug from marts.correlation_series order by all")
    assert pairs == [
        {"tenant_id": "acme", "repo_slug": "acme/api"},
        {"tenant_id": "acme", "repo_slug": "acme/web"},
    ]
    roi = query(
        home,
        "select tenant_id, count(merged_prs_30d) as with_github from marts.customer_roi_snapshots group by all "
        "order by all",
    )
    assert {r["tenant_id"]: r["with_github"] > 0 for r in roi} == {
        "acme": True,
        "default": False,
        "globex": False,
    }
