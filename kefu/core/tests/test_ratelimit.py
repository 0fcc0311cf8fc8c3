"""kefu.core.ratelimit: with KEFU_CACHE_URL every app server counts one limit; a lost cache lets hits through."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache.backends.redis import RedisCache

from kefu.core import ratelimit

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own on a unix socket (the shared one is never stopped)."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    sock = tmp_path / "redis.sock"
    proc = subprocess.Popen(
        [exe, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.05)
    yield f"unix://{sock}", proc
    proc.kill()
    proc.wait()


def _server_cache(url: str) -> RedisCache:
    """One app server's cache: its own client and pool, on the shared Redis."""
    return RedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})


def test_two_servers_count_one_limit_and_a_lost_cache_lets_hits_through(own_redis, monkeypatch, caplog):
    url, proc = own_redis
    first, second = _server_cache(url), _server_cache(url)
    now = 1_000_000.0

    def hit(cache: RedisCache) -> bool:
        monkeypatch.setattr(ratelimit, "cache", cache)
        return ratelimit.hit("chat-visitor-msg", "203.0.113.9", limit=5, window_s=60, now=now)

    assert [hit(first) for _ in range(3)] == [True] * 3
    # The other server sees the three hits: two more are allowed, the sixth of the window is refused.
    assert [hit(second) for _ in range(3)] == [True, True, False]
    assert hit(first) is False
    # Redis goes away: the limit is not counted and nothing is refused, with one warning.
    proc.kill()
    proc.wait()
    monkeypatch.setattr(ratelimit, "_warned_at", [0.0])
    with caplog.at_level(logging.WARNING, logger="kefu.core.ratelimit"):
        assert [hit(second) for _ in range(3)] == [True] * 3
    assert [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()] != []
    assert len([r for r in caplog.records if r.name == "kefu.core.ratelimit"]) == 1


def test_the_cache_url_gives_every_process_one_redis_cache() -> None:
    probe = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "print(json.dumps(settings.CACHES['default']))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("KEFU_CACHE_URL", None)
    local = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(local.stdout.splitlines()[-1])["BACKEND"].endswith("LocMemCache")
    env["KEFU_CACHE_URL"] = "redis://127.0.0.1:6399/2"
    shared = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    found = json.loads(shared.stdout.splitlines()[-1])
    assert found["BACKEND"].endswith("RedisCache") and found["LOCATION"] == "redis://127.0.0.1:6399/2"
