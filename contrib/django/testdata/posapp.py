"""A minimal Cantina POS for cantina-ops' tests: a one-file Django project.

Run with Debian's Django 3.2 and django-redis (no database, no migrations:
sessions are signed cookies):

    PORT=8000 CACHE_LOCATION=redis://127.0.0.1:6379/0 /usr/bin/python3 posapp.py

Environment: PORT; CACHE_LOCATION (the cache and rate-limit Redis);
CANTINA_OPS_TRUSTED_PROXIES; CANTINA_OPS_GATEWAYS; CANTINA_OPS_RATE_LIMIT_ROUTES,
CANTINA_OPS_RATE_LIMIT_IP, CANTINA_OPS_RATE_LIMIT_USER (set, even empty,
to override the defaults); CANTINA_OPS_RATE_LIMIT_FAIL_OPEN (true|false);
RATE_LIMIT_MIDDLEWARE=1 to put cantina_ops.RateLimitMiddleware first.
It answers GET /ready/ once it serves.

Views: GET /login/?user=NAME (session, 302 to /ventas/); GET /ventas/
(names the user, sets caja=1 on /ventas/); POST /ventas/procesar/ (not
decorated); POST /ventas/decorada/ (ratelimit("POST
/ventas/decorada/=user:5/1m")); GET /echo/ (what the POS sees of the
request); GET /ocupada/ (a decorated 503 with its own Retry-After);
GET /subject/ (the client address the decorator counts by);
GET /stream/ (a streamed body).
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

_extra = {}
for _name in ("CANTINA_OPS_RATE_LIMIT_ROUTES", "CANTINA_OPS_RATE_LIMIT_IP", "CANTINA_OPS_RATE_LIMIT_USER"):
    if _name in os.environ:
        _extra[_name] = os.environ[_name]

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY="posapp-test-only-not-a-secret",
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    DATABASES={},
    MIDDLEWARE=(["cantina_ops.RateLimitMiddleware"] if os.environ.get("RATE_LIMIT_MIDDLEWARE") == "1" else [])
    + ["django.contrib.sessions.middleware.SessionMiddleware"],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["CACHE_LOCATION"],
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    },
    CANTINA_OPS_TRUSTED_PROXIES=os.environ.get("CANTINA_OPS_TRUSTED_PROXIES", ""),
    CANTINA_OPS_GATEWAYS=os.environ.get("CANTINA_OPS_GATEWAYS", ""),
    CANTINA_OPS_RATE_LIMIT_FAIL_OPEN=os.environ.get("CANTINA_OPS_RATE_LIMIT_FAIL_OPEN", "true") == "true",
    LOGGING={
        "version": 1,
        "handlers": {"stderr": {"class": "logging.StreamHandler"}},
        "loggers": {"cantina_ops": {"handlers": ["stderr"], "level": "WARNING"}},
    },
    **_extra,
)
django.setup()

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from cantina_ops import ratelimit  # noqa: E402

ratelimit_decorada = ratelimit("POST /ventas/decorada/=user:5/1m")


def ready(request):
    return HttpResponse("ready\n", content_type="text/plain")


def login(request):
    request.session["user"] = request.GET.get("user", "")
    return HttpResponseRedirect("/ventas/")


def ventas(request):
    user = request.session.get("user", "")
    resp = HttpResponse("<!doctype html><title>Ventas</title><p>Caja de %s</p>\n" % user.replace("<", "&lt;"))
    resp.set_cookie("caja", "1", path="/ventas/")
    return resp


@csrf_exempt
def procesar(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    return JsonResponse({"ok": True, "user": request.session.get("user", "")})


@csrf_exempt
@ratelimit_decorada
def decorada(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    return JsonResponse({"ok": True, "user": request.session.get("user", "")})


@ratelimit("30/1m", key="ip")
def ocupada(request):
    resp = HttpResponse("busy\n", status=503, content_type="text/plain")
    resp["Retry-After"] = "120"
    return resp


def echo(request):
    m = request.META
    names = ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_HOST",
             "HTTP_CANTINA_OPS_CHARGED", "HTTP_CANTINA_OPS_CLIENT")
    return JsonResponse({n: m.get(n) for n in names})


def subject(request):
    """The client address the decorator counts this request by."""
    from cantina_ops import _Settings, request_subject

    return JsonResponse({"ip": request_subject(request, "ip", _Settings.trust())})


def stream(request):
    return StreamingHttpResponse(("chunk %d\n" % i for i in range(5)), content_type="text/plain")


urlpatterns = [
    path("ready/", ready),
    path("login/", login),
    path("ventas/", ventas),
    path("ventas/procesar/", procesar),
    path("ventas/decorada/", decorada),
    path("ocupada/", ocupada),
    path("echo/", echo),
    path("subject/", subject),
    path("stream/", stream),
]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "runserver", "127.0.0.1:" + os.environ["PORT"], "--noreload"])
