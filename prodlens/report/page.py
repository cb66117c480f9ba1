"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network)."""

from __future__ import annotations

from typing import Any

from prodlens.report import charts
from prodlens.report.content import ACCEPTANCE_SECTIONS, FIGURES, NOT_TRACKED, policy_note
from prodlens.report.data import ReportData
from prodlens.report.reading import (
    association_reading,
    effect_reading,
    fmt_number,
    fmt_p,
    fmt_pct,
    fmt_r,
    fmt_usd,
    label,
    savings_text,
)
from prodlens.report.svg import esc

CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       background: #f5f7fa; }
main { max-width: 1040px; margin: 0 auto; padding: 24px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
.sub, .caption, .note { color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
          margin: 16px 0; }
h2 { margin: 0 0 12px; font-size: 18px; }
h3 { margin: 16px 0 6px; font-size: 14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px;
         background: none; border: 0; padding: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.card .detail { color: var(--muted); font-size: 12px; }
figure { margin: 8px 0 18px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { display: block; max-width: 100%; height: auto; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; color: var(--muted); }
.legend .key i { display: inline-block; width: 18px; margin-right: 6px; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.significant td { background: #eaf4fb; font-weight: 600; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll thead th { position: sticky; top: 0; background: #fff; }
.warning { background: #fff8e6; border-left: 4px solid #E69F00; padding: 8px 12px; }
ul.read { padding-left: 20px; }
footer { color: var(--muted); font-size: 12px; margin: 24px 0; }
"""


def _value(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "fraction":
        return fmt_pct(float(value))
    if unit == "USD":
        return fmt_usd(float(value))
    return fmt_number(value)


def _card(metric: str, title: str, value: str, detail: str) -> str:
    return (
        f'<div class="card" data-metric="{esc(metric)}"><div class="label">{esc(title)}</div>'
        f'<div class="value">{esc(value)}</div><div class="detail">{esc(detail)}</div></div>'
    )


def headline(data: ReportData) -> str:
    m = data.metrics
    s = data.savings
    cards = [
        _card(
            "total_cost_usd",
            "AI cost",
            fmt_usd(m.get("total_cost_usd")),
            f"{m.get('request_count'):,} requests",
        ),
        _card(
            "cost_per_merged_pr",
            "Cost per merged PR",
            fmt_usd(m.get("cost_per_merged_pr")),
            f"{m.get('merged_pr_count')} PRs merged",
        ),
        _card(
            "error_rate",
            "Error rate",
            fmt_pct(m.get("error_rate")),
            f"{m.get('error_count')} failed requests",
        ),
        _card(
            "acceptance_rate",
            "Acceptance rate",
            NOT_TRACKED if not m.get("acceptance_tracked_count") else fmt_pct(m.get("acceptance_rate")),
            f"{m.get('accepted_count')} accepted, n tracked {fmt_number(m.get('acceptance_tracked_count') or 0)}",
        ),
        _card("savings", "Routing savings", fmt_usd(s.total_savings_30d if s else None), savings_text(s)),
    ]
    return f'<section id="headline" class="cards">{"".join(cards)}</section>'


def _figure_table(data: ReportData, sections: tuple[str, ...], table_id: str) -> str:
    rows = []
    for figure in FIGURES:
        if figure.section not in sections or not figure.in_csv:
            continue
        n = data.metrics.get(figure.n_column) if figure.n_column else None
        note = policy_note(data) if figure.section == "model_selection_accuracy" else figure.note
        value = _value(data.metrics.get(figure.column), figure.unit)
        n_text = fmt_number(n)
        if figure.section in ACCEPTANCE_SECTIONS:
            tracked = data.metrics.get("acceptance_tracked_count") or 0
            n_text = f"{n_text} (n tracked {fmt_number(tracked)})"
            if not tracked:
                value = NOT_TRACKED
        rows.append(
            f'<tr data-metric="{esc(figure.metric)}"><td>{esc(figure.metric)}</td>'
            f'<td class="num">{esc(value)}</td>'
            f'<td>{esc(figure.unit)}</td><td class="num">{esc(n_text)}</td><td>{esc(note)}</td></tr>'
        )
    return (
        f'<table id="{table_id}"><thead><tr><th>metric</th><th>value</th><th>unit</th><th>n</th>'
        f"<th>definition</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _figure(chart: str, caption: str) -> str:
    return f"<figure><figcaption>{esc(caption)}</figcaption>{chart}</figure>"


def ai_use(data: ReportData) -> str:
    return (
        '<section id="ai-use"><h2>AI use</h2>'
        + _figure(charts.daily_cost_chart(data), f"Daily AI cost by model, {data.request.repo}")
        + _figure(
            charts.latency_chart(data),
            f"Latency p50 / p95 by provider (all repositories of tenant {data.tenant_id})",
        )
        + _figure_table(
            data,
            (
                "ai_interaction_velocity",
                "acceptance_rate",
                "model_selection_accuracy",
                "error_rate",
                "token_efficiency",
                "acceptance_quality",
                "cost_metrics",
            ),
            "ai-metrics",
        )
        + "</section>"
    )


def outcomes(data: ReportData) -> str:
    return (
        '<section id="outcomes"><h2>Engineering outcomes</h2>'
        + _figure_table(
            data,
            ("pr_throughput", "commit_frequency", "pr_merge_time_hours", "rework_rate"),
            "outcome-metrics",
        )
        + "</section>"
    )


def _window_note(data: ReportData) -> str:
    first = data.associations[0] if data.associations else None
    if first is None:
        return (
            '<p class="warning">marts.correlation_cache holds no correlations for this tenant and repository '
            "(no data, or outside the build's window vars).</p>"
        )
    text = (
        f"The build computed these correlations over the daily series of {first.window_start} to "
        f"{first.window_end} (as of {first.correlation_date})"
    )
    if (first.window_start, first.window_end) == (data.period_start, data.period_end):
        return f'<p class="note">{esc(text)}, the same days as this report.</p>'
    return (
        f'<p class="note">{esc(text)}; this report\'s window is {data.period_start} to {data.period_end}. '
        "To correlate exactly the report's window, rebuild with <code>prodlens build -- --vars "
        "'{stats_window_start: YYYY-MM-DD, stats_window_end: YYYY-MM-DD}'</code>.</p>"
    )


def associations(data: ReportData) -> str:
    rows = []
    for a in data.associations:
        cls = ' class="significant"' if a.significant else ""
        rows.append(
            f'<tr{cls} data-x="{esc(a.x_metric)}" data-y="{esc(a.y_metric)}" data-lag="{a.lag_days}">'
            f"<td>{esc(label(a.x_metric))}</td><td>{esc(label(a.y_metric))}</td>"
            f'<td class="num">{a.lag_days}</td><td class="num">{a.sample_size}</td>'
            f'<td class="num">{fmt_r(a.pearson_r)}</td><td class="num">{fmt_r(a.spearman_r)}</td>'
            f'<td class="num">{fmt_r(a.raw_pearson_r)}</td><td class="num">{fmt_p(a.pearson_p_adjusted)}</td>'
            f"<td>{esc(association_reading(a))}</td></tr>"
        )
    fam = data.family
    shown = len(data.associations)
    summary = (
        f"{shown} tests shown (lags 0 to {data.request.lag_days}); {fam.significant} of the {fam.size} tests in "
        f"the family are significant after Benjamini–Hochberg adjustment at FDR {fam.fdr:g}."
        if fam.fdr is not None
        else "No tests."
    )
    kind = (
        "the series with their trend and weekday pattern removed (p corrected for autocorrelation)"
        if any(a.detrended for a in data.associations)
        else "daily levels"
    )
    return (
        '<section id="association"><h2>AI use and outcomes</h2>'
        + _window_note(data)
        + _figure(charts.requests_commits_chart(data), "Daily AI requests against commits")
        + _figure(charts.lag_profile_chart(data), "Correlation of requests with commits by lag")
        + f'<h3>All associations</h3><p class="note">{esc(summary)} r is computed on {kind}; raw r on the '
        "daily levels. A row is highlighted when its adjusted p is below the FDR.</p>"
        + '<div class="scroll"><table id="associations"><thead><tr><th>AI use</th><th>outcome</th>'
        "<th>lag (days)</th><th>n</th><th>r</th><th>rho</th><th>raw r</th><th>adjusted p</th><th>reading</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def effects(data: ReportData) -> str:
    rows = []
    for e in data.effects:
        name = e.metric + (f" · {e.model}" if e.model else "")
        ci = "–" if e.ci_low is None else f"{e.ci_low:.3f} to {e.ci_high:.3f}"
        rows.append(
            f'<tr data-metric="{esc(e.metric)}"><td>{esc(name)}</td>'
            f'<td class="num">{esc(fmt_number(e.value, 3))}</td><td class="num">{esc(ci)}</td>'
            f'<td class="num">{esc(fmt_number(e.n))}</td><td>{esc(effect_reading(e))}</td></tr>'
        )
    return (
        '<section id="effects"><h2>Effect sizes</h2>'
        f'<p class="note">Whole tenant {esc(data.tenant_id)} (all repositories), from marts.effect_sizes.</p>'
        + _figure(
            charts.latency_effect_chart(data.effects), "Latency of accepted against not-accepted requests"
        )
        + _figure(charts.acceptance_chart(data.effects), "Acceptance rate by model")
        + '<table id="effect-sizes"><thead><tr><th>effect</th><th>value</th><th>95% interval</th><th>n</th>'
        f"<th>reading</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def how_to_read(data: ReportData) -> str:
    fdr = data.family.fdr if data.family.fdr is not None else 0.05
    return f"""<section id="how-to-read"><h2>How to read this</h2><ul class="read">
<li><strong>Correlation is not causation.</strong> An association between AI use and commits says the two
move together, not that one causes the other: a busy release week brings more AI requests and more
commits at once, and a quiet holiday week brings fewer of both. Only an experiment (for example, comparing
similar teams with and without a tool) can show cause.</li>
<li><strong>Trends are removed.</strong> Two series that both grow over time always look related. r is
therefore computed on what is left after a linear trend and the weekly cycle are taken out; the raw
correlation of the daily levels is shown beside it.</li>
<li><strong>Many tests, few discoveries.</strong> The report runs {data.family.size} tests (AI measures ×
outcomes × lags). By chance alone about 1 in 20 would look "significant" at p &lt; 0.05, so p-values are
adjusted with the Benjamini–Hochberg procedure; only an adjusted p below {fdr:g} counts as a reliable
association.</li>
<li><strong>Busy days follow busy days.</strong> The p-values allow for it (an effective sample size
smaller than the number of days), so two series that merely both dip at weekends or drift together are
not reported as associated.</li>
<li><strong>Quiet days count.</strong> Days without AI requests or commits are included as zeros, not
dropped. A test needs enough days (n); with too few, or with a series that never changes, it is not
tested.</li>
<li><strong>Effect sizes</strong> say how large a difference is. Hedges' g is the difference in standard
deviations: below 0.2 negligible, below 0.5 small, below 0.8 medium, otherwise large. The 95% intervals show
how precisely the data pin it down; an interval that spans zero means the direction is uncertain.
Acceptance figures count only requests whose acceptance was tracked (n tracked).</li>
</ul></section>"""


def footer(data: ReportData) -> str:
    published = data.published_at.isoformat() if data.published_at else "unknown"
    notes = "".join(f"<br>Note: {esc(n)}" for n in data.request.notes)
    return (
        f"<footer>Generated {esc(data.generated_at.isoformat(timespec='seconds'))} by prodlens report from "
        f"{esc(data.database)} (published {esc(published)}). Figures: marts.report_metrics definitions, "
        "marts.correlation_cache, marts.correlation_series, marts.effect_sizes, marts.report_daily_figures, "
        f"marts.provider_performance, marts.customer_roi_snapshots. See docs/report.md.{notes}</footer>"
    )


def render_html(data: ReportData) -> str:
    r = data.request
    days = data.metrics.get("days_in_period")
    title = f"ProdLens report: {r.repo}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f'<header><h1>{esc(title)}</h1><p class="sub">Tenant {esc(data.tenant_id)} · {data.period_start} to '
        f"{data.period_end} ({days} days) · AI use and engineering outcomes</p></header>"
        + headline(data)
        + ai_use(data)
        + outcomes(data)
        + associations(data)
        + effects(data)
        + how_to_read(data)
        + footer(data)
        + "</main></body></html>\n"
    )
