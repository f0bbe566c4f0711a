"""The composition root for the HTTP layer: use cases wired to their adapters, per request.

Construction is cheap (boto3 clients are cached in adapters.aws), so each request gets services
built from the current settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Request

from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo import CursorCodec
from chalicelib.adapters.dynamo_accounts import DynamoCredentials, DynamoSessions
from chalicelib.adapters.dynamo_allowances import DynamoAllowances
from chalicelib.adapters.dynamo_audit import DynamoAuditLog
from chalicelib.adapters.dynamo_captchas import DynamoCaptchas
from chalicelib.adapters.dynamo_idempotency import DynamoIdempotency
from chalicelib.adapters.dynamo_invoice_search import DynamoInvoiceSearch
from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_issuing import DynamoIssuingReads
from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_rate_limits import DynamoRateLimits
from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.adapters.dynamo_throttles import DynamoThrottles
from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.adapters.keys import derived_key, trusted_ca_pems
from chalicelib.adapters.notify import SesMailer, SnsSms
from chalicelib.domain.clock import Clock
from chalicelib.services.allowances import AllowanceService
from chalicelib.services.auth import AuthService
from chalicelib.services.captcha import CaptchaService
from chalicelib.services.invoice_lifecycle import InvoiceLifecycleService
from chalicelib.services.invoicing import InvoicingService
from chalicelib.services.issuing_cache import IssuingCache
from chalicelib.services.merchant_profile import MerchantProfileService
from chalicelib.services.numbering import NumberingService
from chalicelib.services.password_reset import PasswordResetService
from chalicelib.services.rate_limiter import RateLimiter
from chalicelib.services.received import ReceivedInvoices
from chalicelib.services.receivers import ReceiverService
from chalicelib.services.registration import RegistrationService
from chalicelib.services.sign_in_guard import SignInGuard
from chalicelib.services.tracks import TrackService

if TYPE_CHECKING:
    from chalicelib.adapters.dynamo_filings import DynamoFilings
    from chalicelib.adapters.dynamo_pending_invoices import DynamoPendingListing
    from chalicelib.adapters.dynamo_webhook_secrets import WebhookSecrets
    from chalicelib.documents.pdf.allowance import AllowanceDocument
    from chalicelib.documents.pdf.model import InvoiceDocument
    from chalicelib.domain.working_days import WorkingCalendar
    from chalicelib.services.announcement_events import AnnouncementEvents
    from chalicelib.services.announcements import AnnouncementService
    from chalicelib.services.api_keys import ApiKeyService
    from chalicelib.services.document_links import DocumentLinks
    from chalicelib.services.events import EventPublisher, EventSubscriber
    from chalicelib.services.exchange import ExchangeService
    from chalicelib.services.exchange_allowances import ExchangeAllowanceService
    from chalicelib.services.filings import FilingService
    from chalicelib.services.invoice_lookup import InvoiceLookupService
    from chalicelib.services.lottery import LotteryService
    from chalicelib.services.mig_intake import MigIntake
    from chalicelib.services.notifications import Notifier
    from chalicelib.services.outbox import OutboxProcessor
    from chalicelib.services.payment_notices import PaymentNoticeService
    from chalicelib.services.pending_invoices import PendingInvoiceService
    from chalicelib.services.period_close import BlankNumberFiling, PeriodJobs
    from chalicelib.services.purchase_lists import PurchaseLists
    from chalicelib.services.reconciliation import Reconciler
    from chalicelib.services.staff_overview import StaffOverview
    from chalicelib.services.tax_registry import TaxRegistryService
    from chalicelib.services.webhooks import WebhookDispatcher, WebhookService

clock = SystemClock()


def audit_log() -> DynamoAuditLog:
    return DynamoAuditLog(clock)


def auth_service() -> AuthService:
    return AuthService(
        credentials=DynamoCredentials(),
        sessions=DynamoSessions(),
        audit=audit_log(),
        clock=clock,
        token_key=derived_key("access-token"),
        guard=sign_in_guard(),
    )


def captcha_service(new_answer: Callable[[], str] | None = None) -> CaptchaService:
    """``new_answer``: the console's picture code draws its answer itself (see web/auth_captcha.py)."""
    extra = {"new_answer": new_answer} if new_answer is not None else {}
    return CaptchaService(
        store=DynamoCaptchas(), throttles=DynamoThrottles(), clock=clock, key=derived_key("captcha"), **extra
    )


def api_key_service() -> ApiKeyService:
    from chalicelib.adapters.dynamo_api_keys import DynamoApiKeys
    from chalicelib.services.api_keys import ApiKeyService

    return ApiKeyService(store=DynamoApiKeys(), audit=audit_log(), clock=clock, pepper=derived_key("api-keys"))


def tax_registry_service() -> TaxRegistryService:
    from chalicelib.services.tax_registry import TaxRegistryService

    return TaxRegistryService(registry=DynamoTaxRegistry(), audit=audit_log(), clock=clock)


def announcement_service() -> AnnouncementService:
    from chalicelib.adapters.dynamo_announcements import DynamoAnnouncements
    from chalicelib.services.announcements import AnnouncementService

    return AnnouncementService(store=DynamoAnnouncements(), clock=clock, cursors=cursor_codec(), audit=audit_log())


def document_links() -> DocumentLinks:
    from chalicelib.adapters.s3_artifacts import S3Artifacts
    from chalicelib.services.document_links import DocumentLinks

    # The renderers import fpdf2 and the fonts on first use only: most downloads find the document.
    def render_proof(document: InvoiceDocument) -> bytes:
        from chalicelib.documents.pdf import render_proof

        return render_proof(document)

    def render_a4(document: InvoiceDocument) -> bytes:
        from chalicelib.documents.pdf import render_a4

        return render_a4(document)

    def render_allowance(document: AllowanceDocument) -> bytes:
        from chalicelib.documents.pdf.allowance import render_allowance

        return render_allowance(document)

    return DocumentLinks(S3Artifacts(), render_proof, render_a4, render_allowance)


def outbox_processor() -> OutboxProcessor:
    """The outbox functions' services. The PDF renderers import fpdf2 and fonts on first use, and
    the processor the MIG and PDF models: importing them here keeps them off the API function's
    cold start (every function imports app.py and so this module)."""
    from chalicelib.adapters.delivery import SesRawMail, SnsText
    from chalicelib.adapters.dynamo_outbox import DynamoOutbox
    from chalicelib.adapters.s3_artifacts import S3Artifacts
    from chalicelib.documents.pdf import render_a4, render_proof
    from chalicelib.documents.pdf.allowance import render_allowance
    from chalicelib.services.low_stock import LowStockNotices
    from chalicelib.services.outbox import OutboxProcessor
    from chalicelib.settings import get_settings

    store = DynamoInvoices()
    system_clock = SystemClock()
    return OutboxProcessor(
        outbox=DynamoOutbox(store),
        invoices=store,
        merchants=DynamoMerchants(),
        artifacts=S3Artifacts(),
        mailer=SesRawMail(),
        texter=SnsText(),
        render_proof=render_proof,
        render_a4=render_a4,
        clock=system_clock,
        mail_from=get_settings().mail_from,
        public_url=get_settings().public_url,
        allowances=DynamoAllowances(),
        render_allowance=render_allowance,
        low_stock_notices=LowStockNotices(counters=DynamoTracks(), audit=DynamoAuditLog(system_clock)),
        events=event_publisher(),
    )


def sign_in_guard() -> SignInGuard:
    return SignInGuard(throttles=DynamoThrottles(), captchas=captcha_service(), clock=clock)


def request_source(request: Request) -> dict[str, Any]:
    """Where a request came from: for the audit trail, and the client IP sign-in throttling counts by
    (API Gateway's ``sourceIp``, the peer it saw; a client cannot set it with a header)."""
    identity = (request.context or {}).get("identity") or {}
    return {
        "ip": str(identity.get("sourceIp") or ""),
        "user_agent": str(request.headers.get("user-agent") or "")[:200],
    }


def merchants() -> DynamoMerchants:
    return DynamoMerchants(on_profile_change=_ISSUING_CACHE.forget)


def receiver_service() -> ReceiverService:
    return ReceiverService(
        merchants=merchants(),
        mailer=SesMailer(),
        sms=SnsSms(),
        audit=audit_log(),
        clock=clock,
        code_key=derived_key("one-time-codes"),
    )


def registration_service() -> RegistrationService:
    return RegistrationService(
        auth=auth_service(),
        merchants=merchants(),
        registry=DynamoTaxRegistry(),
        receivers=receiver_service(),
        audit=audit_log(),
        clock=clock,
        trusted_cas=trusted_ca_pems,
    )


def password_reset_service() -> PasswordResetService:
    return PasswordResetService(
        auth=auth_service(),
        merchants=merchants(),
        credentials=DynamoCredentials(),
        mailer=SesMailer(),
        audit=audit_log(),
        clock=clock,
        code_key=derived_key("one-time-codes"),
        throttles=DynamoThrottles(),
    )


def profile_service() -> MerchantProfileService:
    return MerchantProfileService(merchants=merchants(), audit=audit_log())


def track_service() -> TrackService:
    return TrackService(tracks=DynamoTracks(), registry=DynamoTaxRegistry(), audit=audit_log(), clock=clock)


def numbering_service() -> NumberingService:
    # No mailer here: the low-stock notice is an outbox item, sent by the outbox worker.
    return NumberingService(tracks=DynamoTracks(), clock=clock)


def invoice_lookup_service() -> InvoiceLookupService:
    """The buyer's public look-up: invoices found by number alone, proof links signed with a key of their own."""
    from chalicelib.adapters.dynamo_invoice_lookup import DynamoInvoiceLookup
    from chalicelib.services.invoice_lookup import InvoiceLookupService

    return InvoiceLookupService(
        finder=DynamoInvoiceLookup(), links=document_links(), clock=clock, key=derived_key("invoice-proof-links")
    )


def invoices() -> DynamoInvoices:
    return DynamoInvoices()


def allowances() -> DynamoAllowances:
    return DynamoAllowances()


def pending_listing() -> DynamoPendingListing:
    from chalicelib.adapters.dynamo_pending_invoices import DynamoPendingListing

    return DynamoPendingListing()


def invoice_search() -> DynamoInvoiceSearch:
    return DynamoInvoiceSearch()


def cursor_codec() -> CursorCodec:
    return CursorCodec(derived_key("cursors"))


def received_invoices() -> ReceivedInvoices:
    return ReceivedInvoices(invoices=invoices(), search=invoice_search(), cursors=cursor_codec())


def purchase_lists() -> PurchaseLists:
    from chalicelib.services.purchase_lists import PurchaseLists

    return PurchaseLists(search=invoice_search(), allowances=allowances())


# One per container: what issuing remembers between requests (services/issuing_cache.py).
_ISSUING_CACHE = IssuingCache()


def invoicing_service(numbering: NumberingService | None = None, *, moment: Clock | None = None) -> InvoicingService:
    """``moment``: issue as of another time (the demo seed's past period; it reads everything)."""
    return InvoicingService(
        invoices=invoices(),
        reads=DynamoIssuingReads(),
        ledger=DynamoLedger(),
        numbering=numbering
        or (NumberingService(tracks=DynamoTracks(), clock=moment) if moment else numbering_service()),
        clock=moment or clock,
        cache=None if moment else _ISSUING_CACHE,
        merchants=merchants(),
    )


def exchange_service() -> ExchangeService:
    """B2B exchange (交換): the to-do list and the answers, for the API, the console and MIG in."""
    from chalicelib.adapters.dynamo_exchange import DynamoExchangeTasks
    from chalicelib.services.exchange import ExchangeService

    return ExchangeService(
        invoices=invoices(),
        tasks=DynamoExchangeTasks(),
        ledger=DynamoLedger(),
        filed=filings(),
        clock=rules_clock(),
        calendar=working_calendar(),
    )


def rules_clock() -> Clock:
    """The clock the filing deadline and the 48-hour void window are judged by: a seam of its own,
    so a test can move it without moving the clock that signs tokens."""
    return clock


def working_calendar() -> WorkingCalendar:
    """Taiwan's office calendar (holidays, make-up working days) with the days staff override: the
    calendar every deadline is moved by. Read per request: an override applies at once."""
    from chalicelib.adapters.dynamo_calendar import DynamoCalendarOverrides
    from chalicelib.adapters.taiwan_calendar import TaiwanCalendar

    return TaiwanCalendar(DynamoCalendarOverrides().days())


def lifecycle_service() -> InvoiceLifecycleService:
    return InvoiceLifecycleService(
        invoices=invoices(),
        merchants=merchants(),
        ledger=DynamoLedger(),
        filed=filings(),
        clock=rules_clock(),
        calendar=working_calendar(),
    )


def exchange_allowance_service() -> ExchangeAllowanceService:
    """Allowances by B2B exchange (交換折讓, B0101…B0202), for the API, the console and MIG in."""
    from chalicelib.services.exchange_allowances import ExchangeAllowanceService

    return ExchangeAllowanceService(
        invoices=invoices(),
        allowances=DynamoAllowances(),
        ledger=DynamoLedger(),
        filed=filings(),
        clock=rules_clock(),
        calendar=working_calendar(),
    )


def allowance_service(*, moment: Clock | None = None) -> AllowanceService:
    return AllowanceService(
        invoices=invoices(),
        allowances=DynamoAllowances(),
        merchants=merchants(),
        ledger=DynamoLedger(),
        idempotency=DynamoIdempotency(),
        filed=filings(),
        clock=moment or clock,
        calendar=working_calendar(),
    )


def lottery_service() -> LotteryService:
    from chalicelib.adapters.dynamo_lottery import DynamoWinners
    from chalicelib.adapters.dynamo_period_ranges import DynamoPeriodRanges
    from chalicelib.services.lottery import LotteryService

    return LotteryService(
        store=DynamoWinners(),
        ranges=DynamoPeriodRanges(),
        ledger=DynamoLedger(),
        clock=clock,
    )


def mig_intake() -> MigIntake:
    from chalicelib.adapters.dynamo_pending_voids import ALLOWANCE_VOIDS, DynamoPendingVoids
    from chalicelib.services.mig_intake import MigIntake, Wiring

    wiring = Wiring(
        invoices=invoices(),
        invoicing=invoicing_service(),
        tracks=DynamoTracks(),
        pending_voids=DynamoPendingVoids(),
        clock=clock,
        pending_allowance_voids=DynamoPendingVoids(ALLOWANCE_VOIDS),
    )
    return MigIntake(wiring)


def pending_invoice_service() -> PendingInvoiceService:
    from chalicelib.adapters.dynamo_pending_invoices import DynamoPendingInvoices
    from chalicelib.services.pending_invoices import PendingInvoiceService

    return PendingInvoiceService(
        store=DynamoPendingInvoices(),
        invoicing=invoicing_service(),
        merchants=merchants(),
        reads=DynamoIssuingReads(),
        clock=clock,
    )


def webhook_secrets() -> WebhookSecrets:
    from chalicelib.adapters.dynamo_webhook_secrets import WebhookSecrets

    return WebhookSecrets(derived_key("webhook-secrets"))


def payment_notice_service() -> PaymentNoticeService:
    from chalicelib.services.payment_notices import PaymentNoticeService

    return PaymentNoticeService(
        secrets_store=webhook_secrets(),
        merchants=merchants(),
        pending=pending_invoice_service(),
        replays=DynamoIdempotency(),
        clock=clock,
    )


# --- tax filing (imported on first use: most requests never file a return) --------------------------


def filings() -> DynamoFilings:
    from chalicelib.adapters.dynamo_filings import DynamoFilings

    return DynamoFilings()


def filing_service() -> FilingService:
    from chalicelib.adapters.merchant_start import first_period
    from chalicelib.adapters.s3_filings import S3FilingDocuments
    from chalicelib.services.filings import FilingService

    return FilingService(
        filings=filings(),
        documents=S3FilingDocuments(),
        clock=rules_clock(),
        audit=audit_log(),
        first_period=first_period,
        calendar=working_calendar(),
    )


def reconciler() -> Reconciler:
    from chalicelib.adapters.dynamo_period_records import DynamoPeriodRecords
    from chalicelib.services.reconciliation import Reconciler

    return Reconciler(filings=filings(), records=DynamoPeriodRecords(), clock=rules_clock())


def blank_number_filing() -> BlankNumberFiling:
    from chalicelib.adapters.s3_filings import S3FilingDocuments
    from chalicelib.services.period_close import BlankNumberFiling

    return BlankNumberFiling(
        tracks=track_service(),
        filings=filings(),
        documents=S3FilingDocuments(),
        clock=rules_clock(),
        audit=audit_log(),
        calendar=working_calendar(),
    )


def period_jobs() -> PeriodJobs:
    from chalicelib.adapters.dynamo_directory import DynamoMerchantDirectory
    from chalicelib.adapters.merchant_start import first_period
    from chalicelib.services.period_close import PeriodJobs

    return PeriodJobs(
        filings=filings(),
        filing_service=filing_service(),
        reconciler=reconciler(),
        directory=DynamoMerchantDirectory(),
        blank_numbers=blank_number_filing(),
        mailer=SesMailer(),
        clock=rules_clock(),
        calendar=working_calendar(),
        first_period=first_period,
        events=event_publisher(),
        notices=notices(),
    )


def staff_overview() -> StaffOverview:
    """What the tax office's screens read across merchants (with the period-job machinery it names)."""
    from chalicelib.adapters.dynamo_period_ranges import DynamoPeriodRanges
    from chalicelib.services.staff_overview import StaffOverview

    return StaffOverview(
        period_ranges=DynamoPeriodRanges(),
        merchant_ranges=DynamoTracks(),
        profiles=merchants(),
        credentials=DynamoCredentials(),
        jobs=filings(),
        clock=rules_clock(),
    )


def time_budget(seconds: float) -> Callable[[], bool]:
    """A check that turns true ``seconds`` from now (long jobs stop and leave the rest for a later run)."""
    import time

    until = time.monotonic() + seconds
    return lambda: time.monotonic() >= until


# --- events: webhooks and the merchant's inbox -------------------------------------------------------


def event_subscribers() -> list[EventSubscriber]:
    """Everyone who hears about every event (each idempotent per event id): the outgoing webhooks and
    the merchant's notification inbox."""
    from chalicelib.adapters.dynamo_webhooks import DynamoWebhooks
    from chalicelib.services.notifications import NoticeSubscriber
    from chalicelib.services.webhooks import WebhookSubscriber

    return [WebhookSubscriber(store=DynamoWebhooks(), clock=clock), NoticeSubscriber(notices())]


def notices() -> Notifier:
    """The merchant's notification inbox, with mail and SMS per the merchant's settings."""
    from chalicelib.adapters.dynamo_notifications import DynamoNotifications
    from chalicelib.services.notifications import Notifier

    return Notifier(
        store=DynamoNotifications(),
        profiles=merchants(),
        mailer=SesMailer(),
        sms=SnsSms(),
        clock=clock,
        cursors=cursor_codec(),
    )


def event_publisher() -> EventPublisher:
    from chalicelib.adapters.dynamo_events import DynamoEvents
    from chalicelib.services.events import EventPublisher

    return EventPublisher(store=DynamoEvents(), subscribers=event_subscribers())


def announcement_events() -> AnnouncementEvents:
    from chalicelib.adapters.dynamo_announcements import DynamoAnnouncementFanOut, DynamoAnnouncements
    from chalicelib.adapters.dynamo_directory import merchant_page
    from chalicelib.services.announcement_events import AnnouncementEvents

    return AnnouncementEvents(
        announcements=DynamoAnnouncements(),
        state=DynamoAnnouncementFanOut(),
        merchant_pages=merchant_page,
        events=event_publisher(),
        clock=clock,
    )


def endpoint_secret(ubn: str, endpoint_id: str, generation: int) -> str:
    """An outgoing webhook endpoint's signing secret: derived, never stored, so a leaked table holds
    no secret and rotating is moving the generation on."""
    import base64
    import hashlib
    import hmac

    mac = hmac.new(derived_key("outgoing-webhooks"), f"{ubn}#{endpoint_id}#{generation}".encode(), hashlib.sha256)
    return "whsec_" + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def webhook_service() -> WebhookService:
    from chalicelib.adapters.dynamo_events import DynamoEvents
    from chalicelib.adapters.dynamo_webhooks import DynamoWebhooks
    from chalicelib.services.webhooks import WebhookService
    from chalicelib.settings import get_settings

    return WebhookService(
        store=DynamoWebhooks(),
        events=DynamoEvents(),
        clock=clock,
        secret_for=endpoint_secret,
        cursors=cursor_codec(),
        local_stage=get_settings().is_local,
    )


def webhook_dispatcher() -> WebhookDispatcher:
    from chalicelib.adapters.dynamo_events import DynamoEvents
    from chalicelib.adapters.dynamo_webhooks import DynamoWebhooks
    from chalicelib.adapters.http_webhooks import HttpWebhookSender
    from chalicelib.services.webhooks import WebhookDispatcher
    from chalicelib.settings import get_settings

    settings = get_settings()
    return WebhookDispatcher(
        store=DynamoWebhooks(),
        events=DynamoEvents(),
        sender=HttpWebhookSender(timeout_s=settings.webhook_timeout_s, allow_private=settings.is_local),
        clock=clock,
        secret_for=endpoint_secret,
        notices=notices(),
    )


_rate_limiter: RateLimiter | None = None


def rate_limiter() -> RateLimiter:
    """One per container: its leases of requests (services/rate_limiter.py) live in its memory."""
    global _rate_limiter  # noqa: PLW0603 - the container's one limiter, built on first use
    if _rate_limiter is None:
        _rate_limiter = RateLimiter(store=DynamoRateLimits(), clock=clock)
    return _rate_limiter
