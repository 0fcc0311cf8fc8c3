"""Seed the statistics taxonomy of 第八条 and create the work-order number sequence.

The taxonomy is data: administrators retire and add level-3 nodes afterwards
(with effective dates) in the admin, without a code change.
"""

import datetime as dt

from django.db import migrations

SINCE = dt.date(2015, 1, 1)

# (code, name, children) — level 1, 2, 3.
TAXONOMY = [
    ("cf", "投诉/故障", [
        ("cf_activation", "开通类", [
            ("cf_activation_account", "业务开户不成功"),
            ("cf_activation_order", "资源订购不成功"),
            ("cf_activation_tariff", "资费未明示"),
            ("cf_activation_start", "起租时间错误"),
            ("cf_activation_other", "其他"),
        ]),
        ("cf_termination", "业务退租类", [
            ("cf_termination_resource", "资源退订不成功"),
            ("cf_termination_business", "业务退租不成功"),
            ("cf_termination_other", "其他"),
        ]),
        ("cf_usage", "使用类", [
            ("cf_usage_login", "无法正常登录"),
            ("cf_usage_function", "无法正常使用功能"),
            ("cf_usage_bill", "账单问题投诉"),
            ("cf_usage_other", "其他"),
        ]),
        ("cf_incident", "突发事件", []),
        ("cf_other", "其他", []),
    ]),
    ("consult", "咨询", []),
]


def seed(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    for i, (code1, name1, level2) in enumerate(TAXONOMY, start=1):
        root, _ = Category.objects.get_or_create(
            code=code1, defaults={"name": name1, "level": 1, "sort_order": i, "valid_from": SINCE})
        for j, (code2, name2, level3) in enumerate(level2, start=1):
            node, _ = Category.objects.get_or_create(
                code=code2, defaults={"name": name2, "level": 2, "parent": root, "sort_order": j, "valid_from": SINCE})
            for k, (code3, name3) in enumerate(level3, start=1):
                Category.objects.get_or_create(
                    code=code3,
                    defaults={"name": name3, "level": 3, "parent": node, "sort_order": k, "valid_from": SINCE})


def sequence_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS tickets_ticket_number_seq START 1 CACHE 1")
    else:
        NumberCounter = apps.get_model("tickets", "NumberCounter")
        NumberCounter.objects.get_or_create(name="ticket", defaults={"value": 0})


def sequence_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS tickets_ticket_number_seq")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(sequence_forward, sequence_backward),
    ]
