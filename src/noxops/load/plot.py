"""An SVG chart of a load run: throughput and p95 latency per second, the SLO's lines dashed.
No plotting library: a few polylines, self-contained, readable in any browser."""

from __future__ import annotations

from html import escape

from noxops.load.figures import Point
from noxops.load.slo import SLOConfig

__all__ = ["svg"]

_W, _H, _PAD = 640, 200, 40


def _panel(
    points: list[tuple[float, float]], limit: float, *, colour: str, label: str, y0: int
) -> list[str]:
    top = max(y for _, y in points)
    span_x = max([x for x, _ in points] + [1.0])
    peak = max([y for _, y in points] + [limit, 1e-9]) * 1.1

    def px(x: float, y: float) -> str:
        return f"{_PAD + x / span_x * (_W - 2 * _PAD):.1f},{y0 + _H - y / peak * _H:.1f}"

    line = " ".join(px(x, y) for x, y in points)
    slo_y = y0 + _H - limit / peak * _H
    return [
        f'<rect x="{_PAD}" y="{y0}" width="{_W - 2 * _PAD}" height="{_H}" fill="none" '
        'stroke="#ccc"/>',
        f'<text x="{_PAD}" y="{y0 - 6}" font-size="12">{escape(label)} (max {top:.1f})</text>',
        f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{line}"/>',
        f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{slo_y:.1f}" y2="{slo_y:.1f}" stroke="#b00020" '
        'stroke-dasharray="6,4"/>',
        f'<text x="{_W - _PAD}" y="{slo_y - 4:.1f}" font-size="11" text-anchor="end" '
        f'fill="#b00020">SLO {limit:g}</text>',
    ]


def svg(history: list[Point], slo: SLOConfig, title: str) -> str:
    """Two panels over the run's seconds: requests/s (SLO minimum) and p95 ms (SLO maximum)."""
    rps = [(p.second, p.rps) for p in history] or [(0.0, 0.0)]
    p95 = [(p.second, p.p95_ms) for p in history] or [(0.0, 0.0)]
    height = 2 * _H + 3 * _PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
        f'viewBox="0 0 {_W} {height}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        *_panel(rps, slo.min_throughput_rps, colour="#4a7bd0", label="requests/s", y0=_PAD),
        *_panel(p95, slo.p95_latency_ms, colour="#d07a4a", label="p95 (ms)", y0=2 * _PAD + _H),
        f'<text x="{_W / 2}" y="{height - 8}" font-size="11" text-anchor="middle">'
        "seconds into the run</text>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
