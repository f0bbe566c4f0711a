"""Every console area, for app.py to register."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.web import (
    announcement_pages,
    assets,
    auth_pages,
    dashboard,
    exchange_allowance_pages,
    exchange_pages,
    filing_pages,
    inbox_pages,
    invoice_pages,
    issue_pages,
    lookup_pages,
    lottery_pages,
    notification_pages,
    settings_pages,
    staff_pages,
    track_pages,
    webhook_pages,
)

CONSOLE_BLUEPRINTS: list[Blueprint] = [
    module.bp
    for module in (
        assets,
        auth_pages,
        dashboard,
        settings_pages,
        track_pages,
        issue_pages,
        invoice_pages,
        inbox_pages,
        exchange_pages,
        exchange_allowance_pages,
        filing_pages,
        staff_pages,
        announcement_pages,
        lookup_pages,
        lottery_pages,
        notification_pages,
        webhook_pages,
    )
]
