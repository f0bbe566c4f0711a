"""Received invoices (進項): what other merchants issued to the caller's UBN."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import deps
from chalicelib.api.invoices import DownloadLink, PdfQuery, artifact_link, invoice_message
from chalicelib.api.routing import operation
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.services.invoice_view import InvoiceView
from chalicelib.services.principal import Principal
from chalicelib.services.received import ReceivedPage, ReceivedQuery, buyer_view

bp = Blueprint(__name__)
TAG = "Received invoices"


def _received(principal: Principal, seller_ubn: str, invoice_number: str) -> InvoiceRecord:
    return deps.received_invoices().get(principal.ubn, seller_ubn, invoice_number)


@operation(
    bp,
    "/v1/received-invoices",
    summary="B2B invoices issued to this UBN by other merchants (進項), newest first",
    tag=TAG,
    query=ReceivedQuery,
    response=ReceivedPage,
    auth="merchant",
    scope="invoices:read",
)
def list_received(query: ReceivedQuery, principal: Principal) -> ReceivedPage:
    return deps.received_invoices().find(principal.ubn, query)


@operation(
    bp,
    "/v1/received-invoices/{seller_ubn}/{invoice_number}",
    summary="One received invoice (only its buyer and its seller can see it)",
    tag=TAG,
    response=InvoiceView,
    auth="merchant",
    scope="invoices:read",
    errors=(404,),
)
def get_received(seller_ubn: str, invoice_number: str, principal: Principal) -> InvoiceView:
    return buyer_view(_received(principal, seller_ubn, invoice_number))


@operation(
    bp,
    "/v1/received-invoices/{seller_ubn}/{invoice_number}/xml",
    summary="A received invoice's MIG 4.1 XML: its F0401, or its A0101 when it came by exchange (交換)",
    tag=TAG,
    auth="merchant",
    scope="invoices:read",
    response_content_type="application/xml",
    errors=(404,),
)
def received_xml(seller_ubn: str, invoice_number: str, principal: Principal) -> Response:
    return invoice_message(_received(principal, seller_ubn, invoice_number))


@operation(
    bp,
    "/v1/received-invoices/{seller_ubn}/{invoice_number}/pdf",
    summary="A received invoice's proof (證明聯) or A4 PDF: a redirect to a 5-minute link (also in the JSON body)",
    tag=TAG,
    query=PdfQuery,
    response=DownloadLink,
    status=302,
    auth="merchant",
    scope="invoices:read",
    errors=(404,),
)
def received_pdf(seller_ubn: str, invoice_number: str, query: PdfQuery, principal: Principal) -> Response:
    record = _received(principal, seller_ubn, invoice_number)  # 404 unless the caller is buyer or seller
    kind = "proof_pdf" if query.layout == "proof" else "a4_pdf"
    # The artifact is the seller's: its key is under the seller's prefix, whoever asks.
    return artifact_link(record, str(record.seller["ubn"]), kind, query.download)
