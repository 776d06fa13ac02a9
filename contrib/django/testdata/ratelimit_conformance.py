"""cantina_ops' rate-limit arithmetic on the cases of
cmd/cantina-ops/django_ratelimit_e2e_test.go, which compares it with
internal/ratelimit's.

Reads {"clients": [...], "policies": [...], "routes": [...], "charged":
[...]} on stdin and
prints the answers, in order, as one JSON document.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(ALLOWED_HOSTS=["*"], SESSION_COOKIE_NAME="sessionid", LOGGING_CONFIG=None)
django.setup()

from django.test import RequestFactory  # noqa: E402

import cantina_ops  # noqa: E402


def wsgi(s):
    """A header value as WSGI hands it over: the UTF-8 bytes, read as latin-1."""
    return s.encode("utf-8").decode("latin-1")


def client(c):
    try:
        trust = cantina_ops.parse_trust(c["trust"])
    except ValueError:
        return {"trust_error": True}
    meta = {"REMOTE_ADDR": c["remote_addr"]}
    if c["xff"]:
        meta["HTTP_X_FORWARDED_FOR"] = wsgi(c["xff"])
    if c["cookie"]:
        meta["HTTP_COOKIE"] = wsgi("sessionid=" + c["cookie"])
    if c["authorization"]:
        meta["HTTP_AUTHORIZATION"] = wsgi(c["authorization"])
    request = RequestFactory().get("/ventas/", **meta)
    ip = cantina_ops.request_subject(request, "ip", trust)
    user = cantina_ops.request_subject(request, "user", trust)
    return {
        "ip": ip,
        "user": user,
        "ip_key": cantina_ops.rate_limit_key(cantina_ops.parse_policy("300/1m", "ip"), ip),
        "user_key": cantina_ops.rate_limit_key(cantina_ops.parse_policy("120/1m", "user"), user) if user else "",
    }


def policy(text):
    try:
        p = cantina_ops.parse_policy(text)
    except ValueError:
        return {"error": True}
    return {"limit": p.limit, "burst": p.burst, "period_ns": p.period_ns, "interval": p.interval, "capacity": p.capacity}


def routes(r):
    try:
        rs = cantina_ops.parse_routes(r["routes"])
    except ValueError:
        return {"error": True}
    match = rs.route(r["method"], r["path"])
    return {
        "names": [p.name for route in rs for _, p in route.policies],
        "match": [p.name for _, p in match.policies] if match else [],
    }


if __name__ == "__main__":
    cases = json.load(sys.stdin)
    json.dump({
        "clients": [client(c) for c in cases["clients"]],
        "policies": [policy(p) for p in cases["policies"]],
        "routes": [routes(r) for r in cases["routes"]],
        "charged": [sorted(cantina_ops._charged_names(h)) for h in cases["charged"]],
    }, sys.stdout)
