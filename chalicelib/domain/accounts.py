"""Accounts as stored: a password credential, a signed-in session, where a refresh token leads, and
a one-time code sent to confirm a receiver or reset a password (its code only as a hash)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Credential(BaseModel):
    owner: str
    password_hash: str
    must_change_password: bool = False
    password_changed_at: datetime | None = None


class Session(BaseModel):
    owner: str
    session_id: str
    secret_hash: str
    family: str
    scopes: list[str] = []
    created_at: datetime
    expires_at: datetime


class RefreshPointer(BaseModel):
    session_id: str
    owner: str
    secret_hash: str
    family: str
    status: str  # active | rotated


class PendingCode(BaseModel):
    purpose: str
    code_hash: str
    target: str
    expires_at: datetime
    attempts: int = 0
