"""Which channel layer the environment selects, and what realtime then stores for the relay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json
from channels.layers import get_channel_layer
from kefu.realtime import services
print(json.dumps({"backend": type(get_channel_layer()).__name__, "shared": services.layer_is_shared()}))
"""


def _probe(**env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if k not in ("CHANNELS_REDIS_URL", "KEFU_CHANNELS_PUBSUB")}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_environment_picks_the_layer_and_only_the_in_memory_one_needs_relay_copies() -> None:
    assert _probe() == {"backend": "InMemoryChannelLayer", "shared": False}
    assert _probe(CHANNELS_REDIS_URL="redis://127.0.0.1:6399/1") == {
        "backend": "RedisChannelLayer",
        "shared": True,
    }
    assert _probe(CHANNELS_REDIS_URL="redis://127.0.0.1:6399/1", KEFU_CHANNELS_PUBSUB="1") == {
        "backend": "RedisPubSubChannelLayer",
        "shared": True,
    }
    # pub/sub without a Redis URL is meaningless: the in-memory default stays
    assert _probe(KEFU_CHANNELS_PUBSUB="1") == {"backend": "InMemoryChannelLayer", "shared": False}
