"""Filed returns and blank-number reports in the artifacts bucket, under ``merchants/<ubn>/filings/``.

Keys are built here from the UBN, period and version, never taken from a caller, so a key can
never name another merchant's return.
"""

from __future__ import annotations

import re

from chalicelib.adapters.s3_artifacts import DEFAULT_LINK_SECONDS, exists, fetch, link, store

_UBN = re.compile(r"[0-9]{8}")
_PERIOD = re.compile(r"[0-9]{5}")
_NAME = re.compile(r"(return\.pdf|return\.json|E0402-[A-Z]{2}(-[0-9]{2})?\.xml)")
_TYPES = {"pdf": "application/pdf", "json": "application/json", "xml": "application/xml"}


def filing_key(ubn: str, period: str, folder: str, name: str) -> str:
    if not (_UBN.fullmatch(ubn) and _PERIOD.fullmatch(period) and _NAME.fullmatch(name)):
        raise ValueError(f"not a filing document: {ubn!r} {period!r} {name!r}")
    if not re.fullmatch(r"v[0-9]{3}|blank-numbers", folder):
        raise ValueError(f"not a filing folder: {folder!r}")
    return f"merchants/{ubn}/filings/{period}/{folder}/{name}"


class S3FilingDocuments:
    def put(self, ubn: str, period: str, folder: str, name: str, body: bytes) -> str:
        key = filing_key(ubn, period, folder, name)
        return store(key, body, _TYPES[name.rsplit(".", 1)[1]], f"{period}-{name}")

    def get(self, ubn: str, period: str, folder: str, name: str) -> bytes:
        return fetch(filing_key(ubn, period, folder, name))

    def exists(self, ubn: str, period: str, folder: str, name: str) -> bool:
        return exists(filing_key(ubn, period, folder, name))

    def presign(self, ubn: str, period: str, folder: str, name: str, *, seconds: int = DEFAULT_LINK_SECONDS) -> str:
        return link(filing_key(ubn, period, folder, name), f"{period}-{name}", seconds=seconds, download=True)
