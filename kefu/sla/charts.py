"""Server-rendered SVG geometry for the on-time dashboard (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .rates import Counts, RateRow

# The rate axis starts at 90%: under that, every bar is simply "far below".
AXIS_MIN = 90.0


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    width: float
    proj_x: float | None
    rate: float | None
    css: str


def _x(rate: float, width: float) -> float:
    return max(0.0, min(1.0, (rate - AXIS_MIN) / (100 - AXIS_MIN))) * width


def bars(rows: list[RateRow], *, width: float = 480, row_height: float = 22) -> dict[str, object]:
    out = []
    for i, row in enumerate(rows):
        w = _x(row.rate, width) if row.rate is not None else 0.0
        proj = _x(row.projected_rate, width) if row.projected_rate is not None else None
        css = "bar-none" if row.rate is None else ("bar-bad" if row.below_target else "bar-ok")
        out.append(Bar(label=row.label, y=i * row_height, width=w, proj_x=proj, rate=row.rate, css=css))
    target = rows[0].target if rows else 98.0
    return {"bars": out, "width": width, "height": max(row_height, len(rows) * row_height), "row_height": row_height,
            "target_x": _x(target, width), "target": target, "ticks": [(t, _x(t, width)) for t in (90, 92, 94, 96, 98, 100)]}


def line(series: list[tuple[date, Counts, float | None]], *, days_in_month: int, target: float = 98.0,
         width: float = 480, height: float = 160) -> dict[str, object]:
    step = width / max(1, days_in_month - 1)

    def y(rate: float) -> float:
        return height - _x(rate, height)

    points = [(round(i * step, 1), round(y(rate), 1)) for i, (_d, _c, rate) in enumerate(series) if rate is not None]
    return {"points": " ".join(f"{px},{py}" for px, py in points), "width": width, "height": height,
            "target_y": round(y(target), 1), "last": points[-1] if points else None}
