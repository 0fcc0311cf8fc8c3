"""The approval workflow: the table, the happy path, and every refusal changing nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed
from kefu.core.models import AuditEvent
from kefu.knowledge import services, workflow
from kefu.knowledge.models import Article, LoadReceipt, ReviewComment, Revision
from kefu.knowledge.tests.conftest import content

pytestmark = pytest.mark.django_db


def snapshot(rev: Revision) -> tuple:
    rev.refresh_from_db()
    return (
        rev.status,
        rev.checked_by_id,
        rev.confirmed_by_id,
        rev.approved_by_id,
        rev.published_at,
        AuditEvent.objects.count(),
        ReviewComment.objects.count(),
        Article.objects.get(pk=rev.article_id).published_revision_id,
    )


def test_transition_table_is_pinned():
    assert {(t.action, t.source, t.target, t.permission, t.approval) for t in workflow.TRANSITIONS} == {
        ("submit", "draft", "submitted", "kb.author", False),
        ("check", "submitted", "checked", "kb.check", True),
        ("confirm", "checked", "confirmed", "kb.confirm", True),
        ("publish", "confirmed", "published", "kb.publish", True),
        ("schedule", "confirmed", "scheduled", "kb.publish", True),
        ("publish_due", "scheduled", "published", None, False),
        ("return", "submitted", "returned", "kb.check", False),
        ("return", "checked", "returned", "kb.confirm", False),
        ("return", "confirmed", "returned", "kb.publish", False),
        ("return", "scheduled", "returned", "kb.publish", False),
        ("supersede", "draft", "superseded", None, False),
        ("retire", "published", "retired", None, False),
    }


def test_three_approvals_publish_and_audit_every_step(kb_author, kb_checker, hq_confirmer, hq_reviewer):
    rev = services.article_create(actor=kb_author, content=content())
    assert rev.status == "draft"
    steps = [
        (kb_author, "submit", "submitted"),
        (kb_checker, "check", "checked"),
        (hq_confirmer, "confirm", "confirmed"),
        (hq_reviewer, "publish", "published"),
    ]
    for actor, action, expected in steps:
        rev = services.revision_transition(actor=actor, revision=rev, action=action)
        assert rev.status == expected
    rev.refresh_from_db()
    assert (rev.checked_by, rev.confirmed_by, rev.approved_by) == (
        kb_checker.user,
        hq_confirmer.user,
        hq_reviewer.user,
    )
    article = Article.objects.get(pk=rev.article_id)
    assert article.published_revision_id == rev.pk
    verbs = list(
        AuditEvent.objects.filter(target_type="knowledge.revision", target_id=str(rev.pk)).values_list(
            "verb", flat=True
        )
    )
    assert verbs == [
        "kb.revision_submitted",
        "kb.revision_checked",
        "kb.revision_confirmed",
        "kb.revision_published",
    ]
    assert LoadReceipt.objects.unscoped("test").filter(revision=rev).count() == 31


@pytest.mark.parametrize("who", ["hq_confirmer", "hq_reviewer", "agent_gd"])
def test_wrong_role_cannot_check_and_nothing_changes(request, kb_author, who):
    rev = services.article_create(actor=kb_author, content=content())
    rev = services.revision_transition(actor=kb_author, revision=rev, action="submit")
    before = snapshot(rev)
    with pytest.raises(Forbidden) as exc:
        services.revision_transition(actor=request.getfixturevalue(who), revision=rev, action="check")
    assert exc.value.status == 403 and "审核" in exc.value.message and "check" in exc.value.message_en
    assert snapshot(rev) == before


def test_out_of_order_is_refused_and_nothing_changes(kb_author, hq_reviewer, hq_confirmer):
    rev = services.article_create(actor=kb_author, content=content())
    rev = services.revision_transition(actor=kb_author, revision=rev, action="submit")
    before = snapshot(rev)
    for actor, action in ((hq_reviewer, "publish"), (hq_confirmer, "confirm")):
        with pytest.raises(IllegalTransition) as exc:
            services.revision_transition(actor=actor, revision=rev, action=action)
        assert (
            exc.value.status == 409 and "顺序" in exc.value.message and "out of order" in exc.value.message_en
        )
    assert snapshot(rev) == before


def test_who_submitted_someone_elses_draft_cannot_check_it(kb_author, kb_checker, make_actor):
    """Four eyes: sending a colleague's draft into review and then passing it is one pair of eyes."""
    third = make_actor("kb_third", "knowledge", "kb_author")
    rev = services.article_create(actor=kb_author, content=content())
    rev = services.revision_transition(actor=kb_checker, revision=rev, action="submit")
    assert rev.submitted_by == kb_checker.user
    before = snapshot(rev)
    with pytest.raises(Forbidden) as exc:
        services.revision_transition(actor=kb_checker, revision=rev, action="check")
    assert exc.value.code == "own_revision"
    assert snapshot(rev) == before
    rev = services.revision_transition(actor=third, revision=rev, action="check")
    assert rev.status == "checked"


def test_no_one_approves_their_own_revision(kb_author, kb_checker):
    rev = services.article_create(actor=kb_checker, content=content())
    rev = services.revision_transition(actor=kb_checker, revision=rev, action="submit")
    before = snapshot(rev)
    with pytest.raises(Forbidden) as exc:
        services.revision_transition(actor=kb_checker, revision=rev, action="check")
    assert exc.value.code == "own_revision"
    assert snapshot(rev) == before
    # someone else in the operating unit may check it
    assert services.revision_transition(actor=kb_author, revision=rev, action="check").status == "checked"


def test_one_person_cannot_approve_two_stages(make_actor, kb_author, kb_checker):
    from kefu.org.models import Membership, Role, Team

    Membership.objects.create(
        user=kb_checker.user, team=Team.objects.get(code="hq_business"), role=Role.KB_CONFIRMER
    )
    from kefu.org.access import actor_for

    both = actor_for(kb_checker.user)
    rev = services.article_create(actor=kb_author, content=content())
    rev = services.revision_transition(actor=kb_author, revision=rev, action="submit")
    rev = services.revision_transition(actor=both, revision=rev, action="check")
    with pytest.raises(Forbidden) as exc:
        services.revision_transition(actor=both, revision=rev, action="confirm")
    assert exc.value.code == "same_approver"


def test_return_needs_a_comment_then_edit_makes_new_revision(kb_author, kb_checker, hq_confirmer):
    rev = services.article_create(actor=kb_author, content=content())
    rev = services.revision_transition(actor=kb_author, revision=rev, action="submit")
    rev = services.revision_transition(actor=kb_checker, revision=rev, action="check")
    before = snapshot(rev)
    with pytest.raises(ValidationFailed):
        services.revision_transition(actor=hq_confirmer, revision=rev, action="return", comment="  ")
    assert snapshot(rev) == before
    rev = services.revision_transition(
        actor=hq_confirmer, revision=rev, action="return", comment="资费描述不准确"
    )
    assert rev.status == "returned"
    assert rev.comments.get().text == "资费描述不准确"
    new = services.revision_edit(actor=kb_author, article=rev.article, content=content(title="新标题"))
    assert (new.number, new.status, new.based_on_id) == (2, "draft", rev.pk)
    again = services.revision_edit(actor=kb_author, article=rev.article, content=content(title="再改"))
    new.refresh_from_db()
    assert (again.number, new.status) == (3, "superseded")


def test_one_revision_under_review_per_article(kb_author, kb_checker):
    rev = services.article_create(actor=kb_author, content=content())
    services.revision_transition(actor=kb_author, revision=rev, action="submit")
    second = services.revision_edit(actor=kb_author, article=rev.article, content=content(title="第二稿"))
    with pytest.raises(Conflict) as exc:
        services.revision_transition(actor=kb_author, revision=second, action="submit")
    assert exc.value.code == "review_in_progress"
    second.refresh_from_db()
    assert second.status == "draft"
    # the database itself holds the rule
    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.filter(pk=second.pk).update(status="checked")


def test_lead_time_refused_unless_urgent_then_flagged(kb_author, kb_checker):
    today = timezone.localdate()
    late = services.article_create(
        actor=kb_author, content=content(release="V3.2", release_date=today + timedelta(days=6))
    )
    with pytest.raises(ValidationFailed) as exc:
        services.revision_transition(actor=kb_author, revision=late, action="submit")
    assert exc.value.code == "lead_time" and "一周" in exc.value.message
    late.refresh_from_db()
    assert late.status == "draft" and late.submitted_at is None

    ok = services.article_create(
        actor=kb_author, content=content(release="V3.2", release_date=today + timedelta(days=7))
    )
    ok = services.revision_transition(actor=kb_author, revision=ok, action="submit")
    assert ok.late_submission is False

    urgent = services.revision_edit(
        actor=kb_author,
        article=late.article,
        content=content(
            release="V3.2",
            release_date=today + timedelta(days=2),
            urgent=True,
            urgent_reason="平台故障临时公告",
        ),
    )
    urgent = services.revision_transition(actor=kb_author, revision=urgent, action="submit")
    assert urgent.late_submission is True
    from kefu.knowledge.selectors import review_queue

    assert list(review_queue(kb_checker))[0] == urgent  # flagged ones first


def test_urgent_needs_reason():
    with pytest.raises(ValidationFailed):
        content(urgent=True, urgent_reason="").cleaned()


def test_scheduled_publication_happens_by_itself(kb_author, kb_checker, hq_confirmer, hq_reviewer):
    now = timezone.now()
    rev = services.article_create(actor=kb_author, content=content())
    for actor, action in ((kb_author, "submit"), (kb_checker, "check"), (hq_confirmer, "confirm")):
        rev = services.revision_transition(actor=actor, revision=rev, action=action)
    rev = services.revision_transition(
        actor=hq_reviewer, revision=rev, action="publish", publish_at=now + timedelta(hours=2), now=now
    )
    assert rev.status == "scheduled"
    assert services.publish_due(now=now + timedelta(hours=1)) == 0
    assert services.publish_due(now=now + timedelta(hours=2, minutes=1)) == 1
    rev.refresh_from_db()
    assert rev.status == "published"
    assert Article.objects.get(pk=rev.article_id).published_revision_id == rev.pk


def test_publish_due_command(kb_author, kb_checker, hq_confirmer, hq_reviewer):
    from django.core.management import call_command

    now = timezone.now()
    rev = services.article_create(actor=kb_author, content=content())
    for actor, action in ((kb_author, "submit"), (kb_checker, "check"), (hq_confirmer, "confirm")):
        rev = services.revision_transition(actor=actor, revision=rev, action=action)
    services.revision_transition(
        actor=hq_reviewer, revision=rev, action="schedule", publish_at=now + timedelta(seconds=1), now=now
    )
    Revision.objects.filter(pk=rev.pk).update(publish_at=now - timedelta(minutes=1))
    call_command("kb_publish_due")
    rev.refresh_from_db()
    assert rev.status == "published"


def test_new_publication_retires_the_old_and_moves_the_faq(
    make_published, kb_author, kb_checker, hq_confirmer, hq_reviewer
):
    first = make_published()
    second = services.revision_edit(
        actor=kb_author, article=first.article, content=content(answer_customer="新的客户答案")
    )
    for actor, action in (
        (kb_author, "submit"),
        (kb_checker, "check"),
        (hq_confirmer, "confirm"),
        (hq_reviewer, "publish"),
    ):
        second = services.revision_transition(actor=actor, revision=second, action=action)
    first.refresh_from_db()
    assert first.status == "retired"
    from kefu.knowledge.selectors import published_article

    assert published_article(first.article_id).answer_customer == "新的客户答案"


def test_published_article_contract(make_published, kb_author):
    from kefu.core.errors import NotFound
    from kefu.knowledge.selectors import published_article

    rev = make_published()
    assert published_article(rev.article_id).pk == rev.pk
    draft = services.article_create(actor=kb_author, content=content())
    for bad in (draft.article_id, 987654321, "x"):
        with pytest.raises(NotFound):
            published_article(bad)


def test_release_date_without_release_is_refused():
    with pytest.raises(ValidationFailed):
        content(release="", release_date=date(2027, 1, 1)).cleaned()
