"""E0401 總、分支機構配號檔 (head/branch allocation) and E0402 空白未使用字軌號碼檔 (§2.9.1-2)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.documents.mig._base import MessageType, MigMessage, MigModel
from chalicelib.documents.mig._types import Ban, InvoiceTypeCode, SerialNo, Track, YearMonth

MAX_BRANCH_TRACK_ITEMS = 25000


class BranchTrackMain(MigModel):
    # ⚠️ E0401 Main order is unverified (reference §2.9.1, §11): the Go struct and samples put
    # InvoiceType before YearMonth, the TB tree after the numbers. Reading: follow the samples,
    # as the reference recommends.
    mig_tag = "Main"

    head_ban: Ban
    branch_ban: Ban
    invoice_type: InvoiceTypeCode
    year_month: YearMonth
    invoice_track: Track
    invoice_begin_no: SerialNo
    invoice_end_no: SerialNo


class BranchTrackItem(MigModel):
    mig_tag = "BranchTrackItem"

    invoice_begin_no: SerialNo
    invoice_end_no: SerialNo
    invoice_booklet: Annotated[int, Field(ge=1, strict=False)]  # 本組數 = count / 50


class BranchTrack(MigMessage):
    """E0401 message."""

    message_type = MessageType.E0401
    mig_tag = "BranchTrack"

    main: BranchTrackMain
    details: Annotated[tuple[BranchTrackItem, ...], Field(min_length=1, max_length=MAX_BRANCH_TRACK_ITEMS)]


class BranchTrackBlankMain(MigModel):
    mig_tag = "Main"

    head_ban: Ban
    branch_ban: Ban
    invoice_type: InvoiceTypeCode
    year_month: YearMonth
    invoice_track: Track


class BranchTrackBlankItem(MigModel):
    """A blank range: from the first unused number to the end of the range."""

    mig_tag = "BranchTrackBlankItem"

    invoice_begin_no: SerialNo
    invoice_end_no: SerialNo


class BranchTrackBlank(MigMessage):
    """E0402 message: one per (UBN, type, period, track)."""

    message_type = MessageType.E0402
    mig_tag = "BranchTrackBlank"

    main: BranchTrackBlankMain
    details: Annotated[tuple[BranchTrackBlankItem, ...], Field(min_length=1)]
