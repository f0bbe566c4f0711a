"""設定: the merchant's profile, receivers (發票接收, each confirmed by a code), API keys, webhook
secret, QR-code AES key and issuing defaults.

Each section is its own page and form, posting to itself: a refused form comes back with its
errors next to the fields (422), a saved one redirects to its page with a notice. Secrets made
here (an API key, the webhook secret) are shown once, in the answer to the POST that made them.
"""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.api_key_auth import api_key_service
from chalicelib.api.api_keys import CreateApiKeyRequest
from chalicelib.api.merchant import ReceiverVerification
from chalicelib.domain.errors import DomainError, InvalidInput, NotFound
from chalicelib.domain.merchant import MerchantSettings
from chalicelib.domain.notifications import NOTICE_KINDS
from chalicelib.security.api_keys import ApiScope
from chalicelib.services.api_keys import MAX_ACTIVE_KEYS, ApiKeyView
from chalicelib.services.merchant_profile import MerchantView, ProfileUpdate, view
from chalicelib.services.receivers import ReceiversInput
from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)

RECEIVER_CHANNELS = ("email", "mobile")
QR_KEY_FIELD = "settings.qr_aes_key"
_QR_KEY = re.compile(r"[0-9A-Fa-f]{32}")  # as MerchantSettings checks it; here for a message that explains

# What each API-key scope lets an ERP/POS do, as the merchant choosing them reads it.
SCOPE_TEXT: dict[str, tuple[str, str]] = {
    ApiScope.INVOICES_WRITE: ("開立、作廢、註銷發票", "Issue, cancel and void invoices"),
    ApiScope.INVOICES_READ: ("查詢發票、下載 PDF", "Look up invoices, download PDFs"),
    ApiScope.ALLOWANCES_WRITE: ("開立、作廢折讓", "Issue and cancel allowances (折讓)"),
    ApiScope.ALLOWANCES_READ: ("查詢折讓", "Look up allowances"),
    ApiScope.TRACKS_READ: ("查看字軌與剩餘號碼", "See tracks (字軌) and numbers left"),
    ApiScope.FILINGS_READ: ("查看申報、對帳、下載申報檔", "Read returns, reconcile, download filed documents"),
    ApiScope.FILINGS_WRITE: ("申報、上傳空白字軌、記錄繳款", "File returns and blank numbers, record payments"),
    ApiScope.NOTIFICATIONS_READ: ("讀取通知", "Read notifications"),
    ApiScope.WEBHOOKS_READ: ("查看 Webhook 端點與事件", "See webhook endpoints and events"),
    ApiScope.WEBHOOKS_WRITE: ("管理 Webhook 端點、重送事件", "Manage webhook endpoints, replay events"),
}


# --- shared ------------------------------------------------------------------------------------


def _profile(ctx: PageContext) -> MerchantView:
    return view(deps.profile_service().get(ctx.ubn))


def _required(ctx: PageContext) -> str:
    return ctx.t("請填寫此欄位", "Fill in this field")


def _section(ctx: PageContext, template: str, status: int = 200, **variables: Any) -> Response:
    return ctx.render(template, status=status, done=ctx.query.get("done", ""), **variables)


# --- overview ----------------------------------------------------------------------------------


@page(bp, "/console/settings", auth="merchant")
def settings_home(ctx: PageContext) -> Response:
    return _section(
        ctx,
        "settings/index.html",
        section="",
        profile=_profile(ctx),
        key_count=len(api_key_service().list(ctx.me)),
        max_keys=MAX_ACTIVE_KEYS,
        webhook_set=deps.webhook_secrets().read(ctx.ubn) is not None,
    )


# --- profile -----------------------------------------------------------------------------------

PROFILE_FIELDS = ("person_in_charge", "phone", "email", "address")


@page(bp, "/console/settings/profile", ("GET", "POST"), auth="merchant")
def profile_page(ctx: PageContext) -> Response:
    current = _profile(ctx)
    if ctx.request.method == "GET":
        values = {name: getattr(current, name) or "" for name in PROFILE_FIELDS}
        return _section(ctx, "settings/profile.html", section="profile", profile=current, values=values)
    values = {name: ctx.form.get(name).strip() for name in PROFILE_FIELDS}
    changes: dict[str, str] = dict(values)
    if not values["email"] and not current.email:
        del changes["email"]  # an email never set stays unset; a set one cannot be blanked (it is checked)
    errors = ctx.attempt(
        lambda: deps.profile_service().update(ctx.ubn, ProfileUpdate.model_validate(changes), actor=ctx.actor),
    )
    if not errors:
        return ctx.redirect("/console/settings/profile?done=saved")
    return _section(ctx, "settings/profile.html", 422, section="profile", profile=current, values=values, errors=errors)


# --- receivers ---------------------------------------------------------------------------------


def _receivers_page(
    ctx: PageContext,
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    current = _profile(ctx)
    values = {c: (current.receivers[c].address or "") if c in current.receivers else "" for c in RECEIVER_CHANNELS}
    return _section(
        ctx,
        "settings/receivers.html",
        status,
        section="receivers",
        receivers=current.receivers,
        values={**values, **(typed or {})},
        channel_errors={c: (errors or {}).get(c, {}) for c in RECEIVER_CHANNELS},
        sent=ctx.query.get("sent", ""),
        verified=ctx.query.get("verified", ""),
    )


def _channel(ctx: PageContext) -> str:
    channel = ctx.form.get("channel")
    if channel not in RECEIVER_CHANNELS:
        raise InvalidInput("INVALID_CHANNEL", "Choose email or mobile", "請選擇 Email 或手機", "channel")
    return channel


@page(bp, "/console/settings/receivers", ("GET", "POST"), auth="merchant")
def receivers_page(ctx: PageContext) -> Response:
    """Set an email or a mobile number: it is unverified until the code sent to it is entered."""
    if ctx.request.method == "GET":
        return _receivers_page(ctx)
    channel = _channel(ctx)
    address = ctx.form.get(channel).strip()
    errors = {channel: _required(ctx)} if not address else {}
    if not errors:
        errors = ctx.attempt(
            lambda: deps.receiver_service().set_receivers(
                ctx.ubn, ReceiversInput.model_validate({channel: address}), actor=ctx.actor
            ),
        )
    if not errors:
        return ctx.redirect(f"/console/settings/receivers?sent={channel}")
    return _receivers_page(ctx, 422, {channel: errors}, {channel: address})


@page(bp, "/console/settings/receivers/verify", ("POST",), auth="merchant")
def verify_receiver(ctx: PageContext) -> Response:
    channel = _channel(ctx)
    code = ctx.form.get("code").strip()
    if not code:
        return _receivers_page(ctx, 422, {channel: {"code": _required(ctx)}})

    def verify() -> None:
        checked = ReceiverVerification.model_validate({"channel": channel, "code": code})
        deps.receiver_service().verify(ctx.ubn, checked.channel, checked.code, actor=ctx.actor)

    errors = ctx.attempt(verify)
    if not errors:
        return ctx.redirect(f"/console/settings/receivers?verified={channel}")
    # Whatever the refusal names (the code, or that nothing waits for one), it belongs by the code.
    return _receivers_page(ctx, 422, {channel: {"code": next(iter(errors.values()))}})


# --- API keys ----------------------------------------------------------------------------------


def _keys_page(ctx: PageContext, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    show_revoked = ctx.query.get("revoked") == "1"
    return _section(
        ctx,
        "settings/api_keys.html",
        status,
        section="api-keys",
        keys=api_key_service().list(ctx.me, include_revoked=show_revoked),
        show_revoked=show_revoked,
        scope_text=SCOPE_TEXT,
        max_keys=MAX_ACTIVE_KEYS,
        values={"name": ctx.form.get("name")},
        chosen=ctx.form.all("scopes"),
        errors=errors or {},
    )


@page(bp, "/console/settings/api-keys", ("GET", "POST"), auth="merchant")
def api_keys_page(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _keys_page(ctx)
    me = ctx.me
    scopes = ctx.form.all("scopes")
    if not scopes:
        return _keys_page(ctx, 422, {"scopes": ctx.t("請至少選擇一項權限", "Choose at least one permission")})
    try:
        body = CreateApiKeyRequest.model_validate({"name": ctx.form.get("name"), "scopes": scopes})
        created = api_key_service().create(me, body.name, body.scopes)
    except (ValidationError, DomainError) as exc:
        ((field, text),) = ctx.field_errors(exc).items()
        # scopes[2] names one checkbox of the group: the group shows it
        return _keys_page(ctx, 422, {"scopes" if field.startswith("scopes") else field: text})
    return _section(ctx, "settings/api_key_created.html", section="api-keys", created=created, scope_text=SCOPE_TEXT)


def _own_key(ctx: PageContext, key_id: str) -> ApiKeyView:
    for key in api_key_service().list(ctx.me):
        if key.key_id == key_id:
            return key
    raise NotFound("API_KEY_NOT_FOUND", "No such API key", "查無此 API 金鑰")


@page(bp, "/console/settings/api-keys/{key_id}/revoke", ("GET", "POST"), auth="merchant")
def revoke_api_key(ctx: PageContext, key_id: str) -> Response:
    """A page that asks first, so revoking needs no script: the POST is the confirmation."""
    key = _own_key(ctx, key_id)
    if ctx.request.method == "POST":
        api_key_service().revoke(ctx.me, key.key_id)
        return ctx.redirect("/console/settings/api-keys?done=revoked")
    return _section(ctx, "settings/api_key_revoke.html", section="api-keys", key=key, scope_text=SCOPE_TEXT)


# --- webhook secret ----------------------------------------------------------------------------


@page(bp, "/console/settings/webhook", ("GET", "POST"), auth="merchant")
def webhook_page(ctx: PageContext) -> Response:
    store = deps.webhook_secrets()
    has_secret = store.read(ctx.ubn) is not None
    if ctx.request.method == "GET":
        return _section(ctx, "settings/webhook.html", section="webhook", has_secret=has_secret)
    if has_secret and ctx.form.get("confirm") != "yes":
        errors = {"confirm": ctx.t("請勾選以確認舊密鑰將立即失效", "Tick this to confirm the old secret stops working")}
        return _section(ctx, "settings/webhook.html", 422, section="webhook", has_secret=has_secret, errors=errors)
    me = ctx.me
    at = deps.clock.now().isoformat()
    secret = store.rotate(ctx.ubn, at)
    deps.audit_log().record(me.owner, "webhook_secret_rotated", me.actor, {})
    return _section(ctx, "settings/webhook_created.html", section="webhook", secret=secret, rotated_at=at)


# --- QR-code AES key ---------------------------------------------------------------------------


@page(bp, "/console/settings/qr-key", ("GET", "POST"), auth="merchant")
def qr_key_page(ctx: PageContext) -> Response:
    """Set or replace the key. The stored key is never shown again, only whether one is set."""
    current = _profile(ctx)
    if ctx.request.method == "GET":
        return _section(ctx, "settings/qr_key.html", section="qr-key", key_set=current.settings.qr_aes_key_set)
    key = ctx.form.get(QR_KEY_FIELD).strip()
    errors: dict[str, str] = {}
    if not key:
        errors = {QR_KEY_FIELD: _required(ctx)}
    elif not _QR_KEY.fullmatch(key):
        errors = {
            QR_KEY_FIELD: ctx.t(
                f"金鑰須為 32 個十六進位字元（0-9、A-F），您輸入了 {len(key)} 個字元",
                f"The key is 32 hexadecimal characters (0-9, A-F); you entered {len(key)}",
            )
        }
    else:
        errors = ctx.attempt(
            lambda: deps.profile_service().update(
                ctx.ubn, ProfileUpdate(settings={"qr_aes_key": key}), actor=ctx.actor
            ),
        )
    if not errors:
        return ctx.redirect("/console/settings/qr-key?done=saved")
    return _section(
        ctx, "settings/qr_key.html", 422, section="qr-key", key_set=current.settings.qr_aes_key_set, errors=errors
    )


# --- issuing defaults --------------------------------------------------------------------------

THRESHOLD_FIELD = "settings.low_stock_threshold"


@page(bp, "/console/settings/issuing", ("GET", "POST"), auth="merchant")
def issuing_page(ctx: PageContext) -> Response:
    """The settings the invoicing service reads: buyer email/SMS and the low-stock warning."""
    current = _profile(ctx).settings
    if ctx.request.method == "GET":
        values = {
            "email_buyer": current.email_buyer,
            "sms_buyer": current.sms_buyer,
            THRESHOLD_FIELD: str(current.low_stock_threshold),
        }
        return _section(ctx, "settings/issuing.html", section="issuing", values=values)
    threshold = ctx.form.get(THRESHOLD_FIELD).strip()
    values = {
        # an unticked checkbox sends nothing: its absence is "no"
        "email_buyer": "settings.email_buyer" in ctx.form,
        "sms_buyer": "settings.sms_buyer" in ctx.form,
        THRESHOLD_FIELD: threshold,
    }
    errors: dict[str, str] = {}
    if not threshold.isdigit():
        errors = {THRESHOLD_FIELD: ctx.t("請輸入 0 以上的整數", "Enter a whole number, 0 or more")}
    else:
        update = {
            "email_buyer": values["email_buyer"],
            "sms_buyer": values["sms_buyer"],
            "low_stock_threshold": int(threshold),
        }
        errors = ctx.attempt(
            lambda: deps.profile_service().update(ctx.ubn, ProfileUpdate(settings=update), actor=ctx.actor),
        )
    if not errors:
        return ctx.redirect("/console/settings/issuing?done=saved")
    return _section(ctx, "settings/issuing.html", 422, section="issuing", values=values, errors=errors)


# --- receiving method (接收方式): how B2B invoices issued to this merchant arrive ------------------------

RECEIVING_FIELD = "settings.receiving_method"


@page(bp, "/console/settings/receiving", ("GET", "POST"), auth="merchant")
def receiving_page(ctx: PageContext) -> Response:
    """Storage (存證, as issued) or exchange (交換: confirm or reject each one in the to-do list)."""
    current = _profile(ctx).settings.receiving_method
    if ctx.request.method == "GET":
        return _section(ctx, "settings/receiving.html", section="receiving", value=current, errors={})
    chosen = ctx.form.get(RECEIVING_FIELD)
    errors = ctx.attempt(
        lambda: deps.profile_service().update(
            ctx.ubn, ProfileUpdate(settings={"receiving_method": chosen}), actor=ctx.actor
        ),
    )
    if not errors:
        return ctx.redirect("/console/settings/receiving?done=saved")
    return _section(ctx, "settings/receiving.html", 422, section="receiving", value=chosen, errors=errors)


# --- notifications: where each kind goes besides the inbox -------------------------------------------


@page(bp, "/console/settings/notifications", ("GET", "POST"), auth="merchant")
def notifications_page(ctx: PageContext) -> Response:
    kinds = {kind: ctx.t(zh, en) for kind, (zh, en) in NOTICE_KINDS.items()}
    if ctx.request.method == "POST":
        # an unticked checkbox sends nothing: its absence is "no"
        chosen = {
            kind: {channel: f"notifications.{kind}.{channel}" in ctx.form for channel in ("email", "sms")}
            for kind in NOTICE_KINDS
        }
        errors = ctx.attempt(
            lambda: deps.profile_service().update(
                ctx.ubn, ProfileUpdate(settings={"notifications": chosen}), actor=ctx.actor
            ),
        )
        if not errors:
            return ctx.redirect("/console/settings/notifications?done=saved")
    current = _settings_of(ctx.ubn)
    channels = {kind: current.channels(kind) for kind in NOTICE_KINDS}
    return _section(ctx, "settings/notifications.html", section="notifications", kinds=kinds, channels=channels)


def _settings_of(ubn: str) -> MerchantSettings:
    profile = deps.merchants().profile(ubn)
    return profile.settings if profile is not None else MerchantSettings()
