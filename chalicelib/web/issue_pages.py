"""線上開立 (issue online): the invoice form, its server-side preview (試算) and the buyer look-up.

People issue on the ``online`` channel. Each rendering of the form carries its own
Idempotency-Key (a hidden field), so a double click or a form sent again issues one invoice: the
service answers the second request with the first invoice. The preview runs the same domain rules
as issuing (``invoice_forms.preview``) and never takes a number.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.api import deps
from chalicelib.domain.channels import ONLINE
from chalicelib.domain.errors import DomainError
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.services.lookup import UbnLookup, lookup_ubn
from chalicelib.web.invoice_forms import (
    CARRIER_KINDS,
    TAX_TYPES,
    IssueForm,
    Preview,
    field_label,
    new_form_key,
    preview,
    valid_form_key,
)
from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)

# Errors that name no input of this form but a setting elsewhere: the banner links to it.
_SETUP_PAGES = {
    "address": "/console/settings",
    "settings.qr_aes_key": "/console/settings",
    "channel": "/console/tracks",
}


def _readiness(ctx: PageContext) -> list[tuple[str, str]]:
    """What keeps this merchant from issuing at all, with the page that fixes it."""
    profile = deps.merchants().profile(ctx.ubn)
    missing: list[tuple[str, str]] = []
    if profile is None or not profile.address:
        missing.append((ctx.t("請先設定營業地址", "Set your business address first"), "/console/settings"))
    if profile is None or not profile.settings.qr_aes_key:
        missing.append(
            (ctx.t("請先設定 QR Code 加密金鑰（證明聯需要它）", "Set your QR-code AES key first"), "/console/settings")
        )
    return missing


def _render(
    ctx: PageContext,
    form: IssueForm,
    key: str,
    *,
    errors: dict[str, str] | None = None,
    shown: Preview | None = None,
    focus: int | None = None,
    status: int = 200,
    setup: str | None = None,
) -> Response:
    return ctx.render(
        "issue/form.html",
        status=status,
        form=form,
        key=key,
        errors=errors or {},
        preview=shown if shown is not None else preview(form, ctx.ubn),
        focus=focus,
        oob_preview=None,
        setup=setup,
        readiness=_readiness(ctx) if ctx.request.method == "GET" else [],
        **_choices(ctx),
    )


def _choices(ctx: PageContext) -> dict[str, Any]:
    return {
        "tax_types": [(code, ctx.t(zh, en)) for code, zh, en in TAX_TYPES],
        "carrier_kinds": [(code, ctx.t(zh, en)) for code, zh, en in CARRIER_KINDS],
        "label": lambda name: field_label(name, ctx.t),
    }


def _row_action(ctx: PageContext, form: IssueForm, action: str, key: str) -> Response:
    """Add or remove an item row: the rows again for htmx, the whole form without JavaScript."""
    if action == "add":
        focus = form.add_row()
    else:
        try:
            index = int(action.removeprefix("remove:"))
        except ValueError:
            index = -1
        focus = form.remove_row(index)
    if ctx.is_htmx:
        return ctx.render(
            "issue/_items.html",
            form=form,
            errors={},
            focus=focus,
            oob_preview=preview(form, ctx.ubn),
            **_choices(ctx),
        )
    return _render(ctx, form, key, focus=focus)


@page(bp, "/console/issue", ("GET", "POST"), auth="merchant")
def issue(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _render(ctx, IssueForm(), new_form_key())
    form = IssueForm.from_form(ctx.form)
    key = ctx.form.get("idempotency_key")
    action = ctx.form.get("row_action")
    if action == "add" or action.startswith("remove:"):
        return _row_action(ctx, form, action, key if valid_form_key(key) else new_form_key())
    if action == "preview":  # the form again with its totals, for browsers without JavaScript
        return _render(ctx, form, key if valid_form_key(key) else new_form_key())
    return _issue(ctx, form, key)


def _issue(ctx: PageContext, form: IssueForm, key: str) -> Response:
    if not valid_form_key(key):
        # Not a form this console rendered (or a very old one): never issue without a key.
        message = ctx.t("表單已過期，請確認內容後再送出一次", "This form has expired; check it and send it again")
        return _render(ctx, form, new_form_key(), errors={"_": message}, status=422)
    if not form.used:
        message = ctx.t("請至少填寫一個品項", "Fill in at least one item")
        return _render(ctx, form, key, errors={"items": message}, status=422)
    try:
        issued = deps.invoicing_service().issue(
            ctx.ubn, form.body(), channel=ONLINE, actor=ctx.actor, idempotency_key=key
        )
    except DomainError as error:
        return _refused(ctx, form, key, error)
    return ctx.redirect(f"/console/invoices/{issued.record.invoice_number}?done=issued")


def _refused(ctx: PageContext, form: IssueForm, key: str, error: DomainError) -> Response:
    """The form again with the service's error next to the field it names."""
    if error.field == "Idempotency-Key":
        # This rendering already issued a different invoice (the form was changed and sent
        # again): a new key makes the next send a new invoice, on purpose this time.
        message = ctx.t(
            "這張表單已開立過一張發票；若要再開立一張，請確認內容後再送出一次。",
            "This form already issued an invoice; to issue another one, check it and send it again.",
        )
        return _render(ctx, form, new_form_key(), errors={"_": message}, status=422)
    moved = form.shown_field(error)
    errors = ctx.field_errors(moved)
    setup = _SETUP_PAGES.get(moved.field or "")
    if setup:
        errors = {"_": errors[moved.field or "_"]}
    if moved.field == "buyer.name" and form.delivery.is_b2b and not form.delivery.name:
        found = _registered(form.delivery.ubn)
        if found is not None and found.name:
            form.delivery.name = found.name
            errors = {
                "buyer.name": ctx.t(
                    "已依稅籍資料帶入買受人名稱，請確認後再按「開立發票」。",
                    "The buyer's name was filled in from the tax registry; check it and issue again.",
                )
            }
    return _render(ctx, form, key, errors=errors, status=422, setup=setup)


def _registered(ubn: str) -> UbnLookup | None:
    if not is_valid_ubn(ubn):
        return None
    found = lookup_ubn(ubn, DynamoTaxRegistry())
    return found if found.registered else None


@page(bp, "/console/issue/preview", ("POST",), auth="merchant")
def issue_preview(ctx: PageContext) -> Response:
    """The totals and tax of the form as it stands, computed by the domain (htmx, as you type)."""
    form = IssueForm.from_form(ctx.form)
    return ctx.render("issue/preview.html", preview=preview(form, ctx.ubn), **_choices(ctx))


@page(bp, "/console/issue/buyer", auth="merchant")
def buyer_lookup(ctx: PageContext) -> Response:
    """The buyer-name field, filled from the tax registry once the UBN typed is a valid one."""
    ubn = ctx.query.get("buyer.ubn", "").strip()
    name = ctx.query.get("buyer.name", "").strip()
    source = ctx.query.get("buyer_name_source", "")
    found: UbnLookup | None = None
    note = ""
    if len(ubn) == 8 and ubn.isdigit():
        found = lookup_ubn(ubn, DynamoTaxRegistry())
        if not found.valid:
            note = ctx.t("統一編號檢查碼不正確", "This UBN's check digit is wrong")
        elif not found.registered:
            note = ctx.t("稅籍資料查無此統一編號，請自行填寫名稱", "Not in the tax registry; type the name")
        else:
            # The registry's name replaces an empty one or one it filled itself, never a typed one.
            if not name or source == "registry":
                name, source = found.name or name, "registry"
            if found.status and found.status != "active":
                note = ctx.t("注意：此營業人非營業中", "Note: this business is not active")
            elif _receives_by_exchange(ubn):
                # Public on the MOF platform too (營業人電子發票資格查詢): what the seller may choose.
                note = ctx.t(
                    "此買方的接收方式為「交換」：可勾選「以交換方式開立」。",
                    'This buyer receives by exchange: you may tick "Issue for exchange".',
                )
    return ctx.render("issue/_buyer_name.html", name=name, source=source, note=note, errors={})


def _receives_by_exchange(ubn: str) -> bool:
    profile = deps.merchants().profile(ubn)
    return profile is not None and profile.status == "active" and profile.settings.receives_by_exchange
