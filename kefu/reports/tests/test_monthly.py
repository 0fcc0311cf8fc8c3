"""The monthly report from a known set of orders: every cell, the counting rules, the audiences."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kefu.core.errors import NotFound
from kefu.core.scope import Scope
from kefu.org.models import Province
from kefu.reports import rollup, selectors
from kefu.tickets.models import Category

from .factories import category, ticket

SH = ZoneInfo("Asia/Shanghai")
OCT = date(2026, 10, 1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def orders(db):
    """The known month. Returns the expected non-zero cells of October 2026."""
    legacy = Category.objects.create(
        code="cf_usage_legacy",
        name="旧版客户端",
        level=3,
        sort_order=9,
        parent=category("cf_usage"),
        valid_from=date(2015, 1, 1),
        valid_to=date(2026, 9, 1),
    )
    Category.objects.create(
        code="cf_usage_gone",
        name="已停用无工单",
        level=3,
        sort_order=10,
        parent=category("cf_usage"),
        valid_from=date(2015, 1, 1),
        valid_to=date(2026, 9, 1),
    )
    Category.objects.create(
        code="cf_usage_future",
        name="十一月新增",
        level=3,
        sort_order=11,
        parent=category("cf_usage"),
        valid_from=date(2026, 11, 1),
    )
    # Beijing
    ticket(slug="bj", at=at(2026, 10, 1, 0, 0), cat="cf_activation_account")  # first instant: counts
    ticket(slug="bj", at=at(2026, 10, 9, 10), cat="cf_activation_account", kind="fault")
    ticket(slug="bj", at=at(2026, 10, 15), cat="cf_usage_login", kind="fault")
    ticket(slug="bj", at=at(2026, 10, 16), cat="cf_usage_login", kb=True)  # + 咨询 row
    ticket(slug="bj", at=at(2026, 10, 17), kind="consultation", cat=None, kb=True)  # 咨询 row only
    ticket(slug="bj", at=at(2026, 10, 18), kind="consultation", cat=None)  # nowhere
    ticket(slug="bj", at=at(2026, 10, 19), kind="acceptance", cat=None)  # nowhere
    ticket(slug="bj", at=at(2026, 10, 20), cat=legacy.code)  # retired, still shown
    # Jiangsu
    for day in (2, 3, 4):
        ticket(slug="js", at=at(2026, 10, day), cat="cf_incident", channel="hotline")
    ticket(slug="js", at=at(2026, 10, 5), cat="cf_other", kind="fault")
    ticket(slug="js", at=at(2026, 9, 30, 23, 59, 59))  # September
    ticket(slug="js", at=at(2026, 10, 31, 23, 59, 59), cat="cf_termination_resource")  # last instant
    ticket(slug="js", at=at(2026, 11, 1, 0, 0))  # November
    ticket(slug="js", at=at(2026, 10, 6), kind="consultation", cat=None, kb=True, channel="online")
    # Guangdong, Xinjiang
    ticket(slug="gd", at=at(2026, 10, 7), cat="cf_termination_other", kind="fault", status="closed")
    ticket(slug="xj", at=at(2026, 10, 8), cat="cf_usage_bill", kind="fault", kb=True)  # fault: not in 咨询
    rollup.run(now=timezone.now())
    return {
        ("开通类", "业务开户不成功"): {"bj": 2},
        ("开通类", "小计"): {"bj": 2},
        ("业务退租类", "资源退订不成功"): {"js": 1},
        ("业务退租类", "其他"): {"gd": 1},
        ("业务退租类", "小计"): {"js": 1, "gd": 1},
        ("使用类", "无法正常登录"): {"bj": 2},
        ("使用类", "账单问题投诉"): {"xj": 1},
        ("使用类", "旧版客户端"): {"bj": 1},
        ("使用类", "小计"): {"bj": 3, "xj": 1},
        ("突发事件", ""): {"js": 3},
        ("其他", ""): {"js": 1},
        ("合计", ""): {"bj": 5, "js": 5, "gd": 1, "xj": 1},
        ("", ""): {"bj": 2, "js": 1},  # the 咨询 row
    }


EXPECTED_ROWS = [
    ("开通类", "业务开户不成功"),
    ("开通类", "资源订购不成功"),
    ("开通类", "资费未明示"),
    ("开通类", "起租时间错误"),
    ("开通类", "其他"),
    ("开通类", "小计"),
    ("业务退租类", "资源退订不成功"),
    ("业务退租类", "业务退租不成功"),
    ("业务退租类", "其他"),
    ("业务退租类", "小计"),
    ("使用类", "无法正常登录"),
    ("使用类", "无法正常使用功能"),
    ("使用类", "账单问题投诉"),
    ("使用类", "其他"),
    ("使用类", "旧版客户端"),
    ("使用类", "小计"),
    ("突发事件", ""),
    ("其他", ""),
    ("合计", ""),
    ("", ""),
]


def check_every_cell(table, expected, column_keys, *, legacy_row=True):
    # A retired category is shown only to readers who have orders in it (showing it to
    # others would tell them that some other province still files under it).
    rows = [r for r in EXPECTED_ROWS if legacy_row or r != ("使用类", "旧版客户端")]
    assert [(r.level2, r.level3) for r in table.rows] == rows
    assert [c.key for c in table.columns] == column_keys
    for row in table.rows:
        want = expected.get((row.level2, row.level3), {})
        for col, value in zip(table.columns, row.values, strict=True):
            if col.key == "national":
                assert value == sum(want.values()), (row.label, col.key)
            else:
                assert value == want.get(col.key, 0), (row.label, col.key)


def test_national_report_every_cell(orders):
    aud = selectors.audience(Scope.everything())
    table = selectors.monthly_table(aud, OCT)
    keys = ["national"] + list(Province.objects.order_by("report_order").values_list("slug", flat=True))
    assert len(keys) == 32 and keys[:3] == ["national", "bj", "tj"] and keys[-1] == "xj"
    check_every_cell(table, orders, keys)
    assert table.rows[0].level1 == "投诉/故障"
    assert table.rows[-1].level1 == "咨询(可根据知识库解决的咨询、投诉数量)"


def test_kept_figures_equal_direct_count(orders):
    aud = selectors.audience(Scope.everything())
    for month in (date(2026, 9, 1), OCT, date(2026, 11, 1)):
        assert (
            selectors.monthly_table(aud, month).as_dict()
            == selectors.monthly_table_direct(aud, month).as_dict()
        )


def test_province_reader_sees_own_column_only_and_no_national(orders):
    js = Province.objects.get(slug="js")
    aud = selectors.audience(Scope.provinces([js.pk]))
    table = selectors.monthly_table(aud, OCT)
    check_every_cell(table, orders, ["js"], legacy_row=False)
    assert aud.label == "江苏" and not aud.national


def test_national_reader_can_narrow_to_one_province(orders):
    aud = selectors.audience(Scope.everything(), "gd")
    check_every_cell(selectors.monthly_table(aud, OCT), orders, ["gd"], legacy_row=False)


def test_province_reader_cannot_name_another_province(orders):
    js = Province.objects.get(slug="js")
    with pytest.raises(NotFound):
        selectors.audience(Scope.provinces([js.pk]), "bj")
    with pytest.raises(NotFound):
        selectors.audience(Scope.provinces([js.pk]), "nope")
    assert selectors.audience(Scope.provinces([js.pk]), "js").columns[0].key == "js"


def test_category_change_moves_the_order_after_the_next_run(orders):
    from kefu.tickets.models import Ticket

    t = Ticket.objects.unscoped("test").get(province__slug="gd")
    Ticket.objects.unscoped("test").filter(pk=t.pk).update(
        category=category("cf_termination_business"), updated_at=timezone.now() + timedelta(seconds=1)
    )
    aud = selectors.audience(Scope.everything(), "gd")
    assert selectors.monthly_table(aud, OCT).cell(("投诉/故障", "业务退租类", "其他"), "gd") == 1  # not yet
    rollup.run(now=timezone.now() + timedelta(seconds=2))
    table = selectors.monthly_table(aud, OCT)
    assert table.cell(("投诉/故障", "业务退租类", "其他"), "gd") == 0
    assert table.cell(("投诉/故障", "业务退租类", "业务退租不成功"), "gd") == 1
    assert table.cell(("投诉/故障", "业务退租类", "小计"), "gd") == 1


def test_a_month_without_orders_shows_the_layout_with_zeros(db):
    table = selectors.monthly_table(selectors.audience(Scope.everything()), date(2020, 1, 1))
    assert [r.kind for r in table.rows].count("subtotal") == 3
    assert all(v == 0 for r in table.rows for v in r.values)
