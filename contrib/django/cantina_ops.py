"""cantina-ops for the Cantina POS: the Django side of the cache contract.

Drop this file into the Django project (no dependency beyond Django and
django-redis) and use:

- ``tag(key, *tags)``: register a cache key under tags, so that
  ``invalidate(tags=[...])`` removes it with every other key of the tag;
- ``invalidate(keys=(), patterns=(), tags=(), wait=False)``: ask cantina-ops
  to remove stale entries (``POST /api/v1/cache/invalidate``); it never
  raises into the request: failures are logged (logger ``cantina_ops``);
- ``@cache_result(kind, ...)``: cache a function's result under
  ``<kind>:<function>:<hash of the arguments>`` with the TTL of its kind.

Settings:

- ``CANTINA_OPS_URL``: where cantina-ops' web process answers, e.g.
  ``https://ops.example.org``;
- ``CANTINA_OPS_TOKEN``: a token of cantina-ops' ``API_TOKENS``;
- ``CANTINA_OPS_TTLS``: ``{"productos": 300, ...}``, seconds per kind (the
  same policy as cantina-ops' ``CACHE_TTLS``, which audits it);
- ``CANTINA_OPS_CACHE``: the cache alias (default ``"default"``), a
  django-redis cache whose ``KEY_PREFIX`` and ``VERSION`` are cantina-ops'
  ``CACHE_KEY_PREFIX`` and ``CACHE_VERSION``.

Keys given to ``invalidate`` are logical keys, as given to ``cache.set``;
cantina-ops turns them into real keys as Django's default key function does
(``<KEY_PREFIX>:<VERSION>:<key>``).
"""

import functools
import hashlib
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger("cantina_ops")

#: A tag's Redis set is the real key of this logical key plus the tag name
#: (cantina-ops' cache.Keyspace.TagSet builds the same name).
TAG_PREFIX = "cantina_ops:tag:"

INVALIDATE_PATH = "/api/v1/cache/invalidate"
TIMEOUT = 2.0  # seconds: the POS's request must not wait on cantina-ops
WAIT_TIMEOUT = 3.0  # with wait=True cantina-ops answers within 2 s

# SADD the real key (KEYS[1]) to every tag set (KEYS[2..]) and keep each
# set's TTL at least the key's: a key without a TTL makes its sets persist;
# a missing key gives a new set the cache's default timeout (ARGV[1], ms).
_TAG_SCRIPT = """
local kttl = redis.call('PTTL', KEYS[1])
for i = 2, #KEYS do
  local existed = redis.call('EXISTS', KEYS[i])
  redis.call('SADD', KEYS[i], KEYS[1])
  if kttl == -1 then
    redis.call('PERSIST', KEYS[i])
  else
    local want = kttl
    if want < 0 then want = tonumber(ARGV[1]) end
    local sttl = redis.call('PTTL', KEYS[i])
    if want > 0 and (existed == 0 or (sttl >= 0 and sttl < want)) then
      redis.call('PEXPIRE', KEYS[i], want)
    end
  end
end
return #KEYS - 1
"""


def _alias():
    return getattr(settings, "CANTINA_OPS_CACHE", "default")


def tag(key, *tags):
    """Register the cache key ``key`` (a logical key, as given to
    ``cache.set``) under each of ``tags``.

    The real key, as ``cache.make_key(key)`` builds it, is added to each
    tag's Redis set, whose TTL is kept at least the key's (call ``tag``
    after ``cache.set``). ``invalidate(tags=[t])`` then removes every key
    registered under ``t``, and the set. Redis errors are raised, as the
    cache's own are.
    """
    if not tags:
        return 0
    from django_redis import get_redis_connection

    cache = caches[_alias()]
    conn = get_redis_connection(_alias())
    real = cache.make_key(key)
    sets = [cache.make_key(TAG_PREFIX + str(t)) for t in tags]
    default_ms = int((cache.default_timeout or 0) * 1000)
    return conn.eval(_TAG_SCRIPT, 1 + len(sets), real, *sets, default_ms)


def _as_list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def invalidate(keys=(), patterns=(), tags=(), wait=False):
    """Ask cantina-ops to remove cache entries: exact logical ``keys``,
    glob ``patterns`` (``"productos:*"``) and ``tags`` (see ``tag``).

    With ``wait=True`` cantina-ops waits up to 2 s for the removal and
    returns its result. Returns the decoded JSON answer (``{"task_id": …}``,
    or the result), or None when the call failed: failures (cantina-ops
    down, a refused request, a timeout) are logged on the ``cantina_ops``
    logger and never raised, so a product's update is never lost to its
    cache.
    """
    body = {
        "keys": _as_list(keys),
        "patterns": _as_list(patterns),
        "tags": _as_list(tags),
        "wait": bool(wait),
    }
    base = getattr(settings, "CANTINA_OPS_URL", "")
    if not base:
        logger.error("cache invalidation skipped: CANTINA_OPS_URL is not set (%s)", _describe(body))
        return None
    token = getattr(settings, "CANTINA_OPS_TOKEN", "")
    req = urllib.request.Request(
        base.rstrip("/") + INVALIDATE_PATH,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": "Bearer " + token,
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=WAIT_TIMEOUT if wait else TIMEOUT) as resp:
            return json.loads(resp.read().decode("utf-8") or "null")
    except urllib.error.HTTPError as e:
        try:
            detail = e.read(2048).decode("utf-8", "replace")
        except Exception:  # the body is a courtesy
            detail = ""
        logger.error("cache invalidation refused by cantina-ops: HTTP %s %s (%s)", e.code, detail, _describe(body))
    except Exception as e:  # URLError, timeouts, bad JSON: never into the request
        logger.error("cache invalidation failed: %s (%s)", e, _describe(body))
    return None


def _describe(body):
    return "%d keys, %d patterns, %d tags" % (len(body["keys"]), len(body["patterns"]), len(body["tags"]))


def ttl_for(kind):
    """The TTL in seconds of ``kind`` in ``CANTINA_OPS_TTLS``, or None (the
    cache's default timeout)."""
    return getattr(settings, "CANTINA_OPS_TTLS", {}).get(kind)


def _args_hash(args, kwargs):
    raw = repr((args, sorted(kwargs.items()))).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:32]


def cache_result(kind, key_func=None, timeout=None, tags=()):
    """Cache the decorated function's result, like the seed's
    ``@cache_result(timeout=300, key_prefix='productos')``.

    The key is ``<kind>:<function name>:<hash of the arguments>`` (the hash
    of their ``repr``; give ``key_func(*args, **kwargs)`` to use its
    string instead, e.g. ``lambda pk: pk``). The TTL is ``timeout`` when
    given, else ``CANTINA_OPS_TTLS[kind]``, else the cache's default.
    ``tags`` (a list, or a function of the arguments returning one) are
    registered with ``tag``; a tagging failure is logged, not raised.
    ``wrapper.key(*args, **kwargs)`` returns the logical key, for
    ``invalidate(keys=[...])``.
    """
    missing = object()

    def decorator(func):
        def key(*args, **kwargs):
            suffix = str(key_func(*args, **kwargs)) if key_func else _args_hash(args, kwargs)
            return "%s:%s:%s" % (kind, func.__name__, suffix)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            cache = caches[_alias()]
            k = key(*args, **kwargs)
            value = cache.get(k, missing)
            if value is not missing:
                return value
            value = func(*args, **kwargs)
            ttl = timeout if timeout is not None else ttl_for(kind)
            if ttl is None:
                cache.set(k, value)
            else:
                cache.set(k, value, ttl)
            names = tags(*args, **kwargs) if callable(tags) else tags
            if names:
                try:
                    tag(k, *names)
                except Exception as e:
                    logger.error("cache key %s not tagged %s: %s", k, list(names), e)
            return value

        wrapper.key = key
        return wrapper

    return decorator
