"""One Logger, Tracer and Metrics for the whole app (Powertools), created once per process."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "einvoice"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
# The namespace is given here, not read from the environment: Chalice's test client only sets
# stage variables during a request, after this object exists.
metrics = Metrics(namespace="EInvoice", service=SERVICE)
