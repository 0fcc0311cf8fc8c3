"""Shipped calendars, holidays and policies: loaded by migration 0002, editable in admin afterwards.

Holidays follow the State Council's notices (国务院办公厅关于部分节假日安排的通知)
for 2025 and 2026. The 2027 notice was not out when this was written: 2027 holds
only the statutory days (全体公民放假的节日) and no make-up working days;
replace it in admin when the notice is published.
"""

from __future__ import annotations

from datetime import date, timedelta


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


D = date
# (name, days off, make-up working days 调休上班)
HOLIDAYS: list[tuple[str, list[date], list[date]]] = [
    # 2025 (国办发明电〔2024〕12号)
    ("元旦", [D(2025, 1, 1)], []),
    ("春节", _span(D(2025, 1, 28), D(2025, 2, 4)), [D(2025, 1, 26), D(2025, 2, 8)]),
    ("清明节", _span(D(2025, 4, 4), D(2025, 4, 6)), []),
    ("劳动节", _span(D(2025, 5, 1), D(2025, 5, 5)), [D(2025, 4, 27)]),
    ("端午节", _span(D(2025, 5, 31), D(2025, 6, 2)), []),
    ("国庆节、中秋节", _span(D(2025, 10, 1), D(2025, 10, 8)), [D(2025, 9, 28), D(2025, 10, 11)]),
    # 2026
    ("元旦", _span(D(2026, 1, 1), D(2026, 1, 3)), [D(2026, 1, 4)]),
    ("春节", _span(D(2026, 2, 15), D(2026, 2, 23)), [D(2026, 2, 14), D(2026, 2, 28)]),
    ("清明节", _span(D(2026, 4, 4), D(2026, 4, 6)), []),
    ("劳动节", _span(D(2026, 5, 1), D(2026, 5, 5)), [D(2026, 5, 9)]),
    ("端午节", _span(D(2026, 6, 19), D(2026, 6, 21)), []),
    ("中秋节", _span(D(2026, 9, 25), D(2026, 9, 27)), []),
    ("国庆节", _span(D(2026, 10, 1), D(2026, 10, 7)), [D(2026, 9, 20), D(2026, 10, 10)]),
    # 2027: statutory days only (暂定), until the notice is published
    ("元旦(暂定)", [D(2027, 1, 1)], []),
    ("春节(暂定)", _span(D(2027, 2, 5), D(2027, 2, 8)), []),
    ("清明节(暂定)", [D(2027, 4, 5)], []),
    ("劳动节(暂定)", [D(2027, 5, 1), D(2027, 5, 2)], []),
    ("端午节(暂定)", [D(2027, 6, 9)], []),
    ("中秋节(暂定)", [D(2027, 9, 15)], []),
    ("国庆节(暂定)", _span(D(2027, 10, 1), D(2027, 10, 3)), []),
]

# (code, name, observes holidays, {weekday: (opens "HH:MM", closes "HH:MM")})
CALENDARS: list[tuple[str, str, bool, dict[int, tuple[str, str]]]] = [
    ("7x12", "7×12 服务时间(每天 08:00-20:00)", False, {w: ("08:00", "20:00") for w in range(7)}),
    (
        "workdays",
        "工作日(周一至周五 09:00-18:00，遵循节假日与调休)",
        True,
        {w: ("09:00", "18:00") for w in range(5)},
    ),
]

# (code, name, target, ticket kind, team kind, minutes, counting, calendar, pause statuses, rule)
POLICIES: list[tuple[str, str, str, str, str, int, str, str, list[str], str]] = [
    (
        "complaint-hotline-accept",
        "热线：投诉工单 2 小时受理或退回",
        "accept",
        "complaint",
        "hotline",
        120,
        "service",
        "7x12",
        [],
        "第七条(二)1 初次回应时限",
    ),
    (
        "complaint-online-accept",
        "在线客服：投诉工单 2 小时受理或退回",
        "accept",
        "complaint",
        "online",
        120,
        "service",
        "7x12",
        [],
        "第七条(二)1 初次回应时限",
    ),
    (
        "complaint-hotline-resolve",
        "热线：投诉工单 24 小时解决",
        "resolve",
        "complaint",
        "hotline",
        24 * 60,
        "natural",
        "7x12",
        ["waiting_customer"],
        "第七条(二)1 工单解决总时限",
    ),
    (
        "complaint-online-resolve",
        "在线客服：投诉工单 24 小时解决",
        "resolve",
        "complaint",
        "online",
        24 * 60,
        "natural",
        "7x12",
        ["waiting_customer"],
        "第七条(二)1 工单解决总时限",
    ),
    (
        "complaint-desk-resolve",
        "省公司：投诉工单 48 小时解决",
        "resolve",
        "complaint",
        "province_desk",
        48 * 60,
        "natural",
        "7x12",
        ["waiting_customer"],
        "第七条(二)2 工单解决总时限",
    ),
    # An account manager's complaint is a province complaint (第三条(一) note: the account manager helps;
    # the province's complaint deadline of 第七条(二)2 applies from registration). docs/tickets.md.
    (
        "complaint-am-resolve",
        "客户经理：投诉工单 48 小时解决(省公司时限)",
        "resolve",
        "complaint",
        "account_managers",
        48 * 60,
        "natural",
        "7x12",
        ["waiting_customer"],
        "第七条(二)2 工单解决总时限(客户经理协助)",
    ),
]
