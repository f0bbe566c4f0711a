"""The texts of the period notices (zh-TW first, then English): what each one tells the merchant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.period import Period
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar, blank_number_deadline, filing_deadline

_RECON_ZH = {"agrees": "相符", "differences": "有差異，請檢視", "repaired": "已修正"}


def notice_text(
    kind: str, period: Period, head: Mapping[str, Any], calendar: WorkingCalendar = WEEKDAYS
) -> tuple[str, str]:
    """Subject and body of notice ``kind`` about ``period``; ``head`` is the period's filing head.
    The deadlines it quotes are the ones moved off a day off (``calendar``)."""
    code, label = period.code, period.label_zh
    blank_due = blank_number_deadline(period, calendar).isoformat()
    return_due = filing_deadline(period, calendar).isoformat()
    if kind == "close":
        draft = head.get("draft") or {}
        form, payable, credit = (
            draft.get("form", "401"),
            int(draft.get("payable") or 0),
            int(draft.get("credit_carried_forward") or 0),
        )
        unused = int((head.get("blank_numbers") or {}).get("count") or 0)
        reconciled = str((head.get("reconciliation") or {}).get("status", "agrees"))
        return (
            f"{label} 申報資料已備妥 / Period {code} ready to file",
            f"{label}（{code}）期已結束，平台已為您備妥營業稅申報書草稿（{form}）"
            f"與空白字軌檔（未使用號碼 {unused} 個）。\n"
            f"應納稅額：{payable:,} 元；留抵稅額：{credit:,} 元。對帳結果：{_RECON_ZH.get(reconciled, reconciled)}。\n"
            f"請於 {blank_due} 前申報空白字軌，{return_due} 前申報營業稅。\n\n"
            f"Period {code} has ended. Your draft return (form {form}) and the blank-number report ({unused} unused "
            f"numbers) are ready. Tax payable: NT${payable:,}; credit carried forward: NT${credit:,}. "
            f"Reconciliation: {reconciled}.\n"
            f"File the blank numbers by {blank_due} and the return by {return_due}: GET /v1/filings/{code}.\n",
        )
    if kind == "blank_reminder":
        return (
            f"空白字軌申報提醒 / File unused numbers for {code}",
            f"今天（{blank_due}）是 {label} 空白字軌號碼（E0402）申報期限，您尚未申報："
            f"POST /v1/filings/{code}/blank-numbers。\n\n"
            f"Today ({blank_due}) is the deadline for the unused invoice numbers of period {code} (E0402), "
            f"and you have not filed them yet: POST /v1/filings/{code}/blank-numbers.\n",
        )
    if kind == "return_reminder":
        return (
            f"營業稅申報提醒 / Return for {code} due soon",
            f"{label} 營業稅申報期限為 {return_due}，您尚未申報：POST /v1/filings/{code}/submit。\n\n"
            f"The business-tax return for period {code} is due on {return_due} and has not been filed yet: "
            f"POST /v1/filings/{code}/submit.\n",
        )
    if kind == "overdue":
        return (
            f"營業稅逾期未申報 / Return for {code} overdue",
            f"{label} 營業稅已逾申報期限（{return_due}）。請儘速申報以免加徵滯報金："
            f"POST /v1/filings/{code}/submit。\n\n"
            f"The return for period {code} is overdue (deadline {return_due}). File it now to limit the "
            f"late-filing surcharge: POST /v1/filings/{code}/submit.\n",
        )
    raise ValueError(f"no notice {kind!r}")
