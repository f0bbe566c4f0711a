"""Console cookies: which flags each place gets, and the double-submit CSRF check."""

from __future__ import annotations

from chalicelib.web.cookies import CookiePolicy, csrf_matches, parse_cookies


def test_a_deployed_stage_gets_host_only_secure_cookies() -> None:
    policy = CookiePolicy.for_request(
        is_local=False, host="abc.execute-api.ap-northeast-1.amazonaws.com", forwarded_proto="https", prefix=""
    )
    line = policy.set("einv_at", "token")
    assert line.startswith("__Host-einv_at=token;")
    assert {"Path=/", "SameSite=Strict", "HttpOnly", "Secure"} <= {part.strip() for part in line.split(";")}


def test_behind_a_stage_prefix_the_cookie_is_scoped_to_the_stage() -> None:
    policy = CookiePolicy.for_request(
        is_local=False, host="abc.execute-api.amazonaws.com", forwarded_proto="https", prefix="/api"
    )
    line = policy.set("einv_at", "token")
    # __Host- requires Path=/, so the stage-scoped cookie takes the __Secure- prefix instead
    assert line.startswith("__Secure-einv_at=token;") and "Path=/api/" in line and "Secure" in line


def test_only_plain_http_on_loopback_in_the_local_stage_drops_secure() -> None:
    local = CookiePolicy.for_request(is_local=True, host="127.0.0.1:8000", forwarded_proto=None, prefix="")
    assert "Secure" not in local.set("einv_at", "t") and local.name("einv_at") == "einv_at"
    for host in ("localhost:8123", "[::1]:8000"):
        assert not CookiePolicy.for_request(is_local=True, host=host, forwarded_proto=None, prefix="").secure
    # the local stage reached by another name, or through https, keeps Secure
    assert CookiePolicy.for_request(is_local=True, host="console.example.com", forwarded_proto=None, prefix="").secure
    assert CookiePolicy.for_request(is_local=True, host="127.0.0.1:8000", forwarded_proto="https", prefix="").secure


def test_a_cleared_cookie_expires_at_once() -> None:
    policy = CookiePolicy(secure=False, path="/")
    assert "Max-Age=0" in policy.clear("einv_at") and policy.clear("einv_at").startswith("einv_at=;")


def test_cookie_header_parsing_keeps_the_first_of_a_repeated_name() -> None:
    assert parse_cookies('a=1; b="2"; a=3;junk; =x') == {"a": "1", "b": "2"}
    assert parse_cookies(None) == {}


def test_csrf_needs_both_halves_and_equality() -> None:
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd")
    assert not csrf_matches(None, "abc") and not csrf_matches("abc", None) and not csrf_matches("", "")
