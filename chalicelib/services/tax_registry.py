"""Tax registry (稅籍登記) maintenance by tax-office staff.

The registry gates sign-up: only a UBN recorded here as ``active`` may get a merchant account.
Staff keep it current one business at a time, or by importing the MOF's open-data extract.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, Field

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import NotFound
from chalicelib.domain.tax_registry import RegistrationStatus, RegistryEntry, TaxRegistration
from chalicelib.domain.ubn import validate_ubn
from chalicelib.services.ports import AuditLog
from chalicelib.services.principal import Principal

#: An import answers with this many rejected rows at most; the count is always complete.
MAX_REPORTED_REJECTIONS = 100


class TaxRegistryStore(Protocol):
    def get_entry(self, ubn: str) -> RegistryEntry | None: ...

    def put(self, record: TaxRegistration, actor: str, at: datetime) -> tuple[RegistryEntry, bool]:
        """Upsert; the stored entry and whether anything changed."""

    def put_many(self, records: Iterable[TaxRegistration], actor: str, at: datetime) -> int:
        """Upsert many (imports); how many were written."""


class RejectedRowOut(BaseModel):
    line: int = Field(description="Line of the file where the row starts (the header is line 1)")
    ubn: str
    reason: str
    reason_zh: str


class ImportResult(BaseModel):
    imported: int = Field(description="Businesses written (one per UBN)")
    rejected: int = Field(description="Rows not imported; see rejected_rows")
    rejected_rows: list[RejectedRowOut] = Field(
        description=f"The first {MAX_REPORTED_REJECTIONS} rejected rows with their reasons"
    )
    duplicate_rows: int = Field(description="Further rows of a UBN already in the file (branches), merged")
    stamp: str | None = Field(description="The extract's date stamp as written (second line), e.g. 10-APR-23")
    stamp_date: date | None
    status: RegistrationStatus = Field(description="The status every imported record was given")


class TaxRegistryService:
    def __init__(self, *, registry: TaxRegistryStore, audit: AuditLog, clock: Clock) -> None:
        self._registry = registry
        self._audit = audit
        self._clock = clock

    def get(self, ubn: str) -> RegistryEntry:
        validate_ubn(ubn, "ubn")
        entry = self._registry.get_entry(ubn)
        if entry is None:
            raise NotFound(
                "NOT_IN_TAX_REGISTRY",
                "The tax registry has no business with this UBN",
                "稅籍資料查無此統一編號",
                "ubn",
            )
        return entry

    def upsert_registration(
        self, ubn: str, name: str, address: str, status: RegistrationStatus, *, principal: Principal
    ) -> RegistryEntry:
        validate_ubn(ubn, "ubn")
        record = TaxRegistration(ubn=ubn, name=name, address=address, status=status)
        entry, changed = self._registry.put(record, principal.actor, self._clock.now())
        if changed:
            self._audit.record(
                principal.owner,
                "tax_registry_updated",
                principal.actor,
                {"ubn": ubn, "name": name, "address": address, "status": status.value},
            )
        return entry

    def import_registry_csv(
        self, data: bytes, status_override: RegistrationStatus | None = None, *, principal: Principal
    ) -> ImportResult:
        """Import the MOF extract. Every well-formed row is written; bad rows are reported."""
        from chalicelib.documents.registry_csv import parse_registry_csv

        parsed = parse_registry_csv(data)
        records = parsed.records
        if status_override is not None:
            records = [r.model_copy(update={"status": status_override}) for r in records]
        imported = self._registry.put_many(records, principal.actor, self._clock.now())
        status = status_override or (
            RegistrationStatus.SUSPENDED if parsed.suspended_file else RegistrationStatus.ACTIVE
        )
        result = ImportResult(
            imported=imported,
            rejected=len(parsed.rejected),
            rejected_rows=[
                RejectedRowOut(line=r.line, ubn=r.ubn, reason=r.reason, reason_zh=r.reason_zh)
                for r in parsed.rejected[:MAX_REPORTED_REJECTIONS]
            ],
            duplicate_rows=parsed.duplicate_rows,
            stamp=parsed.stamp,
            stamp_date=parsed.stamp_date,
            status=status,
        )
        self._audit.record(
            principal.owner,
            "tax_registry_imported",
            principal.actor,
            {
                "imported": result.imported,
                "rejected": result.rejected,
                "stamp": result.stamp,
                "status": status.value,
            },
        )
        return result
