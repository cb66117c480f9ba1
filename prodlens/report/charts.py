"""The report's charts, rendered as inline SVG from :class:`~prodlens.report.data.ReportData`.

* ``chart-daily-cost``: daily AI cost, stacked by model (bars);
* ``chart-latency``: daily p50 (solid) and p95 (dashed) latency by provider (lines with points);
* ``chart-requests-commits``: daily AI requests (bars, left axis) against commits (line, right axis), with
  the strongest lagged correlation and its BH-adjusted p;
* ``chart-lag-profile``: Pearson r of requests against commits at each lag (bars, significant ones filled);
* ``chart-latency-effect`` and ``chart-acceptance``: effect sizes with their 95% intervals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prodlens.report.data import Effect, ReportData
from prodlens.report.reading import fmt_p, fmt_pct, fmt_r, fmt_usd
from prodlens.report.svg import (
    GRID,
    INK,
    MUTED,
    Days,
    Frame,
    Linear,
    color,
    empty_chart,
    esc,
    legend,
    nice_ticks,
    num,
    svg_open,
    x_day_axis,
    y_axis,
)


def _usd_tick(value: float) -> str:
    return f"${value:,.2f}" if value < 10 else f"${value:,.0f}"


def _plain_tick(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def daily_cost_chart(data: ReportData) -> str:
    title = "Daily AI cost by model (USD)"
    if not data.daily_cost:
        return empty_chart("chart-daily-cost", title, "no requests in the window")
    frame = Frame()
    days = Days.between(data.period_start, data.period_end, frame)
    totals: dict[str, float] = defaultdict(float)
    per_day: dict = defaultdict(float)
    for row in data.daily_cost:
        totals[row.model] += row.cost_usd
        per_day[row.event_date] += row.cost_usd
    models = sorted(totals, key=lambda m: (-totals[m], m))
    ticks = nice_ticks(0, max(per_day.values()) or 1.0)
    y = Linear(0, ticks[-1], frame.y0, frame.y1)
    width = max(days.band * 0.8, 1.0)
    stacked: dict = defaultdict(float)
    marks = []
    by_model = sorted(data.daily_cost, key=lambda r: (r.event_date, models.index(r.model)))
    for row in by_model:
        base = stacked[row.event_date]
        top = base + row.cost_usd
        stacked[row.event_date] = top
        x = days.left(row.event_date) + (days.band - width) / 2
        marks.append(
            f'<rect class="mark" data-series="{esc(row.model)}" data-x="{row.event_date}" '
            f'data-y="{row.cost_usd!r}" x="{num(x)}" y="{num(y(top))}" width="{num(width)}" '
            f'height="{num(max(y(base) - y(top), 0))}" fill="{color(models.index(row.model))}">'
            f"<title>{row.event_date} · {esc(row.model)} · {fmt_usd(row.cost_usd)} ({row.requests} requests)</title>"
            "</rect>"
        )
    svg = (
        svg_open("chart-daily-cost", title, frame, len(marks))
        + y_axis(y, ticks, frame, _usd_tick)
        + x_day_axis(days)
        + "".join(marks)
        + "</svg>"
    )
    return svg + legend([(m, color(i), False) for i, m in enumerate(models)])


def latency_chart(data: ReportData) -> str:
    title = "Daily latency by provider: p50 (solid) and p95 (dashed), ms"
    rows = [r for r in (data.latency or []) if r.p50_ms is not None or r.p95_ms is not None]
    if not rows:
        why = (
            "marts.provider_performance is not in the database" if data.latency is None else "no latency data"
        )
        return empty_chart("chart-latency", title, why)
    frame = Frame()
    days = Days.between(data.period_start, data.period_end, frame)
    providers = sorted({r.provider for r in rows})
    top = max(v for r in rows for v in (r.p50_ms, r.p95_ms) if v is not None)
    ticks = nice_ticks(0, top)
    y = Linear(0, ticks[-1], frame.y0, frame.y1)
    lines, marks, keys = [], [], []
    for i, provider in enumerate(providers):
        mine = sorted((r for r in rows if r.provider == provider), key=lambda r: r.event_date)
        for stat, dashed in (("p50", False), ("p95", True)):
            series = f"{provider} {stat}"
            points = [(r, getattr(r, f"{stat}_ms")) for r in mine if getattr(r, f"{stat}_ms") is not None]
            path, previous = [], None
            for r, value in points:
                command = "L" if previous is not None and (r.event_date - previous).days == 1 else "M"
                path.append(f"{command}{num(days.center(r.event_date))},{num(y(value))}")
                previous = r.event_date
                marks.append(
                    f'<circle class="mark" data-series="{esc(series)}" data-x="{r.event_date}" data-y="{value!r}" '
                    f'cx="{num(days.center(r.event_date))}" cy="{num(y(value))}" r="2.5" fill="{color(i)}">'
                    f"<title>{r.event_date} · {esc(series)} · {value:,.0f} ms ({r.requests} requests)</title></circle>"
                )
            dash = ' stroke-dasharray="5 4"' if dashed else ""
            lines.append(
                f'<path class="line" data-series="{esc(series)}" d="{" ".join(path)}" fill="none" '
                f'stroke="{color(i)}" stroke-width="1.6"{dash}/>'
            )
            keys.append((series, color(i), dashed))
    svg = (
        svg_open("chart-latency", title, frame, len(marks))
        + y_axis(y, ticks, frame, _plain_tick, label="ms")
        + x_day_axis(days)
        + "".join(lines)
        + "".join(marks)
        + "</svg>"
    )
    return svg + legend(keys)


def strongest_caption(data: ReportData) -> str:
    a = data.strongest()
    if a is None:
        return "No lag of requests against commits could be tested (see the table below for why)."
    lag = "the same day" if a.lag_days == 0 else f"{a.lag_days} day{'s' if a.lag_days != 1 else ''} later"
    verdict = "significant" if a.significant else "not significant"
    kind = "trend and weekday removed" if a.detrended else "daily levels"
    return (
        f"Strongest lagged correlation: requests against commits {lag}, Pearson r = {fmt_r(a.pearson_r)} "
        f"({kind}, n = {a.sample_size}), Benjamini–Hochberg adjusted p = {fmt_p(a.pearson_p_adjusted)}: "
        f"{verdict} at FDR {a.fdr:g}."
    )


def requests_commits_chart(data: ReportData) -> str:
    title = "Daily AI requests (bars, left) against commits (line, right)"
    if not data.activity:
        return empty_chart("chart-requests-commits", title, "no daily series for this repository")
    frame = Frame(right=56)
    days = Days.between(data.period_start, data.period_end, frame)
    request_ticks = nice_ticks(0, max(r.requests for r in data.activity) or 1)
    commit_ticks = nice_ticks(0, max(r.commits for r in data.activity) or 1)
    y_left = Linear(0, request_ticks[-1], frame.y0, frame.y1)
    y_right = Linear(0, commit_ticks[-1], frame.y0, frame.y1)
    width = max(days.band * 0.7, 1.0)
    marks: list[str] = []
    path: list[str] = []
    for r in data.activity:
        x = days.left(r.event_date) + (days.band - width) / 2
        marks.append(
            f'<rect class="mark" data-series="requests" data-x="{r.event_date}" data-y="{r.requests}" '
            f'x="{num(x)}" y="{num(y_left(r.requests))}" width="{num(width)}" '
            f'height="{num(frame.y0 - y_left(r.requests))}" fill="{color(0)}" fill-opacity="0.55">'
            f"<title>{r.event_date} · {r.requests} requests</title></rect>"
        )
    for r in data.activity:
        cx, cy = days.center(r.event_date), y_right(r.commits)
        path.append(f"{'L' if path else 'M'}{num(cx)},{num(cy)}")
        marks.append(
            f'<circle class="mark" data-series="commits" data-x="{r.event_date}" data-y="{r.commits}" '
            f'cx="{num(cx)}" cy="{num(cy)}" r="2.5" fill="{color(5)}">'
            f"<title>{r.event_date} · {r.commits} commits</title></circle>"
        )
    line = f'<path class="line" data-series="commits" d="{" ".join(path)}" fill="none" stroke="{color(5)}" stroke-width="1.6"/>'
    strongest = data.strongest()
    extra = f' data-strongest-lag="{strongest.lag_days}"' if strongest else ""
    svg = (
        svg_open("chart-requests-commits", title, frame, len(marks), extra)
        + y_axis(y_left, request_ticks, frame, _plain_tick, label="requests")
        + y_axis(y_right, commit_ticks, frame, _plain_tick, side="right", label="commits", grid=False)
        + x_day_axis(days)
        + "".join(marks[: len(data.activity)])
        + line
        + "".join(marks[len(data.activity) :])
        + "</svg>"
    )
    keys = legend([("AI requests", color(0), False), ("commits", color(5), False)])
    return svg + keys + f'<p class="caption" id="strongest-correlation">{esc(strongest_caption(data))}</p>'


def lag_profile_chart(data: ReportData) -> str:
    title = "Pearson r of requests against commits at each lag (filled = significant after BH)"
    rows = [a for a in data.associations if a.x_metric == "requests" and a.y_metric == "commits"]
    tested = [a for a in rows if a.pearson_r is not None]
    if not tested:
        return empty_chart("chart-lag-profile", title, "no lag could be tested")
    frame = Frame(height=200)
    lags = [a.lag_days for a in rows]
    band = (frame.x1 - frame.x0) / len(lags)
    y = Linear(-1, 1, frame.y0, frame.y1)
    parts = [y_axis(y, [-1, -0.5, 0, 0.5, 1], frame, lambda v: f"{v:+.1f}" if v else "0", label="r")]
    parts.append(
        f'<line x1="{frame.x0}" x2="{frame.x1}" y1="{num(y(0))}" y2="{num(y(0))}" stroke="{MUTED}"/>'
    )
    marks = []
    for i, a in enumerate(rows):
        x = frame.x0 + (i + 0.25) * band
        parts.append(
            f'<text x="{num(x + band / 4)}" y="{num(frame.y0 + 16)}" text-anchor="middle" fill="{MUTED}">'
            f"lag {a.lag_days}</text>"
        )
        if a.pearson_r is None:
            continue
        top, bottom = sorted((y(a.pearson_r), y(0)))
        fill = color(0) if a.significant else "none"
        marks.append(
            f'<rect class="mark" data-series="requests~commits" data-x="{a.lag_days}" data-y="{a.pearson_r!r}" '
            f'data-significant="{str(a.significant).lower()}" x="{num(x)}" y="{num(top)}" width="{num(band / 2)}" '
            f'height="{num(max(bottom - top, 0.5))}" fill="{fill}" stroke="{color(0)}">'
            f"<title>lag {a.lag_days}: r = {fmt_r(a.pearson_r)}, adjusted p = {fmt_p(a.pearson_p_adjusted)}, "
            f"n = {a.sample_size}</title></rect>"
        )
    return (
        svg_open("chart-lag-profile", title, frame, len(marks)) + "".join(parts) + "".join(marks) + "</svg>"
    )


@dataclass(frozen=True)
class Interval:
    label: str
    value: float
    low: float
    high: float
    n: int | None


def interval_chart(
    chart_id: str,
    title: str,
    rows: Sequence[Interval],
    domain: tuple[float, float],
    fmt: Callable[[float], str],
    *,
    zero_band: float | None = None,
) -> str:
    """A forest plot: one row per interval, a point at the value and whiskers to the 95% bounds."""
    if not rows:
        return empty_chart(chart_id, title, "not computed")
    row_height = 30
    frame = Frame(height=40 + row_height * len(rows) + 30, left=250, top=16, bottom=34)
    x = Linear(domain[0], domain[1], frame.x0, frame.x1)
    ticks = nice_ticks(domain[0], domain[1], 6)
    ticks = [t for t in ticks if domain[0] - 1e-9 <= t <= domain[1] + 1e-9]
    parts = []
    if zero_band is not None:
        parts.append(
            f'<rect x="{num(x(-zero_band))}" y="{frame.y1}" width="{num(x(zero_band) - x(-zero_band))}" '
            f'height="{num(frame.y0 - frame.y1)}" fill="{GRID}"><title>|g| &lt; {zero_band}: negligible</title></rect>'
        )
    for t in ticks:
        parts.append(
            f'<line x1="{num(x(t))}" x2="{num(x(t))}" y1="{frame.y1}" y2="{num(frame.y0)}" stroke="{GRID}"/>'
            f'<text x="{num(x(t))}" y="{num(frame.y0 + 16)}" text-anchor="middle" fill="{MUTED}">{esc(fmt(t))}</text>'
        )
    marks = []
    for i, row in enumerate(rows):
        cy = frame.y1 + 14 + i * row_height
        parts.append(
            f'<text x="{frame.x0 - 8}" y="{num(cy + 4)}" text-anchor="end" fill="{INK}">{esc(row.label)}</text>'
        )
        marks.append(
            f'<g class="mark" data-series="{esc(row.label)}" data-y="{row.value!r}" data-low="{row.low!r}" '
            f'data-high="{row.high!r}"><title>{esc(row.label)}: {esc(fmt(row.value))} (95% interval '
            f"{esc(fmt(row.low))} to {esc(fmt(row.high))}{'' if row.n is None else f', n = {row.n}'})</title>"
            f'<line x1="{num(x(row.low))}" x2="{num(x(row.high))}" y1="{num(cy)}" y2="{num(cy)}" stroke="{INK}" '
            f'stroke-width="1.5"/><circle cx="{num(x(row.value))}" cy="{num(cy)}" r="4.5" fill="{color(0)}"/></g>'
        )
    return svg_open(chart_id, title, frame, len(marks)) + "".join(parts) + "".join(marks) + "</svg>"


def _interval(label: str, e: Effect) -> Interval | None:
    if e.value is None or e.ci_low is None or e.ci_high is None:
        return None
    return Interval(label, e.value, e.ci_low, e.ci_high, e.n)


def latency_effect_chart(effects: Sequence[Effect]) -> str:
    found = [
        _interval("latency: accepted vs. not accepted", e) for e in effects if e.metric == "latency_cohens_d"
    ]
    rows = [r for r in found if r is not None]
    reach = max([1.0, *(abs(v) for r in rows for v in (r.low, r.high))])
    return interval_chart(
        "chart-latency-effect",
        "Hedges' g of latency with its 95% CI (grey band: negligible, |g| < 0.2)",
        rows,
        (-reach, reach),
        lambda v: f"{v:+.2f}" if v else "0",
        zero_band=0.2,
    )


def acceptance_chart(effects: Sequence[Effect]) -> str:
    found = [_interval(e.model or "unknown", e) for e in effects if e.metric == "model_acceptance_rate"]
    rows = [r for r in found if r is not None]
    return interval_chart(
        "chart-acceptance",
        "Acceptance rate by model with Wilson 95% intervals",
        rows,
        (0.0, 1.0),
        lambda v: fmt_pct(v, 0),
    )
