from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.core.errors import Forbidden, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.norms import lexicon, services
from kefu.norms.check import check_text
from kefu.norms.defaults import RULES, TEMPLATES
from kefu.norms.models import LexiconVersion, PhraseRule, Screening
from kefu.norms.services import RuleSpec, TemplateSpec

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    lexicon.clear_cache()
    yield
    lexicon.clear_cache()


def test_migration_loads_the_default_lexicon():
    v = lexicon.version_in_force()
    assert v is not None and v.number == 1
    assert v.rules.count() == len(RULES)
    assert v.templates.count() == len(TEMPLATES)
    result = check_text("你自己不会看说明书吗？…别再来问了！", channel="ticket")
    assert result.blocked and result.version == 1
    assert {h.pattern for h in result.hits} >= {"别再来问了", "你自己不会"}


@pytest.mark.parametrize(
    ("pattern", "field", "why"),
    [
        ("", "pattern", "不能为空"),
        ("滚", "pattern", "太短"),
        ("！！", "pattern", "标点"),
        ("…别问了", "pattern", "省略号"),
        ("这" * 41, "pattern", "过长"),
    ],
)
def test_bad_entries_are_refused_with_row_and_reason_nothing_written(hq_reviewer, pattern, field, why):
    good = RuleSpec("banned", "block", "别再来问了", "欢迎随时联系我们")
    bad = RuleSpec("banned", "block", pattern, "建议")
    versions, events = LexiconVersion.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.lexicon_publish(actor=hq_reviewer, rules=[good, bad], templates=[])
    assert exc.value.status == 422
    assert exc.value.fields[0]["row"] == 2 and exc.value.fields[0]["field"] == field
    assert why in exc.value.fields[0]["reason"]
    assert LexiconVersion.objects.count() == versions and AuditEvent.objects.count() == events


def test_duplicates_and_bad_choices_are_refused(hq_reviewer):
    rules = [
        RuleSpec("banned", "block", "别再来问了", "x"),
        RuleSpec("banned", "block", "别再来问了", "x"),
        RuleSpec("nonsense", "stop", "烦死了", "x"),
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.lexicon_publish(
            actor=hq_reviewer, rules=rules, templates=[TemplateSpec("online", "greeting", "{x}")]
        )
    reasons = {(d["sheet"], d["row"], d["field"]) for d in exc.value.fields}
    assert reasons == {
        ("rules", 2, "pattern"),
        ("rules", 3, "category"),
        ("rules", 3, "severity"),
        ("templates", 1, "text"),
    }


def test_publish_is_audited_and_the_check_follows_the_version_in_force(hq_reviewer):
    assert not check_text("你这人真磨叽", channel="ticket").hits
    now = timezone.now()
    future = services.rule_add(
        actor=hq_reviewer,
        spec=RuleSpec("impatience", "warn", "真磨叽", "请您慢慢讲"),
        effective_from=now + timedelta(days=1),
    )
    assert not check_text("你这人真磨叽", channel="ticket").hits  # not yet in force
    assert lexicon.compiled(now + timedelta(days=2)).version == future.number
    services.rule_add(actor=hq_reviewer, spec=RuleSpec("impatience", "warn", "真磨叽", "请您慢慢讲"))
    ev = AuditEvent.objects.filter(verb="norms.lexicon_published").last()
    assert ev.actor == hq_reviewer.user and ev.data["rules"] == len(RULES) + 1
    assert check_text("你这人真磨叽", channel="ticket").warned
    assert PhraseRule.objects.filter(version__number=1).count() == len(RULES)  # old version kept as it was


def test_only_hq_service_maintains_the_lexicon(agent_bj):
    with pytest.raises(Forbidden):
        services.rule_add(actor=agent_bj, spec=RuleSpec("banned", "block", "真磨叽", "x"))
    assert LexiconVersion.objects.count() == 1


def test_screen_blocks_with_phrase_and_suggestion_and_records_the_attempt(agent_bj):
    with pytest.raises(ValidationFailed) as exc:
        services.text_screen(
            actor=agent_bj,
            text="别 再 來 问 了！",
            channel="ticket",
            contact_kind="ticket",
            contact_id=5,
            province_code="BJ",
        )
    assert exc.value.code == "norms_blocked" and exc.value.status == 422
    assert (
        "别 再 來 问 了" in exc.value.message
        and exc.value.details["hits"][0]["suggestion"] in exc.value.message
    )
    s = Screening.objects.get()
    assert (s.outcome, s.contact_kind, s.contact_id, s.province_code, s.agent) == (
        "block",
        "ticket",
        "5",
        "BJ",
        agent_bj.user,
    )


def test_screen_warn_needs_confirmation_then_is_recorded(agent_bj):
    with pytest.raises(ValidationFailed) as exc:
        services.text_screen(
            actor=agent_bj, text="不是跟你说了吗", channel="ticket", contact_kind="ticket", contact_id=5
        )
    assert exc.value.code == "norms_confirm_required"
    assert not Screening.objects.exists()
    result = services.text_screen(
        actor=agent_bj,
        text="不是跟你说了吗",
        channel="ticket",
        contact_kind="ticket",
        contact_id=5,
        confirmed=True,
    )
    assert services.result_codes(result) == [
        {"category": "impatience", "severity": "warn", "phrase": "不是跟你说了"}
    ]
    assert Screening.objects.get().outcome == "warn"


def test_clean_text_passes_and_records_nothing(agent_bj):
    result = services.text_screen(
        actor=agent_bj,
        text="您好，已为您登记，请您耐心等待。",
        channel="chat",
        contact_kind="chat",
        contact_id=1,
    )
    assert result.clean and not Screening.objects.exists()


def test_confirm_problem_template_is_filled():
    text = services.template_text(
        purpose="confirm_problem", channel="hotline", number="TS-1", subject="无法入会"
    )
    assert "TS-1" in text and "无法入会" in text and "{" not in text
