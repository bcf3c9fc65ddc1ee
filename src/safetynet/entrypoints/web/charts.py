"""Charts drawn on the server as inline SVG (no script, no library): one bar per label, the value
written above each bar, so the numbers are there beside the picture."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart"]

WIDTH, HEIGHT, MARGIN = 720, 260, 40


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], unit: str = "") -> str:
    """An SVG bar chart (``values`` are whole numbers: counts, or yuan)."""
    top = max([*values, 1])
    n = max(len(values), 1)
    slot = (WIDTH - 2 * MARGIN) / n
    bar = max(slot * 0.7, 2)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#1b1b1b"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = (HEIGHT - 2 * MARGIN - 16) * value / top
        x = MARGIN + i * slot + (slot - bar) / 2
        y = HEIGHT - MARGIN - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="#0b3d91"/>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle">'
            f"{value:,}{escape(unit)}</text>"
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - MARGIN + 16}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
