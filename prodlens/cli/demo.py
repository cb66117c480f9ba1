"""`prodlens demo`: load the bundled sample data, build, and print a short summary. Offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from prodlens.cli.query import format_table, run_query
from prodlens.home import Home
from prodlens.lock import add_wait_option, run_lock
from prodlens.project import sample_data_dir

SUMMARIES = {
    "Cost by model (USD)": """
        select model, count(*) as requests, round(sum(cost_usd), 4) as cost_usd,
               round(sum(proxy_cost_usd), 4) as proxy_cost_usd, any_value(pricing_status) as pricing
        from marts.sessions group by model order by cost_usd desc
    """,
    "Requests per developer": """
        select coalesce(developer_id, '(unknown)') as developer_id, count(*) as requests,
               sum(total_tokens) as tokens, round(sum(cost_usd), 4) as cost_usd
        from marts.sessions group by all order by requests desc
    """,
    "AI cost next to engineering output, per repository": """
        with ai as (
            select repo_slug, count(*) as requests, sum(cost_usd) as cost
            from marts.sessions where repo_slug is not null group by all
        ),
        gh as (
            select repo_slug, sum(merged_pr_count) as merged_prs, sum(commit_count) as commits
            from marts.daily_github_metrics group by all
        )
        select repo_slug, requests, round(cost, 2) as ai_cost_usd, merged_prs, commits,
               round(cost / nullif(merged_prs, 0), 2) as ai_cost_per_merged_pr
        from ai full outer join gh using (repo_slug) order by repo_slug
    """,
    "Error rate": """
        select count(*) as requests, count(*) filter (where status = 'error') as errors,
               round(100.0 * count(*) filter (where status = 'error') / count(*), 1) as error_rate_pct
        from marts.sessions
    """,
}


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="load the bundled sample data, build, and print a summary (offline)"
    )
    add_wait_option(demo)
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from prodlens.build import build_and_publish  # dbt, dlt and scipy load only for the demo itself
    from prodlens.demo.github_sample import load_github_sample
    from prodlens.ingest.traces import load_traces, summary_line
    from prodlens.report import demo_report

    home = Home.from_env()
    samples = sample_data_dir()
    with run_lock(home, args.wait, command="prodlens demo"):
        counts = load_traces(home, [str(samples / "litellm")], tenant=None)
        print(summary_line(counts))
        # after the traces: e-mail identity matching hashes the trace developer ids at GitHub load time
        for repo in load_github_sample(home).repos:
            print(repo.line())
        build_and_publish(home, quiet=True)
    for title, sql in SUMMARIES.items():
        columns, rows = run_query(home, sql)
        print(f"\n{title}\n{format_table(columns, rows)}")
    print(
        f'\nEverything is in {home.root}; query it with: prodlens query "select * from marts.sessions limit 5"'
    )
    report_path = Path("demo-report.html").resolve()
    report = demo_report(home, report_path)
    print(
        f"Report ({report.request.repo}, tenant {report.tenant_id}) written to {report_path}; open it in a browser"
    )
    return 0
