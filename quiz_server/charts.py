"""Small server-drawn SVG charts: nothing to vendor, nothing from a CDN, readable on a projector.

Every text that reaches the SVG is XML-escaped here, so a unit name cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 30, 34, 14, 24


def participation_chart(
    title: str, days: Sequence[str], daily: Sequence[int], rates: Sequence[float]
) -> str:
    """Bars: members taking part each day (left axis). Line: cumulative participation rate
    (right axis, 0–100 %)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([*daily, 1])
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.6, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" '
        f'role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" '
        f'x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
        f'<text class="tick rate" x="{LEFT + plot_w + 4}" y="{TOP + 4}">100%</text>',
        f'<text class="tick rate" x="{LEFT + plot_w + 4}" y="{TOP + plot_h}">0%</text>',
    ]
    for i, (day, n) in enumerate(zip(days, daily, strict=True)):
        h = plot_h * n / top
        x = LEFT + step * i + (step - bar_w) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{escape(day)}：{n} 人</title></rect>"
        )
    parts += _rate_line(rates, step, plot_h)
    parts += _day_labels(days, step, plot_h)
    parts.append("</svg>")
    return "".join(parts)


def _rate_line(rates: Sequence[float], step: float, plot_h: float) -> list[str]:
    if not rates:
        return []
    points = " ".join(
        f"{LEFT + step * i + step / 2:.1f},{TOP + plot_h * (1 - min(r, 1.0)):.1f}"
        for i, r in enumerate(rates)
    )
    last_x = LEFT + step * (len(rates) - 1) + step / 2
    last_y = TOP + plot_h * (1 - min(rates[-1], 1.0))
    return [
        f'<polyline class="rate-line" points="{points}"/>',
        f'<circle class="rate-dot" cx="{last_x:.1f}" cy="{last_y:.1f}" r="3"/>',
        f'<text class="tick rate" x="{last_x:.1f}" y="{max(last_y - 8, TOP + 8):.1f}" '
        'text-anchor="middle">'
        f"{rates[-1] * 100:.0f}%</text>",
    ]


def _day_labels(days: Sequence[str], step: float, plot_h: float) -> list[str]:
    """First, last and a few between: month-day only, so a week still fits a phone."""
    if not days:
        return []
    every = max(len(days) // 4, 1)
    shown = sorted({0, len(days) - 1, *range(0, len(days), every)})
    return [
        f'<text class="tick" x="{LEFT + step * i + step / 2:.1f}" y="{HEIGHT - 6}" '
        'text-anchor="middle">'
        f"{escape(days[i][5:])}</text>"
        for i in shown
    ]
