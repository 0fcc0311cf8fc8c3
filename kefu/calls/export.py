"""Excel workbooks: the call log and the answer-rate sheet (per line, per day, per half hour, per agent).

``add_rate_sheet`` writes the answer-rate sheet into a workbook someone else
builds (the monthly report registers it through ``kefu.calls.hooks``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

from kefu.core import excel

from . import selectors
from .models import Call

MAX_ROWS = 100_000


def _book() -> tuple[io.BytesIO, Any]:
    buf = io.BytesIO()
    wb = excel.workbook(buf)
    return buf, wb


def xlsx_response(filename: str, data: bytes) -> HttpResponse:
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def call_log_book(calls: Iterable[Call]) -> bytes:
    buf, wb = _book()
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    ws = wb.add_worksheet("通话记录")
    columns = [
        "线路",
        "呼叫标识",
        "主叫号码",
        "客户",
        "进入队列",
        "接通",
        "结束",
        "坐席",
        "结果",
        "等待(秒)",
        "通话(秒)",
        "20 秒内接通",
    ]
    for c, name in enumerate(columns):
        ws.write_string(0, c, name, head)
    for r, call in enumerate(calls, start=1):
        values = [
            call.line.name,
            call.call_id,
            call.caller or call.caller_raw,
            call.customer.name if call.customer_id and call.customer else "",
            _local(call.request_at),
            _local(call.answered_at),
            _local(call.ended_at),
            str(call.agent) if call.agent_id else call.agent_ref,
            str(call.get_outcome_display()),
        ]
        for c, value in enumerate(values):
            ws.write_string(r, c, value)
        ws.write_number(r, 9, call.wait_seconds or 0)
        ws.write_number(r, 10, call.talk_seconds or 0)
        ws.write_string(r, 11, "是" if call.answered_in_target else "否")
    ws.set_column(0, 0, 26)
    ws.set_column(1, 11, 16)
    ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}%"


def add_rate_sheet(wb: Any, figures: list[selectors.LineFigures], *, title: str = "20秒接通率") -> None:
    """One sheet: per line the period's 20-second answer rate against its target, then per day."""
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True})
    bad = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
    ws = wb.add_worksheet(title)
    ws.write_string(
        0, 0, "20 秒接通率 = 20 秒内接通量 / 人工呼入请求量（第七条(一)；服务时间内，时段外另计）"
    )
    columns = [
        "线路",
        "日期",
        "人工呼入请求量",
        "20 秒内接通量",
        "20 秒接通率",
        "目标",
        "接通量",
        "放弃量",
        "放弃率",
        "平均应答速度(秒)",
        "服务时间外请求量",
    ]
    for c, name in enumerate(columns):
        ws.write_string(2, c, name, head)
    r = 3
    for f in figures:
        rows: list[tuple[str, Any, Any]] = [("合计", f.total, f.outside)]
        rows += [(d.isoformat(), t, None) for d, t in sorted(f.days.items())]
        for label, t, outside in rows:
            ws.write_string(r, 0, f.line.name)
            ws.write_string(r, 1, label)
            ws.write_number(r, 2, t.offered)
            ws.write_number(r, 3, t.answered_in_target)
            met = (
                f.line.target_percent is not None
                and t.rate is not None
                and t.rate > float(f.line.target_percent)
            )
            ws.write_string(r, 4, _pct(t.rate), None if met or t.rate is None else bad)
            ws.write_string(r, 5, f"> {f.line.target_percent}%")
            ws.write_number(r, 6, t.answered)
            ws.write_number(r, 7, t.abandoned)
            ws.write_string(r, 8, _pct(t.abandon_rate))
            ws.write_string(r, 9, "" if t.asa is None else f"{t.asa:.1f}")
            ws.write_string(r, 10, "" if outside is None else str(outside.offered))
            r += 1
    ws.set_column(0, 0, 28)
    ws.set_column(1, 10, 14)
    ws.freeze_panes(3, 0)


def rate_book(figures: list[selectors.LineFigures]) -> bytes:
    buf, wb = _book()
    add_rate_sheet(wb, figures)
    half = wb.add_worksheet("半小时")
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    for c, name in enumerate(["线路", "时段", "人工呼入请求量", "20 秒内接通量", "20 秒接通率", "放弃量"]):
        half.write_string(0, c, name, head)
    r = 1
    for f in figures:
        for moment, t in sorted(f.slots.items()):
            half.write_string(r, 0, f.line.name)
            half.write_string(r, 1, moment.strftime("%Y-%m-%d %H:%M"))
            half.write_number(r, 2, t.offered)
            half.write_number(r, 3, t.answered_in_target)
            half.write_string(r, 4, _pct(t.rate))
            half.write_number(r, 5, t.abandoned)
            r += 1
    half.set_column(0, 0, 28)
    half.set_column(1, 5, 16)
    wb.close()
    return buf.getvalue()


def add_month_rate_sheet(wb: Any, scope: Any, month: Any) -> None:
    """The monthly report's answer-rate sheet: every line of ``scope``, the month's total and each day."""
    import calendar

    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    add_rate_sheet(wb, selectors.rate_figures(scope, start=month, end=last, with_slots=False))
