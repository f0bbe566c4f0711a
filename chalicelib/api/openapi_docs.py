"""What the OpenAPI document tells a user beyond the schemas: examples, headers and file formats.

- Every request body and every JSON response gets an example. The request bodies API.md shows are
  written out here (``REQUEST_EXAMPLES``: the contract's own examples); every other example is built
  from the model's JSON schema (``example_of``): the field's own ``examples``, its default, the first
  choice of an enumeration, or a value of the right form for its pattern or name. A test validates
  each example against its model, so an example can never drift from what the route accepts.
- The headers the routes read are declared as parameters (``HEADERS``).
- The formats of the files and keys a user must produce (``FORMAT_NOTES``) are appended to the
  operations that take them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The request examples of API.md ("the shapes are part of the contract"), by request model.
REQUEST_EXAMPLES: Mapping[str, Any] = {
    "StaffLoginRequest": {"username": "staff", "password": "Tax-office-2026-secure"},
    "RegistryRecordRequest": {"name": "範例商行", "address": "臺北市中正區重慶南路一段 2 號", "status": "active"},
    "AllocationRequest": {
        "ubn": "24634102",
        "period": "11412",
        "invoice_type": "07",
        "track": "AB",
        "begin_no": "12345600",
        "end_no": "12345699",
    },
    "LoginRequest": {"ubn": "24634102", "password": "Merchant-pass-2026!"},
    "IssueRequest": {
        "buyer": {"ubn": None, "name": "消費者", "email": "buyer@example.com"},
        "carrier": {"type": "3J0002", "id": "/ABC+123"},
        "donation_code": None,
        "print": False,
        "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"}],
        "prices_include_tax": True,
        "order_id": "SO-2025-0001",
    },
    "InvoiceCancelRequest": {"reason": "買受人要求退貨"},
    "AllowanceRequest": {
        "items": [
            {
                "original_invoice_number": "AB12345600",
                "description": "拿鐵咖啡",
                "quantity": "1",
                "unit_price": "62",
                "tax_type": "1",
            }
        ]
    },
    "AllowanceVoidRequest": {
        "reason": "折讓金額開錯",
        "replacement": {
            "items": [
                {
                    "original_invoice_number": "AB12345600",
                    "description": "拿鐵咖啡",
                    "quantity": "1",
                    "unit_price": "50",
                    "tax_type": "1",
                }
            ]
        },
    },
    "ProfileUpdate": {
        "address": "臺北市中正區重慶南路一段 2 號",
        "settings": {"qr_aes_key": "0123456789ABCDEF0123456789ABCDEF"},
    },
    "ChannelAssignment": {"assignments": [{"channel": "online", "booklets": 2}]},
}

#: A value of the right form for each pattern the models use.
_PATTERN_EXAMPLES: Mapping[str, str] = {
    r"^(issued|cancelled|voided)$": "issued",
    r"^(proof|a4)$": "proof",
    r"^(xml|json)$": "xml",
    r"^09[0-9]{8}$": "0912345678",
    r"^[0-9A-Za-z-]+$": "SO-2025-0001",
    r"^[0-9A-Za-z_-]{1,16}$": "AL1141200001",
    r"^[0-9]{3}(02|04|06|08|10|12)$": "11412",
    r"^[0-9]{8}$": "24634102",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "buyer@example.com",
}

#: A value of the right form for fields known by name (when the schema says no more than "string").
_NAMED_EXAMPLES: Mapping[str, Any] = {
    "ubn": "24634102",
    "buyer_ubn": "22099131",
    "seller_ubn": "24634102",
    "period": "11412",
    "invoice_number": "AB12345600",
    "original_invoice_number": "AB12345600",
    "allowance_number": "AL1141200001",
    "random_number": "1234",
    "track": "AB",
    "begin_no": "12345600",
    "end_no": "12345699",
    "invoice_type": "07",
    "invoice_time": "09:30:00",
    "tax_type": "1",
    "tax_rate": "0.05",
    "quantity": "2",
    "unit_price": "65",
    "amount": "130",
    "email": "buyer@example.com",
    "mobile": "0912345678",
    "password": "Merchant-pass-2026!",
    "new_password": "Merchant-pass-2027!",
    "current_password": "Merchant-pass-2026!",
    "initial_password": "Initial1Pass2Word",
    "username": "staff",
    "name": "範例商行",
    "description": "拿鐵咖啡",
    "reason": "買受人要求退貨",
    "address": "臺北市中正區重慶南路一段 2 號",
    "qr_aes_key": "0123456789ABCDEF0123456789ABCDEF",
    "channel": "online",
    "code": "123456",
    "url": "https://example.com/link",
}

_FORMAT_EXAMPLES: Mapping[str, str] = {
    "date": "2025-03-17",
    "date-time": "2025-03-17T09:30:00+08:00",
    "time": "09:30:00",
    "email": "buyer@example.com",
    "uri": "https://example.com/",
    "uuid": "3f0c2a9e-5b1d-4c3e-9a7f-2d8b6e4c1a00",
}

_IDEMPOTENCY = (
    "Makes a retry safe: 1-255 printable ASCII characters of your choosing (a UUID is fine). The same key "
    "with the same body answers the first result again (header Idempotent-Replayed: true) for 24 hours; "
    "the same key with another body is 422 IDEMPOTENCY_KEY_REUSED."
)

#: Every header a route reads, as an OpenAPI header parameter.
HEADERS: Mapping[str, dict[str, Any]] = {
    "Idempotency-Key": {
        "description": _IDEMPOTENCY,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
        "example": "6f1c2b7e-order-SO-2025-0001",
    },
    "X-Request-Id": {
        "description": "Your correlation id (1-128 of A-Z a-z 0-9 . _ -), echoed in the X-Request-Id response "
        "header and the logs; one is made when absent or malformed.",
        "schema": {"type": "string"},
        "example": "req-20250317-0001",
    },
    "X-Api-Key": {
        "description": "An API key holding this operation's scope, instead of a bearer token (see security). "
        "Created under /v1/api-keys; shown once.",
        "schema": {"type": "string"},
    },
    "X-Merchant-Ubn": {"description": "The merchant the notification is for", "schema": {"type": "string"}},
    "X-Timestamp": {"description": "Unix seconds when signed; 5 minutes of clock skew", "schema": {"type": "string"}},
    "X-Signature": {
        "description": "Hex HMAC-SHA256 of `<timestamp>.<raw body>` under the merchant's webhook secret",
        "schema": {"type": "string"},
    },
}

ALLOCATION_CSV = (
    "**Allocation CSV (text/csv)**: the file downloaded from the MOF platform, unedited, Big5 or UTF-8. One "
    "row per range; columns (0-based): 0 UBN (8 digits), 1 invoice type (07 general, 08 special), 2 "
    "(ignored), 3 period range such as `113/11 ~ 113/12`, 4 track (2 letters), 5 begin number (8 digits), "
    "6 end number (8 digits). A first row without digits in columns 0 and 5 is a header and skipped, as are "
    "blank rows; the booklet count is the range's size / 50. Example row: "
    "`24634102,07,,113/11 ~ 113/12,AB,12345600,12345699`."
)
E0501_ROOT = (
    "**E0501 XML (application/xml)**: the 營業人電子發票配號檔 as the MOF platform or Turnkey gives it. The root "
    "element is `InvoiceAssignNo` (no namespace, or `urn:GEINV:eInvoiceMessage:E0501:<version>`), or a "
    "Turnkey envelope holding one or more `InvoiceAssignNo`; children Ban, InvoiceType, YearMonth, "
    "InvoiceTrack, InvoiceBeginNo, InvoiceEndNo, InvoiceBooklet. It is validated against the official "
    "MIG 4.1 E0501.xsd first."
)
CERTIFICATE_UBN = (
    "**The certificate's UBN**: the 統一編號 is read from the certificate subject's serialNumber attribute "
    "(OID 2.5.4.5): exactly one, exactly 8 ASCII digits with a valid check digit; anything else is refused "
    "(CERTIFICATE_NO_UBN), never guessed. The certificate (PEM, the leaf first, optionally one intermediate "
    "CA after it) must chain to a CA the deployment trusts: the PEM bundle in the file named by the "
    "TRUSTED_CA_FILE setting (or inline in TRUSTED_CA_PEMS), the MOEA CA (經濟部工商憑證管理中心) in "
    "production. The signature is Base64 of the nonce's "
    "ASCII bytes signed with the certificate's key (RSA PKCS#1 v1.5 or ECDSA P-256, SHA-256)."
)
REGISTRY_CSV = (
    "**Registry CSV (text/csv)**: BGMOPEN1.csv as published by the MOF open-data portal, UTF-8 (BOM "
    "allowed); a header naming the columns (統一編號, 營業人名稱, 營業地址, ...; found by name), then a "
    "date-stamp line such as `10-APR-23,,,,`, then one business per row. BGMOPEN1X (suspended businesses) "
    "has an extra column 停業日期."
)


#: Format notes appended to the description of the operations that take these files or keys.
def _webhook_guide() -> str:
    """docs/webhooks.md's verification section, so the OpenAPI says what the repository says."""
    from importlib import resources

    text = resources.files("chalicelib.api").joinpath("static/webhooks.md").read_text(encoding="utf-8")
    start = text.index("## Verifying the signature")
    return text[start : text.index("\n## ", start + 1)].strip()


WEBHOOK_GUIDE = _webhook_guide()

FORMAT_NOTES: Mapping[tuple[str, str], str] = {
    ("POST", "/v1/webhooks/endpoints"): WEBHOOK_GUIDE,
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"): WEBHOOK_GUIDE,
    ("POST", "/v1/tracks/import"): f"{ALLOCATION_CSV}\n\n{E0501_ROOT}",
    ("POST", "/v1/registrations/certificate"): CERTIFICATE_UBN,
    ("POST", "/v1/admin/tax-registry/import"): REGISTRY_CSV,
}


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _resolve(schemas[ref.rsplit("/", 1)[-1]], schemas)
    return schema


def example_of(
    schema: Mapping[str, Any], schemas: Mapping[str, Any], *, name: str = "", request: bool, depth: int = 0
) -> Any:
    """An instance of ``schema``. For a request only the required properties are filled (optional
    ones may exclude each other); a response shows every property."""
    schema = _resolve(schema, schemas)
    given = _given(schema)
    if given is not _UNSET:
        return given
    branches = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if branches:
        return _branch(branches, schemas, name=name, request=request, depth=depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _object(schema, schemas, request=request, depth=depth)
    if kind == "array":
        item = example_of(schema.get("items", {}), schemas, name=name, request=request, depth=depth + 1)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind == "string":
        return _string(schema, name)
    return _scalar(schema, name)


_UNSET = object()


def _given(schema: Mapping[str, Any]) -> Any:
    """What the schema itself offers: its example, constant, default or first choice."""
    if schema.get("examples"):
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("default") is not None:
        return schema["default"]
    return schema["enum"][0] if schema.get("enum") else _UNSET


def _branch(branches: list[Any], schemas: Mapping[str, Any], *, name: str, request: bool, depth: int) -> Any:
    present = [branch for branch in branches if _resolve(branch, schemas).get("type") != "null"]
    if not present or (request and depth > 0 and len(present) < len(branches)):
        return None  # nullable: null, and left out of a request where it is optional
    return example_of(present[0], schemas, name=name, request=request, depth=depth)


def _object(schema: Mapping[str, Any], schemas: Mapping[str, Any], *, request: bool, depth: int) -> dict[str, Any]:
    required = set(schema.get("required", []))
    result = {}
    for prop, sub in schema.get("properties", {}).items():
        if request and prop not in required:
            continue
        value = example_of(sub, schemas, name=prop, request=request, depth=depth + 1)
        if value is not None or not request:
            result[prop] = value
    return result


def _scalar(schema: Mapping[str, Any], name: str) -> Any:
    kind = schema.get("type")
    if kind in {"integer", "number"}:
        if "minimum" in schema:
            return schema["minimum"]
        return schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else 1
    if kind == "boolean":
        return True
    return _NAMED_EXAMPLES.get(name)


def _string(schema: Mapping[str, Any], name: str) -> str:
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and pattern in _PATTERN_EXAMPLES:
        return _PATTERN_EXAMPLES[pattern]
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_EXAMPLES:
        return _FORMAT_EXAMPLES[fmt]
    value = str(_NAMED_EXAMPLES.get(name, "範例"))
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if len(value) < low:
        value = value + "x" * (low - len(value))
    return value[: int(high)] if high is not None else value
