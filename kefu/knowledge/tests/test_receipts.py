"""Province loading receipts: 31 per publication, a desk loads its own, HQ sees the matrix, reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from kefu.core.errors import Forbidden
from kefu.core.scope import ScopeMissing
from kefu.knowledge import selectors, services
from kefu.knowledge.models import LoadReceipt
from kefu.org.models import Province

pytestmark = pytest.mark.django_db


def test_agent_gd_loads_and_hq_sees_it(make_published, agent_gd, hq_reviewer, agent_sh):
    rev = make_published()
    receipt = services.receipt_load(actor=agent_gd, revision=rev)
    assert receipt.province.slug == "gd" and receipt.loaded_by == agent_gd.user
    again = services.receipt_load(actor=agent_gd, revision=rev)
    assert again.loaded_at == receipt.loaded_at  # idempotent

    provinces, rows = selectors.receipt_matrix(hq_reviewer.scope)
    assert len(provinces) == 31 and rows[0].loaded == 1
    gd_col = [p.slug for p in provinces].index("gd")
    assert rows[0].cells[gd_col].loaded_by == agent_gd.user

    provinces, rows = selectors.receipt_matrix(agent_sh.scope)
    assert [p.slug for p in provinces] == ["sh"] and rows[0].loaded == 0
    assert rows[0].cells[0].province.slug == "sh"


def test_province_cannot_read_other_receipts(make_published, agent_gd, agent_sh):
    rev = make_published()
    services.receipt_load(actor=agent_gd, revision=rev)
    assert list(selectors.receipts_of(agent_sh.scope, rev).values_list("province__slug", flat=True)) == ["sh"]
    with pytest.raises(ScopeMissing):
        list(LoadReceipt.objects.all())


def test_national_agents_and_editors_cannot_load(make_published, hotline_agent, hq_reviewer):
    rev = make_published()
    for actor in (hotline_agent, hq_reviewer):
        with pytest.raises(Forbidden):
            services.receipt_load(actor=actor, revision=rev)
    assert not LoadReceipt.objects.unscoped("test").filter(loaded_at__isnull=False).exists()


def test_reminders_go_to_desks_that_have_not_loaded(make_published, agent_gd):
    rev = make_published()
    services.receipt_load(actor=agent_gd, revision=rev)
    later = timezone.now() + timedelta(hours=25)
    n = services.receipts_remind(now=later)
    assert n == 30
    gd = LoadReceipt.objects.unscoped("test").get(revision=rev, province__slug="gd")
    assert gd.reminder_count == 0
    bj = LoadReceipt.objects.unscoped("test").get(revision=rev, province__slug="bj")
    assert bj.reminder_count == 1
    # not twice in the same day
    assert services.receipts_remind(now=later + timedelta(hours=1)) == 0


def test_reminder_mail_after_commit(make_published, django_capture_on_commit_callbacks, settings):
    from kefu.org.models import Team

    settings.KEFU_PUBLIC_URL = "https://kefu.example.cn"

    Team.objects.filter(code="desk_bj").update(email="desk_bj@example.test")
    rev = make_published()
    with django_capture_on_commit_callbacks(execute=True):
        services.receipts_remind(now=timezone.now() + timedelta(days=2))
    sent = [m for m in mail.outbox if "desk_bj@example.test" in m.to]
    assert len(sent) == 1 and rev.title in sent[0].body
    assert "https://kefu.example.cn/kb/receipts/" in sent[0].body


def test_receipts_created_for_every_province(make_published):
    rev = make_published()
    assert set(
        LoadReceipt.objects.unscoped("test").filter(revision=rev).values_list("province_id", flat=True)
    ) == set(Province.objects.values_list("id", flat=True))
