"""Feedback flags: created from an article or a work order, province-scoped, handled by the operating unit."""

from __future__ import annotations

import pytest

from kefu.core.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from kefu.knowledge import selectors, services
from kefu.knowledge.models import Feedback

pytestmark = pytest.mark.django_db


def test_flag_from_a_work_order_reaches_the_queue(make_published, agent_gd, kb_checker, agent_sh):
    rev = make_published()
    fb = services.feedback_create(
        actor=agent_gd,
        kind="wrong",
        text="答案中的热线号码有误",
        article=rev.article,
        source_ref="GD-20261127-0001",
    )
    assert fb.province.slug == "gd" and fb.revision_id == rev.pk
    assert list(selectors.feedback_queue(kb_checker.scope)) == [fb]
    assert list(selectors.feedback_queue(agent_gd.scope)) == [fb]
    assert list(selectors.feedback_queue(agent_sh.scope)) == []
    with pytest.raises(NotFound):
        selectors.feedback_for(agent_sh.scope, fb.pk)
    services.feedback_handle(actor=kb_checker, feedback=fb, state="accepted", note="已改")
    fb.refresh_from_db()
    assert (fb.state, fb.handled_by) == ("accepted", kb_checker.user)
    with pytest.raises(IllegalTransition):
        services.feedback_handle(actor=kb_checker, feedback=fb, state="rejected")


def test_feedback_validation(agent_gd, hq_confirmer):
    with pytest.raises(ValidationFailed):
        services.feedback_create(actor=agent_gd, kind="wrong", text="没有文章")
    with pytest.raises(ValidationFailed):
        services.feedback_create(actor=agent_gd, kind="nonsense", text="x")
    with pytest.raises(Forbidden):
        services.feedback_create(actor=hq_confirmer, kind="missing", text="x")
    assert Feedback.objects.unscoped("test").count() == 0


def test_only_the_operating_unit_handles(agent_gd, lead_js):
    fb = services.feedback_create(actor=agent_gd, kind="missing", text="缺少退租流程说明")
    with pytest.raises(Forbidden):
        services.feedback_handle(actor=agent_gd, feedback=fb, state="accepted")
    fb.refresh_from_db()
    assert fb.state == "open"
