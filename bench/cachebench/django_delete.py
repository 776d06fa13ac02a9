"""The django-redis baseline of bench/cache.sh: cache.delete_pattern of
"productos:*" with itersize 10 000, as a POS would call it, through a tiny
settings module configured here (Django's cache with django-redis, the
benchmark's KEY_PREFIX and VERSION). Prints the count deleted and the
seconds delete_pattern took (start-up and connecting not counted).

Run with Debian's /usr/bin/python3 (python3-django, python3-django-redis);
CACHE_URL, KEY_PREFIX and CACHE_VERSION come from the environment.
"""
import os
import time

import django
from django.conf import settings

settings.configure(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
            "KEY_PREFIX": os.environ["KEY_PREFIX"],
            "VERSION": int(os.environ["CACHE_VERSION"]),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
)
django.setup()

from django.core.cache import cache  # noqa: E402 (after settings)

cache.get("cachebench:connect")  # connect before timing
t0 = time.perf_counter()
n = cache.delete_pattern("productos:*", itersize=10000)
print(n, time.perf_counter() - t0)
