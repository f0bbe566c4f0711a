"""One Logger and Metrics for the whole app (Powertools), created once per process; and the Tracer,
created only where tracing is on.

Constructing a Powertools ``Tracer`` imports the X-Ray SDK, whose recorder builds two botocore
clients for sampling rules at import: ~100 ms of every cold start, even with tracing disabled. So
the Tracer exists only when tracing is on, decided by Powertools' own rule: inside Lambda, not
under ``chalice local``/SAM local, and ``POWERTOOLS_TRACE_DISABLED`` not set. Lambda sets the
environment before the function is imported, so deciding at import is right there; the test client
and ``make run`` run outside Lambda, where tracing is off anyway.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "einvoice"

logger = Logger(service=SERVICE)
# The namespace is given here, not read from the environment: Chalice's test client only sets
# stage variables during a request, after this object exists.
metrics = Metrics(namespace="EInvoice", service=SERVICE)


def tracing_enabled() -> bool:
    """Whether X-Ray tracing is on in this process (Powertools' rule, from the environment)."""
    from aws_lambda_powertools.tracing.tracer import Tracer

    return not Tracer._is_tracer_disabled()


@lru_cache(maxsize=1)
def tracer() -> Tracer:
    """The process's Tracer (imports the X-Ray SDK and patches boto3 on first call)."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)
