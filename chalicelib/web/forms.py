"""Form bodies as browsers send them: urlencoded fields, or multipart with files."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from chalicelib.domain.errors import InvalidInput


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    """Submitted fields (each may repeat) and uploaded files."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def file(self, name: str) -> Upload | None:
        return self.files.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.fields or name in self.files

    def _add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)


def _bad_form() -> InvalidInput:
    return InvalidInput("INVALID_FORM", "The form could not be read; reload the page", "無法讀取表單，請重新整理頁面")


def parse_form(content_type: str, body: bytes) -> Form:
    form = Form()
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return form
    if kind == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _bad_form() from exc
        for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=2000):
            form._add(name, value)
        return form
    if kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
        )
        if not message.is_multipart():
            raise _bad_form()
        for part in message.iter_parts():
            param = part.get_param("name", header="content-disposition")
            if not isinstance(param, str) or not param:
                continue
            name = param
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename: str | None = part.get_filename()
            if filename is not None:
                if data:
                    form.files[name] = Upload(filename, part.get_content_type(), data)
                continue
            try:
                form._add(name, data.decode(part.get_content_charset() or "utf-8"))
            except (UnicodeDecodeError, LookupError) as exc:
                raise _bad_form() from exc
        return form
    raise InvalidInput("UNSUPPORTED_FORM", "Send the form as a web page does", "請以網頁表單送出", "Content-Type")
