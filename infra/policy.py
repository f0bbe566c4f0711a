"""Least-privilege IAM policy per stage, naming exactly that stage's tables, bucket, queues and
root-secret parameter (the one ``.chalice/config.json`` names as the stage's ``SECRET_KEY_PARAMETER``).

`autogen_policy` is off: Chalice only analyses app.py, and our AWS calls live in chalicelib.
The files in .chalice/ are generated from here; a test keeps them in sync.

Usage: python -m infra.policy STAGE  (prints the policy)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from infra.resources import ARTIFACTS, TABLES

CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


def secret_parameter(stage: str) -> str:
    """The SSM parameter holding the stage's root secret, as the stage's functions are told it."""
    stages = json.loads(CONFIG.read_text(encoding="utf-8"))["stages"]
    name = stages.get(stage, {}).get("environment_variables", {}).get("SECRET_KEY_PARAMETER")
    if not isinstance(name, str) or not name:
        raise ValueError(f"stage {stage!r} names no SECRET_KEY_PARAMETER in {CONFIG}")
    return name


def parameter_arn(name: str) -> str:
    # A hierarchical name ("/einvoice/dev/secret-key") keeps its leading slash as the ARN's separator.
    return f"arn:aws:ssm:*:*:parameter{name if name.startswith('/') else '/' + name}"


def policy_document(stage: str) -> dict[str, Any]:
    table_arns = [f"arn:aws:dynamodb:*:*:table/{t.name(stage)}" for t in TABLES]
    index_arns = [f"{arn}/index/*" for arn in table_arns]
    stream_arns = [f"arn:aws:dynamodb:*:*:table/{t.name(stage)}/stream/*" for t in TABLES if t.stream]
    bucket = ARTIFACTS.name(stage)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "arn:aws:logs:*:*:*",
            },
            {
                "Sid": "Tracing",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
            {
                "Sid": "Tables",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",  # the period jobs visit every merchant (adapters/dynamo_directory.py)
                    "dynamodb:BatchGetItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:DescribeTable",
                ],
                "Resource": table_arns + index_arns,
            },
            {
                "Sid": "Streams",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "Resource": stream_arns,
            },
            {
                "Sid": "ArtifactObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
            {
                "Sid": "ArtifactBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Sid": "Mail",
                "Effect": "Allow",
                "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                "Resource": "arn:aws:ses:*:*:identity/*",
            },
            # SMS to a phone number has no ARN to name; SNS requires "*" for direct publishes.
            {"Sid": "Sms", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"},
            {
                # Read once per container (chalicelib/adapters/keys.py). No kms:Decrypt: the parameter
                # is a SecureString under the AWS managed key aws/ssm, whose key policy lets the
                # account's principals decrypt through SSM only. A customer managed key would need
                # kms:Decrypt on that key, conditioned on kms:ViaService ssm.<region>.amazonaws.com.
                "Sid": "RootSecret",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": parameter_arn(secret_parameter(stage)),
            },
        ],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(policy_document(argv[0]), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
