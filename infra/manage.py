"""Operator commands. Staff accounts have no sign-up: an operator creates them here.

    printf '%s\\n' "$PASSWORD" | python -m infra.manage create-staff --username alice --password-stdin
    python -m infra.manage --stage prod seal-qr-keys   # once, after the deployment that seals keys

The password is read from standard input, never from the command line, where it would end up
in the shell history and in ``ps``. The command talks to whatever the environment names, like the
functions do: AWS with the usual credentials, or DynamoDB Local when ``AWS_ENDPOINT_URL_DYNAMODB``
is set. ``--stage`` fills in the stage's table names when ``MERCHANTS_TABLE`` is not set.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo_accounts import DynamoCredentials
from chalicelib.domain.errors import DomainError
from chalicelib.services.staff import create_staff
from infra.resources import stage_environment

EXIT_OK = 0
EXIT_REFUSED = 1  # the platform refused: invalid username, weak password, existing account
EXIT_USAGE = 2  # argparse's own code for a bad command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.manage", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--stage",
        choices=("local", "dev", "prod"),
        help="name the stage's tables unless the environment does",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    staff = commands.add_parser("create-staff", help="create a tax-office staff account")
    staff.add_argument("--username", required=True, help="3-64 lowercase letters, digits, . _ -")
    staff.add_argument(
        "--password-stdin", action="store_true", required=True, help="read the password from standard input"
    )
    commands.add_parser(
        "seal-qr-keys", help="seal the QR-code AES keys still stored in plain (profiles from before sealing)"
    )
    return parser


def _read_password(stream: TextIO) -> str:
    # One line; only the line ending is removed, so a password may start or end with spaces.
    return stream.readline().rstrip("\r\n")


def _apply_stage(stage: str | None) -> None:
    if stage:
        os.environ.setdefault("STAGE", stage)
        for name, value in stage_environment(stage).items():
            os.environ.setdefault(name, value)


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    _apply_stage(args.stage)
    if args.command == "create-staff":
        password = _read_password(stdin or sys.stdin)
        if not password:
            print("No password on standard input / 標準輸入沒有密碼", file=sys.stderr)
            return EXIT_USAGE
        try:
            create_staff(args.username, password, credentials=DynamoCredentials(), clock=SystemClock())
        except DomainError as exc:
            print(f"{exc.code}: {exc.message} / {exc.message_zh}", file=sys.stderr)
            return EXIT_REFUSED
        print(f"Staff account {args.username} created / 已建立人員帳號 {args.username}")
    elif args.command == "seal-qr-keys":
        from chalicelib.adapters.dynamo_merchants import DynamoMerchants

        count = DynamoMerchants().seal_plain_qr_keys()
        print(f"{count} QR keys sealed / 已加密 {count} 組 QR Code 金鑰")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
