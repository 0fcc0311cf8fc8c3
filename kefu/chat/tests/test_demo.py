from __future__ import annotations

import io
import random

import pytest
from django.utils import timezone

from kefu.chat import demo
from kefu.chat.models import Conversation, Presence
from kefu.demo.loader import DemoContext

pytestmark = pytest.mark.django_db


def test_demo_loads_a_week_of_rated_conversations_and_a_live_queue(online_agent):
    ctx = DemoContext(now=timezone.now(), rng=random.Random(7), out=io.StringIO())
    demo.load(ctx)
    closed = Conversation.objects.filter(status="closed")
    assert closed.count() >= 7 * 12 * 0.8
    assert set(closed.exclude(rating="").values_list("rating", flat=True)) == {
        "satisfied",
        "neutral",
        "unsatisfied",
    }
    assert Conversation.objects.filter(status="waiting").count() == 2
    for c in closed[:20]:
        assert list(c.messages.values_list("seq", flat=True)) == list(range(1, c.last_seq + 1))
    assert Presence.objects.get(user=online_agent.user).status == "online"
