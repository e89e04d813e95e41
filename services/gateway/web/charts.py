"""Bar charts drawn on the server as SVG: no script, no image from anywhere, readable without JS.

Inline SVG, coloured by presentation attributes (which a strict CSP does not govern, unlike
`style`). Each chart is also a table on the page, for screen readers and for copying figures.
"""
from markupsafe import Markup, escape

BAR = "#2b6cb0"
INK = "#1a202c"
GRID = "#cbd5e0"


def bars(points, label, number=str, width=640, bar_height=22, gap=6, label_width=200):
    """Horizontal bars: `points` is [(name, value)]; values of None are left out. `label` titles
    the chart (for assistive technology). Right to left pages mirror it through CSS, not here."""
    points = [(name, value) for name, value in points if value is not None]
    if not points:
        return Markup("")
    top = max(value for _, value in points) or 1
    plot = width - label_width - 70
    height = len(points) * (bar_height + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%" aria-label="{escape(label)}"><title>{escape(label)}</title>']
    for index, (name, value) in enumerate(points):
        y = gap + index * (bar_height + gap)
        length = max(1, round(plot * value / top))
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" fill="{INK}" '
            f'font-size="13">{escape(name)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" fill="{BAR}"/>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.7:.1f}" fill="{INK}" '
            f'font-size="13">{escape(number(value))}</text>')
    parts.append(f'<line x1="{label_width}" y1="0" x2="{label_width}" y2="{height}" stroke="{GRID}"/></svg>')
    return Markup("".join(parts))
