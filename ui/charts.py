"""Small charts as inline SVG for the page: lines against a numeric axis and bars by name.
The words (titles, ticks, legends) are text the browser sets, at 13 px or more, so they stay
sharp on a projector (web/page.css styles them); the colours are matplotlib's tab10,
one per series.
"""
from __future__ import annotations

import math
from html import escape

from matplotlib import colormaps

WIDTH, HEIGHT = 360, 230   # the drawing's own units: about a phone's width, so text stays >= 13 px
LEFT, RIGHT, TOP, BOTTOM = 56, 10, 30, 44   # room for the ticks and titles
COLOURS = ["#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in colormaps["tab10"](k)[:3]))
           for k in range(10)]


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round numbers from ``low`` to ``high``."""
    if high <= low:
        return [low]
    step = 10 ** math.floor(math.log10((high - low) / count))
    for factor in (1, 2, 5, 10):
        if (high - low) / (step * factor) <= count:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [round(first + k * step, 10) for k in range(int((high - first) / step + 1e-9) + 1)]


def _frame(title: str, x_title: str, y_title: str, y_ticks, y, x_marks: list[tuple[float, str]]) -> list[str]:
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'class="chart" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" class="chart-title">'
             f'{escape(title)}</text>']
    for value in y_ticks:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'class="chart-grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
    for x, label in x_marks:
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
                 f'{escape(x_title)}</text>')
    parts.append(f'<text transform="translate(14 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" '
                 f'text-anchor="middle">{escape(y_title)}</text>')
    return parts


def line_chart(series: dict[str, tuple[list[float], list[float]]], title: str, x_title: str,
               y_title: str, marker: float | None = None) -> str:
    """One line per named series of (xs, ys), a legend, and a vertical ``marker`` at an x."""
    xs = [x for values, _ in series.values() for x in values]
    ys = [v for _, values in series.values() for v in values]
    x_low, x_high = min(xs), max(xs)
    y_ticks = ticks(min(ys), max(ys))
    y_low, y_high = min(y_ticks[0], min(ys)), max(y_ticks[-1], max(ys))
    span_x, span_y = (x_high - x_low) or 1, (y_high - y_low) or 1
    x = lambda v: LEFT + (v - x_low) / span_x * (WIDTH - LEFT - RIGHT)           # noqa: E731
    y = lambda v: HEIGHT - BOTTOM - (v - y_low) / span_y * (HEIGHT - TOP - BOTTOM)  # noqa: E731
    parts = _frame(title, x_title, y_title, y_ticks, y, [(x(v), f"{v:g}") for v in ticks(x_low, x_high, 6)])
    for k, (name, (values_x, values_y)) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(values_x, values_y))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5">'
                     f'<title>{escape(name)}</title></polyline>')
        if 1 < len(series) <= 2:
            parts.append(f'<text x="{WIDTH - RIGHT - 4}" y="{TOP + 4 + 16 * k}" text-anchor="end" '
                         f'fill="{colour}" class="chart-legend">{escape(name)}</text>')
    if marker is not None:
        parts.append(f'<line x1="{x(marker):.1f}" x2="{x(marker):.1f}" y1="{TOP}" '
                     f'y2="{HEIGHT - BOTTOM}" class="chart-marker" data-x="{marker:g}"/>')
    parts.append("</svg>")
    if len(series) > 2:   # many lines: the key below the drawing, as HTML text
        parts.append('<p class="chart-key">' + " ".join(
            f'<span style="color: {COLOURS[k % len(COLOURS)]}">■ {escape(name)}</span>'
            for k, name in enumerate(series)) + "</p>")
    return f'<figure class="chart-box">{"".join(parts)}</figure>'



def bar_chart(names: list[str], values: list[float], title: str, y_title: str) -> str:
    """One bar per name with its value written above it; the axis starts at zero and ends a
    little above the largest value, so small differences show."""
    y_ticks = ticks(0, max(values) * 1.15 or 1)
    top = max(y_ticks[-1], max(values) * 1.15) or 1
    y = lambda v: HEIGHT - BOTTOM - v / top * (HEIGHT - TOP - BOTTOM)   # noqa: E731
    slot = (WIDTH - LEFT - RIGHT) / len(names)
    middle = lambda k: LEFT + (k + 0.5) * slot                          # noqa: E731
    labels = [(middle(k), name[:5]) for k, name in enumerate(names)]
    parts = _frame(title, "class", y_title, y_ticks, y, labels)
    for k, value in enumerate(values):
        parts.append(f'<rect x="{middle(k) - slot * 0.35:.1f}" y="{y(value):.1f}" '
                     f'width="{slot * 0.7:.1f}" height="{y(0) - y(value):.1f}" fill="{COLOURS[0]}">'
                     f'<title>{escape(names[k])}: {value:.2f}</title></rect>')
        parts.append(f'<text x="{middle(k):.1f}" y="{y(value) - 4:.1f}" text-anchor="middle">'
                     f'{value:.1f}</text>')
    parts.append("</svg>")
    return f'<figure class="chart-box">{"".join(parts)}</figure>'
