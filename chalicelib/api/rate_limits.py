"""Which rate limit applies to which request (docs/rate-limits.md), and the headers that say so.

Every request is counted per client IP against a flood limit (the HTTP middleware), and every API
route once more by its credential: per API key or per signed-in session, with issuing routes on
a limit sized for a POS fleet (50 tills × 5 invoices/s = 250/s on one key, sustained, is half of
it). Unauthenticated routes count per client IP instead, and the routes that check a password or
send a code (sign-in, forgotten password, reset, sign-up) also per UBN or username they name,
whether or not it exists: far stricter, because each attempt is a guess or a message.

The limits hold across containers (services/rate_limiter.py). Each response carries the
``RateLimit-*`` headers of the limit nearest to refusing it; a refusal is 429 with ``Retry-After``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Literal

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import RateLimited
from chalicelib.domain.rate_limits import Policy
from chalicelib.observability import logger
from chalicelib.services.principal import Principal
from chalicelib.services.rate_limiter import Decision
from chalicelib.settings import get_settings

#: What a route declares: ``None`` for its auth's default, ``issue`` for the issuing routes,
#: ``sign-in`` where a password is checked, ``recovery`` where a code or message is sent,
#: ``lookup`` for the buyer's public invoice look-up (each answer is a guess at a random number).
RateClass = Literal["issue", "sign-in", "recovery", "lookup"]

#: The limits at scale 1 (settings.rate_limit_scale multiplies them; the test suite raises it).
POLICIES: Mapping[str, Policy] = {
    p.name: p
    for p in (
        # Every request from one client IP: only against floods. A shop's tills behind one address
        # issue 250/s at most; four times that is still refused long before it hurts the service.
        Policy("client-ip", burst=2000, per_minute=60_000),
        # Per API key (ERP, POS) and per signed-in session (a person, the console).
        Policy("api-key", burst=200, per_minute=3000),
        Policy("session", burst=100, per_minute=1200),
        # Issuing (POST /v1/invoices and the other routes that take invoice or allowance numbers),
        # per key or session: 500/s sustained, bursts of 1,000.
        Policy("issue", burst=1000, per_minute=30_000),
        # Unauthenticated routes (look-up, announcements, the API document), per client IP.
        Policy("public", burst=120, per_minute=1200),
        # Sign-in and token refresh: per client IP, and per UBN or staff username.
        Policy("sign-in-ip", burst=20, per_minute=60),
        Policy("sign-in-account", burst=10, per_minute=20),
        # Forgotten password, reset and sign-up: each one sends a message or checks a code.
        Policy("recovery-ip", burst=5, per_minute=10),
        Policy("recovery-account", burst=3, per_minute=5),
        # The buyer's public invoice look-up: per client IP, and per invoice number (or seller and
        # order id) whoever asks, so that the 10,000 random numbers of one invoice cannot be tried
        # from many addresses either: 5 at once, then one a minute (a week for half of them).
        Policy("lookup-ip", burst=10, per_minute=10),
        Policy("lookup-invoice", burst=5, per_minute=1),
    )
}

#: The response headers (draft-ietf-httpapi-ratelimit-headers), on every response.
RESPONSE_HEADERS: Mapping[str, str] = {
    "RateLimit-Limit": "Requests the limit nearest to refusing this request allows at once (its burst).",
    "RateLimit-Remaining": "Requests left before that limit refuses; it refills at the policy's rate a minute.",
    "RateLimit-Reset": "Seconds until that limit is full again (0: it is full).",
    "RateLimit-Policy": 'That limit: its name, burst and rate a minute, e.g. `"issue";burst=1000;per-minute=30000`.',
}
RETRY_AFTER = "Seconds until the refused request would be granted (429 only); wait at least this long."
INTRODUCTION = (
    "**Rate limits.** Every request counts against a limit per client IP, and each route against its own "
    "(named in its description): per API key or signed-in session on authenticated routes, with the "
    "issuing routes sized for a POS fleet (50 tills at 5 invoices/s on one key is half of `issue`); per "
    "client IP on the others, and per UBN or username as well where a password is checked or a code "
    "is sent. Each is a burst (requests at once) refilled at a rate a minute. Every response carries "
    "`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy`; a refused "
    "request gets 429 `RATE_LIMITED` with `Retry-After`. The limits hold across all servers. "
    "docs/rate-limits.md has the details and how a client should pace itself."
)

_decisions: contextvars.ContextVar[list[Decision] | None] = contextvars.ContextVar("rate_decisions", default=None)


def policy(name: str) -> Policy:
    return POLICIES[name].scaled(get_settings().rate_limit_scale)


def begin_request() -> None:
    """Start collecting the decisions of one request (the middleware calls it first)."""
    _decisions.set([])


def check(name: str, subject: str) -> None:
    """Count the request against ``name`` for ``subject``; ``RateLimited`` when over the limit."""
    from chalicelib.api import deps

    chosen = policy(name)
    try:
        decision = deps.rate_limiter().check(chosen, subject)
    except (BotoCoreError, ClientError) as exc:
        # The limiter's table unreachable: let the request through rather than refuse everyone;
        # the route itself answers 503 if it needs the same table.
        logger.warning("rate limiter unavailable", extra={"error": type(exc).__name__, "policy": name})
        return
    decisions = _decisions.get()
    if decisions is not None:
        decisions.append(decision)
    if not decision.allowed:
        raise RateLimited(
            "RATE_LIMITED",
            f"Too many requests ({chosen.name}: {chosen.burst} at once, {chosen.per_minute} a minute); "
            f"retry after {decision.retry_after} s",
            f"請求過於頻繁（{chosen.name}：瞬間上限 {chosen.burst} 次，每分鐘 {chosen.per_minute} 次），"
            f"請於 {decision.retry_after} 秒後再試",
            retry_after=decision.retry_after,
        )


def check_credential(principal: Principal, rate: RateClass | None) -> None:
    """The per-key or per-session limit of an authenticated route."""
    if principal.via == "api_key":
        subject = f"{principal.owner}#key:{principal.api_key_id}"
        name = "issue" if rate == "issue" else "api-key"
    else:
        subject = f"{principal.owner}#session:{principal.session_id or '-'}"
        name = "issue" if rate == "issue" else "session"
    check(name, subject)


# ``issue`` on a public route: payment notices, which a payment provider sends from few addresses.
_PUBLIC_IP_POLICY = {"sign-in": "sign-in-ip", "recovery": "recovery-ip", "issue": "issue", "lookup": "lookup-ip"}
_ACCOUNT_POLICY = {"recovery": "recovery-account", "lookup": "lookup-invoice"}
_ACCOUNT_NAMED = {"lookup": "invoice number, or seller UBN and order id"}


def check_public(ip: str, rate: RateClass | None) -> None:
    """The per-IP limit of an unauthenticated route, before anything is read."""
    check(_PUBLIC_IP_POLICY.get(rate or "", "public"), f"ip:{ip or 'unknown'}")


def check_account(account: str, rate: RateClass | None) -> None:
    """The per-UBN (or staff username) limit of a sign-in or recovery route, or the per-invoice limit
    of the look-up; the account need not exist, so the answer never tells a real account from an
    unknown one."""
    name = _ACCOUNT_POLICY.get(rate or "", "sign-in-account")
    check(name, f"account:{account.strip().upper() or '-'}")


def headers() -> dict[str, str]:
    """The ``RateLimit-*`` headers for this request: those of the limit nearest to refusing it."""
    decisions = _decisions.get()
    if not decisions:
        return {}
    nearest = min(decisions, key=lambda d: (d.allowed, d.remaining, -d.reset))
    return {
        "RateLimit-Limit": str(nearest.policy.burst),
        "RateLimit-Remaining": str(nearest.remaining),
        "RateLimit-Reset": str(nearest.reset),
        "RateLimit-Policy": nearest.policy.header(),
    }


def applied(auth: str, rate: RateClass | None, by_account: bool, scoped: bool) -> list[tuple[str, str]]:
    """The limits a route counts against, after the per-IP flood limit: (policy, counted per)."""
    if auth == "public":
        limits = [(_PUBLIC_IP_POLICY.get(rate or "", "public"), "client IP")]
        if by_account:
            named = _ACCOUNT_NAMED.get(rate or "", "UBN or username")
            limits.append((_ACCOUNT_POLICY.get(rate or "", "sign-in-account"), named))
        return limits
    name = "issue" if rate == "issue" else None
    limits = [(name or "session", "signed-in session")]
    if scoped:
        limits.append((name or "api-key", "API key"))
    return limits


def describe(auth: str, rate: RateClass | None, by_account: bool, scoped: bool) -> str:
    """One line for the route's OpenAPI description (at scale 1, as every stage runs)."""
    parts = [
        f"`{name}` per {per} ({POLICIES[name].burst:,} at once, {POLICIES[name].per_minute:,} a minute)"
        for name, per in applied(auth, rate, by_account, scoped)
    ]
    return "Rate limit: " + "; ".join(parts) + ". See the `RateLimit-*` headers and docs/rate-limits.md."


_COUNTED_PER = {
    "client-ip": "client IP, every request (API and console)",
    "api-key": "API key, authenticated routes",
    "session": "signed-in session, authenticated routes",
    "issue": "API key or session on the issuing routes; client IP on payment notices",
    "public": "client IP, unauthenticated routes",
    "sign-in-ip": "client IP: sign-in, token refresh",
    "sign-in-account": "UBN or staff username: sign-in",
    "recovery-ip": "client IP: forgotten password, reset, sign-up",
    "recovery-account": "UBN: forgotten password, reset, account activation",
    "lookup-ip": "client IP: the buyer's invoice look-up and its proof download",
    "lookup-invoice": "invoice number (or seller UBN + order id), whoever asks: the buyer's invoice look-up",
}


def policy_table() -> str:
    """The limits as a Markdown table (docs/rate-limits.md and the OpenAPI's introduction)."""
    rows = [f"| `{p.name}` | {_COUNTED_PER[p.name]} | {p.burst:,} | {p.per_minute:,} |" for p in POLICIES.values()]
    return "\n".join(["| policy | counted per | burst (at once) | sustained (a minute) |", "|---|---|---|---|", *rows])
