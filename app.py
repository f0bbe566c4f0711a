"""The platform's wiring: the Chalice app, its middleware and its blueprints. No logic lives here."""

from __future__ import annotations

from chalice.app import Chalice, ConvertToMiddleware

from chalicelib import cold_start  # first: no garbage collection until everything is imported
from chalicelib.api import (
    admin,
    allowances,
    announcements,
    api_keys,
    auth,
    exchange,
    exchange_allowances,
    filings,
    invoice_lifecycle,
    invoices,
    local_tools,
    lookup,
    lottery,
    mail_feedback,
    merchant,
    mig,
    notifications,
    outbox_events,
    pending_invoices,
    public_invoices,
    purchase_lists,
    received,
    registration,
    system,
    tracks,
    webhooks,
    working_calendar,
)
from chalicelib.api.middleware import request_context
from chalicelib.observability import logger, metrics, tracer, tracing_enabled
from chalicelib.web.blueprints import CONSOLE_BLUEPRINTS

app = Chalice(app_name="einvoice")
# Console forms with files (allocation and MIG uploads) arrive as multipart: API Gateway must pass
# them through as bytes.
app.api.binary_types.append("multipart/form-data")

# The Logger goes first (outermost) with clear_state so that keys appended for one request,
# such as a merchant id, never leak into the next warm invocation's logs.
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
# The Tracer only where tracing is on (in Lambda with X-Ray): creating it imports the X-Ray SDK,
# ~100 ms of a cold start (chalicelib/observability.py).
if tracing_enabled():
    app.register_middleware(ConvertToMiddleware(tracer().capture_lambda_handler(capture_response=False)))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(request_context, "http")

for blueprint in (
    system,
    local_tools,
    lookup,
    auth,
    registration,
    merchant,
    api_keys,
    admin,
    working_calendar,
    announcements,
    notifications,
    tracks,
    invoices,
    invoice_lifecycle,
    allowances,
    outbox_events,
    mail_feedback,
    pending_invoices,
    public_invoices,
    received,
    purchase_lists,
    exchange,
    exchange_allowances,
    mig,
    filings,
    lottery,
    webhooks,
):
    app.register_blueprint(blueprint.bp)
for console_blueprint in CONSOLE_BLUEPRINTS:
    app.register_blueprint(console_blueprint)

cold_start.imported()
