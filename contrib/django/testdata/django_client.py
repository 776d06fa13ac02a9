"""The POS's side of cantina-ops' Django client test (cmd/cantina-ops/django_e2e_test.go).

Usage: django_client.py fill|invalidate|check

Environment: CACHE_LOCATION (redis://host:port/db), KEY_PREFIX, VERSION,
CANTINA_OPS_URL, CANTINA_OPS_TOKEN. Each phase prints one JSON document.
"""

import json
import os
import sys

import django
from django.conf import settings

settings.configure(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["CACHE_LOCATION"],
            "KEY_PREFIX": os.environ["KEY_PREFIX"],
            "VERSION": int(os.environ["VERSION"]),
            "TIMEOUT": 600,
        }
    },
    CANTINA_OPS_URL=os.environ["CANTINA_OPS_URL"],
    CANTINA_OPS_TOKEN=os.environ["CANTINA_OPS_TOKEN"],
    CANTINA_OPS_TTLS={"menu": 120, "reportes": 900},
    LOGGING_CONFIG=None,
)
django.setup()

from django.core.cache import cache  # noqa: E402

import cantina_ops  # noqa: E402

calls = []


@cantina_ops.cache_result("menu", tags=lambda categoria: ["categoria:%d" % categoria])
def menu_del_dia(categoria):
    calls.append(("menu", categoria))
    return {"categoria": categoria, "platos": ["sopa", "arroz"]}


@cantina_ops.cache_result("reportes", key_func=lambda mes: "mes-%02d" % mes)
def reporte(mes):
    calls.append(("reporte", mes))
    return {"mes": mes, "ventas": 1234.5}


def keys():
    """Every logical key the test stores, by name."""
    return {
        "productos:1": "productos:1",
        "productos:2": "productos:2",
        "productosX:1": "productosX:1",
        "dashboard:ventas": "dashboard:ventas",
        "dashboard:compras": "dashboard:compras",
        "precio:7": "precio:7",
        "precio:8": "precio:8",
        "menu(5)": menu_del_dia.key(5),
        "menu(6)": menu_del_dia.key(6),
        "reporte(1)": reporte.key(1),
        "reporte(2)": reporte.key(2),
    }


def fill():
    cache.set("productos:1", {"nombre": "empanada", "precio": 2.5})
    cache.set("productos:2", {"nombre": "jugo", "precio": 1.0}, 300)
    cache.set("productosX:1", "not a producto")
    cache.set("dashboard:ventas", 120)
    cache.set("dashboard:compras", 80)
    cache.set("precio:7", 3.5)
    cantina_ops.tag("precio:7", "categoria:5")
    cache.set("precio:8", 4.5, 60)
    cantina_ops.tag("precio:8", "categoria:6", "ofertas")
    for c in (5, 6):
        menu_del_dia(c)
    for m in (1, 2):
        reporte(m)
    # A second call is served from the cache.
    menu_del_dia(5)
    reporte(1)
    real = {name: str(cache.make_key(k)) for name, k in keys().items()}
    return {"keys": real, "calls": len(calls), "tag_set": str(cache.make_key(cantina_ops.TAG_PREFIX + "categoria:5"))}


def invalidate():
    k = keys()
    return {
        "results": [
            cantina_ops.invalidate(keys=["dashboard:ventas", k["reporte(1)"]], wait=True),
            cantina_ops.invalidate(patterns=["productos:*"], wait=True),
            cantina_ops.invalidate(tags=["categoria:5"], wait=True),
        ]
    }


def check():
    missing = object()
    hits = {name: cache.get(k, missing) is not missing for name, k in keys().items()}
    # The decorated functions recompute exactly what was invalidated.
    menu_del_dia(5)
    menu_del_dia(6)
    reporte(1)
    reporte(2)
    return {"hit": hits, "recomputed": sorted("%s(%s)" % c for c in calls)}


if __name__ == "__main__":
    phase = {"fill": fill, "invalidate": invalidate, "check": check}[sys.argv[1]]
    json.dump(phase(), sys.stdout)
