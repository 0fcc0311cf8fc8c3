"""Demo calls: a month of hotline and desk calls through the one ingest service.

Day curve with peaks 09-11 and 14-16, a daily 20-second answer rate drawn
between about 85% and 96%, some abandons and IVR-only calls, a few requests
outside 08:00-20:00 (counted apart). Agents answer on extensions 8001/8002
(hotline) and 9<province code> (desks); callers are demo contacts where
possible. The source ``demo-pbx`` signs with ``DEMO_SECRET`` so that
``manage.py calls_demo_replay`` can post live events to the webhook.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kefu.org.models import User

from . import services
from .models import AgentMapping, Call, CallSource, Line
from .parsers import Fact

if TYPE_CHECKING:  # the loader imports every app's demo; only the type comes back up
    from kefu.demo.loader import DemoContext

ZONE = ZoneInfo("Asia/Shanghai")
DEMO_SOURCE = "demo-pbx"
DEMO_SECRET = "kefu-demo-cti-secret"
DAYS = 30
# relative call volume per local hour 07..20: peaks 09-11 and 14-16
HOUR_WEIGHTS = {
    7: 0.3,
    8: 3,
    9: 9,
    10: 10,
    11: 6,
    12: 3,
    13: 4,
    14: 9,
    15: 10,
    16: 6,
    17: 4,
    18: 2,
    19: 1.5,
    20: 0.3,
}
HOTLINE_PER_DAY = 220
DESK_PER_DAY = 12
DESK_PROVINCES = ("bj", "sh", "js", "gd", "zj", "sc")


def load(ctx: DemoContext) -> None:
    source, made = CallSource.objects.get_or_create(
        code=DEMO_SOURCE,
        defaults={
            "name": "演示交换机(CTI)",
            "auth": "hmac",
            "secret": DEMO_SECRET,
            "max_events_per_minute": 100_000,
        },
    )
    if not made and Call.objects.unscoped("demo data is idempotent").filter(source=source).exists():
        return
    agents = _agents()
    phones = _caller_numbers(ctx)
    lines = [("hotline", HOTLINE_PER_DAY, ["8001", "8002"])]
    lines += [(f"desk_{slug}", DESK_PER_DAY, [f"9{slug}"]) for slug in DESK_PROVINCES if f"9{slug}" in agents]
    today = ctx.now.astimezone(ZONE).date()
    facts: list[Fact] = []
    n = 0
    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        for code, per_day, exts in lines:
            line = Line.objects.unscoped("demo").get(code=code)
            target = ctx.rng.uniform(0.85, 0.96) if code == "hotline" else ctx.rng.uniform(0.80, 0.95)
            count = int(per_day * ctx.rng.uniform(0.85, 1.15) * (0.75 if day.weekday() >= 5 else 1))
            for _ in range(count):
                n += 1
                start = _moment(ctx, day)
                if start > ctx.now - timedelta(minutes=2):
                    continue
                facts += _call_facts(ctx, f"demo-{n}", line, start, target, exts, phones)
        ctx.progress("calls", DAYS - back + 1, DAYS + 1)
    services.facts_ingest(source=source, facts=facts)
    services.rollups_fold()


def _agents() -> dict[str, int]:
    refs: dict[str, int] = {}
    for ref, username in [
        ("8001", "hotline_agent"),
        ("8002", "hotline_agent2"),
        *((f"9{slug}", f"agent_{slug}") for slug in DESK_PROVINCES),
    ]:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        AgentMapping.objects.get_or_create(ref=ref, defaults={"user": user})
        refs[ref] = user.pk
    return refs


def _caller_numbers(ctx: DemoContext) -> dict[str, list[str]]:
    from kefu.customers.models import ContactPhone

    numbers: dict[str, list[str]] = {}
    rows = ContactPhone.objects.unscoped("demo callers").values_list(
        "number", "contact__customer__province__slug"
    )
    for number, slug in rows:
        numbers.setdefault(slug, []).append(number)
    numbers["*"] = [n for values in numbers.values() for n in values]
    return numbers


def _moment(ctx: DemoContext, day: Any) -> datetime:
    hours = list(HOUR_WEIGHTS)
    hour = ctx.rng.choices(hours, weights=[HOUR_WEIGHTS[h] for h in hours])[0]
    second = ctx.rng.randrange(3600)
    return datetime.combine(day, time(hour), tzinfo=ZONE) + timedelta(seconds=second)


def _call_facts(
    ctx: DemoContext,
    call_id: str,
    line: Line,
    start: datetime,
    target: float,
    exts: list[str],
    phones: dict[str, list[str]],
) -> list[Fact]:
    rng = ctx.rng
    pool = phones.get(line.province.slug if line.province else "*") or phones.get("*") or []
    caller = (
        rng.choice(pool)
        if pool and rng.random() < 0.6
        else f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
    )
    queue = line.queue_names()[0]

    def fact(**kw: Any) -> Fact:
        return Fact(call_id=call_id, caller=caller, callee=line.number, queue=queue, **kw)

    ivr = rng.uniform(15, 90)
    if rng.random() < 0.07:  # heard the IVR menu and hung up: never asked for an agent
        return [
            fact(at=start, event="new", started_at=start),
            fact(at=start + timedelta(seconds=ivr), event="ended", ended_at=start + timedelta(seconds=ivr)),
        ]
    queued = start + timedelta(seconds=ivr)
    facts = [
        fact(at=start, event="new", started_at=start),
        fact(at=queued, event="queued", queued_at=queued),
    ]
    roll = rng.random()
    if roll < 0.04:  # abandoned while waiting
        end = queued + timedelta(seconds=rng.uniform(8, 90))
        return [*facts, fact(at=end, event="abandoned", ended_at=end, hint="abandoned")]
    in_time = roll < 0.04 + target  # overall P(answered within 20 s) = the day's target
    wait = rng.uniform(2, 20) if in_time else rng.uniform(21, 120)
    answered = queued + timedelta(seconds=wait)
    talk = int(rng.uniform(60, 600))
    agent = rng.choice(exts)
    end = answered + timedelta(seconds=talk)
    return [
        *facts,
        fact(at=answered, event="answered", answered_at=answered, agent_ref=agent),
        fact(at=end, event="ended", ended_at=end, talk_seconds=talk, agent_ref=agent, cause="normalClearing"),
    ]
