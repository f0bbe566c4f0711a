"""Form bodies as browsers send them."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.web.forms import parse_form


def test_urlencoded_fields_keep_repeats_blanks_and_utf8() -> None:
    form = parse_form(
        "application/x-www-form-urlencoded",
        b"description=%E6%8B%BF%E9%90%B5&description=tea&note=&q=a+b",
    )
    assert form.all("description") == ["拿鐵", "tea"]
    assert form.get("description") == "拿鐵" and form.get("note") == "" and form.get("q") == "a b"
    assert form.get("missing", "x") == "x" and "note" in form


def test_multipart_gives_fields_and_files_apart() -> None:
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nF0401\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.xml"\r\n'
        "Content-Type: text/xml\r\n\r\n<Invoice>發票</Invoice>\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="empty"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    form = parse_form(f"multipart/form-data; boundary={boundary}", body)
    assert form.get("kind") == "F0401"
    upload = form.file("file")
    assert upload is not None and upload.filename == "a.xml" and upload.data == "<Invoice>發票</Invoice>".encode()
    assert form.file("empty") is None  # no file chosen


def test_a_body_that_is_not_a_form_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_form("application/json", b'{"a": 1}')
    assert refused.value.code == "UNSUPPORTED_FORM"
    with pytest.raises(InvalidInput):
        parse_form("application/x-www-form-urlencoded", b"\xff\xfe")
    with pytest.raises(InvalidInput):
        parse_form("multipart/form-data; boundary=zz", b"not multipart at all")
