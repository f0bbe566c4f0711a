"""Invoice and allowance artifacts (MIG XML, proof and A4 PDFs) in the artifacts bucket.

Every object of a merchant lives under ``merchants/<ubn>/``, so one prefix is all a staff tool,
an export or a lifecycle rule needs, and an object key can never name another merchant's
invoice: keys are built here from the ubn, never taken from a caller.

Keys are fixed per invoice and kind, so writing an artifact again (a retry after a crash) replaces
the same object with the same bytes; the bucket is versioned, so nothing is ever lost either way.
"""

from __future__ import annotations

import re

from chalicelib.adapters.aws import client
from chalicelib.domain.artifacts import ALLOWANCE_KINDS, FORMATS, ArtifactKind, download_name
from chalicelib.settings import get_settings

_UBN = re.compile(r"[0-9]{8}")
_PERIOD = re.compile(r"[0-9]{5}")
_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")
#: Allowance numbers are the merchant's own (services/allowances.py ALLOWANCE_NUMBER_PATTERN).
_ALLOWANCE_NUMBER = re.compile(r"[0-9A-Za-z_-]{1,16}")
# Links are handed to a browser right away; a short life limits what a leaked link exposes.
DEFAULT_LINK_SECONDS = 300


def artifact_key(ubn: str, period: str, number: str, kind: ArtifactKind) -> str:
    """``merchants/<ubn>/invoices/<period>/<number>/<file>`` (``allowances/`` for an allowance's
    kinds); refuses anything that could escape it.

    The kind picks the folder, so an allowance numbered like an invoice can never overwrite it."""
    allowance = kind in ALLOWANCE_KINDS
    number_ok = (_ALLOWANCE_NUMBER if allowance else _NUMBER).fullmatch(number)
    if not (_UBN.fullmatch(ubn) and _PERIOD.fullmatch(period) and number_ok):
        raise ValueError(f"not an artifact address: {ubn!r} {period!r} {number!r}")
    folder = "allowances" if allowance else "invoices"
    return f"merchants/{ubn}/{folder}/{period}/{number}/{FORMATS[kind].file_name}"


def store(key: str, body: bytes, content_type: str, filename: str) -> str:
    """Put one object in the artifacts bucket, named ``filename`` when a browser shows it."""
    client("s3").put_object(
        Bucket=get_settings().artifacts_bucket,
        Key=key,
        Body=body,
        ContentType=content_type,
        ContentDisposition=f'inline; filename="{filename}"',
    )
    return key


def fetch(key: str) -> bytes:
    body: bytes = client("s3").get_object(Bucket=get_settings().artifacts_bucket, Key=key)["Body"].read()
    return body


def find(key: str) -> bytes | None:
    """The object's bytes, or None when the bucket does not hold it (lost, or never written)."""
    from botocore.exceptions import ClientError

    try:
        return fetch(key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise


def exists(key: str) -> bool:
    """Whether the bucket holds ``key``: a HEAD, so a download check never transfers the file."""
    from botocore.exceptions import ClientError

    try:
        client("s3").head_object(Bucket=get_settings().artifacts_bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
            return False
        raise
    return True


def link(key: str, filename: str, *, seconds: int = DEFAULT_LINK_SECONDS, download: bool = False) -> str:
    """A short-lived GET link (the API redirects to it instead of streaming files through Lambda)."""
    disposition = "attachment" if download else "inline"
    url: str = client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": get_settings().artifacts_bucket,
            "Key": key,
            "ResponseContentDisposition": f'{disposition}; filename="{filename}"',
        },
        ExpiresIn=seconds,
    )
    return url


class S3Artifacts:
    def put(self, ubn: str, period: str, number: str, kind: ArtifactKind, body: bytes) -> str:
        key = artifact_key(ubn, period, number, kind)
        return store(key, body, FORMATS[kind].content_type, download_name(number, kind))

    def get(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bytes:
        return fetch(artifact_key(ubn, period, number, kind))

    def find(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bytes | None:
        return find(artifact_key(ubn, period, number, kind))

    def exists(self, ubn: str, period: str, number: str, kind: ArtifactKind) -> bool:
        return exists(artifact_key(ubn, period, number, kind))

    def presign(
        self,
        ubn: str,
        period: str,
        number: str,
        kind: ArtifactKind,
        *,
        seconds: int = DEFAULT_LINK_SECONDS,
        download: bool = False,
    ) -> str:
        key = artifact_key(ubn, period, number, kind)
        return link(key, download_name(number, kind), seconds=seconds, download=download)
