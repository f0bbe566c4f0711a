"""Security building blocks for sign-in: password hashing and policy, sign-in throttling, the
CAPTCHA, tokens, API keys, one-time codes, certificate sign-up and nonces.

Everything here is pure: no AWS, no I/O, no clock reads. Callers pass ``now`` and secrets in, so the
use cases decide where keys live and when "now" is, and tests need no freezing of time.
"""
