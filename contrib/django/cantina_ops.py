"""cantina-ops for the Cantina POS: the Django side of the cache and
rate-limit contracts.

Drop this file into the Django project (no dependency beyond Django and
django-redis) and use:

- ``tag(key, *tags)``: register a cache key under tags, so that
  ``invalidate(tags=[...])`` removes it with every other key of the tag;
- ``invalidate(keys=(), patterns=(), tags=(), wait=False)``: ask cantina-ops
  to remove stale entries (``POST /api/v1/cache/invalidate``); it never
  raises into the request: failures are logged (logger ``cantina_ops``);
- ``@cache_result(kind, ...)``: cache a function's result under
  ``<kind>:<function>:<hash of the arguments>`` with the TTL of its kind;
- ``@ratelimit(spec, key="ip"|"user")`` and ``RateLimitMiddleware``: the
  rate limits of cantina-ops' gateway, on the same Redis keys with the
  same Lua script, so that both spend one budget (see ``ratelimit``).

Settings:

- ``CANTINA_OPS_URL``: where cantina-ops' web process answers, e.g.
  ``https://ops.example.org``;
- ``CANTINA_OPS_TOKEN``: a token of cantina-ops' ``API_TOKENS``;
- ``CANTINA_OPS_TTLS``: ``{"productos": 300, ...}``, seconds per kind (the
  same policy as cantina-ops' ``CACHE_TTLS``, which audits it);
- ``CANTINA_OPS_CACHE``: the cache alias (default ``"default"``), a
  django-redis cache whose ``KEY_PREFIX`` and ``VERSION`` are cantina-ops'
  ``CACHE_KEY_PREFIX`` and ``CACHE_VERSION``.

Rate-limit settings (the twins of cantina-ops' variables):

- ``CANTINA_OPS_TRUSTED_PROXIES``: TRUSTED_PROXIES' syntax; whose
  X-Forwarded-For is believed;
- ``CANTINA_OPS_GATEWAYS``: addresses or ranges (no ``heroku``) of the
  cantina-ops gateways in front of this POS, whose Cantina-Ops-Charged
  (the policies the gateway spent) and Cantina-Ops-Client (the client
  address it counted) headers are believed; empty (the default): nobody's.
  A plain proxy (nginx) passes a client's forged headers on, so list only
  gateways here;
- ``CANTINA_OPS_RATE_LIMIT_ROUTES``, ``CANTINA_OPS_RATE_LIMIT_IP``
  (``"300/1m"``), ``CANTINA_OPS_RATE_LIMIT_USER`` (``"120/1m"``): the
  middleware's policies;
- ``CANTINA_OPS_RATE_LIMIT_FAIL_OPEN`` (True): while Redis cannot answer,
  let requests pass (logging a warning) or answer 503;
- ``SESSION_COOKIE_NAME``: must equal cantina-ops' ``POS_SESSION_COOKIE``.

Rate limits use the Redis of ``CANTINA_OPS_CACHE``, which must be
cantina-ops' ``CACHE_REDIS_URL``; give that cache short socket timeouts
(``OPTIONS``: ``SOCKET_CONNECT_TIMEOUT``, ``SOCKET_TIMEOUT``, e.g. 0.5) so
that a Redis outage does not hold requests.

Keys given to ``invalidate`` are logical keys, as given to ``cache.set``;
cantina-ops turns them into real keys as Django's default key function does
(``<KEY_PREFIX>:<VERSION>:<key>``).
"""

import functools
import hashlib
import ipaddress
import json
import logging
import re
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


# ---------------------------------------------------------------------------
# Rate limits: the same budgets as cantina-ops' gateway (internal/ratelimit).
#
# Everything below is a port of internal/ratelimit, checked against it by
# cmd/cantina-ops/django_ratelimit_e2e_test.go: the Lua script is the very
# text of ratelimit.Script, keys are ratelimit.Key, subjects are
# ratelimit.Subject(ratelimit.ClientIP(...)) and ratelimit.UserSubject, and
# policies and routes read as ParsePolicy and ParseRoutes read them. So a
# request counted by the gateway and one counted here spend one budget.
# ---------------------------------------------------------------------------

#: ratelimit.Script (internal/ratelimit/redis.go), character for character:
#: GCRA in integer microseconds with Redis TIME as the clock.
#: KEYS[i] a key; ARGV[2i-1] its interval µs; ARGV[2i] its capacity µs;
#: decides the keys in order and stops at the first refusal. Called here
#: with one key, it returns {allowed 0|1, remaining, retry_after µs,
#: reset_after µs, now µs}.
RATE_LIMIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local n = 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local capacity = tonumber(ARGV[2 * i])
  local stored = tonumber(redis.call('GET', KEYS[i])) or now
  local tat = math.max(stored, now)
  tat = math.min(tat, now + capacity)
  local new_tat = tat + interval
  local allow_at = new_tat - capacity
  if now < allow_at then
    if tat < stored then
      redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
    end
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = 0, 0, allow_at - now, tat - now
    n = n + 4
    break
  end
  redis.call('SET', KEYS[i], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = 1, math.floor((now - allow_at) / interval), 0, new_tat - now
  n = n + 4
end
out[n + 1] = now
return out
"""

RATE_LIMIT_KEY_PREFIX = "cantina:rl:"  # ratelimit.KeyPrefix
MAX_PERIOD_NS = 7 * 24 * 3600 * 10**9  # ratelimit.MaxPeriod
UNKNOWN_CLIENT = "unknown"  # ratelimit.UnknownClient
TRUST_HEROKU = "heroku"  # ratelimit.TrustHeroku
#: The header cantina-ops' gateway sends to the POS: a structured-field
#: list of the names of the policies it charged for the request.
CHARGED_HEADER = "Cantina-Ops-Charged"
#: The header with the client address the gateway counted by
#: (ratelimit.ClientHeader): ratelimit.Subject's form.
CLIENT_HEADER = "Cantina-Ops-Client"
QUOTA_EXCEEDED_TYPE = "https://iana.org/assignments/http-problem-types#quota-exceeded"
FAIL_CLOSED_RETRY_AFTER = 5  # seconds, on 503 while Redis is unreachable

_INT64_MAX = (1 << 63) - 1
_NS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DECIMAL = re.compile(r"[+-]?[0-9]+\Z")


def _count(s):
    """s as strconv.Atoi reads it (an optional sign and ASCII digits, within
    int64) when that is ≥ 1, else 0."""
    if not _DECIMAL.match(s):
        return 0
    v = int(s)
    return v if 1 <= v <= _INT64_MAX else 0


def _go_duration_ns(s):
    """time.ParseDuration, in nanoseconds (ValueError when Go refuses)."""
    orig, neg = s, False
    if s[:1] in ("-", "+"):
        neg, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if s == "":
        raise ValueError("invalid duration %r" % orig)
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise ValueError("invalid duration %r" % orig)
        i = 0
        v = 0
        while i < len(s) and "0" <= s[i] <= "9":
            if v > (1 << 63) // 10:
                raise ValueError("invalid duration %r" % orig)
            v = v * 10 + ord(s[i]) - 48
            if v > 1 << 63:
                raise ValueError("invalid duration %r" % orig)
            i += 1
        pre, s = i > 0, s[i:]
        post, f, scale = False, 0, 1.0
        if s[:1] == ".":
            s = s[1:]
            i, overflow = 0, False
            while i < len(s) and "0" <= s[i] <= "9":
                if not overflow:
                    if f > _INT64_MAX // 10:
                        overflow = True
                    else:
                        y = f * 10 + ord(s[i]) - 48
                        if y > 1 << 63:
                            overflow = True
                        else:
                            f, scale = y, scale * 10
                i += 1
            post, s = i > 0, s[i:]
        if not pre and not post:
            raise ValueError("invalid duration %r" % orig)
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        unit = _NS.get(s[:i])
        if i == 0 or unit is None:
            raise ValueError("invalid duration %r" % orig)
        s = s[i:]
        if v > (1 << 63) // unit:
            raise ValueError("invalid duration %r" % orig)
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > 1 << 63:
                raise ValueError("invalid duration %r" % orig)
        total += v
        if total > 1 << 63:
            raise ValueError("invalid duration %r" % orig)
    if neg:
        return -total
    if total > _INT64_MAX:
        raise ValueError("invalid duration %r" % orig)
    return total


class Policy:
    """A rate, as ratelimit.Policy: ``limit`` requests per ``period_ns``
    nanoseconds, at most ``burst`` at once; ``name`` names its keys and
    headers."""

    __slots__ = ("name", "limit", "period_ns", "burst")

    def __init__(self, name, limit, period_ns, burst):
        self.name, self.limit, self.period_ns, self.burst = name, limit, period_ns, burst

    @property
    def interval(self):
        """Period/Limit in whole microseconds (Go's Duration.Microseconds
        truncates)."""
        return (self.period_ns // 1000) // self.limit

    @property
    def capacity(self):
        return self.interval * self.burst

    def named(self, name):
        p = Policy(name, self.limit, self.period_ns, self.burst)
        p.check()
        return p

    def check(self):
        """ValueError naming what makes the policy unusable."""
        if self.limit < 1:
            raise ValueError("limit %d: want ≥ 1" % self.limit)
        if self.burst < 1:
            raise ValueError("burst %d: want ≥ 1" % self.burst)
        if not 0 < self.period_ns <= MAX_PERIOD_NS:
            raise ValueError("period of %d ns: want more than 0 and at most 7 days" % self.period_ns)
        if self.interval < 1:
            raise ValueError("%d per %d ns is more than one request per microsecond" % (self.limit, self.period_ns))
        if any(c in '{}"\\' or not " " < c <= "~" for c in self.name):
            raise ValueError("name %r: use printable ASCII without spaces, quotes, backslashes or braces" % self.name)

    def __repr__(self):
        return "Policy(%r, %d, %d ns, burst=%d)" % (self.name, self.limit, self.period_ns, self.burst)


def parse_policy(s, name=""):
    """ratelimit.ParsePolicy: ``N/DURATION`` or ``N/DURATION burst=B``
    (a Go duration: 500ms, 10s, 1m, 1h30m, or a bare s, m, h). ValueError
    naming the text when it is not one."""
    fields = s.split()
    if not fields:
        raise ValueError("empty rate limit policy: want N/DURATION, e.g. 300/1m")
    n, sep, d = fields[0].partition("/")
    if not sep:
        raise ValueError("rate limit policy %r: want N/DURATION, e.g. 300/1m" % s)
    if ";" in d or "," in d:
        raise ValueError("rate limit policy %r: write the burst after a space, e.g. 30/1m burst=10" % s)
    limit = _count(n)
    if limit < 1:
        raise ValueError("rate limit policy %r: the count %r is not a whole number ≥ 1" % (s, n))
    if d in ("s", "m", "h"):
        d = "1" + d
    try:
        period = _go_duration_ns(d)
    except ValueError:
        period = 0
    if period <= 0:
        raise ValueError("rate limit policy %r: the duration %r is not a positive duration such as 1s, 1m or 1h" % (s, d))
    burst = limit
    for f in fields[1:]:
        if not f.startswith("burst="):
            raise ValueError("rate limit policy %r: unknown option %r (the only one is burst=B)" % (s, f))
        b = f[len("burst="):]
        burst = _count(b)
        if burst < 1:
            raise ValueError("rate limit policy %r: the burst %r is not a whole number ≥ 1" % (s, b))
    p = Policy(name, limit, period, burst)
    try:
        p.check()
    except ValueError as e:
        raise ValueError("rate limit policy %r: %s" % (s, e)) from None
    return p


class Route:
    """One route of RATE_LIMIT_ROUTES: ``method`` ("" for any), ``prefix``
    and its ``policies``, a list of (by, Policy)."""

    __slots__ = ("method", "prefix", "policies")

    def __init__(self, method, prefix, policies):
        self.method, self.prefix, self.policies = method, prefix, policies


def _under(path, prefix):
    """ratelimit's under(): path is prefix or lies under it as a directory."""
    if not path.startswith(prefix):
        return False
    return len(path) == len(prefix) or prefix.endswith("/") or path[len(prefix)] == "/"


class Routes(list):
    """The per-endpoint policy table, as ratelimit.Routes."""

    def route(self, method, path):
        """The route applying to a request (ratelimit.Routes.Route): the
        longest prefix the path is under, a route naming the method before
        one for any method at equal prefixes; None when none applies."""
        best = None
        for c in self:
            if c.method and c.method != method or not _under(path, c.prefix):
                continue
            if best is None or len(c.prefix) > len(best.prefix) or len(c.prefix) == len(best.prefix) and c.method:
                best = c
        return best


_ROUTE_SYNTAX = "want [METHOD ]/PATH/=ip|user|token:N/DURATION, e.g. POST /ventas/procesar/=user:30/1m"


def _parse_route(e):
    lhs, sep, rhs = e.partition("=")
    if not sep or not rhs.strip():
        raise ValueError("no policies: " + _ROUTE_SYNTAX)
    f = lhs.split()
    if len(f) == 1:
        method, prefix = "", f[0]
    elif len(f) == 2:
        method, prefix = f
        if any(not "A" <= c <= "Z" for c in method):
            raise ValueError("method %r: write it in capitals, e.g. POST" % method)
    else:
        raise ValueError("%r is not a path or a method and a path: %s" % (lhs.strip(), _ROUTE_SYNTAX))
    if not prefix.startswith("/") or "?" in prefix or "#" in prefix:
        raise ValueError("path %r: want a path starting with /, without ? or #" % prefix)
    policies, seen = [], set()
    for ps in rhs.split(","):
        ps = ps.strip()
        by, sep, pol = ps.partition(":")
        if not sep:
            raise ValueError("policy %r: want ip|user|token:N/DURATION, e.g. ip:60/1m" % ps)
        b = by.strip()
        if b not in ("ip", "user", "token"):
            raise ValueError("policy %r: counts by %r; want ip, user or token" % (ps, by))
        if b in seen:
            raise ValueError("two %s policies; keep one" % b)
        seen.add(b)
        p = parse_policy(pol)
        try:
            p = p.named(b + ":" + method + prefix)
        except ValueError as err:
            raise ValueError("path %r: %s" % (prefix, err)) from None
        policies.append((b, p))
    return Route(method, prefix, policies)


def parse_routes(s):
    """ratelimit.ParseRoutes: ``[METHOD ]PREFIX=BY:POLICY[,BY:POLICY…][;…]``,
    each policy named ``BY:[METHOD]PREFIX``. ValueError listing every bad
    route, each by position and text."""
    rs, errs, seen = Routes(), [], set()
    for i, e in enumerate(s.split(";")):
        e = e.strip()
        if not e:
            continue
        try:
            r = _parse_route(e)
            if (r.method, r.prefix) in seen:
                raise ValueError("%s appears twice; put all its policies in one route" % (r.method + " " + r.prefix).strip())
        except ValueError as err:
            errs.append("route %d (%r): %s" % (i + 1, e, err))
            continue
        seen.add((r.method, r.prefix))
        rs.append(r)
    if errs:
        raise ValueError("; ".join(errs))
    return rs


def _parse_addr(s):
    """netip.ParseAddr: an IPv4 or IPv6 address, IPv6 with an optional
    non-empty zone; returns (address, zone) or None."""
    addr, pct, zone = s.partition("%")
    if pct and not zone:
        return None
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if pct and a.version == 4:
        return None
    return a, zone


def _split_host_port(hp):
    """net.SplitHostPort's host, or None when it errs."""
    i = hp.rfind(":")
    if i < 0:
        return None
    j = k = 0
    if hp[0] == "[":
        end = hp.find("]")
        if end < 0 or end + 1 != i:
            return None
        host, j, k = hp[1:end], 1, end + 1
    else:
        host = hp[:i]
        if ":" in host:
            return None
    if "[" in hp[j:] or "]" in hp[k:]:
        return None
    return host


def _unmap(a):
    if a.version == 6 and a.ipv4_mapped is not None:
        return a.ipv4_mapped
    return a


def _parse_hop(s):
    """ratelimit's parseHop: a bare IP, ip:port or [ipv6]:port; unmapped,
    zone dropped; None when it is none of them."""
    got = _parse_addr(s)
    if got is None:
        host = _split_host_port(s)
        got = _parse_addr(host) if host is not None else None
        if got is None:
            return None
    return _unmap(got[0])


class Trust:
    """ratelimit.Trust: the proxies whose X-Forwarded-For is believed."""

    def __init__(self, networks=(), heroku=False):
        self.networks, self.heroku = list(networks), heroku

    def trusts(self, a):
        """Whether a is in one of the ranges (heroku aside)."""
        return any(a.version == n.version and a in n for n in self.networks)


def parse_trust(s):
    """ratelimit.ParseTrust: comma-separated CIDRs or addresses and/or
    ``heroku``. ValueError listing every bad entry."""
    t, errs = Trust(), []
    for i, e in enumerate(s.split(",")):
        e = e.strip()
        if not e:
            continue
        if e.lower() == TRUST_HEROKU:
            t.heroku = True
            continue
        bad = None
        addr_s, slash, bits_s = e.partition("/")
        got = _parse_addr(addr_s)
        if slash:
            ok = got is not None and not got[1] and re.match(r"(0|[1-9][0-9]*)\Z", bits_s) is not None
            if ok:
                bits = int(bits_s)
                ok = bits <= got[0].max_prefixlen
            if not ok:
                bad = "not a CIDR such as 10.0.0.0/8 or fd00::/8"
            else:
                net = ipaddress.ip_network("%s/%d" % (got[0], bits), strict=False)
                if net.network_address != got[0]:
                    bad = "host bits are set; did you mean %s?" % net
        else:
            if got is None or got[1]:
                bad = "not an IP address, a CIDR or " + TRUST_HEROKU
            else:
                net = ipaddress.ip_network(got[0])
        if bad is None:
            if net.version == 6 and net.network_address.ipv4_mapped is not None:
                bad = "write IPv4 addresses as IPv4 (clients are compared unmapped)"
            elif net.prefixlen == 0:
                bad = "trusts every address, so any client could choose its address; list your proxies' addresses"
        if bad:
            errs.append("entry %d (%r): %s" % (i + 1, e, bad))
        else:
            t.networks.append(net)
    if errs:
        raise ValueError("; ".join(errs))
    return t


def client_ip(remote_addr, xff, trust):
    """ratelimit.ClientIP: the socket's peer unless it is trusted, then the
    right-most untrusted X-Forwarded-For entry (a malformed one stops the
    walk at the last good hop). ``xff`` is the header's value (several
    headers joined by commas, as WSGI does). None when remote_addr is not
    an address."""
    hop = _parse_hop(remote_addr)
    if hop is None:
        return None
    if not trust.heroku and not trust.trusts(hop):
        return hop
    lst = xff or ""
    if not lst.strip():
        return hop
    while True:
        i = lst.rfind(",")
        prev = _parse_hop(lst[i + 1:].strip())
        if prev is None:
            return hop
        hop = prev
        if not trust.trusts(hop) or i < 0:
            return hop
        lst = lst[:i]


def ip_subject(ip):
    """ratelimit.Subject: IPv4 as is, IPv6 as its /64, "unknown" for None."""
    if ip is None:
        return UNKNOWN_CLIENT
    ip = _unmap(ip)
    if ip.version == 4:
        return str(ip)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def _hash32(s):
    """The first 16 bytes of SHA-256 of the raw bytes, in hex. WSGI values
    are latin-1 decodings of the bytes received, so latin-1 gives them back."""
    try:
        raw = s.encode("latin-1")
    except UnicodeEncodeError:
        raw = s.encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:32]


def user_subject(cookie_value, authorization):
    """ratelimit.UserSubject: ``session:<hash>`` of the session cookie's
    value, else ``auth:<hash>`` of the Authorization header, else ""."""
    if cookie_value:
        return "session:" + _hash32(cookie_value)
    if authorization:
        return "auth:" + _hash32(authorization)
    return ""


def rate_limit_key(policy, subject):
    """ratelimit.Key: ``cantina:rl:{<policy name>:<subject hash>}``."""
    return RATE_LIMIT_KEY_PREFIX + "{" + policy.name + ":" + _hash32(subject) + "}"


class Decision:
    """One request against one policy (ratelimit.Decision), times in µs."""

    __slots__ = ("policy", "allowed", "remaining", "retry_after_us", "reset_after_us")

    def __init__(self, policy, allowed, remaining, retry_after_us, reset_after_us):
        self.policy, self.allowed, self.remaining = policy, allowed, remaining
        self.retry_after_us, self.reset_after_us = retry_after_us, reset_after_us

    @property
    def limit(self):
        return self.policy.burst


def _tighter(a, b):
    """ratelimit's tighter(): a refused decision first (the longest wait),
    else the fewest remaining relative to the limit."""
    if a.allowed != b.allowed:
        return not a.allowed
    if not a.allowed:
        return a.retry_after_us > b.retry_after_us
    return a.remaining * b.limit < b.remaining * a.limit


def tightest(decisions):
    """ratelimit.Tightest: the decision closest to its limit, or None."""
    best = None
    for d in decisions:
        if best is None or _tighter(d, best):
            best = d
    return best


def _seconds_us(us):
    return -(-us // 10**6)


def rate_limit_headers(d):
    """ratelimit.Headers: the fields of a response decided by d, as a dict."""
    p = d.policy
    name = '"' + p.name + '"'
    h = {
        "RateLimit-Policy": "%s;q=%d;w=%d" % (name, p.limit, -(-p.period_ns // 10**9)),
        "RateLimit": "%s;r=%d;t=%d" % (name, d.remaining, _seconds_us(d.reset_after_us)),
        "X-RateLimit-Limit": str(d.limit),
        "X-RateLimit-Remaining": str(d.remaining),
        "X-RateLimit-Reset": str(_seconds_us(d.reset_after_us)),
    }
    if not d.allowed:
        h["Retry-After"] = str(_seconds_us(d.retry_after_us))
    return h


_RL_HEADERS = ("RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


def _decision_in(response):
    """The decision whose headers the response carries already (another
    limit, e.g. the middleware around a decorated view), or None."""
    d = getattr(response, "_cantina_ops_decision", None)
    if d is not None:
        return d
    try:
        limit = int(response["X-RateLimit-Limit"])
        remaining = int(response["X-RateLimit-Remaining"])
        reset = int(response["X-RateLimit-Reset"]) * 10**6
        retry = int(response["Retry-After"]) * 10**6 if response.has_header("Retry-After") else 0
    except (KeyError, ValueError):
        return None
    return Decision(Policy("", limit, 1, limit), retry == 0, remaining, retry, reset)


def _set_headers(response, d):
    """Set d's headers on response unless it carries a tighter decision."""
    if d is None:
        return response
    old = _decision_in(response)
    if old is not None and not _tighter(d, old):
        return response
    for k in _RL_HEADERS:
        # An allowed request leaves the view's own Retry-After (its 503).
        if response.has_header(k) and not (k == "Retry-After" and d.allowed):
            del response[k]
    for k, v in rate_limit_headers(d).items():
        response[k] = v
    response._cantina_ops_decision = d
    return response


def _problem(status, body, headers):
    from django.http import HttpResponse

    resp = HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")
    for k, v in headers.items():
        resp[k] = v
    return resp


def _refused(d):
    retry = _seconds_us(d.retry_after_us)
    resp = _problem(429, {
        "type": QUOTA_EXCEEDED_TYPE,
        "title": "Request cannot be satisfied as assigned quota has been exceeded",
        "status": 429,
        "detail": "too many requests; retry in %d s" % retry,
        "violated-policies": [d.policy.name],
    }, {})
    return _set_headers(resp, d)


def _unavailable():
    return _problem(503, {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "rate limiting cannot reach Redis and fails closed",
    }, {"Retry-After": str(FAIL_CLOSED_RETRY_AFTER)})


_SF_STRING = re.compile(r'"((?:[^"\\\x00-\x1f\x7f-\U0010ffff]|\\["\\])*)"[ \t]*(,[ \t]*)?')


def _charged_names(header):
    """The names in a Cantina-Ops-Charged value, a structured-field list of
    strings without parameters (``"ip", "user:POST/ventas/procesar/"``);
    an empty set when it is not one (then everything is charged)."""
    names, pos = set(), 0
    header = header.strip(" ")
    while pos < len(header):
        m = _SF_STRING.match(header, pos)
        if m is None:
            return set()
        names.add(re.sub(r"\\(.)", r"\1", m.group(1)))
        pos = m.end()
        if (m.group(2) is None) != (pos == len(header)):
            return set()  # two items without a comma, or a trailing comma
    return names


class _Settings:
    """The settings rate limiting reads, parsed once per distinct value."""

    _cache = {}

    @classmethod
    def trust(cls):
        s = getattr(settings, "CANTINA_OPS_TRUSTED_PROXIES", "")
        key = ("trust", s)
        if key not in cls._cache:
            from django.core.exceptions import ImproperlyConfigured

            try:
                cls._cache[key] = parse_trust(s)
            except ValueError as e:
                raise ImproperlyConfigured("CANTINA_OPS_TRUSTED_PROXIES: %s" % e) from None
        return cls._cache[key]

    @classmethod
    def gateways(cls):
        s = getattr(settings, "CANTINA_OPS_GATEWAYS", "")
        key = ("gateways", s)
        if key not in cls._cache:
            from django.core.exceptions import ImproperlyConfigured

            try:
                t = parse_trust(s)
            except ValueError as e:
                raise ImproperlyConfigured("CANTINA_OPS_GATEWAYS: %s" % e) from None
            if t.heroku:
                raise ImproperlyConfigured("CANTINA_OPS_GATEWAYS: list the gateways' addresses; heroku would believe any client")
            cls._cache[key] = t
        return cls._cache[key]

    @staticmethod
    def fail_open():
        return bool(getattr(settings, "CANTINA_OPS_RATE_LIMIT_FAIL_OPEN", True))


_scripts = {}


def _script(alias):
    script = _scripts.get(alias)
    if script is None:
        from django_redis import get_redis_connection

        script = _scripts[alias] = get_redis_connection(alias).register_script(RATE_LIMIT_SCRIPT)
    return script


def allow(policy, subject, alias=None):
    """Spend one request of subject's budget under policy, if there is one,
    in the Redis of the cache ``alias`` (default CANTINA_OPS_CACHE): the
    same key and script as cantina-ops' Limiter.Allow. Redis errors are
    raised."""
    alias = alias or _alias()
    res = _script(alias)(keys=[rate_limit_key(policy, subject)], args=[policy.interval, policy.capacity])
    if len(res) != 5:
        raise ValueError("rate limit %s: script returned %d values, want 5" % (policy.name, len(res)))
    return Decision(policy, int(res[0]) == 1, int(res[1]), int(res[2]), int(res[3]))


def _check_policies(policies):
    """Policies as (by, Policy); token policies are cantina-ops' API
    tokens' and are not counted here."""
    return [(by, p) for by, p in policies if by in ("ip", "user")]


def _from_gateway(request):
    """Whether the request's peer is a gateway of CANTINA_OPS_GATEWAYS."""
    peer = _parse_hop(request.META.get("REMOTE_ADDR", ""))
    return peer is not None and _Settings.gateways().trusts(peer)


def _gateway_client(value):
    """A Cantina-Ops-Client value as a subject, or None when it is not one
    (an IPv4 address, an IPv6 /64 as ratelimit.Subject writes it, or
    "unknown")."""
    if value == UNKNOWN_CLIENT:
        return value
    try:
        if "/" in value:
            net = ipaddress.IPv6Network(value)
            return value if net.prefixlen == 64 and ip_subject(net.network_address) == value else None
        a = ipaddress.IPv4Address(value)
        return value if str(a) == value else None
    except ValueError:
        return None


def request_subject(request, by, trust):
    """The subject a request is counted as under a policy counting by
    ``by``: ``"ip"``, the client address (ratelimit.Subject of ClientIP;
    from a gateway, the address it counted, Cantina-Ops-Client);
    ``"user"``, ratelimit.UserSubject of the session cookie
    (SESSION_COOKIE_NAME) or the Authorization header, "" for none."""
    meta = request.META
    if by == "ip":
        counted = meta.get("HTTP_CANTINA_OPS_CLIENT", "")
        if counted and _from_gateway(request):
            subject = _gateway_client(counted)
            if subject is not None:
                return subject
        return ip_subject(client_ip(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""), trust))
    cookie = request.COOKIES.get(getattr(settings, "SESSION_COOKIE_NAME", "sessionid"), "")
    return user_subject(cookie, meta.get("HTTP_AUTHORIZATION", ""))


def _limit(request, policies):
    """Charge request under policies, in order, stopping at the first
    refusal; policies the gateway (from a trusted proxy) or an outer limit
    already charged are skipped. Returns (response or None, decision for
    the headers or None)."""
    meta = request.META
    trust = _Settings.trust()
    charged = getattr(request, "_cantina_ops_charged", None)
    if charged is None:
        charged = set()
        header = meta.get("HTTP_CANTINA_OPS_CHARGED", "")
        if header and _from_gateway(request):
            charged = _charged_names(header)
        request._cantina_ops_charged = charged
    subjects = {}
    decisions = []
    for by, p in policies:
        if p.name in charged:
            continue
        if by not in subjects:
            subjects[by] = request_subject(request, by, trust)
        if not subjects[by]:
            continue
        try:
            d = allow(p, subjects[by])
        except Exception as e:  # Redis down, timeout, refused script
            if _Settings.fail_open():
                logger.warning("rate limiting skipped (fail open): Redis error %s", type(e).__name__)
                return None, tightest(decisions)
            logger.warning("rate limiting refused the request (fail closed): Redis error %s", type(e).__name__)
            return _unavailable(), None
        charged.add(p.name)
        decisions.append(d)
        if not d.allowed:
            return _refused(d), d
    return None, tightest(decisions)


def _improper(what, e):
    from django.core.exceptions import ImproperlyConfigured

    return ImproperlyConfigured("%s: %s" % (what, e))


def ratelimit(spec, key="ip", name=None):
    """Rate-limit a view with the budgets cantina-ops' gateway uses.

    ``spec`` is either a route as RATE_LIMIT_ROUTES writes one, e.g.
    ``"POST /ventas/procesar/=user:30/1m,ip:60/1m"``: its policies, named as
    the gateway names them (``user:POST/ventas/procesar/``), apply to the
    requests with the route's method (any when it names none), so the
    gateway and the view share each budget; ``key`` is then unused. Or a
    policy ``"N/DURATION[ burst=B]"`` counted by ``key`` (``"ip"`` or
    ``"user"``), named ``name`` or ``<key>:<module>.<qualname>``.

    A refused request gets 429 ``application/problem+json`` with
    RateLimit-Policy, RateLimit, X-RateLimit-* and Retry-After; an allowed
    one gets the same fields (but Retry-After) on the view's response.
    Policies named in a Cantina-Ops-Charged header from a gateway
    (CANTINA_OPS_GATEWAYS) are not charged twice.
    A user policy skips requests with neither a session cookie
    (SESSION_COOKIE_NAME) nor an Authorization header. Predefined limits
    are two lines::

        ratelimit_venta = ratelimit("POST /ventas/procesar/=user:30/1m")

        @csrf_exempt
        @ratelimit_venta
        def procesar_venta(request): ...

    A bad spec raises ImproperlyConfigured when the view is decorated.
    """
    method = ""
    try:
        if "=" in spec:
            routes = parse_routes(spec)
            if len(routes) != 1:
                raise ValueError("want one route, got %d" % len(routes))
            method, policies = routes[0].method, _check_policies(routes[0].policies)
        else:
            if key not in ("ip", "user"):
                raise ValueError("key %r: want ip or user" % key)
            policies = [(key, parse_policy(spec))]
    except ValueError as e:
        raise _improper("ratelimit(%r)" % spec, e) from None
    _Settings.trust()

    def decorator(view):
        ps = policies
        if "=" not in spec:
            n = name or "%s:%s.%s" % (key, view.__module__, view.__qualname__)
            try:
                ps = [(key, policies[0][1].named(n))]
            except ValueError as e:
                raise _improper("ratelimit(%r) on %s" % (spec, view.__qualname__), e) from None

        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if method and request.method != method:
                return view(request, *args, **kwargs)
            refused, d = _limit(request, ps)
            if refused is not None:
                return refused
            return _set_headers(view(request, *args, **kwargs), d)

        wrapper.rate_limit_policies = [p for _, p in ps]
        return wrapper

    return decorator


class RateLimitMiddleware:
    """The gateway's limits inside Django, for a POS without the gateway
    in front (or with it: what the gateway charged is skipped):

    - CANTINA_OPS_RATE_LIMIT_ROUTES: RATE_LIMIT_ROUTES' syntax, the route
      of the longest prefix applies;
    - CANTINA_OPS_RATE_LIMIT_IP (default ``"300/1m"``), policy ``ip``;
    - CANTINA_OPS_RATE_LIMIT_USER (default ``"120/1m"``), policy ``user``;
      an empty setting turns a global policy off.

    Add ``"cantina_ops.RateLimitMiddleware"`` to MIDDLEWARE, early: it
    reads the session cookie itself, not the session, and a refused
    request should cost little.
    Bad settings raise ImproperlyConfigured at start-up, naming the setting.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.routes = Routes()
        self.globals = []
        try:
            self.routes = parse_routes(getattr(settings, "CANTINA_OPS_RATE_LIMIT_ROUTES", ""))
        except ValueError as e:
            raise _improper("CANTINA_OPS_RATE_LIMIT_ROUTES", e) from None
        for by, setting, default in (("ip", "CANTINA_OPS_RATE_LIMIT_IP", "300/1m"), ("user", "CANTINA_OPS_RATE_LIMIT_USER", "120/1m")):
            text = getattr(settings, setting, default)
            if not text:
                continue
            try:
                self.globals.append((by, parse_policy(text, by)))
            except ValueError as e:
                raise _improper(setting, e) from None
        _Settings.trust()

    def policies(self, method, path):
        r = self.routes.route(method, path)
        return (_check_policies(r.policies) if r else []) + self.globals

    def __call__(self, request):
        refused, d = _limit(request, self.policies(request.method, request.path))
        if refused is not None:
            return refused
        return _set_headers(self.get_response(request), d)
