from __future__ import annotations

from datetime import date

import pytest

from kefu.knowledge import services
from kefu.knowledge.services import Content
from kefu.org.models import Role


@pytest.fixture
def kb_author(make_actor):
    return make_actor("kb_author", "knowledge", Role.KB_AUTHOR)


@pytest.fixture
def kb_checker(make_actor):
    return make_actor("kb_checker", "knowledge", Role.KB_AUTHOR)


@pytest.fixture
def hq_confirmer(make_actor):
    return make_actor("hq_confirmer", "hq_business", Role.KB_CONFIRMER)


@pytest.fixture
def agent_gd(make_actor):
    return make_actor("agent_gd", "desk_gd", Role.AGENT)


def content(**kw) -> Content:
    base = dict(
        title="新视通客户端无法登录怎么办",
        question="客户反映新视通电脑客户端登录时提示账号或密码错误。",
        answer_agent="1. 核实账号是否为手机号；2. 引导客户在登录页点击“忘记密码”重置；3. 仍不能登录则登记故障申告。",
        answer_customer="请在登录页点击“忘记密码”，按短信验证码重置密码后重新登录。",
        category_code="cf_usage_login",
        keywords="登录 密码 客户端",
    )
    base.update(kw)
    return Content(**base)


@pytest.fixture
def make_published(kb_author, kb_checker, hq_confirmer, hq_reviewer):
    def _make(**kw):
        rev = services.article_create(actor=kb_author, content=content(**kw))
        for actor, action in (
            (kb_author, "submit"),
            (kb_checker, "check"),
            (hq_confirmer, "confirm"),
            (hq_reviewer, "publish"),
        ):
            rev = services.revision_transition(actor=actor, revision=rev, action=action)
        return rev

    return _make


__all__ = ["content", "date"]
