"""The only code that writes knowledge data. Each function is atomic, locks what it changes,
records one audit event and sends mail after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kefu.core import audit, outbox
from kefu.core.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed
from kefu.core.links import absolute_url
from kefu.knowledge.codes import KnowledgeCode
from kefu.org.access import Actor
from kefu.org.models import Province, Team

from . import search, workflow
from .models import (
    Article,
    CommonProblem,
    Feedback,
    LoadReceipt,
    ReviewComment,
    Revision,
    SearchLog,
    SimilarQuestion,
    SynonymGroup,
    split_words,
)
from .segment import query_terms
from .workflow import Action, Status

log = logging.getLogger(__name__)
REMINDER_MAIL = "knowledge.receipts_reminder"
outbox.register(REMINDER_MAIL, gettext_lazy("知识加载提醒邮件"))

LEAD_TIME = timedelta(days=7)
CONTENT_FIELDS = (
    "title",
    "question",
    "answer_agent",
    "answer_customer",
    "category_code",
    "keywords",
    "release",
    "release_date",
    "urgent",
    "urgent_reason",
)
MAX_LENGTHS = {"title": 200, "category_code": 80, "keywords": 300, "release": 40}


@dataclass
class Content:
    """What an author writes; every edit makes a new revision from one of these."""

    title: str
    question: str
    answer_agent: str
    answer_customer: str
    category_code: str
    keywords: str = ""
    release: str = ""
    release_date: date | None = None
    urgent: bool = False
    urgent_reason: str = ""

    def cleaned(self) -> Content:
        errors = []
        for name in ("title", "question", "answer_agent", "answer_customer", "category_code"):
            value = (getattr(self, name) or "").strip()
            setattr(self, name, value)
            if not value:
                errors.append({"field": name, "message": "必填", "message_en": "required"})
        for name in ("keywords", "release", "urgent_reason"):
            setattr(self, name, (getattr(self, name) or "").strip())
        for name, limit in MAX_LENGTHS.items():
            if len(getattr(self, name)) > limit:
                errors.append(
                    {
                        "field": name,
                        "message": f"不超过 {limit} 字",
                        "message_en": f"at most {limit} characters",
                    }
                )
        if self.urgent and not self.urgent_reason:
            errors.append(
                {
                    "field": "urgent_reason",
                    "message": "紧急发布须说明原因",
                    "message_en": "an urgent revision needs a reason",
                }
            )
        if self.release_date and not self.release:
            errors.append(
                {
                    "field": "release",
                    "message": "填写上线日期时须填写产品版本",
                    "message_en": "a release date needs the release name",
                }
            )
        for name in (
            "title",
            "question",
            "answer_agent",
            "answer_customer",
            "keywords",
            "release",
            "urgent_reason",
            "category_code",
        ):
            if "\x00" in getattr(self, name):
                errors.append(
                    {"field": name, "message": "含非法字符", "message_en": "contains a NUL character"}
                )
        if errors:
            raise ValidationFailed(
                "知识内容不完整或有误，请检查各字段。",
                "The article content is incomplete or invalid.",
                fields=errors,
            )
        return self


def _user(actor: Actor) -> Any:
    return actor.user if actor.user.pk else None


def _audit(
    actor: Actor, verb: str, target: Any, data: dict[str, Any] | None = None, province_code: str = ""
) -> None:
    audit.record(
        actor=_user(actor),
        verb=verb,
        target=target,
        data=data or {},
        unit_code=actor.unit_code,
        province_code=province_code,
    )


# ---------------------------------------------------------------- authoring


@transaction.atomic
def article_create(*, actor: Actor, content: Content) -> Revision:
    actor.require("kb.author")
    content = content.cleaned()
    article = Article.objects.create(created_by=actor.user)
    rev = Revision.objects.create(
        article=article,
        number=1,
        author=actor.user,
        status=Status.DRAFT,
        **{f: getattr(content, f) for f in CONTENT_FIELDS},
    )
    _audit(actor, "kb.article_created", article, {"revision": rev.pk, "number": 1})
    return rev


@transaction.atomic
def article_import_draft(*, actor: Actor, content: Content) -> Revision:
    """A draft brought in by the bulk import; it then goes through the workflow like any other."""
    if not getattr(actor.user, "is_superuser", False):
        actor.require("kb.import")
    content = content.cleaned()
    article = Article.objects.create(created_by=actor.user)
    rev = Revision.objects.create(
        article=article,
        number=1,
        author=actor.user,
        status=Status.DRAFT,
        **{f: getattr(content, f) for f in CONTENT_FIELDS},
    )
    _audit(actor, "kb.article_created", article, {"revision": rev.pk, "number": 1, "imported": True})
    return rev


@transaction.atomic
def revision_edit(*, actor: Actor, article: Article, content: Content) -> Revision:
    """Save an edit as a new draft revision; an older unsubmitted draft is superseded by it."""
    actor.require("kb.author")
    content = content.cleaned()
    article = Article.objects.select_for_update().get(pk=article.pk)
    latest = article.revisions.order_by("-number").first()
    for draft in article.revisions.filter(status=Status.DRAFT):
        _move(actor, draft, Action.SUPERSEDE)
    number = (latest.number if latest else 0) + 1
    rev = Revision.objects.create(
        article=article,
        number=number,
        based_on=latest,
        author=actor.user,
        status=Status.DRAFT,
        **{f: getattr(content, f) for f in CONTENT_FIELDS},
    )
    _audit(
        actor,
        "kb.revision_created",
        rev,
        {"article": article.pk, "number": number, "based_on": latest.pk if latest else None},
    )
    return rev


# ---------------------------------------------------------------- workflow


def _move(actor: Actor, rev: Revision, action: str) -> None:
    """The only writer of Revision.status."""
    step = workflow.find(action, rev.status)
    if step is None:
        raise IllegalTransition(
            "当前状态不能执行此操作。", "This action is not allowed in the current state."
        )
    rev.status = step.target
    rev.save(update_fields=["status"])
    _audit(
        actor,
        workflow.VERBS[action],
        rev,
        {"from": step.source, "to": step.target, "article": rev.article_id},
    )


STAGE_LABELS = {
    Status.SUBMITTED: ("运营单位审核", "the operating unit's check"),
    Status.CHECKED: ("政企事业部确认", "HQ business confirmation"),
    Status.CONFIRMED: ("集团客服部审核发布", "HQ service review and publication"),
    Status.SCHEDULED: ("集团客服部审核发布", "HQ service review and publication"),
}


def _guard(actor: Actor, rev: Revision, action: str) -> workflow.Transition:
    step = workflow.find(action, rev.status)
    if step is None or step.permission is None:
        current = rev.get_status_display()
        raise IllegalTransition(
            f"版本当前为「{current}」，不能执行此操作(需按 编写→运营审核→事业部确认→集团审核发布 的顺序)。",
            f"The revision is '{rev.status}'; this action is out of order "
            "(draft → operating-unit check → HQ business confirmation → HQ service publication).",
            details={"status": rev.status, "action": action},
        )
    if not actor.can(step.permission):
        stage_zh, stage_en = STAGE_LABELS.get(rev.status, ("提交", "submission"))
        raise Forbidden(
            f"此环节({stage_zh})须由有相应职责的人员办理，您的角色不能执行。",
            f"This step ({stage_en}) must be taken by the responsible role; yours cannot take it.",
            code=KnowledgeCode.PERMISSION_DENIED,
            details={"permission": step.permission, "status": rev.status},
        )
    if step.approval:
        if actor.user.pk in {rev.author_id, rev.submitted_by_id}:
            raise Forbidden(
                "不能审核自己编写或提交的版本。",
                "You cannot approve a revision you wrote or submitted.",
                code=KnowledgeCode.OWN_REVISION,
            )
        if actor.user.pk in {rev.checked_by_id, rev.confirmed_by_id}:
            raise Forbidden(
                "同一人不能在两个环节审核同一版本。",
                "One person cannot approve two stages of a revision.",
                code=KnowledgeCode.SAME_APPROVER,
            )
    if action == Action.SUBMIT and rev.author_id != actor.user.pk and not actor.can("kb.check"):
        raise Forbidden(
            "只能提交自己编写的版本。",
            "You can only submit your own revision.",
            code=KnowledgeCode.NOT_AUTHOR,
        )
    return step


def _lead_time_check(rev: Revision, now: datetime) -> bool:
    """Whether the submission is late for its release; refuses it unless marked urgent with a reason."""
    if rev.release_date is None:
        return False
    today = timezone.localtime(now).date()
    if rev.release_date - today >= LEAD_TIME:
        return False
    if rev.urgent and rev.urgent_reason:
        return True
    raise ValidationFailed(
        f"版本 {rev.release} 于 {rev.release_date:%Y-%m-%d} 上线，新内容须至少提前一周(7 天)提交；"
        "如确需发布(如平台故障)，请标记为紧急并说明原因。",
        f"Release {rev.release} goes live on {rev.release_date:%Y-%m-%d}: content must be submitted at least "
        "7 days before. Mark it urgent with a reason (for example a platform incident) if it must go out.",
        code=KnowledgeCode.LEAD_TIME,
        fields=[{"field": "urgent", "release_date": rev.release_date.isoformat()}],
    )


@transaction.atomic
def revision_transition(
    *,
    actor: Actor,
    revision: Revision,
    action: str,
    comment: str = "",
    publish_at: datetime | None = None,
    now: datetime | None = None,
) -> Revision:
    """Take one workflow step on a revision (submit, check, confirm, publish, schedule, return)."""
    now = now or timezone.now()
    if action not in workflow.USER_ACTIONS:
        raise ValidationFailed("未知的操作。", "Unknown action.", details={"action": action})
    rev = Revision.objects.select_for_update().select_related("article").get(pk=revision.pk)
    if action == Action.PUBLISH and publish_at is not None and publish_at > now:
        action = Action.SCHEDULE
    _guard(actor, rev, action)
    comment = (comment or "").strip()
    if action == Action.RETURN and not comment:
        raise ValidationFailed(
            "退回时须填写意见。", "Sending back needs a comment.", fields=[{"field": "comment"}]
        )
    if action == Action.SCHEDULE and (publish_at is None or publish_at <= now):
        raise ValidationFailed(
            "计划发布时间须晚于现在。",
            "The scheduled time must be in the future.",
            fields=[{"field": "publish_at"}],
        )
    updates: list[str] = []
    if action == Action.SUBMIT:
        rev.late_submission = _lead_time_check(rev, now)
        rev.submitted_at, rev.submitted_by = now, actor.user
        updates += ["late_submission", "submitted_at", "submitted_by"]
    elif action == Action.CHECK:
        rev.checked_by, rev.checked_at = actor.user, now
        updates += ["checked_by", "checked_at"]
    elif action == Action.CONFIRM:
        rev.confirmed_by, rev.confirmed_at = actor.user, now
        updates += ["confirmed_by", "confirmed_at"]
    elif action in (Action.PUBLISH, Action.SCHEDULE):
        rev.approved_by, rev.approved_at = actor.user, now
        rev.publish_at = publish_at if action == Action.SCHEDULE else None
        updates += ["approved_by", "approved_at", "publish_at"]
    elif action == Action.RETURN:
        rev.returned_at = now
        updates.append("returned_at")
    if updates:
        rev.save(update_fields=updates)
    if comment:
        ReviewComment.objects.create(revision=rev, action=action, author=actor.user, text=comment)
    try:
        with transaction.atomic():
            if action == Action.PUBLISH:
                _publish(actor, rev, now)
            else:
                _move(actor, rev, action)
    except IntegrityError:
        raise Conflict(
            "本文章已有一个版本在审核中，请待其完成或退回后再提交。",
            "Another revision of this article is already under review.",
            code=KnowledgeCode.REVIEW_IN_PROGRESS,
        ) from None
    return rev


def _publish(actor: Actor, rev: Revision, now: datetime) -> None:
    article = Article.objects.select_for_update().get(pk=rev.article_id)
    for old in article.revisions.filter(status=Status.PUBLISHED).exclude(pk=rev.pk):
        _move(actor, old, Action.RETIRE)
    action = Action.PUBLISH_DUE if rev.status == Status.SCHEDULED else Action.PUBLISH
    _move(actor, rev, action)
    rev.published_at = now
    rev.save(update_fields=["published_at"])
    article.published_revision = rev
    article.published_at = now
    article.save(update_fields=["published_revision", "published_at"])
    LoadReceipt.objects.bulk_create([LoadReceipt(revision=rev, province=p) for p in Province.objects.all()])
    # The agents' page, the FAQ and the index change in the same transaction.
    search.index_revision(rev)


@transaction.atomic
def publish_due(*, now: datetime | None = None) -> int:
    """Publish every scheduled revision whose time has come (Huey, every minute; ``kb_publish_due``)."""
    from kefu.org.access import system_actor

    now = now or timezone.now()
    actor = system_actor()
    count = 0
    due = (
        Revision.objects.select_for_update()
        .filter(status=Status.SCHEDULED, publish_at__lte=now)
        .order_by("publish_at")
    )
    for rev in due:
        _publish(actor, rev, now)
        count += 1
    return count


@transaction.atomic
def article_publish_imported(*, actor: Actor, content: Content, now: datetime | None = None) -> Revision:
    """An administrator's first load of existing, already-approved documents: published without the workflow.

    The administrator is the role, or a Django superuser (``createsuperuser`` on a fresh install).
    """
    if not (actor.is_admin or getattr(actor.user, "is_superuser", False)):
        raise Forbidden(
            "只有系统管理员可以直接导入为已发布。",
            "Only an administrator may import as published.",
            code=KnowledgeCode.PERMISSION_DENIED,
        )
    now = now or timezone.now()
    content = content.cleaned()
    article = Article.objects.create(created_by=actor.user)
    rev = Revision.objects.create(
        article=article,
        number=1,
        author=actor.user,
        status=Status.CONFIRMED,
        **{f: getattr(content, f) for f in CONTENT_FIELDS},
    )
    _audit(actor, "kb.article_imported_published", article, {"revision": rev.pk})
    _publish(actor, rev, now)
    return rev


# ---------------------------------------------------------------- loading receipts


def _province_seat(actor: Actor, permission: str) -> Any:
    return next((s for s in actor.seats_with(permission) if s.province_id is not None), None)


@transaction.atomic
def receipt_load(*, actor: Actor, revision: Revision, now: datetime | None = None) -> LoadReceipt:
    """A province desk acknowledges that it has loaded a published revision into its desk knowledge base."""
    actor.require("kb.load")
    seat = _province_seat(actor, "kb.load")
    if seat is None:
        raise Forbidden(
            "只有省分公司专席可以登记加载回执。",
            "Only a province desk can record a loading receipt.",
            code=KnowledgeCode.NOT_PROVINCE,
        )
    now = now or timezone.now()
    receipt = (
        LoadReceipt.objects.scoped(actor.scope)
        .select_for_update()
        .filter(revision=revision, province_id=seat.province_id)
        .first()
    )
    if receipt is None or revision.status not in (Status.PUBLISHED, Status.RETIRED):
        raise IllegalTransition(
            "该版本尚未发布，不能登记加载。", "This revision is not published; nothing to load."
        )
    if receipt.loaded_at is not None:
        return receipt  # idempotent: the first acknowledgement stands
    receipt.loaded_at, receipt.loaded_by = now, actor.user
    receipt.save(update_fields=["loaded_at", "loaded_by"])
    _audit(
        actor,
        "kb.receipt_loaded",
        receipt,
        {"revision": revision.pk, "province": seat.province_code},
        province_code=seat.province_code,
    )
    return receipt


@transaction.atomic
def receipts_remind(*, now: datetime | None = None, after: timedelta = timedelta(hours=24)) -> int:
    """Remind the desks that have not loaded a current revision published more than ``after`` ago (daily)."""
    from kefu.org.access import system_actor

    now = now or timezone.now()
    actor = system_actor()
    pending = (
        LoadReceipt.objects.unscoped("reminder job covers every province")
        .select_for_update()
        .filter(loaded_at=None, revision__status=Status.PUBLISHED, revision__published_at__lte=now - after)
        .exclude(reminded_at__gt=now - timedelta(hours=20))
        .select_related("revision", "province")
    )
    by_province: dict[int, list[LoadReceipt]] = {}
    for r in pending:
        by_province.setdefault(r.province_id, []).append(r)
        r.reminded_at, r.reminder_count = now, r.reminder_count + 1
        r.save(update_fields=["reminded_at", "reminder_count"])
    if not by_province:
        return 0
    emails = dict(
        Team.objects.filter(kind=Team.Kind.PROVINCE_DESK, province_id__in=by_province)
        .exclude(email="")
        .values_list("province_id", "email")
    )
    messages = []
    for province_id, receipts in by_province.items():
        if province_id in emails:
            lines = [f"{r.revision.article.code} v{r.revision.number} {r.revision.title}" for r in receipts]
            messages.append((emails[province_id], lines))
    marker = Revision.objects.filter(pk=next(iter(by_province.values()))[0].revision_id).first()
    if marker is not None:
        _audit(
            actor,
            "kb.receipts_reminded",
            marker,
            {"provinces": len(by_province), "receipts": sum(len(v) for v in by_province.values())},
        )

    day = timezone.localtime(now).date().isoformat()
    for (
        to,
        lines,
    ) in messages:  # through the outbox, in this transaction: sent after commit, retried on failure
        outbox.enqueue(
            purpose=REMINDER_MAIL,
            key=f"{to}:{day}",
            to=[to],
            subject="【新视通知识库】请加载已发布的知识",
            body="以下知识已发布，请尽快加载到本省专席知识库并登记回执：\n\n"
            + "\n".join(lines)
            + f"\n\n登记回执：{absolute_url(reverse('knowledge:receipts'))}\n",
            ref="kb.receipts",
            now=now,
        )
    return sum(len(v) for v in by_province.values())


# ---------------------------------------------------------------- feedback


@transaction.atomic
def feedback_create(
    *, actor: Actor, kind: str, text: str, article: Article | None = None, source_ref: str = ""
) -> Feedback:
    """Flag a wrong, outdated, unclear or missing answer (from an article page or a work order).

    The province is the actor's province seat, or none for national teams.
    """
    actor.require("kb.feedback")
    text = (text or "").strip()
    errors = []
    if kind not in Feedback.Kind.values:
        errors.append({"field": "kind", "message": "类型无效", "message_en": "invalid kind"})
    if not text:
        errors.append({"field": "text", "message": "请说明问题", "message_en": "required"})
    if len(source_ref) > 80:
        errors.append({"field": "source_ref", "message": "过长", "message_en": "too long"})
    if kind != Feedback.Kind.MISSING and article is None:
        errors.append({"field": "article", "message": "请指明文章", "message_en": "which article?"})
    if errors:
        raise ValidationFailed("反馈内容有误。", "The feedback is invalid.", fields=errors)
    seat = _province_seat(actor, "kb.feedback")
    # The revision the agent was reading: the one published now (re-read, the caller's copy may be stale).
    revision_id = (
        Article.objects.filter(pk=article.pk).values_list("published_revision", flat=True).first()
        if article
        else None
    )
    fb = Feedback.objects.create(
        article=article,
        revision_id=revision_id,
        province_id=seat.province_id if seat else None,
        kind=kind,
        text=text,
        source_ref=source_ref.strip(),
        created_by=actor.user,
    )
    _audit(
        actor,
        "kb.feedback_created",
        fb,
        {"article": article.pk if article else None, "kind": kind},
        province_code=seat.province_code if seat else "",
    )
    return fb


@transaction.atomic
def feedback_handle(
    *, actor: Actor, feedback: Feedback, state: str, note: str = "", now: datetime | None = None
) -> Feedback:
    actor.require("kb.check")
    if state not in (Feedback.State.ACCEPTED, Feedback.State.REJECTED):
        raise ValidationFailed("处理结果无效。", "Invalid outcome.", fields=[{"field": "state"}])
    fb = (
        Feedback.objects.unscoped("fetched by the caller through a scope")
        .select_for_update()
        .get(pk=feedback.pk)
    )
    if fb.state != Feedback.State.OPEN:
        raise IllegalTransition("该反馈已处理。", "This feedback has already been handled.")
    fb.state, fb.handled_by, fb.handled_at, fb.handling_note = (
        state,
        actor.user,
        now or timezone.now(),
        note.strip(),
    )
    fb.save(update_fields=["state", "handled_by", "handled_at", "handling_note"])
    _audit(actor, "kb.feedback_handled", fb, {"state": state})
    return fb


# ---------------------------------------------------------------- common problems


@transaction.atomic
def problem_start_draft(*, actor: Actor, problem: CommonProblem) -> Revision:
    actor.require("kb.author")
    problem = CommonProblem.objects.select_for_update().get(pk=problem.pk)
    if problem.state != CommonProblem.State.OPEN:
        raise IllegalTransition(
            "该问题已起草或已忽略。", "This problem has already been drafted or dismissed."
        )
    examples = "\n".join(f"· {t}" for t in problem.example_texts[:5])
    rev = article_create(
        actor=actor,
        content=Content(
            title="、".join(problem.terms[:4]),
            question=problem.example_texts[0] if problem.example_texts else "、".join(problem.terms),
            answer_agent="(待编写)工单样例：\n" + examples,
            answer_customer="(待编写)",
            category_code=problem.category_code,
            keywords=" ".join(problem.terms[:8]),
        ),
    )
    problem.state, problem.draft_article = CommonProblem.State.DRAFTED, rev.article
    problem.save(update_fields=["state", "draft_article"])
    _audit(actor, "kb.problem_drafted", problem, {"article": rev.article_id})
    return rev


@transaction.atomic
def problem_dismiss(*, actor: Actor, problem: CommonProblem) -> CommonProblem:
    actor.require("kb.check")
    problem = CommonProblem.objects.select_for_update().get(pk=problem.pk)
    if problem.state != CommonProblem.State.OPEN:
        raise IllegalTransition(
            "该问题已起草或已忽略。", "This problem has already been drafted or dismissed."
        )
    problem.state = CommonProblem.State.DISMISSED
    problem.save(update_fields=["state"])
    _audit(actor, "kb.problem_dismissed", problem)
    return problem


# ---------------------------------------------------------------- vocabulary: synonyms, similar questions

SYNONYM_SEED = Path(__file__).with_name("synonyms_seed.txt")
MAX_SYNONYM_WORDS = 30


def _clean_synonym_words(words: str | list[str]) -> list[str]:
    items, errors = _synonym_check(words)
    if errors:
        raise ValidationFailed("同义词组有误。", "The synonym group is invalid.", fields=errors)
    return items


def _synonym_check(words: str | list[str]) -> tuple[list[str], list[dict[str, str]]]:
    items = split_words(" ".join(words) if isinstance(words, list) else str(words or ""))
    errors = []
    if len(items) < 2:
        errors.append(
            {"field": "words", "message": "一组至少两个词", "message_en": "a group needs at least two words"}
        )
    if len(items) > MAX_SYNONYM_WORDS:
        errors.append(
            {
                "field": "words",
                "message": f"一组最多 {MAX_SYNONYM_WORDS} 个词",
                "message_en": f"at most {MAX_SYNONYM_WORDS} words per group",
            }
        )
    for w in items:
        if len(w) > 40 or "\x00" in w:
            errors.append(
                {
                    "field": "words",
                    "message": f"词过长或含非法字符：{w[:40]}",
                    "message_en": f"word too long or invalid: {w[:40]}",
                }
            )
    return items, errors


@transaction.atomic
def synonym_group_save(
    *, actor: Actor, words: str | list[str], note: str = "", group: SynonymGroup | None = None
) -> SynonymGroup:
    """Create or change a synonym group (the knowledge team's vocabulary); applied to queries at once."""
    actor.require("kb.author")
    items = _clean_synonym_words(words)
    if group is None:
        group = SynonymGroup(updated_by=_user(actor))
    else:
        group = SynonymGroup.objects.select_for_update().get(pk=group.pk)
    before = group.words
    group.words, group.note, group.updated_by = " ".join(items), (note or "").strip()[:200], _user(actor)
    group.save()
    _audit(actor, "kb.synonyms_saved", group, {"before": before, "after": group.words})
    return group


@transaction.atomic
def synonym_group_delete(*, actor: Actor, group: SynonymGroup) -> None:
    actor.require("kb.author")
    group = SynonymGroup.objects.select_for_update().get(pk=group.pk)
    _audit(actor, "kb.synonyms_deleted", group, {"words": group.words})
    group.delete()


def seed_groups() -> list[tuple[str, str]]:
    """(words, note) of the seed file, in order."""
    out = []
    for line in SYNONYM_SEED.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words, _, note = line.partition("#")
        out.append((words.strip(), note.strip()))
    return out


@transaction.atomic
def synonyms_seed(*, actor: Actor) -> int:
    """Load the seed groups into an empty vocabulary (fresh install, demo). Returns the number created."""
    actor.require("kb.author")
    if SynonymGroup.objects.exists():
        return 0
    user = _user(actor)
    groups = [
        SynonymGroup(words=" ".join(_clean_synonym_words(w)), note=n, updated_by=user)
        for w, n in seed_groups()
    ]
    SynonymGroup.objects.bulk_create(groups)
    first = SynonymGroup.objects.order_by("pk").first()
    if first is not None:
        _audit(actor, "kb.synonyms_imported", first, {"created": len(groups), "source": "seed"})
    return len(groups)


@transaction.atomic
def synonyms_replace(*, actor: Actor, rows: list[tuple[str, str]]) -> dict[str, int]:
    """Replace the whole vocabulary with ``rows`` of (words, note), all validated first (the Excel import).

    A row with an error stops everything: nothing is half-written.
    """
    actor.require("kb.author")
    errors = []
    clean = []
    for i, (words, note) in enumerate(rows, start=2):
        items, problems = _synonym_check(words)
        clean.append((" ".join(items), (note or "").strip()[:200]))
        errors += [
            {
                "row": i,
                "field": "words",
                "value": str(words)[:80],
                "message": f"第 {i} 行：{d['message']}",
                "message_en": f"row {i}: {d['message_en']}",
            }
            for d in problems
        ]
    if not rows:
        errors.append(
            {
                "row": 0,
                "field": "words",
                "value": "",
                "message": "表中没有同义词组",
                "message_en": "the sheet holds no synonym group",
            }
        )
    if errors:
        raise ValidationFailed(
            "同义词表有误，未导入任何内容。",
            "The synonym sheet has errors; nothing was imported.",
            fields=errors,
        )
    before = SynonymGroup.objects.count()
    SynonymGroup.objects.all().delete()
    user = _user(actor)
    SynonymGroup.objects.bulk_create([SynonymGroup(words=w, note=n, updated_by=user) for w, n in clean])
    first = SynonymGroup.objects.order_by("pk").first()
    assert first is not None  # at least one row, checked above
    _audit(
        actor, "kb.synonyms_imported", first, {"deleted": before, "created": len(clean), "source": "excel"}
    )
    return {"deleted": before, "created": len(clean)}


@transaction.atomic
def similar_add(*, actor: Actor, article: Article, text: str) -> SimilarQuestion:
    """An author adds a similar question by hand: accepted and searchable at once."""
    actor.require("kb.author")
    text = _similar_text(text)
    now = timezone.now()
    sq, _created = SimilarQuestion.objects.get_or_create(
        article=article,
        text=text,
        defaults={
            "proposed_by": _user(actor),
            "state": SimilarQuestion.State.ACCEPTED,
            "decided_by": _user(actor),
            "decided_at": now,
        },
    )
    if sq.state != SimilarQuestion.State.ACCEPTED:
        sq.state, sq.decided_by, sq.decided_at = SimilarQuestion.State.ACCEPTED, _user(actor), now
        sq.save(update_fields=["state", "decided_by", "decided_at"])
    _audit(actor, "kb.similar_added", sq, {"article": article.pk, "text": text})
    search.reindex_article(article.pk)  # searchable in the same transaction, like a publication
    return sq


def _similar_text(text: str) -> str:
    text = " ".join((text or "").split())[:200]
    if len(text) < 2 or "\x00" in text:
        raise ValidationFailed(
            "相似问法至少两个字。",
            "A similar question needs at least two characters.",
            fields=[{"field": "text"}],
        )
    return text


@transaction.atomic
def similar_propose(
    *,
    actor: Actor,
    text: str,
    article_id: int | None = None,
    article: Article | None = None,
    source_ref: str = "",
) -> SimilarQuestion | None:
    """The learning loop: a work order or chat that cited an article proposes its subject (an order) or the
    visitor's question (a chat: the plain text of the message the agent answered) as a similar question.

    The article is given as ``article`` or ``article_id``. Nothing is proposed (None) when the text is blank,
    shorter than two characters, already the title or a similar question of the article (in any state, so a
    rejected one is not proposed again), or when the article has no published revision. Whoever may cite may
    propose (no permission of its own: a side effect of the citation). The text is trimmed to 200 characters,
    whitespace collapsed.
    """
    if article is not None:
        article_id = article.pk
    if article_id is None:
        raise ValueError("similar_propose needs article or article_id")
    try:
        text = _similar_text(text)
    except ValidationFailed:
        return None
    rev = Revision.objects.filter(article_id=article_id, status=Status.PUBLISHED).only("title").first()
    if rev is None or rev.title.strip() == text:
        return None
    sq, created = SimilarQuestion.objects.get_or_create(
        article_id=article_id,
        text=text,
        defaults={"proposed_by": _user(actor), "source_ref": source_ref[:80]},
    )
    if not created:
        return None
    _audit(actor, "kb.similar_proposed", sq, {"article": article_id, "source": source_ref[:80]})
    return sq


@transaction.atomic
def similar_decide(
    *, actor: Actor, similar: SimilarQuestion, accept: bool, now: datetime | None = None
) -> SimilarQuestion:
    """The author accepts (searchable like the title from now on) or rejects a proposed similar question."""
    actor.require("kb.author")
    sq = SimilarQuestion.objects.select_for_update().get(pk=similar.pk)
    if sq.state != SimilarQuestion.State.PROPOSED:
        raise IllegalTransition("该相似问法已处理。", "This similar question has already been decided.")
    sq.state = SimilarQuestion.State.ACCEPTED if accept else SimilarQuestion.State.REJECTED
    sq.decided_by, sq.decided_at = _user(actor), now or timezone.now()
    sq.save(update_fields=["state", "decided_by", "decided_at"])
    _audit(actor, "kb.similar_decided", sq, {"article": sq.article_id, "state": sq.state})
    if accept:
        search.reindex_article(sq.article_id)
    return sq


@transaction.atomic
def similar_remove(*, actor: Actor, similar: SimilarQuestion) -> None:
    """Take an accepted similar question off the article (it becomes rejected, so it is not proposed again)."""
    actor.require("kb.author")
    sq = SimilarQuestion.objects.select_for_update().get(pk=similar.pk)
    sq.state, sq.decided_by, sq.decided_at = SimilarQuestion.State.REJECTED, _user(actor), timezone.now()
    sq.save(update_fields=["state", "decided_by", "decided_at"])
    _audit(actor, "kb.similar_decided", sq, {"article": sq.article_id, "state": sq.state})
    search.reindex_article(sq.article_id)


# ---------------------------------------------------------------- search log (knowledge gaps)


def search_logged(*, q: str, scope: str, result_count: int) -> SearchLog | None:
    """Record one search as typed (not an audited business action: a log row). Blank queries are not logged."""
    query = " ".join((q or "").split())[:200]
    if len(query) < 2:
        return None
    normalized = " ".join(sorted(set(query_terms(query))))[:200] or query.lower()
    return SearchLog.objects.create(
        scope=scope, query=query, normalized=normalized, result_count=result_count
    )


def search_clicked(*, log_id: int | str | None, article_id: int) -> None:
    """The article opened from a search result: that search found something useful."""
    try:
        pk = int(log_id or 0)
    except (TypeError, ValueError):
        return
    if pk:
        SearchLog.objects.filter(pk=pk, clicked_article=None).update(clicked_article_id=article_id)


def faq_viewed(*, article_id: int) -> None:
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


def allowed_actions(actor: Actor, rev: Revision) -> list[workflow.Transition]:
    """The workflow actions this actor may take on this revision now (the page offers only these buttons).

    The same checks as the transition itself (role, four eyes, own revision), without writing anything.
    """
    out = []
    for step in workflow.actions_from(rev.status):
        try:
            _guard(actor, rev, step.action)
        except (Forbidden, IllegalTransition):
            continue
        out.append(step)
    return out
