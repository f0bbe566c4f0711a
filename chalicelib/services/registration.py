"""Sign-up: a business becomes a merchant account on the platform.

Two ways, as on the MOF platform:
- with its 工商憑證 (business certificate): the UBN comes from the certificate, which must chain
  to a trusted CA and sign a fresh single-use nonce;
- with an account the tax office issued: the staff hand over an initial password once, and the
  merchant replaces it before anything else works.
Only a UBN the tax registry (稅籍登記) knows as active may sign up.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, InvalidInput, RuleViolation
from chalicelib.domain.owners import merchant_owner
from chalicelib.domain.tax_registry import TaxRegistration
from chalicelib.domain.ubn import validate_ubn
from chalicelib.security.nonces import is_well_formed_nonce, new_nonce, nonce_expires_at
from chalicelib.security.passwords import check_password_policy, hash_password
from chalicelib.security.tokens import Role
from chalicelib.services.auth import AuthService, TokenPair
from chalicelib.services.ports import AuditLog, MerchantStore, TaxRegistryReader
from chalicelib.services.principal import Principal
from chalicelib.services.receivers import ReceiverService, ReceiversInput

_INITIAL_ALPHABET = string.ascii_letters + string.digits
#: The QR code's AES-128 key: 16 random bytes, written as the 32 hexadecimal digits the API takes.
QR_AES_KEY_BYTES = 16
INITIAL_PASSWORD_LENGTH = 16


def _registered(registry: TaxRegistryReader, ubn: str) -> TaxRegistration:
    record = registry.get(ubn)
    if record is None:
        raise RuleViolation(
            "NOT_IN_TAX_REGISTRY",
            "The tax registry has no business with this UBN; ask your tax office",
            "稅籍資料查無此統一編號，請洽所轄稽徵機關",
            "ubn",
        )
    if not record.may_sign_up:
        raise RuleViolation(
            "BUSINESS_NOT_ACTIVE",
            f"The business is registered as {record.status.value}; only active businesses may sign up",
            "此營業人稅籍狀態非營業中，無法申請帳號",
            "ubn",
        )
    return record


def new_qr_aes_key() -> str:
    """A fresh QR-code AES-128 key, in the form ``settings.qr_aes_key`` accepts (32 hex, upper case)."""
    return secrets.token_hex(QR_AES_KEY_BYTES).upper()


def _initial_password() -> str:
    while True:
        candidate = "".join(secrets.choice(_INITIAL_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


class RegistrationService:
    def __init__(
        self,
        *,
        auth: AuthService,
        merchants: MerchantStore,
        registry: TaxRegistryReader,
        receivers: ReceiverService,
        audit: AuditLog,
        clock: Clock,
        trusted_cas: Callable[[], list[bytes]],
    ) -> None:
        self._auth = auth
        self._merchants = merchants
        self._registry = registry
        self._receivers = receivers
        self._audit = audit
        self._clock = clock
        self._trusted_cas = trusted_cas

    def _profile(self, record: TaxRegistration, method: str, status: str) -> dict[str, Any]:
        return {
            "ubn": record.ubn,
            "name": record.name,
            "address": record.address,
            "person_in_charge": None,
            "phone": None,
            "email": None,
            "receivers": {},
            # A key of its own from the first day, so the first issue does not fail with QR_KEY_MISSING;
            # the merchant may replace it with the one from the MOF platform (密碼種子) at any time.
            # create_account stores it sealed, like a key the merchant sets.
            "settings": {"qr_aes_key": new_qr_aes_key()},
            "signup_method": method,
            "status": status,
            "created_at": self._clock.now().isoformat(),
        }

    # --- tax-office issued accounts --------------------------------------------------------

    def issue_initial_credentials(self, ubn: str, *, actor: str, issued_by: str | None = None) -> str:
        """Create the account with a one-time initial password, returned once and never stored.
        ``issued_by`` (the officer's owner key) gets the issue in its own audit trail too."""
        validate_ubn(ubn, "ubn")
        record = _registered(self._registry, ubn)
        password = _initial_password()
        self._merchants.create_account(
            self._profile(record, "tax_office", "pending_activation"),
            password_hash=hash_password(password),
            must_change_password=True,
            at=self._clock.now(),
        )
        self._audit.record(merchant_owner(ubn), "initial_credentials_issued", actor, {})
        if issued_by is not None:
            self._audit.record(issued_by, "merchant_credentials_issued", actor, {"ubn": ubn})
        return password

    def activate_account(
        self,
        ubn: str,
        initial_password: str,
        new_password: str,
        receivers: ReceiversInput,
        *,
        source: Mapping[str, Any],
    ) -> TokenPair:
        validate_ubn(ubn, "ubn")
        check_password_policy(new_password, ubn)
        credential = self._auth.check_password(Role.MERCHANT, ubn, initial_password, source=source)
        if not credential.must_change_password:
            raise Conflict(
                "ALREADY_ACTIVATED",
                "This account is already active; sign in with its password",
                "此帳號已啟用，請以密碼登入",
                "ubn",
            )
        if new_password == initial_password:
            raise RuleViolation(
                "PASSWORD_REUSED",
                "Choose a password other than the initial one",
                "新密碼不可與初始密碼相同",
                "new_password",
            )
        pair = self._auth.set_new_password(Role.MERCHANT, ubn, new_password, source=source, actor=f"merchant:{ubn}")
        self._merchants.update_profile(ubn, {"status": "active"})
        if receivers.email or receivers.mobile:
            self._receivers.set_receivers(ubn, receivers, actor=f"merchant:{ubn}")
        return pair

    def initial_password_replaced(self, principal: Principal) -> None:
        """A merchant who signed in with the tax office's initial password has just chosen its own
        (``POST /v1/auth/password`` or the console's password page): the account is now in use,
        as after ``activate_account``."""
        if principal.role is Role.MERCHANT and principal.must_change_password:
            self._merchants.update_profile(principal.subject, {"status": "active"})

    # --- business certificate --------------------------------------------------------------

    def challenge(self) -> tuple[str, datetime]:
        now = self._clock.now()
        nonce = new_nonce()
        expires_at = nonce_expires_at(now)
        self._merchants.put_nonce(nonce, now, expires_at)
        return nonce, expires_at

    def register_with_certificate(
        self,
        certificate_pem: str,
        nonce: str,
        signature: str,
        password: str,
        receivers: ReceiversInput,
        *,
        source: Mapping[str, Any],
    ) -> tuple[str, TokenPair]:
        if not is_well_formed_nonce(nonce):
            raise InvalidInput(
                "INVALID_NONCE", "Unknown nonce; request a new challenge", "查無此挑戰碼，請重新取得", "nonce"
            )
        now = self._clock.now()
        # Everything that can be checked is checked before the nonce is spent, so a typo or a
        # weak password does not cost the merchant its challenge; then it is consumed once.
        from chalicelib.security.certificates import verify_certificate_signup  # cryptography: this route only

        verified = verify_certificate_signup(certificate_pem, signature, nonce, self._trusted_cas(), now)
        record = _registered(self._registry, verified.ubn)
        check_password_policy(password, verified.ubn, field="password")
        expires_at = self._merchants.take_nonce(nonce)
        if expires_at is None:
            raise InvalidInput(
                "INVALID_NONCE",
                "Unknown or already used nonce; request a new challenge",
                "挑戰碼無效或已使用，請重新取得",
                "nonce",
            )
        if expires_at <= now:
            raise RuleViolation(
                "NONCE_EXPIRED",
                "The challenge expired; request a new one",
                "挑戰碼已逾時，請重新取得",
                "nonce",
            )
        self._merchants.create_account(
            self._profile(record, "certificate", "active"),
            password_hash=hash_password(password),
            must_change_password=False,
            at=now,
        )
        actor = f"merchant:{verified.ubn}"
        self._audit.record(
            merchant_owner(verified.ubn),
            "signed_up_with_certificate",
            actor,
            {**source, "certificate_serial": str(verified.serial), "subject": verified.subject_name},
        )
        if receivers.email or receivers.mobile:
            self._receivers.set_receivers(verified.ubn, receivers, actor=actor)
        pair = self._auth.start_session(Role.MERCHANT, verified.ubn, scopes=frozenset())
        return verified.ubn, pair
