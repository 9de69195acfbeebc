"""Small inline-SVG charts: the HTML report must be one self-contained file that opens offline."""

from __future__ import annotations

import math
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")


def _fmt(v: float) -> str:
    if v >= 1e9:
        return f"{v / 1e9:.1f}G"
    if v >= 1e6:
        return f"{v / 1e6:.1f}M"
    if v >= 1e3:
        return f"{v / 1e3:.1f}K"
    return f"{v:.3g}" if isinstance(v, float) and not v.is_integer() else f"{int(v)}"


def hbar_chart(rows: list[tuple[str, list[float]]], series: list[str], title: str, log: bool = False,
               width: int = 720) -> str:
    """Horizontal bars, one row per label; several series are drawn side by side in a row."""
    if not rows:
        return f"<p class='empty'>{escape(title)}: no data</p>"
    bar_h, gap, right = 12, 6, 70
    left = min(320, 16 + 6 * max(len(label) for label, _ in rows))  # room for the longest label
    row_h = bar_h * len(series) + gap
    height = 40 + row_h * len(rows) + 20
    vmax = max((v for _, vals in rows for v in vals), default=1) or 1

    def scale(v: float) -> float:
        if v <= 0:
            return 0.0
        if log:
            return (width - left - right) * math.log10(v + 1) / math.log10(vmax + 1)
        return (width - left - right) * v / vmax

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
             f"aria-label='{escape(title)}'>", f"<text x='4' y='16' class='t'>{escape(title)}"
             f"{' (log scale)' if log else ''}</text>"]
    for j, name in enumerate(series):
        parts.append(f"<rect x='{left + j * 120}' y='24' width='10' height='10' fill='{PALETTE[j % 10]}'/>"
                     f"<text x='{left + j * 120 + 14}' y='33' class='l'>{escape(name)}</text>")
    y = 40
    for label, vals in rows:
        parts.append(f"<text x='{left - 6}' y='{y + bar_h}' text-anchor='end' class='l'>{escape(label)}</text>")
        for j, v in enumerate(vals):
            w = scale(v)
            parts.append(f"<rect x='{left}' y='{y + j * bar_h}' width='{w:.1f}' height='{bar_h - 2}' "
                         f"fill='{PALETTE[j % 10]}'><title>{escape(label)} {escape(series[j])}: {v:,.0f}</title></rect>")
            parts.append(f"<text x='{left + w + 4:.1f}' y='{y + j * bar_h + bar_h - 3}' class='v'>{_fmt(v)}</text>")
        y += row_h
    parts.append("</svg>")
    return "".join(parts)


def column_chart(points: list[tuple[str, float]], title: str, log: bool = False, width: int = 340,
                 height: int = 150) -> str:
    """Vertical columns (histograms): x labels in order, y values."""
    if not points:
        return f"<p class='empty'>{escape(title)}: no data</p>"
    left, bottom, top = 34, 28, 22
    inner_w, inner_h = width - left - 6, height - top - bottom
    vmax = max(v for _, v in points) or 1
    col_w = inner_w / len(points)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
             f"aria-label='{escape(title)}'>", f"<text x='4' y='14' class='t'>{escape(title)}</text>",
             f"<line x1='{left}' y1='{top + inner_h}' x2='{width - 6}' y2='{top + inner_h}' stroke='#999'/>",
             f"<text x='{left - 4}' y='{top + 8}' text-anchor='end' class='v'>{_fmt(vmax)}</text>"]
    step = max(1, len(points) // 6)
    for i, (label, v) in enumerate(points):
        frac = (math.log10(v + 1) / math.log10(vmax + 1)) if log else v / vmax
        h = inner_h * frac
        x = left + i * col_w
        parts.append(f"<rect x='{x + 1:.1f}' y='{top + inner_h - h:.1f}' width='{max(col_w - 2, 1):.1f}' "
                     f"height='{h:.1f}' fill='{PALETTE[0]}'><title>{escape(label)}: {v:,.0f}</title></rect>")
        if i % step == 0:
            parts.append(f"<text x='{x + col_w / 2:.1f}' y='{height - 12}' text-anchor='middle' class='v'>"
                         f"{escape(label)}</text>")
    parts.append("</svg>")
    return "".join(parts)
