"""The Channels layer at scale: an idle socket must not be closed by the layer's own Redis read timeout.

redis-py 8 reads with a 5 s socket timeout by default, the same as channels_redis's blocking
pop, and every socket idle for 5 s was closed with 1011 (found by ``scripts/cluster_test.py``,
whose "chat sockets lost outside the fault windows" row holds the whole path). Here: the
settings that ``CHANNELS_REDIS_URL`` produces give the layer a read timeout longer than its pop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json
from django.conf import settings
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
layer = get_channel_layer()
host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
print(json.dumps({"backend": type(layer).__name__, "host": host, "pop": RedisChannelLayer.brpop_timeout}))
"""


def test_redis_layer_reads_longer_than_its_blocking_pop() -> None:
    env = {
        **os.environ,
        "CHANNELS_REDIS_URL": "redis://127.0.0.1:6399/1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["backend"] == "RedisChannelLayer"
    assert found["host"]["address"] == "redis://127.0.0.1:6399/1"
    assert found["host"]["socket_timeout"] > found["pop"]
