"""Bar charts with error bars as inline SVG, for self-contained HTML reports."""

from __future__ import annotations

import html
from dataclasses import dataclass

PALETTE = ("#3b6fb6", "#d9822b", "#3a9d5d", "#b8453a", "#7d5ba6", "#8c6d31", "#c15c9c", "#5f6b73")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # 0..1
    low: float
    high: float


def bar_chart_svg(bars: list[Bar], title: str, width: int = 420, height: int = 220) -> str:
    """Vertical bars on a 0-100% axis, each with its interval as an error bar and its value on top."""
    left, right, top, bottom = 36, 8, 24, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(bars))
    bar_w = min(48.0, step * 0.6)

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, v)))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(title)}" style="font: 11px sans-serif; margin: 4px">',
        f'<text x="{left}" y="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>'
            f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#666">{int(tick * 100)}</text>'
        )
    for k, bar in enumerate(bars):
        cx = left + step * (k + 0.5)
        colour = PALETTE[k % len(PALETTE)]
        parts.append(
            f'<rect class="bar" data-label="{html.escape(bar.label)}" data-value="{bar.value:.4f}" '
            f'x="{cx - bar_w / 2:.1f}" y="{y(bar.value):.1f}" width="{bar_w:.1f}" '
            f'height="{top + plot_h - y(bar.value):.1f}" fill="{colour}"/>'
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(bar.low):.1f}" y2="{y(bar.high):.1f}" stroke="#222"/>'
            f'<line x1="{cx - 6:.1f}" x2="{cx + 6:.1f}" y1="{y(bar.low):.1f}" y2="{y(bar.low):.1f}" stroke="#222"/>'
            f'<line x1="{cx - 6:.1f}" x2="{cx + 6:.1f}" y1="{y(bar.high):.1f}" y2="{y(bar.high):.1f}" stroke="#222"/>'
            f'<text x="{cx:.1f}" y="{y(bar.high) - 4:.1f}" text-anchor="middle">{100 * bar.value:.1f}</text>'
            f'<text x="{cx:.1f}" y="{height - bottom + 14}" text-anchor="middle">{html.escape(bar.label[:18])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
