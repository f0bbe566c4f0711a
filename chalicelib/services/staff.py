"""Tax-office staff accounts. They are created by an operator (infra/manage.py), never by sign-up."""

from __future__ import annotations

import re

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.owners import staff_owner
from chalicelib.security.passwords import check_password_policy, hash_password
from chalicelib.services.ports import CredentialStore

_USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,63}")


def create_staff(username: str, password: str, *, credentials: CredentialStore, clock: Clock) -> None:
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "INVALID_USERNAME",
            "A staff username is 3-64 lowercase letters, digits, '.', '_' or '-', starting with a letter",
            "人員帳號須為 3 至 64 個小寫英文字母、數字或 . _ -，並以字母開頭",
            "username",
        )
    check_password_policy(password, None, field="password")
    credentials.create(staff_owner(username), hash_password(password), must_change_password=False, at=clock.now())
