"""Server-rendered SVG geometry for the on-time dashboard (no script, no CDN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .rates import Counts, RateRow


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    width: float
    proj_x: float | None
    rate: float | None
    css: str


def axis_min(rates: list[float | None]) -> float:
    """Rate axes start at 0: a shortened axis drew a 40% bar with no length (issue #14 item 6)."""
    return 0.0


def _scale(lo: float, width: float) -> Callable[[float], float]:
    def x(rate: float) -> float:
        return round(max(0.0, min(1.0, (rate - lo) / (100 - lo))) * width, 1)

    return x


def _ticks(lo: float) -> list[float]:
    step = 2 if lo >= 90 else 10 if lo >= 50 else 20
    out, t = [], lo
    while t <= 100:
        out.append(t)
        t += step
    return out


def bars(rows: list[RateRow], *, width: float = 480, row_height: float = 22) -> dict[str, object]:
    lo = axis_min([r.rate for r in rows] + [r.projected_rate for r in rows])
    x = _scale(lo, width)
    out = []
    for i, row in enumerate(rows):
        # A rate at the axis minimum still shows a sliver, so "0%" is not mistaken for "no data".
        w = max(2.0, x(row.rate)) if row.rate is not None else 0.0
        proj = x(row.projected_rate) if row.projected_rate is not None else None
        css = "bar-none" if row.rate is None else ("bar-bad" if row.below_target else "bar-ok")
        out.append(Bar(label=row.label, y=i * row_height, width=w, proj_x=proj, rate=row.rate, css=css))
    target = rows[0].target if rows else 98.0
    return {
        "bars": out,
        "width": width,
        "height": max(row_height, len(rows) * row_height),
        "row_height": row_height,
        "target_x": x(target),
        "target": target,
        "axis_min": lo,
        "ticks": [(int(t), x(t)) for t in _ticks(lo)],
    }


def line(
    series: list[tuple[date, Counts, float | None]],
    *,
    days_in_month: int,
    target: float = 98.0,
    width: float = 480,
    height: float = 160,
) -> dict[str, object]:
    lo = axis_min([rate for _d, _c, rate in series])
    scale = _scale(lo, height)
    step = width / max(1, days_in_month - 1)

    def y(rate: float) -> float:
        return round(height - scale(rate), 1)

    points = [(round(i * step, 1), y(rate)) for i, (_d, _c, rate) in enumerate(series) if rate is not None]
    return {
        "points": " ".join(f"{px},{py}" for px, py in points),
        "width": width,
        "height": height,
        "target_y": y(target),
        "axis_min": int(lo),
        "last": points[-1] if points else None,
    }
