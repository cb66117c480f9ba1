"""A few SVG primitives for the report's charts: scales with round ticks, axes, legends. Output is plain
markup strings, so the page works offline with no JavaScript or chart library.

Every data mark carries ``class="mark"`` and ``data-series`` / ``data-x`` / ``data-y`` attributes, and
every chart's root element ``data-points`` (its number of marks), so tests can read the charts back.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Okabe–Ito, distinguishable with the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#999999",
    "#000000",
)
INK = "#1f2933"
GRID = "#e4e7eb"
MUTED = "#616e7c"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def num(value: float) -> str:
    """A coordinate with two decimals at most."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (about `count` of them)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value < hi + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


@dataclass(frozen=True)
class Linear:
    """Maps the domain [d0, d1] onto the range [r0, r1]."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return (self.r0 + self.r1) / 2
        return self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)


@dataclass(frozen=True)
class Frame:
    width: int = 760
    height: int = 280
    left: int = 64
    right: int = 24
    top: int = 20
    bottom: int = 44

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        """Bottom of the plot area (SVG y grows downwards)."""
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


@dataclass(frozen=True)
class Days:
    """A band scale over consecutive days."""

    days: tuple[date, ...]
    frame: Frame

    @classmethod
    def between(cls, start: date, end: date, frame: Frame) -> Days:
        count = max((end - start).days + 1, 1)
        return cls(tuple(start + timedelta(days=i) for i in range(count)), frame)

    @property
    def band(self) -> float:
        return (self.frame.x1 - self.frame.x0) / max(len(self.days), 1)

    def index(self, day: date) -> int:
        return (day - self.days[0]).days

    def center(self, day: date) -> float:
        return self.frame.x0 + (self.index(day) + 0.5) * self.band

    def left(self, day: date) -> float:
        return self.frame.x0 + self.index(day) * self.band


def svg_open(chart_id: str, title: str, frame: Frame, points: int, extra: str = "") -> str:
    return (
        f'<svg id="{esc(chart_id)}" class="chart" data-chart="{esc(chart_id)}" data-points="{points}" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="100%" role="img" aria-label="{esc(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11"{extra}>'
        f"<title>{esc(title)}</title>"
    )


def y_axis(
    scale: Linear,
    ticks: Sequence[float],
    frame: Frame,
    fmt: Callable[[float], str],
    *,
    side: str = "left",
    label: str = "",
    grid: bool = True,
) -> str:
    parts = [f'<g class="axis y-axis {side}">']
    x = frame.x0 if side == "left" else frame.x1
    anchor, dx = ("end", -6) if side == "left" else ("start", 6)
    for tick in ticks:
        y = scale(tick)
        if grid:
            parts.append(
                f'<line x1="{num(frame.x0)}" x2="{num(frame.x1)}" y1="{num(y)}" y2="{num(y)}" stroke="{GRID}"/>'
            )
        parts.append(
            f'<text x="{num(x + dx)}" y="{num(y + 4)}" text-anchor="{anchor}" fill="{MUTED}">{esc(fmt(tick))}</text>'
        )
    if label:
        lx = 14 if side == "left" else frame.width - 6
        parts.append(
            f'<text transform="translate({lx},{num((frame.y0 + frame.y1) / 2)}) rotate(-90)" text-anchor="middle" '
            f'fill="{MUTED}">{esc(label)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def x_day_axis(days: Days, max_labels: int = 9) -> str:
    frame = days.frame
    step = max(1, math.ceil(len(days.days) / max_labels))
    parts = [
        f'<g class="axis x-axis"><line x1="{num(frame.x0)}" x2="{num(frame.x1)}" y1="{num(frame.y0)}" '
        f'y2="{num(frame.y0)}" stroke="{MUTED}"/>'
    ]
    for i in range(0, len(days.days), step):
        day = days.days[i]
        x = days.center(day)
        parts.append(
            f'<text x="{num(x)}" y="{num(frame.y0 + 16)}" text-anchor="middle" fill="{MUTED}">'
            f"{day.strftime('%b')} {day.day}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def legend(items: Sequence[tuple[str, str, bool]]) -> str:
    """An HTML legend: (label, colour, dashed)."""
    spans = []
    for text, swatch, dashed in items:
        style = f"border-top: 3px {'dashed' if dashed else 'solid'} {swatch}"
        spans.append(f'<span class="key"><i style="{style}"></i>{esc(text)}</span>')
    return f'<div class="legend">{"".join(spans)}</div>'


def empty_chart(chart_id: str, title: str, message: str, frame: Frame | None = None) -> str:
    frame = frame or Frame(height=120)
    return (
        svg_open(chart_id, title, frame, 0)
        + f'<text x="{frame.width / 2}" y="{frame.height / 2}" text-anchor="middle" fill="{MUTED}">{esc(message)}</text>'
        + "</svg>"
    )
