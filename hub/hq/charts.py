"""Server-rendered SVG charts: no JavaScript, no chart library, no tile service, so the
dashboard draws the same offline, in a printout and in a screen reader (each chart carries a
label and every mark a <title>). Pure: strings in, SVG text out."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Five steps from light to dark brand green, for "more is darker".
SCALE = ("#cfe8dc", "#93cdb1", "#55ae87", "#1f8a5f", "#0b5e3f")
EMPTY = "#c5cbd3"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-label="{escape(label)}" class="chart">'
            f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def bar_chart(rows: Sequence[tuple[str, float]], *, label: str, width: int = 420,
              bar_height: int = 22, value_text: Callable[[float], str] = _fmt) -> str:
    """Horizontal bars, one per (label, value), longest = full width."""
    if not rows:
        return _svg(width, 30, label, ['<text x="0" y="20" class="muted">—</text>'])
    label_w, value_w = 150, 70
    span = width - label_w - value_w
    top = max(value for _label, value in rows) or 1
    body = []
    for i, (name, value) in enumerate(rows):
        y = i * (bar_height + 6)
        w = max(1.0, span * value / top) if value else 0
        text = value_text(value)
        body.append(
            f'<g><title>{escape(name)}: {escape(text)}</title>'
            f'<text x="{label_w - 6}" y="{y + bar_height * .7:.1f}" text-anchor="end">'
            f'{escape(name[:22])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" '
            f'fill="{SCALE[3]}" rx="3"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar_height * .7:.1f}">{escape(text)}</text>'
            f'</g>')
    return _svg(width, len(rows) * (bar_height + 6), label, body)


def column_chart(points: Sequence[tuple[str, float]], *, label: str, width: int = 640,
                 height: int = 180) -> str:
    """Vertical columns over time (one per day); the axis shows the first, middle and last
    date and the highest value."""
    if not points:
        return _svg(width, 30, label, ['<text x="0" y="20">—</text>'])
    left, bottom, top_pad = 40, 22, 10
    plot_w, plot_h = width - left, height - bottom - top_pad
    top = max(value for _d, value in points) or 1
    step = plot_w / len(points)
    body = [f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width}" y2="{top_pad + plot_h}" '
            f'stroke="#98a2b3"/>',
            f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{_fmt(top)}</text>',
            f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>']
    for i, (day, value) in enumerate(points):
        h = plot_h * value / top
        x = left + i * step
        body.append(f'<rect x="{x + step * .1:.1f}" y="{top_pad + plot_h - h:.1f}" '
                    f'width="{max(step * .8, .5):.1f}" height="{h:.1f}" fill="{SCALE[3]}">'
                    f'<title>{escape(day)}: {_fmt(value)}</title></rect>')
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        x = left + i * step + step / 2
        body.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">'
                    f'{escape(points[i][0])}</text>')
    return _svg(width, height, label, body)


@dataclass(frozen=True)
class MapPoint:
    latitude: float
    longitude: float
    value: float
    title: str


def shade(value: float, top: float) -> str:
    """The colour for ``value`` on a five-step scale up to ``top``; grey for nothing."""
    if value <= 0 or top <= 0:
        return EMPTY
    return SCALE[min(len(SCALE) - 1, int(len(SCALE) * value / top - 1e-9))]


def store_map(points: Sequence[MapPoint], *, label: str, width: int = 640) -> str:
    """Stores as dots on their own coordinates (equirectangular, corrected for the mid
    latitude), coloured by volume, with a light graticule every 5 degrees. The stores'
    spread draws the country's shape; no map tiles are fetched from anywhere."""
    if not points:
        return _svg(width, 40, label, ['<text x="0" y="20">—</text>'])
    lats = [p.latitude for p in points]
    lons = [p.longitude for p in points]
    lat0, lat1 = min(lats) - 1, max(lats) + 1
    lon0, lon1 = min(lons) - 1, max(lons) + 1
    squash = math.cos(math.radians((lat0 + lat1) / 2))
    scale = width / ((lon1 - lon0) * squash)
    height = max(80, int((lat1 - lat0) * scale))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * squash * scale, (lat1 - lat) * scale

    body = ['<rect width="100%" height="100%" fill="#f1f5f3"/>']
    for lon in range(math.ceil(lon0 / 5) * 5, int(lon1) + 1, 5):
        x, _ = xy(lat0, lon)
        body.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#dde5e1"/>')
    for lat in range(math.ceil(lat0 / 5) * 5, int(lat1) + 1, 5):
        _, y = xy(lat, lon0)
        body.append(f'<line x1="0" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#dde5e1"/>')
    # Idle stores: one path of small squares, one per 2-px cell, so thousands of stores cost
    # a few kilobytes. Busy stores: a circle each (with a tooltip), the busiest drawn last.
    idle = sorted({(round(x / 2) * 2, round(y / 2) * 2)
                   for x, y in (xy(p.latitude, p.longitude) for p in points if p.value <= 0)})
    if idle:
        body.append(f'<path fill="{EMPTY}" d="'
                    + "".join(f"M{x - 1} {y - 1}h2v2h-2z" for x, y in idle) + '"/>')
    top = max(p.value for p in points)
    for p in sorted((p for p in points if p.value > 0), key=lambda p: p.value):
        x, y = xy(p.latitude, p.longitude)
        radius = 3.2 + 3 * p.value / top
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" '
                    f'fill="{shade(p.value, top)}" fill-opacity=".85">'
                    f'<title>{escape(p.title)}: {_fmt(p.value)}</title></circle>')
    return _svg(width, height, label, body)
