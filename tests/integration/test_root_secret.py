"""The deployed stages' root secret: an SSM SecureString named in the stage's configuration, read
from SSM (moto's server here) once per container."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

import pytest
from botocore.config import Config

from chalicelib.adapters.aws import new_client
from chalicelib.adapters.keys import MissingSecret, derived_key, root_secret
from infra.policy import policy_document

ROOT = Path(__file__).resolve().parents[2]


def _ssm() -> object:
    # The test's own client straight to moto's SSM, not the one the code under test builds.
    return new_client("ssm", "ap-northeast-1", os.environ["AWS_ENDPOINT_URL_SSM"], Config())


def _put(name: str, value: str) -> None:
    _ssm().put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)  # type: ignore[attr-defined]


@pytest.fixture
def parameter(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh parameter name, named the way a deployed stage names it, with no SECRET_KEY."""
    name = f"/einvoice/test-{secrets.token_hex(6)}/secret-key"
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_PARAMETER", name)
    return name


def test_the_root_secret_is_read_from_the_named_secure_string(parameter: str) -> None:
    value = secrets.token_urlsafe(48)
    _put(parameter, value)
    assert root_secret() == value.encode()
    expected = hmac.new(value.encode(), b"einvoice:access-tokens", hashlib.sha256).digest()
    assert derived_key("access-tokens") == expected


def test_the_parameter_is_read_once_per_container(parameter: str) -> None:
    first = secrets.token_urlsafe(48)
    _put(parameter, first)
    assert root_secret() == first.encode()
    _put(parameter, secrets.token_urlsafe(48))
    assert root_secret() == first.encode()


def test_a_named_parameter_is_used_rather_than_a_secret_key_in_the_environment(
    parameter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = secrets.token_urlsafe(48)
    _put(parameter, value)
    monkeypatch.setenv("SECRET_KEY", "a-stray-secret-key-with-at-least-32-characters")
    assert root_secret() == value.encode()


def test_a_missing_parameter_is_reported_by_name(parameter: str) -> None:
    with pytest.raises(MissingSecret, match=parameter):
        root_secret()


def test_a_parameter_shorter_than_32_characters_is_refused(parameter: str) -> None:
    _put(parameter, "too-short")
    with pytest.raises(MissingSecret, match="at least 32"):
        root_secret()


def test_without_a_parameter_the_secret_key_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY_PARAMETER", raising=False)
    monkeypatch.setenv("SECRET_KEY", "local-secret-key-with-at-least-32-characters")
    assert root_secret() == b"local-secret-key-with-at-least-32-characters"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_deployed_stage_names_its_parameter_and_may_read_only_that(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    name = config["stages"][stage]["environment_variables"]["SECRET_KEY_PARAMETER"]
    assert name == f"/einvoice/{stage}/secret-key"
    statements = policy_document(stage)["Statement"]
    secret_statements = [s for s in statements if any(a.startswith(("ssm:", "kms:")) for a in s["Action"])]
    assert secret_statements == [
        {
            "Sid": "RootSecret",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": f"arn:aws:ssm:*:*:parameter/einvoice/{stage}/secret-key",
        }
    ]
