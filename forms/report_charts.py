"""Inline SVG bar charts for the monthly summary (page and PDF draw the same markup).

Hand-written SVG, no JavaScript and no external files: WeasyPrint draws it, a browser
draws it, and every label is escaped text.
"""

from markupsafe import Markup, escape

LEVEL_COLORS = {
    "yellow_bell": "#e0b400",
    "yellow_light": "#f2c200",
    "red_light": "#c8102e",
    "green": "#2e8b57",
}
CATEGORY_COLOR = "#3b6ea5"
FONT = "WenQuanYi Micro Hei, sans-serif"


def bar_chart(items: list[dict], *, title: str, colors: dict[str, str] | None = None,
              width: int = 300, height: int = 170) -> Markup:  # fmt: skip
    """Vertical bars for [{"key", "label", "cases"}], each with its count on top."""
    colors = colors or {}
    top, bottom, left, right = 36, 34, 8, 8
    plot_h = height - top - bottom
    n = max(len(items), 1)
    slot = (width - left - right) / n
    bar_w = min(44.0, slot * 0.6)
    peak = max([int(i["cases"]) for i in items] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"'
        f' font-family="{FONT}">',
        f'<text x="{width / 2:.1f}" y="15" font-size="12" text-anchor="middle"'
        f' font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"'
        ' stroke="#333" stroke-width="0.8"/>',
    ]
    for i, item in enumerate(items):
        count = int(item["cases"])
        h = plot_h * count / peak
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h - h
        cx = x + bar_w / 2
        color = colors.get(item["key"], CATEGORY_COLOR)
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}"'
            f' fill="{color}"><title>{escape(item["label"])}：{count}</title></rect>'
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{count}</text>'
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{top + plot_h + 14:.1f}" font-size="10"'
            f' text-anchor="middle">{escape(item["label"])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def report_charts(figures: dict) -> dict[str, Markup]:
    """The two charts every rendering shows: cases by level and by category at month end."""
    return {
        "by_level": bar_chart(figures["by_level"], title="按预警级别（件）", colors=LEVEL_COLORS),
        "by_category": bar_chart(figures["by_category"], title="按规则分类（件）"),
    }
