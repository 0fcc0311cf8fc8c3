"""Settings for the api_me figure: the real settings, URLs plus one bare view (``_bench_urls``).

Only the bench server loads this (DJANGO_SETTINGS_MODULE=_bench_site); the bare
view never exists in the product's URLs.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "_bench_urls"
