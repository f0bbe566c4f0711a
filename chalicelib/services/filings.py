"""The business-tax return (報稅) of a period: computed from running totals, filed in versions, paid.

A return reads five items (the period's 07 and 08 sales totals, its purchases, its head and the
previous period's head) in one round trip, whatever the number of invoices. Filing stores a
version with who, when, why, the figures and two documents (PDF and JSON) in S3; a correction
is a new version with its reason. Payments are recorded against the period.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field, field_validator

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.events import FILING_SUBMITTED
from chalicelib.domain.filing import (
    OtherPurchases,
    PurchaseTotals,
    SalesTotals,
    Statement,
    TaxReturn,
    compute_return,
)
from chalicelib.domain.filing_status import (
    ensure_period_ended,
    ensure_period_started,
    filing_status,
    payment_reference,
    payment_status,
)
from chalicelib.domain.owners import merchant_owner
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar, blank_number_deadline, filing_deadline
from chalicelib.services.filing_documents import counts_of, machine_readable, render_pdf
from chalicelib.services.filing_views import (
    LINES,
    FilingSummaryView,
    FilingView,
    PaymentSummary,
    PaymentView,
    ReconciliationView,
    ReturnLine,
    StatementView,
    VersionView,
)
from chalicelib.services.ports import AuditLog, FilingStore

#: Counts that change whenever a period's sales change after it ended (a cancellation, a purchase
#: invoice's cancellation): a submission holds only if they are what its figures were read with.
GUARDED_COUNTS = ("invoice_count", "cancelled_count", "allowance_count")
MAX_VERSIONS = 99
LIST_PERIODS = 12


class FilingDocuments(Protocol):
    def put(self, ubn: str, period: str, folder: str, name: str, body: bytes) -> str: ...

    def exists(self, ubn: str, period: str, folder: str, name: str) -> bool: ...

    def presign(self, ubn: str, period: str, folder: str, name: str, *, seconds: int = ...) -> str: ...


# --- requests ------------------------------------------------------------------------------------


class AmountPair(BaseModel):
    model_config = {"extra": "forbid"}

    amount: int = Field(ge=0, le=10**12, description="Tax-exclusive purchases, NT$")
    tax: int = Field(ge=0, le=10**11, description="Their input tax, NT$")


class SubmitRequest(BaseModel):
    model_config = {"extra": "forbid"}

    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Required for a correction (更正申報): why the filed return changes",
    )
    previous_credit: int | None = Field(
        default=None,
        ge=0,
        le=10**11,
        description="Code 108, the credit the last return carried forward; default: the platform's last filed return",
    )
    other_purchases: AmountPair | None = Field(
        default=None, description="Deductible purchases not on the platform (code 28/29: paper or other invoices)"
    )

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value else value


class PaymentRequest(BaseModel):
    model_config = {"extra": "forbid"}

    amount: int = Field(gt=0, le=10**11, description="NT$ paid")
    paid_on: date = Field(description="Date of payment (Taiwan)")
    reference: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[0-9A-Za-z-]+$",
        description="Payment slip (繳款書) or transfer reference",
    )


def _period_not_found() -> NotFound:
    return NotFound("FILING_NOT_FOUND", "No such filed version of this period", "查無此期申報版本", "version")


class FilingService:
    def __init__(
        self,
        *,
        filings: FilingStore,
        documents: FilingDocuments,
        clock: Clock,
        audit: AuditLog,
        first_period: Callable[[str], Period | None] | None = None,
        calendar: WorkingCalendar = WEEKDAYS,
    ) -> None:
        self._filings = filings
        self._documents = documents
        # Wakes the outbox worker for the filing.submitted event item (the sweeper catches up without).
        self._clock = clock
        self._audit = audit
        # The merchant's first period here (merchant_start.first_period): earlier ones are not due.
        self._first_period = first_period or (lambda ubn: None)
        # Deadlines on a day off move to the next working day (domain.working_days).
        self._calendar = calendar

    # --- reading -----------------------------------------------------------------------------------

    def get(self, ubn: str, code: str) -> FilingView:
        period = Period.parse(code)
        today = self._today()
        ensure_period_started(period, today)
        inputs = self._filings.inputs(ubn, period.code, period.previous().code)
        head = inputs["head"] or {}
        live = self._compute(inputs, previous_credit=None, other=None)
        versions = self._versions(ubn, period) if head.get("current_version") else []
        current = versions[-1] if versions else None
        stored: dict[str, Any] | None = None
        if current is not None:
            stored = self._filings.version(ubn, period.code, current.version)
        figures = _return_of(stored) if stored else live
        changed = stored is not None and _sales_fields(figures.fields) != _sales_fields(
            self._compute(inputs, previous_credit=figures.fields["108"], other=_other_of(stored)).fields
        )
        paid = int(head.get("paid_total") or 0)
        status = filing_status(
            period,
            today,
            filed=current is not None,
            payable=figures.payable,
            paid=paid,
            first_period=self._first_period(ubn),
            calendar=self._calendar,
        )
        return FilingView(
            period=period.code,
            label_zh=period.label_zh,
            form=figures.form,
            complete=figures.complete,
            status=status,
            source="filed" if stored else "live",
            due_by=filing_deadline(period, self._calendar),
            blank_numbers_due_by=blank_number_deadline(period, self._calendar),
            fields=figures.fields,
            lines=[ReturnLine(code=c, label=en, label_zh=zh, value=figures.fields[c]) for c, en, zh in LINES],
            counts=counts_of(inputs),
            payable=figures.payable,
            refund=figures.refund,
            credit_carried_forward=figures.credit_carried_forward,
            statements=[
                StatementView(code=s.code, message=s.message, message_zh=s.message_zh) for s in figures.statements
            ],
            changed_since_filing=changed,
            filing=current,
            versions=versions,
            payment=self._payment(ubn, period, figures.payable, head),
            blank_numbers_filed_at=head.get("blank_numbers_filed_at"),
            reconciliation=ReconciliationView.model_validate(head["reconciliation"])
            if head.get("reconciliation")
            else None,
        )

    def periods(self, ubn: str, before: str | None = None, count: int = LIST_PERIODS) -> list[FilingSummaryView]:
        """The latest ``count`` periods up to ``before`` (default: the current one), newest first."""
        today = self._today()
        latest = Period.from_date(today)
        high = Period.parse(before, "before") if before else latest
        high = min(high, latest)
        periods = [high]
        while len(periods) < count and periods[-1].roc_year > 1:
            periods.append(periods[-1].previous())
        heads = self._filings.heads(ubn, periods[-1].code, periods[0].code)
        first = self._first_period(ubn)
        views = []
        for period in periods:
            head = heads.get(period.code) or {}
            version = int(head["current_version"]) if head.get("current_version") else None
            payable = int(head["payable"]) if version is not None and head.get("payable") is not None else None
            paid = int(head.get("paid_total") or 0)
            views.append(
                FilingSummaryView(
                    period=period.code,
                    label_zh=period.label_zh,
                    status=filing_status(
                        period,
                        today,
                        filed=version is not None,
                        payable=payable or 0,
                        paid=paid,
                        first_period=first,
                        calendar=self._calendar,
                    ),
                    due_by=filing_deadline(period, self._calendar),
                    version=version,
                    payable=payable,
                    paid=paid,
                    payment_status=payment_status(payable or 0, paid).value,
                )
            )
        return views

    def document_link(self, ubn: str, code: str, version: int, kind: str) -> str:
        period = Period.parse(code)
        item = self._filings.version(ubn, period.code, version)
        if item is None:
            raise _period_not_found()
        folder, name = f"v{version:03d}", f"return.{kind}"
        if not self._documents.exists(ubn, period.code, folder, name):
            # The bucket lost it (a local stack restarted, a bucket restored): the version's record
            # holds what the document was made from, so it is made again rather than linked to nothing.
            self._documents.put(ubn, period.code, folder, name, self._rebuilt(ubn, period, item, kind))
        return self._documents.presign(ubn, period.code, folder, name)

    def _rebuilt(self, ubn: str, period: Period, item: Mapping[str, Any], kind: str) -> bytes:
        """A filed version's return.json or return.pdf again, from its DynamoDB record."""
        figures = TaxReturn(
            form=str(item["form"]),
            fields={code: int(value) for code, value in item["fields"].items()},
            statements=tuple(Statement(**statement) for statement in item.get("statements") or ()),
        )
        # Versions filed before the record kept its counts, due date and name: counts as the
        # period's totals are now (a filed period's totals only change through a correction), the
        # due date from today's calendar, and the PDF without the merchant's name.
        counts = item.get("counts")
        if counts is None:
            counts = counts_of(self._filings.inputs(ubn, period.code, period.previous().code))
        due_by = date.fromisoformat(str(item["due_by"])) if item.get("due_by") else None
        document = machine_readable(
            ubn,
            period,
            int(item["version"]),
            figures,
            datetime.fromisoformat(str(item["filed_at"])),
            str(item["filed_by"]),
            item.get("reason"),
            {key: int(value) for key, value in counts.items()},
            due_by=due_by or filing_deadline(period, self._calendar),
        )
        if kind == "json":
            return json.dumps(document, ensure_ascii=False, indent=2).encode()
        return render_pdf(document, str(item.get("merchant_name") or ""))

    # --- filing ------------------------------------------------------------------------------------

    def submit(
        self,
        ubn: str,
        code: str,
        request: SubmitRequest,
        *,
        actor: str,
        merchant_name: str = "",
        idempotency_key: str | None = None,
    ) -> FilingView:
        """File the return; the same ``idempotency_key`` again answers with the version it filed."""
        period = Period.parse(code)
        now = self._clock.now()
        today = now.astimezone(TAIWAN_TZ).date()
        ensure_period_ended(period, today, calendar=self._calendar)
        inputs = self._filings.inputs(ubn, period.code, period.previous().code)
        head = inputs["head"] or {}
        previous_version = int(head["current_version"]) if head.get("current_version") else None
        if previous_version is not None and idempotency_key:
            current = self._filings.version(ubn, period.code, previous_version) or {}
            if current.get("idempotency_key") == idempotency_key:
                return self.get(ubn, period.code)  # a retry of the submission that made this version
        if previous_version is not None and not request.reason:
            raise Conflict(
                "ALREADY_FILED",
                f"Period {period.code} was filed (version {previous_version}); a correction (更正申報) needs a reason.",
                f"{period.label_zh} 已申報（第 {previous_version} 版）；更正申報須填寫原因（reason）。",
                "reason",
            )
        if previous_version is None and request.reason:
            raise InvalidInput(
                "REASON_ONLY_FOR_CORRECTION",
                "A reason is given only with a correction of a filed return.",
                "僅更正申報需填寫原因。",
                "reason",
            )
        if previous_version is not None and previous_version >= MAX_VERSIONS:
            raise RuleViolation(
                "TOO_MANY_VERSIONS", "A period keeps at most 99 versions.", "每期最多 99 個版本。", "period"
            )
        _ensure_reconciled(head)
        other = (
            OtherPurchases(request.other_purchases.amount, request.other_purchases.tax)
            if request.other_purchases
            else None
        )
        figures = self._compute(inputs, previous_credit=request.previous_credit, other=other)
        version = (previous_version or 0) + 1
        due_by = filing_deadline(period, self._calendar)
        late = today > due_by
        document = machine_readable(
            ubn, period, version, figures, now, actor, request.reason, counts_of(inputs), due_by=due_by
        )
        folder = f"v{version:03d}"
        # Documents first: a version is never recorded without them (a failed write leaves only an
        # unreferenced object, which the next attempt overwrites).
        json_key = self._documents.put(
            ubn, period.code, folder, "return.json", json.dumps(document, ensure_ascii=False, indent=2).encode()
        )
        pdf_key = self._documents.put(ubn, period.code, folder, "return.pdf", render_pdf(document, merchant_name))
        item = {
            "version": version,
            "filed_at": now.isoformat(),
            "filed_by": actor,
            "reason": request.reason,
            "late": late,
            "form": figures.form,
            "fields": figures.fields,
            "statements": [s.__dict__ for s in figures.statements],
            "other_purchases": request.other_purchases.model_dump() if request.other_purchases else None,
            "documents": {"json": json_key, "pdf": pdf_key},
            "idempotency_key": idempotency_key,
            # What the documents were made from beyond the figures, so a lost one is made again alike.
            "counts": document["counts"],
            "due_by": due_by.isoformat(),
            "merchant_name": merchant_name or None,
        }
        self._filings.submit(
            ubn,
            period.code,
            {k: v for k, v in item.items() if v is not None},
            {
                "payable": figures.payable,
                "credit_carried_forward": figures.credit_carried_forward,
                "filed_at": now.isoformat(),
            },
            previous_version=previous_version,
            seen=inputs["totals"],
            guarded_counts=GUARDED_COUNTS,
            event=(
                FILING_SUBMITTED,
                {
                    "period": period.code,
                    "version": version,
                    "form": figures.form,
                    "payable": figures.payable,
                    "refund": figures.refund,
                    "credit_carried_forward": figures.credit_carried_forward,
                    "late": late,
                    "correction": version > 1,
                    "filed_at": now.isoformat(),
                    "filed_by": actor,
                    "links": {"self": f"/v1/filings/{period.code}"},
                },
            ),
        )
        self._audit.record(
            merchant_owner(ubn),
            "return_filed" if version == 1 else "return_corrected",
            actor,
            {"period": period.code, "version": version, "payable": figures.payable, "reason": request.reason},
        )
        return self.get(ubn, period.code)

    def pay(self, ubn: str, code: str, request: PaymentRequest, *, actor: str) -> FilingView:
        period = Period.parse(code)
        now = self._clock.now()
        if request.paid_on > now.astimezone(TAIWAN_TZ).date():
            raise InvalidInput(
                "FUTURE_DATE", "The payment date cannot be in the future.", "繳款日期不可晚於今日。", "paid_on"
            )
        payment = {
            "amount": request.amount,
            "paid_on": request.paid_on.isoformat(),
            "reference": request.reference,
            "recorded_at": now.isoformat(),
            "recorded_by": actor,
        }
        self._ensure_within_due(ubn, period, request)
        if not self._filings.add_payment(ubn, period.code, payment, request.amount):
            earlier = self._filings.payment(ubn, period.code, request.reference) or {}
            if int(earlier.get("amount") or 0) != request.amount or earlier.get("paid_on") != payment["paid_on"]:
                raise Conflict(
                    "PAYMENT_REFERENCE_USED",
                    f"A different payment with reference {request.reference} is already recorded for {period.code}.",
                    f"{period.code} 期已登錄另一筆參考編號為 {request.reference} 的繳款。",
                    "reference",
                )
            return self.get(ubn, period.code)  # the same payment sent again: recorded once
        self._audit.record(merchant_owner(ubn), "tax_paid", actor, {"period": period.code, **payment})
        return self.get(ubn, period.code)

    def _ensure_within_due(self, ubn: str, period: Period, request: PaymentRequest) -> None:
        """Refuse a payment above what remains due rather than record an overpayment.

        Why refuse: the tax office refunds an overpayment only on application, not through this
        platform, so a silently accepted NT$100 against NT$0 due would show the period as settled
        while the money sits unaccounted. A retry of a recorded payment (same reference) is let
        through, so it still answers idempotently. Not filed: ``add_payment`` answers that.
        """
        if self._filings.payment(ubn, period.code, request.reference):
            return
        head = self._filings.head(ubn, period.code) or {}
        if not head.get("current_version"):
            return
        remaining = max(int(head.get("payable") or 0) - int(head.get("paid_total") or 0), 0)
        if request.amount > remaining:
            raise RuleViolation(
                "PAYMENT_EXCEEDS_DUE",
                f"amount NT${request.amount:,} is more than the NT${remaining:,} still due for period "
                f"{period.code}; record only what was paid against this return.",
                f"繳款金額（amount）{request.amount:,} 元超過 {period.code} 期尚應繳納的 {remaining:,} 元；"
                "請只登錄本期應納稅額的繳款。",
                "amount",
            )

    # --- pieces ------------------------------------------------------------------------------------

    def draft(self, ubn: str, period: Period) -> TaxReturn:
        inputs = self._filings.inputs(ubn, period.code, period.previous().code)
        return self._compute(inputs, previous_credit=None, other=None)

    def preview(
        self, ubn: str, period: Period, *, previous_credit: int | None, other: OtherPurchases | None
    ) -> TaxReturn:
        """What a submission with these inputs would file now (the confirmation shows it): the same
        rule as ``submit``, the previous return's credit when ``previous_credit`` is None."""
        inputs = self._filings.inputs(ubn, period.code, period.previous().code)
        return self._compute(inputs, previous_credit=previous_credit, other=other)

    def _compute(
        self, inputs: Mapping[str, Any], *, previous_credit: int | None, other: OtherPurchases | None
    ) -> TaxReturn:
        previous = inputs.get("previous") or {}
        carried = previous_credit
        if carried is None:
            carried = int(previous.get("credit_carried_forward") or 0) if previous.get("current_version") else 0
        return compute_return(
            SalesTotals.from_totals(inputs.get("general"), inputs.get("special")),
            PurchaseTotals.from_totals(inputs.get("purchases")),
            previous_credit=carried,
            other_purchases=other,
        )

    def _versions(self, ubn: str, period: Period) -> list[VersionView]:
        views = []
        for item in self._filings.versions(ubn, period.code):
            views.append(
                VersionView(
                    version=int(item["version"]),
                    filed_at=item["filed_at"],
                    filed_by=str(item["filed_by"]),
                    reason=item.get("reason"),
                    late=bool(item.get("late")),
                    payable=int(item["fields"]["111"]),
                    documents={
                        kind: f"/v1/filings/{period.code}/versions/{int(item['version'])}/{kind}"
                        for kind in ("pdf", "json")
                    },
                )
            )
        return sorted(views, key=lambda v: v.version)

    def _payment(self, ubn: str, period: Period, payable: int, head: Mapping[str, Any]) -> PaymentSummary:
        paid = int(head.get("paid_total") or 0)
        return PaymentSummary(
            reference=payment_reference(ubn, period),
            amount_due=payable,
            paid=paid,
            outstanding=max(payable - paid, 0),
            status=payment_status(payable, paid).value,
            payments=[PaymentView.model_validate(p) for p in head.get("payments") or []],
        )

    def _today(self) -> date:
        return self._clock.now().astimezone(TAIWAN_TZ).date()


def _ensure_reconciled(head: Mapping[str, Any]) -> None:
    report = head.get("reconciliation") or {}
    if report.get("status") == "differences":
        raise Conflict(
            "TOTALS_DISAGREE",
            "The last reconciliation found the period's totals differ from its invoices; repair them "
            "(POST /v1/filings/{period}/reconcile with repair=true) before filing.",
            "最近一次對帳發現本期合計與發票不符；請先修正（POST /v1/filings/{period}/reconcile，repair=true）再申報。",
            "period",
        )


def _sales_fields(fields: Mapping[str, int]) -> dict[str, int]:
    return {
        code: value
        for code, value in fields.items()
        if code in {"5", "6", "7", "15", "17", "18", "19", "32", "33", "40", "41"}
    }


def _return_of(stored: Mapping[str, Any]) -> TaxReturn:
    return TaxReturn(
        form=str(stored["form"]),
        fields={str(k): int(v) for k, v in stored["fields"].items()},
        statements=tuple(Statement(**s) for s in stored.get("statements") or []),
    )


def _other_of(stored: Mapping[str, Any]) -> OtherPurchases | None:
    other = stored.get("other_purchases")
    return OtherPurchases(int(other["amount"]), int(other["tax"])) if other else None
