"""Small server-drawn SVG charts: nothing to vendor, nothing from a CDN, readable on a projector.

Every text that reaches the SVG is XML-escaped here, so a unit name cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Frame:
    """The drawing's size and margins in SVG units; the labels' size is set by the CSS class
    (`.chart .tick` 10 units, `.chart-large .tick` 18 units), the margins follow it."""

    width: int = 320
    height: int = 150
    left: int = 30
    right: int = 34
    top: int = 14
    bottom: int = 24
    css: str = "chart"
    day_labels: int = 4  # about how many days are labelled under the bars


SMALL = Frame()
# For a projector across a room: labels of 18 units in a chart shown ~600 px wide are ~34 px.
LARGE = Frame(
    height=190, left=50, right=58, top=24, bottom=40, css="chart chart-large", day_labels=2
)


def participation_chart(
    title: str,
    days: Sequence[str],
    daily: Sequence[int],
    rates: Sequence[float],
    frame: Frame = SMALL,
) -> str:
    """Bars: members taking part each day (left axis). Line: cumulative participation rate
    (right axis, 0–100 %)."""
    f = frame
    plot_w, plot_h = f.width - f.left - f.right, f.height - f.top - f.bottom
    top = max([*daily, 1])
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.6, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {f.width} {f.height}" class="{f.css}" '
        f'role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{f.left}" y1="{f.top + plot_h}" '
        f'x2="{f.left + plot_w}" y2="{f.top + plot_h}"/>',
        f'<text class="tick" x="{f.left - 4}" y="{f.top + 4}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{f.left - 4}" y="{f.top + plot_h}" text-anchor="end">0</text>',
        f'<text class="tick rate" x="{f.left + plot_w + 4}" y="{f.top + 4}">100%</text>',
        f'<text class="tick rate" x="{f.left + plot_w + 4}" y="{f.top + plot_h}">0%</text>',
    ]
    for i, (day, n) in enumerate(zip(days, daily, strict=True)):
        h = plot_h * n / top
        x = f.left + step * i + (step - bar_w) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{f.top + plot_h - h:.1f}" '
            f'width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{escape(day)}：{n} 人</title></rect>"
        )
    parts += _rate_line(f, rates, step, plot_h)
    parts += _day_labels(f, days, step)
    parts.append("</svg>")
    return "".join(parts)


def _rate_line(f: Frame, rates: Sequence[float], step: float, plot_h: float) -> list[str]:
    if not rates:
        return []
    points = " ".join(
        f"{f.left + step * i + step / 2:.1f},{f.top + plot_h * (1 - min(r, 1.0)):.1f}"
        for i, r in enumerate(rates)
    )
    last_x = f.left + step * (len(rates) - 1) + step / 2
    last_y = f.top + plot_h * (1 - min(rates[-1], 1.0))
    return [
        f'<polyline class="rate-line" points="{points}"/>',
        f'<circle class="rate-dot" cx="{last_x:.1f}" cy="{last_y:.1f}" r="3"/>',
        f'<text class="tick rate" x="{last_x:.1f}" y="{max(last_y - 8, f.top + 8):.1f}" '
        'text-anchor="middle">'
        f"{rates[-1] * 100:.0f}%</text>",
    ]


def _day_labels(f: Frame, days: Sequence[str], step: float) -> list[str]:
    """First, last and a few between: month-day only, so a week still fits a phone."""
    if not days:
        return []
    every = max(len(days) // f.day_labels, 1)
    shown = sorted({0, len(days) - 1, *range(0, len(days), every)})
    return [
        f'<text class="tick" x="{f.left + step * i + step / 2:.1f}" y="{f.height - f.bottom / 4}" '
        'text-anchor="middle">'
        f"{escape(days[i][5:])}</text>"
        for i in shown
    ]
