"""Attempt limits that hold under concurrency, and sign-in throttling that neither locks owners out
nor tells real UBNs from unknown ones (issue 13, items 4 and 5).

Requests from different client IPs go through the test client with the local gateway's source IP
set per request (API Gateway's ``sourceIp``, which a client cannot forge with a header). The races
call the use cases directly from threads: Chalice's test client shares one request object between
threads, so concurrent HTTP calls through it would mix their bodies.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api import deps
from chalicelib.domain.errors import DomainError
from chalicelib.security.tokens import Role
from tests.api.conftest import (
    STAFF_PASSWORD,
    body_of,
    last_code_sent_to,
    post_json,
    random_ubn,
)

CAPTCHA_TEXT = "K7M3P"
NEW_PASSWORD = "Another-strong-pass-77"


class MovableClock:
    """Time that stands still until a test moves it: answers computed from it repeat exactly."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def random_ip() -> str:
    return "10.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))


@pytest.fixture
def clock(monkeypatch) -> MovableClock:
    moving = MovableClock()
    monkeypatch.setattr(deps, "clock", moving)
    return moving


@pytest.fixture
def from_ip(client, monkeypatch) -> Callable[[str], None]:
    """``from_ip(address)``: the following requests come from ``address`` (until the test ends)."""
    converter = client.http._local_gateway.event_converter
    return lambda address: monkeypatch.setattr(converter, "LOCAL_SOURCE_IP", address)


@pytest.fixture
def readable_captchas(monkeypatch) -> None:
    """CAPTCHAs whose answer the test knows, instead of reading the picture."""
    from chalicelib.adapters.dynamo_captchas import DynamoCaptchas
    from chalicelib.adapters.dynamo_throttles import DynamoThrottles
    from chalicelib.adapters.keys import derived_key
    from chalicelib.services.captcha import CaptchaService

    monkeypatch.setattr(
        deps,
        "captcha_service",
        lambda: CaptchaService(
            store=DynamoCaptchas(),
            throttles=DynamoThrottles(),
            clock=deps.clock,
            key=derived_key("captcha"),
            new_answer=lambda: CAPTCHA_TEXT,
        ),
    )


def _login(client, ubn: str, password: str, captcha: dict[str, str] | None = None) -> Any:
    return post_json(client, "/v1/auth/login", {"ubn": ubn, "password": password, **(captcha or {})})


def _solved_captcha(client, answer: str = CAPTCHA_TEXT) -> dict[str, str]:
    challenge = client.http.post("/v1/auth/captcha")
    assert challenge.status_code == 200, challenge.body
    return {"captcha_id": body_of(challenge)["captcha_id"], "captcha_answer": answer}


def _answer(response: Any) -> tuple[int, Any, dict[str, str]]:
    """What a caller can observe, except the per-request correlation id."""
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() != "x-request-id"}
    return response.status_code, body_of(response), headers


def _code(response: Any) -> str | None:
    body = body_of(response)
    return body["error"]["code"] if response.status_code >= 400 else None


def _race(count: int, attempt: Callable[[int], Any]) -> list[str]:
    """Run ``attempt(i)`` for every i at once; the error code each one ended with ("OK" if none)."""
    start = threading.Barrier(count)
    outcomes: list[str] = [""] * count

    def run(index: int) -> None:
        start.wait()
        try:
            attempt(index)
            outcomes[index] = "OK"
        except DomainError as error:
            outcomes[index] = error.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _with_email(client, merchant, email: str) -> None:
    """The merchant's registered email, where reset codes go."""
    response = client.http.patch(
        "/v1/merchant", headers={"Content-Type": "application/json", **merchant.headers}, body=f'{{"email": "{email}"}}'
    )
    assert response.status_code == 200, response.body


def _audit_events(client, merchant) -> list[str]:
    entries = body_of(client.http.get("/v1/merchant/audit-log?limit=200", headers=merchant.headers))["items"]
    return [entry["event"] for entry in entries]


# --- item 4: limits that hold when guesses race ---------------------------------------------------


@pytest.mark.parametrize("guesses", [16, 40])
def test_concurrent_wrong_passwords_get_only_five_checked(clock, client, new_merchant, guesses):
    # Time stands still: the race stays in one counting window (at a window's end it would
    # rightly start a new one, and five more guesses would be checked).
    merchant = new_merchant()
    service = deps.auth_service()
    # Every guess from its own address: only the account's own limit stands in the way.
    sources = [{"ip": random_ip(), "user_agent": "race"} for _ in range(guesses)]
    outcomes = _race(
        guesses, lambda i: service.login(Role.MERCHANT, merchant.ubn, f"wrong-password-{i}", source=sources[i])
    )
    assert outcomes.count("INVALID_CREDENTIALS") == 5
    assert outcomes.count("CAPTCHA_REQUIRED") == guesses - 5
    assert _audit_events(client, merchant).count("login_failed") == 5


def test_concurrent_wrong_reset_codes_get_only_five_checked(client, new_merchant, monkeypatch):
    from chalicelib.services import password_reset

    email = f"reset-race-{secrets.token_hex(4)}@example.com"
    merchant = new_merchant()
    _with_email(client, merchant, email)
    assert post_json(client, "/v1/auth/password/forgot", {"ubn": merchant.ubn, "email": email}).status_code == 202
    code = last_code_sent_to(client, email)
    checked: list[str] = []
    real_check = password_reset.check_code

    def counting_check(submitted: object, *args: Any, **kwargs: Any) -> Any:
        checked.append(str(submitted))
        return real_check(submitted, *args, **kwargs)

    monkeypatch.setattr(password_reset, "check_code", counting_check)
    wrong = [c for c in (f"{n:06d}" for n in range(31)) if c != code][:30]
    service = deps.password_reset_service()
    source = {"ip": random_ip(), "user_agent": "race"}
    outcomes = _race(30, lambda i: service.reset(merchant.ubn, wrong[i], NEW_PASSWORD, source=source))
    # ten pass the UBN's hourly limit, and of those only five get the code checked
    assert outcomes.count("TOO_MANY_RESET_ATTEMPTS") == 20
    assert outcomes.count("INVALID_RESET_CODE") == 10
    assert len(checked) == 5
    # the right code comes too late to reset the password
    late = post_json(
        client, "/v1/auth/password/reset", {"ubn": merchant.ubn, "code": code, "new_password": NEW_PASSWORD}
    )
    assert late.status_code == 429
    assert _login(client, merchant.ubn, merchant.password).status_code == 200


def test_concurrent_wrong_receiver_codes_get_only_five_checked(client, new_merchant, monkeypatch):
    from chalicelib.services import receivers

    merchant = new_merchant(email=f"verify-race-{secrets.token_hex(4)}@example.com")
    checked: list[str] = []
    real_check = receivers.check_code

    def counting_check(submitted: object, *args: Any, **kwargs: Any) -> Any:
        checked.append(str(submitted))
        return real_check(submitted, *args, **kwargs)

    monkeypatch.setattr(receivers, "check_code", counting_check)
    service = deps.receiver_service()
    outcomes = _race(20, lambda i: service.verify(merchant.ubn, "email", f"9{i:05d}", actor="race"))
    assert outcomes.count("WRONG_CODE") == 5
    assert outcomes.count("TOO_MANY_ATTEMPTS") == 15
    assert len(checked) == 5


def test_a_new_reset_code_does_not_reset_the_hourly_limit(client, new_merchant, clock):
    email = f"reset-hour-{secrets.token_hex(4)}@example.com"
    merchant = new_merchant()
    _with_email(client, merchant, email)

    def new_code() -> str:
        clock.advance(seconds=61)  # past the one-code-a-minute resend limit
        assert post_json(client, "/v1/auth/password/forgot", {"ubn": merchant.ubn, "email": email}).status_code == 202
        return last_code_sent_to(client, email)

    def reset(code: str) -> Any:
        return post_json(
            client, "/v1/auth/password/reset", {"ubn": merchant.ubn, "code": code, "new_password": NEW_PASSWORD}
        )

    first_guess_at = clock.now() + timedelta(seconds=61)
    for _ in range(2):  # two codes, five wrong guesses each: ten guesses in the hour
        code = new_code()
        for n in range(5):
            wrong = f"{(int(code) + n + 1) % 1_000_000:06d}"
            assert _code(reset(wrong)) == "INVALID_RESET_CODE"
    fresh = new_code()
    refused = reset(fresh)
    assert refused.status_code == 429
    assert _code(refused) == "TOO_MANY_RESET_ATTEMPTS"
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 3600
    # an unknown UBN guessed as often gets the same refusal: the limit says nothing about accounts
    stranger = random_ubn()
    for _ in range(10):
        assert (
            _code(
                post_json(
                    client, "/v1/auth/password/reset", {"ubn": stranger, "code": "123456", "new_password": NEW_PASSWORD}
                )
            )
            == "INVALID_RESET_CODE"
        )
    assert (
        _code(
            post_json(
                client, "/v1/auth/password/reset", {"ubn": stranger, "code": "123456", "new_password": NEW_PASSWORD}
            )
        )
        == "TOO_MANY_RESET_ATTEMPTS"
    )
    # an hour after the first guess the owner resets with a new code
    clock.moment = first_guess_at + timedelta(hours=1)
    assert reset(new_code()).status_code == 200
    assert _login(client, merchant.ubn, NEW_PASSWORD).status_code == 200


# --- item 5: throttled by source, a CAPTCHA per account, nothing told about accounts ---------------


def test_known_and_unknown_ubns_get_the_same_answers_under_repeated_failures(
    client, new_merchant, clock, from_ip, readable_captchas
):
    merchant = new_merchant()

    def sequence(ubn: str) -> list[tuple[int, Any, dict[str, str]]]:
        from_ip(random_ip())
        answers = [_answer(_login(client, ubn, "wrong-password-123")) for _ in range(5)]
        answers.append(_answer(_login(client, ubn, "wrong-password-123")))
        answers.append(_answer(_login(client, ubn, "wrong-password-123", _solved_captcha(client, "AAAAA"))))
        answers += [_answer(_login(client, ubn, "wrong-password-123", _solved_captcha(client))) for _ in range(4)]
        answers.append(_answer(_login(client, ubn, "wrong-password-123", _solved_captcha(client))))
        return answers

    known, unknown = sequence(merchant.ubn), sequence(random_ubn())
    codes = [body["error"]["code"] for _, body, _ in known]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["CAPTCHA_REQUIRED", "CAPTCHA_INVALID"] + [
        "INVALID_CREDENTIALS"
    ] * 4 + ["TOO_MANY_SIGN_IN_ATTEMPTS"]
    assert [status for status, _, _ in known] == [401] * 11 + [429]
    assert 1 <= int(known[-1][2]["retry-after"]) <= 900
    assert known == unknown


def test_the_owner_signs_in_with_the_right_password_and_a_captcha_whatever_others_tried(
    client, new_merchant, from_ip, readable_captchas
):
    merchant = new_merchant()
    from_ip(random_ip())  # someone who read the UBN off an invoice
    for _ in range(8):
        assert _login(client, merchant.ubn, "guessing-123456").status_code == 401

    from_ip(random_ip())  # the owner, elsewhere
    needs = _login(client, merchant.ubn, merchant.password)
    assert needs.status_code == 401
    assert body_of(needs)["error"]["code"] == "CAPTCHA_REQUIRED"
    assert body_of(needs)["error"]["message_zh"]

    challenge = client.http.post("/v1/auth/captcha")
    assert challenge.status_code == 200
    shown = body_of(challenge)
    assert shown["image"].startswith("data:image/png;base64,")
    assert shown["expires_in"] == 300
    assert challenge.headers["Cache-Control"] == "no-store"
    solved = {"captcha_id": shown["captcha_id"], "captcha_answer": CAPTCHA_TEXT.lower()}
    signed_in = _login(client, merchant.ubn, merchant.password, solved)
    assert signed_in.status_code == 200, signed_in.body
    bearer = {"Authorization": f"Bearer {body_of(signed_in)['access_token']}"}
    assert client.http.get("/v1/merchant", headers=bearer).status_code == 200
    # a challenge answers one attempt: the same one again is refused
    assert _code(_login(client, merchant.ubn, merchant.password, solved)) == "CAPTCHA_INVALID"
    # a wrong answer is refused even with the right password
    wrong = _solved_captcha(client, "XXXXX")
    assert _code(_login(client, merchant.ubn, merchant.password, wrong)) == "CAPTCHA_INVALID"
    events = _audit_events(client, merchant)
    assert events.count("login_failed") == 5  # the guesses past the fifth were never checked
    assert "login" in events


def test_staff_sign_in_follows_the_same_rules(client, staff_headers, from_ip, readable_captchas):
    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.dynamo_accounts import DynamoCredentials
    from chalicelib.services.staff import create_staff

    username = f"officer-{secrets.token_hex(4)}"
    create_staff(username, STAFF_PASSWORD, credentials=DynamoCredentials(), clock=SystemClock())

    def staff_login(password: str, captcha: dict[str, str] | None = None) -> Any:
        return post_json(
            client, "/v1/auth/staff/login", {"username": username, "password": password, **(captcha or {})}
        )

    from_ip(random_ip())
    for _ in range(5):
        assert _code(staff_login("wrong-password-123")) == "INVALID_CREDENTIALS"
    from_ip(random_ip())
    assert _code(staff_login(STAFF_PASSWORD)) == "CAPTCHA_REQUIRED"
    assert staff_login(STAFF_PASSWORD, _solved_captcha(client)).status_code == 200


def test_one_address_is_throttled_for_every_ubn_and_another_address_is_not(client, new_merchant, clock, from_ip):
    merchant = new_merchant()
    address = random_ip()
    from_ip(address)
    # fifty failures from one address, spread over UBNs so that no account reaches its own limit
    for n in range(50):
        ubn = merchant.ubn if n < 3 else random_ubn()
        assert _code(_login(client, ubn, "spraying-one-password")) == "INVALID_CREDENTIALS"
    known = _login(client, merchant.ubn, merchant.password)
    unknown = _login(client, random_ubn(), merchant.password)
    assert known.status_code == 429
    assert _code(known) == "TOO_MANY_SIGN_IN_ATTEMPTS"
    assert 1 <= int(known.headers["Retry-After"]) <= 900
    assert _answer(known) == _answer(unknown)

    from_ip(random_ip())
    assert _login(client, merchant.ubn, merchant.password).status_code == 200
    # the window over, the first address may try again
    clock.advance(minutes=15)
    from_ip(address)
    assert _login(client, merchant.ubn, merchant.password).status_code == 200
