"""Settings read from the environment.

Defaults give a working single-machine install: SQLite (WAL) in ./var, Huey on
SQLite, the in-memory channel layer. Set DATABASE_URL, HUEY_REDIS_URL and
CHANNELS_REDIS_URL to scale out (see README "Configuration").
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEFU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("KEFU_DEBUG", False)
TESTING = env_bool("KEFU_TESTING", False)
# The quick start generates a random key into var/; production sets KEFU_SECRET_KEY.
_secret_file = VAR_DIR / "secret_key"
if os.environ.get("KEFU_SECRET_KEY"):
    SECRET_KEY = os.environ["KEFU_SECRET_KEY"]
else:
    if not _secret_file.exists():
        import secrets

        _secret_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _secret_file.read_text().strip()

ALLOWED_HOSTS = [
    h for h in os.environ.get("KEFU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KEFU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "kefu.core",
    "kefu.org",
    "kefu.norms",
    "kefu.realtime",
    "kefu.customers",
    "kefu.sla",
    "kefu.tickets",
    "kefu.knowledge",
    "kefu.chat",
    "kefu.calls",
    "kefu.incidents",
    "kefu.quality",
    "kefu.reports",
    "kefu.demo",
    "kefu.ops",
]

MIDDLEWARE = [
    "kefu.ops.logs.RequestIdMiddleware",
    "kefu.core.middleware.ConnectionCheckMiddleware",
    "kefu.ops.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Pages and API answers compressed (Django's GZip adds BREACH length-masking; CSRF tokens are masked).
    "django.middleware.gzip.GZipMiddleware",
    "kefu.core.middleware.SecurityHeadersMiddleware",
    "kefu.core.middleware.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kefu.core.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kefu.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kefu.org.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kefu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.core.context_processors.shell",
            ],
        },
    }
]

DEFAULT_DB_URL = f"sqlite:///{VAR_DIR / 'kefu.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL", DEFAULT_DB_URL), conn_max_age=60)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Huey worker read while the other writes;
    # IMMEDIATE makes write transactions take the lock up front instead of
    # failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env_bool("KEFU_DB_PREPARE", True):
        # psycopg prepares only what kefu.core.rows.prepared_cursor asks it to by name (Django's own
        # cursors bind on the client and are never prepared); its cache of them stays on, so it forgets
        # them after a ROLLBACK, DROP or ALTER. Django sets None (no preparing at all) by default.
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["TEST"] = (
    {"NAME": os.environ.get("KEFU_TEST_DB_NAME")} if os.environ.get("KEFU_TEST_DB_NAME") else {}
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kefu" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("KEFU_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Shared client scripts that belong to no single app (the realtime client, the chat widget).
STATICFILES_DIRS = [BASE_DIR / "kefu" / "static"]
MEDIA_ROOT = Path(os.environ.get("KEFU_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Served files carry a content hash in their name (cached for a year, immutable) and come
    # pre-compressed (gzip; Brotli too when the brotli package is present). Tests skip collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# Without a collectstatic run (a bare runserver) fall back to the plain names instead of failing.
WHITENOISE_MANIFEST_STRICT = False

# Security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page, not the cookie
SESSION_COOKIE_SECURE = env_bool("KEFU_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "kefu.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
KEFU_MAX_REQUEST_BYTES = int(os.environ.get("KEFU_MAX_REQUEST_BYTES", 25 * 1024 * 1024))

# Login throttling: failures per username and per client address in a window.
KEFU_LOGIN_MAX_FAILURES = int(os.environ.get("KEFU_LOGIN_MAX_FAILURES", 5))
# Higher per address: a provincial office signs in from behind one NAT address.
KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS", 30))
KEFU_LOGIN_WINDOW_SECONDS = int(os.environ.get("KEFU_LOGIN_WINDOW_SECONDS", 900))
# Behind one reverse proxy: count the address it appends to X-Forwarded-For, not the proxy's own.
KEFU_TRUST_X_FORWARDED_FOR = env_bool("KEFU_TRUST_X_FORWARDED_FOR", False)
# The site's public address, for links in mail (kefu.core.links.absolute_url): scheme, host, port, no path.
# The hot paths' statements (token read, new order's write) prepared on each PostgreSQL connection
# (kefu.core.rows.prepared_cursor); 0 for a connection pooler in transaction mode that cannot keep them.
KEFU_DB_PREPARE = env_bool("KEFU_DB_PREPARE", True)
KEFU_PUBLIC_URL = os.environ.get("KEFU_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Email: SMTP from the environment; the console backend prints mail in the quick start.
EMAIL_BACKEND = os.environ.get("KEFU_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("KEFU_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KEFU_SMTP_PORT", 25))
EMAIL_HOST_USER = os.environ.get("KEFU_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KEFU_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("KEFU_SMTP_TLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("KEFU_MAIL_FROM", "kefu@xinshitong.example")
# Used by the file backend that ./kefu.sh run selects (the demo's mail lands in var/mail).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# Background jobs: Huey on SQLite by default, Redis at scale.
_huey_redis = os.environ.get("HUEY_REDIS_URL")
if _huey_redis:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "kefu", "url": _huey_redis, "immediate": TESTING}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "kefu",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
    }
HUEY["consumer"] = {"workers": int(os.environ.get("HUEY_WORKERS", 2)), "worker_type": "thread"}

# The cache holds the rate limits (chat, pushes, CTI events): per process by default; with
# KEFU_CACHE_URL (Redis) every app server counts in one place, so a limit is the same with one or ten
# servers. The limits fail open while that Redis is down (kefu.realtime.ratelimit).
_cache_redis = os.environ.get("KEFU_CACHE_URL")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_redis,
            "KEY_PREFIX": "kefu",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if _cache_redis
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

_channels_redis = os.environ.get("CHANNELS_REDIS_URL")
# A socket's channel holds this many undelivered events before the layer drops new ones
# silently (Channels' default is 100): an agent watching many busy conversations filled
# it in the chat_sockets bench. Clients still recover a gap by sequence number.
_CHANNEL_CAPACITY = int(os.environ.get("KEFU_WS_CHANNEL_CAPACITY", "1000"))
# KEFU_CHANNELS_PUBSUB=1 (with CHANNELS_REDIS_URL): Redis pub/sub instead of channels_redis's lists.
# A push then costs one PUBLISH and reaches each daphne as a stream, instead of one blocking pop per
# event per process (the core layer's receive loop, which fell seconds behind at 1,000 chat sockets;
# docs/chat.md, figures). At most once, like every push here: clients fill gaps by sequence number.
_channels_pubsub = os.environ.get("KEFU_CHANNELS_PUBSUB", "") == "1"
CHANNEL_LAYERS = (
    {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": _channels_redis, "socket_timeout": 15}]},
        }
    }
    if _channels_redis and _channels_pubsub
    else {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, the same as channels_redis's blocking
            # pop: every socket idle for 5 s died with 1011. The read must outlast the pop.
            "CONFIG": {
                "hosts": [{"address": _channels_redis, "socket_timeout": 15}],
                "capacity": _CHANNEL_CAPACITY,
            },
        }
    }
    if _channels_redis
    else {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": _CHANNEL_CAPACITY},
        }
    }
)

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "kefu.ops.logs.JsonFormatter"},
    },
    "filters": {"request_id": {"()": "kefu.ops.logs.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if env_bool("KEFU_LOG_JSON", False) else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "huey": {"level": "WARNING"}},
}
