"""Self-contained SVG map of the service-point network for the admin pages.

No tiles, web fonts or stylesheets: everything is presentation attributes, so the
SVG can be inlined in a page (no CSS leaks either way) or served as a file. Town
areas are drawn as rounded convex hulls of their communities because the
gazetteer has centroids, not boundaries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from baishitong.points import KIND_LABELS
from baishitong.points.coverage import TARGET_RADIUS_M, CoverageReport
from baishitong.points.geo import EARTH_RADIUS_M

FONT = "'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC',sans-serif"
TITLE = "顺德区门口办服务网点覆盖图"

_TOWN_FILLS = ("#e8f1fa", "#eef6e6", "#fdf1e3", "#f3ecf8", "#e6f5f3", "#fbeaea", "#f6f3df", "#e9ecf7", "#f0f4ea", "#f9ebf3")
_TOWN_EDGES = ("#b7cfe6", "#c4dcb3", "#efcf9f", "#d4c2e6", "#b2ded6", "#eec0c0", "#ded6a3", "#bfc7e6", "#cbd9b6", "#e8bfd7")
_COVERED = "#2e9e5b"
_UNCOVERED = "#d7301f"
_NEUTRAL = "#8a8f98"
_KIND_STYLE = {
    "bank_branch": "#1f5fa8",
    "town_centre": "#f08a24",
    "district_hall": "#b2182b",
    "self_service": "#7b4fa0",
}
_HEADER_H = 54
_PAD = 16


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


class _Projection:
    """Equirectangular, scaled by cos(mid-latitude) so a 2 km circle stays round."""

    def __init__(self, lats: Sequence[float], lons: Sequence[float], width: float, x0: float, y0: float):
        pad = 0.02  # ~2 km, so coverage circles at the edge stay mostly in frame
        self.lat_min, self.lat_max = min(lats) - pad, max(lats) + pad
        self.lon_min, lon_max = min(lons) - pad, max(lons) + pad
        self.kx = math.cos(math.radians((self.lat_min + self.lat_max) / 2))
        self.scale = width / ((lon_max - self.lon_min) * self.kx)
        self.height = (self.lat_max - self.lat_min) * self.scale
        self.x0, self.y0 = x0, y0

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return self.x0 + (lon - self.lon_min) * self.kx * self.scale, self.y0 + (self.lat_max - lat) * self.scale

    def px(self, metres: float) -> float:
        return math.degrees(metres / EARTH_RADIUS_M) * self.scale


def _hull(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain; fine for a few dozen points."""
    pts = sorted(set(pts))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _marker(kind: str, x: float, y: float, size: float = 1.0) -> str:
    colour = _KIND_STYLE.get(kind, _NEUTRAL)
    if kind == "town_centre":
        s = 4.2 * size
        return f'<rect x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" height="{_f(2 * s)}" rx="1" fill="{colour}" stroke="#fff" stroke-width="1.2"'
    if kind == "district_hall":
        r_out, r_in = 7.5 * size, 3.2 * size
        star = " ".join(
            f"{_f(x + (r_out if i % 2 == 0 else r_in) * math.sin(i * math.pi / 5))},{_f(y - (r_out if i % 2 == 0 else r_in) * math.cos(i * math.pi / 5))}"
            for i in range(10)
        )
        return f'<polygon points="{star}" fill="{colour}" stroke="#fff" stroke-width="1.2"'
    if kind == "self_service":
        s = 3.6 * size
        return f'<polygon points="{_f(x)},{_f(y - s)} {_f(x + s)},{_f(y + s * 0.8)} {_f(x - s)},{_f(y + s * 0.8)}" fill="{colour}" stroke="#fff" stroke-width="0.8"'
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(2.7 * size)}" fill="{colour}" stroke="#fff" stroke-width="0.7"'


def _titled(open_tag: str, tip: str) -> str:
    return f"{open_tag}><title>{escape(tip)}</title></{open_tag[1:].split(' ', 1)[0]}>"


def render_map(
    towns: Iterable[Any],
    communities: Iterable[Any],
    points: Iterable[Any],
    coverage: CoverageReport | None,
    *,
    width: int = 800,
    circles: bool = False,
    title: str = TITLE,
) -> str:
    """SVG string: town areas and names, communities coloured by coverage, points by kind, legend.

    circles draws the coverage radius around every staffed point (not self-service
    terminals); the radius comes from the coverage report (2 km by default).
    """
    town_list, community_list, point_list = list(towns), list(communities), list(points)
    lats = [float(_get(o, "lat")) for o in (*town_list, *community_list, *point_list)]
    lons = [float(_get(o, "lon")) for o in (*town_list, *community_list, *point_list)]
    if not lats:
        raise ValueError("地图没有可绘制的镇街、社区或网点")
    map_w = width - 2 * _PAD
    proj = _Projection(lats, lons, map_w, _PAD, _HEADER_H)
    status = coverage.by_code() if coverage else {}
    radius_m = coverage.radius_m if coverage else TARGET_RADIUS_M
    legend, legend_h = _legend(_HEADER_H + proj.height + 14, width, circles, radius_m, point_list)
    height = math.ceil(_HEADER_H + proj.height + 14 + legend_h)
    clip_id = f"bst-map-clip-{width}-{round(proj.height)}"

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{FONT}" role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<rect x="{_PAD}" y="{_HEADER_H}" width="{map_w}" height="{_f(proj.height)}" rx="6" fill="#f7f9fb" stroke="#dde3ea"/>',
        # The id carries the geometry so several maps inlined in one page never share a wrong clip.
        f'<defs><clipPath id="{clip_id}"><rect x="{_PAD}" y="{_HEADER_H}" width="{map_w}" height="{_f(proj.height)}" rx="6"/></clipPath></defs>',
        f'<text x="{_PAD}" y="24" font-size="18" font-weight="bold" fill="#1d2733">{escape(title)}</text>',
    ]
    if coverage is not None:
        n = len(coverage.communities)
        summary = (
            f"{_f(radius_m / 1000)} 公里覆盖率 {coverage.ratio * 100:.1f}%（{coverage.covered_count}/{n} 个村居），"
            f"未覆盖 {n - coverage.covered_count} 个，网点 {len(point_list)} 个"
        )
        out.append(f'<text x="{_PAD}" y="44" font-size="12.5" fill="#4a5563">{escape(summary)}</text>')

    # Town areas first so everything else sits on top.
    by_town: dict[Any, list[tuple[float, float]]] = {}
    for c in community_list:
        by_town.setdefault(_get(c, "town_code"), []).append(proj.xy(float(_get(c, "lat")), float(_get(c, "lon"))))
    buffer_px = max(4.0, proj.px(700))
    out.append(f'<g clip-path="url(#{clip_id})">')
    out.append('<g stroke-linejoin="round">')
    for i, t in enumerate(town_list):
        pts = [proj.xy(float(_get(t, "lat")), float(_get(t, "lon")))]
        pts += by_town.get(_get(t, "code"), [])
        pts += [proj.xy(float(_get(c, "lat")), float(_get(c, "lon"))) for c in _get(t, "communities", None) or []]
        ring = _hull(pts)
        path = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in ring) + " Z"
        out.append(
            f'<path d="{path}" fill="{_TOWN_FILLS[i % len(_TOWN_FILLS)]}" stroke="{_TOWN_FILLS[i % len(_TOWN_FILLS)]}" stroke-width="{_f(2 * buffer_px)}"/>'
            f'<path d="{path}" fill="none" stroke="{_TOWN_EDGES[i % len(_TOWN_EDGES)]}" stroke-width="1" stroke-dasharray="3 3" opacity="0.8"/>'
        )
    out.append("</g>")

    staffed = [p for p in point_list if _get(p, "kind") != "self_service"]
    if circles:
        r = _f(proj.px(radius_m))
        # Opaque circles under one group opacity: overlaps merge into a flat union instead of darkening.
        out.append('<g fill="#5b8fd0" opacity="0.16">')
        out.extend(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{r}"/>' for x, y in (proj.xy(float(_get(p, "lat")), float(_get(p, "lon"))) for p in staffed))
        out.append("</g>")
    out.append("</g>")

    out.append("<g>")
    uncovered_labels: list[str] = []
    for c in community_list:
        x, y = proj.xy(float(_get(c, "lat")), float(_get(c, "lon")))
        name = str(_get(c, "name"))
        cov = status.get(str(_get(c, "code")))
        if cov is None:
            out.append(_titled(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.6" fill="{_NEUTRAL}"', name))
        elif cov.covered:
            out.append(_titled(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.8" fill="{_COVERED}" fill-opacity="0.85"', f"{name}：最近网点 {cov.distance_m:.0f} 米"))
        else:
            far = "无网点" if math.isinf(cov.distance_m) else f"最近网点 {cov.distance_m / 1000:.1f} 公里"
            out.append(
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="7" fill="{_UNCOVERED}" fill-opacity="0.15" stroke="{_UNCOVERED}" stroke-width="1"/>'
                + _titled(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.4" fill="{_UNCOVERED}"', f"{name}（未覆盖）：{far}")
            )
            short = str(_get(c, "short", None) or name)
            uncovered_labels.append(
                f'<text x="{_f(x + 8)}" y="{_f(y + 3.5)}" font-size="10" fill="{_UNCOVERED}" stroke="#fff" stroke-width="2.5" paint-order="stroke">{escape(short)}</text>'
            )
    out.append("</g>")

    # Points: big kinds last so they stay visible above the branch dots.
    order = {"self_service": 0, "bank_branch": 1, "town_centre": 2, "district_hall": 3}
    out.append("<g>")
    for p in sorted(point_list, key=lambda p: order.get(str(_get(p, "kind")), 1)):
        kind = str(_get(p, "kind"))
        x, y = proj.xy(float(_get(p, "lat")), float(_get(p, "lon")))
        tip = f"{_get(p, 'name')}（{KIND_LABELS.get(kind, kind)}）"
        if _get(p, "hours"):
            tip += f"\n{_get(p, 'hours')}"
        out.append(_titled(_marker(kind, x, y), tip))
    out.append("</g>")

    out.append('<g font-size="14" font-weight="bold" fill="#2b3440" text-anchor="middle" stroke="#fff" stroke-width="3.5" paint-order="stroke" stroke-linejoin="round">')
    for t in town_list:
        x, y = proj.xy(float(_get(t, "lat")), float(_get(t, "lon")))
        out.append(f'<text x="{_f(x)}" y="{_f(y - 10)}">{escape(str(_get(t, "short", None) or _get(t, "name")))}</text>')
    out.append("</g>")
    out.extend(uncovered_labels)

    # North arrow and scale bar in the map's top-right corner.
    nx, ny = _PAD + map_w - 22, _HEADER_H + 16
    out.append(
        f'<g fill="#2b3440"><polygon points="{nx},{ny - 8} {nx + 6},{ny + 8} {nx},{ny + 4} {nx - 6},{ny + 8}"/>'
        f'<text x="{nx}" y="{ny + 22}" font-size="11" text-anchor="middle">北</text></g>'
    )
    bar = proj.px(5000)
    bx, by = _PAD + map_w - 24 - bar, _HEADER_H + proj.height - 14
    out.append(
        f'<g stroke="#2b3440" stroke-width="1.5" fill="none"><path d="M{_f(bx)},{_f(by - 5)} V{_f(by)} H{_f(bx + bar)} V{_f(by - 5)}"/></g>'
        f'<text x="{_f(bx + bar / 2)}" y="{_f(by - 7)}" font-size="11" fill="#2b3440" text-anchor="middle">5 公里</text>'
    )

    out.append(legend)
    out.append("</svg>")
    return "\n".join(out)


def _legend(top: float, width: int, circles: bool, radius_m: float, points: list[Any]) -> tuple[str, float]:
    """Legend entries flowed left to right, wrapping at the edge; returns (svg, height)."""
    km = _f(radius_m / 1000)
    entries: list[tuple[Callable[[float, float], str], str]] = []
    for k in KIND_LABELS:
        count = sum(1 for p in points if _get(p, "kind") == k)
        if count:
            entries.append((lambda x, y, k=k: _marker(k, x, y, 0.9) + "/>", f"{KIND_LABELS[k]}（{count}）"))
    entries.append((lambda x, y: f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{_COVERED}"/>', f"已覆盖村居（{km} 公里内有网点）"))
    entries.append(
        (
            lambda x, y: f'<circle cx="{_f(x)}" cy="{_f(y)}" r="6.5" fill="{_UNCOVERED}" fill-opacity="0.15" stroke="{_UNCOVERED}"/>'
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.4" fill="{_UNCOVERED}"/>',
            "未覆盖村居",
        )
    )
    if circles:
        entries.append(
            (lambda x, y: f'<circle cx="{_f(x)}" cy="{_f(y)}" r="6.5" fill="#1f5fa8" fill-opacity="0.1" stroke="#1f5fa8" stroke-opacity="0.3"/>', f"{km} 公里服务半径")
        )
    parts = [f'<g font-size="12" fill="#2b3440"><text x="{_PAD}" y="{_f(top + 12)}" font-weight="bold">图例</text>']
    left, row_h = _PAD + 44.0, 22.0
    x, y = left, top
    for swatch, label in entries:
        # CJK glyphs are about one em wide; Latin digits about half.
        span = 22 + sum(12 if ord(ch) > 0x2E80 else 7 for ch in label) + 18
        if x > left and x + span > width - _PAD:
            x, y = left, y + row_h
        parts.append(swatch(x + 6, y + 8))
        parts.append(f'<text x="{_f(x + 16)}" y="{_f(y + 12)}">{escape(label)}</text>')
        x += span
    note_y = y + row_h + 10
    parts.append(f'<text x="{width - _PAD}" y="{_f(note_y)}" font-size="10" fill="#8a8f98" text-anchor="end">坐标为近似位置，仅供参考</text></g>')
    return "".join(parts), note_y - top + 10
