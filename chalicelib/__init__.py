"""The platform's code (the ``chalicelib`` package Chalice deploys next to ``app.py``).

Every pydantic model in it builds its validator and serializer on first use, not when its module is
imported (pydantic's ``defer_build``). The API function imports every blueprint, and with them over
a hundred models, to register its routes; a cold start then serves one request, which needs a
handful of them. Building them all at import took ~50 ms of every cold start. Pydantic has no
public switch for all models, so its default is set here, before any model is defined. The pinned
pydantic (2.14) rebuilds a deferred model under a lock, so a first use from several threads at once
is safe (pydantic #13438). tests/unit/test_cold_start.py checks that models still defer.
"""

from pydantic._internal._config import config_defaults

config_defaults["defer_build"] = True
