"""Local-stage conveniences: read the mail and SMS the platform sent, as a person reads an inbox."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.adapters.local_outbox import Outbox, read_outbox
from chalicelib.api.errors import ROUTE_NOT_FOUND, ApiError
from chalicelib.api.routing import operation
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


@operation(
    bp,
    "/local/outbox",
    summary="Local stage only: every email (SES) and SMS (SNS) sent, newest last",
    tag="Local",
    auth="public",
    response=Outbox,
    errors=(404,),
)
def outbox() -> Outbox:
    settings = get_settings()
    if not settings.is_local:
        # Outside the local stage this route does not exist, and says so like any unknown path.
        raise ApiError(404, ROUTE_NOT_FOUND.code, ROUTE_NOT_FOUND.message, ROUTE_NOT_FOUND.message_zh)
    return read_outbox(settings)
