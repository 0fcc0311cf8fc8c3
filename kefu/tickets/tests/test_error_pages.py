"""#14 item 9: a refused form is not a dead end. The generic error page (``core/error.html``, what
``actor_required`` renders for a DomainError) re-renders what was typed, editable, with the message,
and posts it again to the same address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kefu.knowledge import services as kb
from kefu.knowledge.models import Revision
from kefu.knowledge.tests.conftest import content
from kefu.org.models import Role

pytestmark = pytest.mark.django_db

TYPED = "请尽快审核：V3.2 平台故障临时公告，客户已多次来电"


@pytest.fixture
def kb_author(make_actor):
    return make_actor("kb_author", "knowledge", Role.KB_AUTHOR)


def test_a_knowledge_submission_refused_for_lead_time_keeps_the_typed_comment(kb_author):
    late = kb.article_create(
        actor=kb_author,
        content=content(release="V3.2", release_date=timezone.localdate() + timedelta(days=6)),
    )
    web = Client()
    web.force_login(kb_author.user)
    url = f"/kb/revisions/{late.pk}/act/"
    page = f"/kb/revisions/{late.pk}/"
    response = web.post(url, {"action": "submit", "comment": TYPED}, HTTP_REFERER=f"http://testserver{page}")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-code="lead_time"' in html and "提前一周" in html  # the reason, in words
    form = re.search(
        r'<form method="post" action="([^"]+)" class="panel" id="kept-input">(.*?)</form>', html, re.S
    )
    assert form is not None and form.group(1) == url  # the same address again
    assert f'<textarea name="comment" rows="2">{TYPED}</textarea>' in form.group(
        2
    )  # what was typed, editable
    assert 'name="action" value="submit"' in form.group(2)
    assert f'href="http://testserver{page}"' in form.group(2)
    late.refresh_from_db()
    assert late.status == "draft" and late.submitted_at is None  # nothing half-written
    assert Revision.objects.filter(article=late.article).count() == 1


def test_a_refused_get_shows_no_form(kb_author):
    web = Client()
    web.force_login(kb_author.user)
    response = web.get("/kb/revisions/987654321/")
    assert response.status_code == 404 and 'id="kept-input"' not in response.content.decode()
