"""What every kind of outbox item shares: the parts the processor is built from (its ports), and
one pass over one item (``Run``) with the moves every step makes the same way: mark a step done or
skipped only from the state it was read in, and send a message at most once behind a lease.

The kinds (services/outbox_invoice.py, outbox_allowance.py, outbox_notices.py) differ only in what
their steps do, which events the item stands for and what is shown on their subject afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.artifacts import ArtifactKind
from chalicelib.domain.clock import Clock
from chalicelib.domain.delivery import NotSent
from chalicelib.domain.events import Event
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.merchant import MerchantProfile, MerchantSettings
from chalicelib.domain.outbox_item import DONE, FINISHED, LEASE_PREFIX, PENDING, SKIPPED
from chalicelib.observability import logger
from chalicelib.services.events import EventPublisher
from chalicelib.services.low_stock import LowStockNotices

if TYPE_CHECKING:
    from chalicelib.documents.pdf.allowance import AllowanceDocument
    from chalicelib.documents.pdf.model import InvoiceDocument

#: How long a claimed send is left alone. Far longer than a send takes (one attempt, 20 s read
#: timeout), short enough that a crashed worker's message still goes out within minutes.
LEASE = timedelta(minutes=5)
#: Renders after a store that the state they were rendered from still holds (see the PDF steps).
MAX_RENDERS = 3


# --- ports ------------------------------------------------------------------------------------------


class OutboxStore(Protocol):
    def get(self, ubn: str, number: str, event: str) -> dict[str, Any] | None: ...
    def pending(self, limit: int = 100) -> list[dict[str, Any]]: ...
    def move(
        self,
        ubn: str,
        number: str,
        event: str,
        step: str,
        *,
        expect: str,
        to: str,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None: ...
    def claim(self, ubn: str, number: str, event: str, step: str, *, lease: str, expired_before: str) -> bool: ...
    def failed(self, ubn: str, number: str, event: str, *, error: str, at: str) -> None: ...
    def finish(self, ubn: str, number: str, event: str, steps: list[str], *, at: str) -> bool: ...


class InvoiceStore(Protocol):
    def get(self, ubn: str, number: str) -> InvoiceRecord | None: ...
    def set_fields(self, ubn: str, number: str, fields: dict[str, Any]) -> None: ...
    def merge_fields(
        self, ubn: str, number: str, maps: Mapping[str, Mapping[str, Any]], fields: Mapping[str, Any] | None = None
    ) -> None: ...


class AllowanceStore(Protocol):
    def get(self, ubn: str, number: str) -> dict[str, Any] | None: ...
    def set_fields(self, ubn: str, number: str, fields: Mapping[str, Any]) -> None: ...
    def merge_fields(
        self, ubn: str, number: str, maps: Mapping[str, Mapping[str, Any]], fields: Mapping[str, Any] | None = None
    ) -> None: ...


class MerchantStore(Protocol):
    def get_profile(self, ubn: str) -> dict[str, Any] | None: ...


class ArtifactStore(Protocol):
    def put(self, ubn: str, period: str, number: str, kind: ArtifactKind, body: bytes) -> str: ...
    def get(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bytes: ...
    def find(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bytes | None: ...


class RawMailer(Protocol):
    def send(self, to: str, raw_message: bytes) -> str: ...


class TextSender(Protocol):
    def send(self, phone_number: str, message: str) -> str: ...


Renderer = Callable[["InvoiceDocument"], bytes]
AllowanceRenderer = Callable[["AllowanceDocument"], bytes]


@dataclass
class OutboxParts:
    """What the processor is built from (the composition root wires it)."""

    outbox: OutboxStore
    invoices: InvoiceStore
    merchants: MerchantStore
    artifacts: ArtifactStore
    mailer: RawMailer
    texter: TextSender
    render_proof: Renderer
    render_a4: Renderer
    clock: Clock
    mail_from: str
    # Optional so processors built for invoices only (tests, tools) need not wire them; an allowance
    # item then fails (and stays pending) instead of being skipped.
    allowances: AllowanceStore | None = None
    render_allowance: AllowanceRenderer | None = None
    low_stock_notices: LowStockNotices | None = None
    # Optional for the same reason; without it no events are published (tools, older tests).
    events: EventPublisher | None = None
    # Where the platform is served: the buyer's mail links to its public look-up page there
    # (empty: no link, e.g. tools without a public address).
    public_url: str = ""


def stamp(moment: datetime) -> str:
    """UTC, whole seconds, fixed width: stamps compare correctly as strings (the lease relies on it)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Run:
    """One pass over one outbox item: its latest state, and what its kind's steps need."""

    def __init__(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> None:
        self.parts = parts
        self.ubn = ubn
        self.number = number  # the subject: an invoice or allowance number
        self.event = event
        self.item = item
        self._profile: dict[str, Any] | None = None

    # --- what a kind defines ------------------------------------------------------------------------

    def events(self) -> list[Event]:
        """The events this item stands for, published before any step."""
        raise NotImplementedError

    def do(self, step: str) -> bool:
        """Do one step; False when another worker holds its lease."""
        raise NotImplementedError

    def publish(self) -> None:
        """Show on the subject what the item holds now (after every move of a step)."""

    def complete(self) -> None:
        """After every step is finished, before the item is."""
        self.publish()

    # --- shared moves -------------------------------------------------------------------------------

    def state(self, step: str) -> str:
        return str(self.item["steps"][step])

    def profile(self) -> dict[str, Any]:
        if self._profile is None:
            self._profile = self.parts.merchants.get_profile(self.ubn) or {}
        return self._profile

    def settings(self) -> MerchantSettings:
        return MerchantProfile.of({"ubn": self.ubn, **self.profile()}).settings

    def now(self) -> datetime:
        return self.parts.clock.now()

    def advance(self, step: str, *, expect: str, to: str, result: dict[str, Any]) -> None:
        updated = self.parts.outbox.move(self.ubn, self.number, self.event, step, expect=expect, to=to, result=result)
        if updated is None:
            # Someone else moved the step (a concurrent worker finished it, or took over an expired
            # lease). Their result stands; ours (same S3 key, or a message already sent) is logged.
            logger.warning(
                "outbox step changed under us",
                extra={"ubn": self.ubn, "invoice_number": self.number, "step": step, "result": result},
            )
            updated = self.parts.outbox.get(self.ubn, self.number, self.event) or self.item
        self.item = updated
        self.publish()

    def done(self, step: str, result: dict[str, Any]) -> None:
        self.advance(step, expect=self.state(step), to=DONE, result=result)

    def skip(self, step: str, reason: str) -> None:
        result = {"status": SKIPPED, "reason": reason, "at": stamp(self.now())}
        self.advance(step, expect=self.state(step), to=SKIPPED, result=result)

    def send_once(self, step: str, to: str, send: Callable[[], str]) -> bool:
        """Claim the step's lease, send, mark done: the "never twice" part (services/outbox.py)."""
        outbox = self.parts.outbox
        now = self.now()
        lease = LEASE_PREFIX + stamp(now + LEASE)
        if not outbox.claim(
            self.ubn, self.number, self.event, step, lease=lease, expired_before=LEASE_PREFIX + stamp(now)
        ):
            self.item = outbox.get(self.ubn, self.number, self.event) or self.item
            return self.state(step) in FINISHED
        try:
            message_id = send()
        except NotSent:
            # Nothing went out: hand the lease back so the next attempt need not wait for it.
            outbox.move(self.ubn, self.number, self.event, step, expect=lease, to=PENDING)
            raise
        # Any other failure may have sent the message (a timeout after the provider took it): keep the
        # lease, so a retry waits for it to expire instead of sending again at once.
        result = {"status": "sent", "to": to, "message_id": message_id, "at": stamp(self.now())}
        self.advance(step, expect=lease, to=DONE, result=result)
        return True

    def send_mail(self, step: str, to: str, raw: bytes) -> bool:
        return self.send_once(step, to, lambda: self.parts.mailer.send(to, raw))


class RunKind(Protocol):
    """A kind of outbox item: which events it serves, and how a pass over one starts."""

    def handles(self, event: str) -> bool: ...

    def order(self, event: str) -> tuple[str, ...]: ...

    def start(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> Run: ...
