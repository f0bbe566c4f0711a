"""The CloudFormation template merged into `chalice package`: tables, bucket, gateway responses.

Usage: python -m infra.template STAGE OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.api.errors import GATEWAY_ERRORS, error_body
from infra.resources import cloudformation_resources


def _gateway_responses() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for gateway_error in GATEWAY_ERRORS:
        body = json.dumps(
            error_body(gateway_error.code, gateway_error.message, gateway_error.message_zh),
            ensure_ascii=False,
        )
        logical_id = "GatewayResponse" + gateway_error.response_type.title().replace("_", "")
        resources[logical_id] = {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {
                "RestApiId": {"Ref": "RestAPI"},
                "ResponseType": gateway_error.response_type,
                "StatusCode": str(gateway_error.status),
                "ResponseTemplates": {"application/json": body},
                "ResponseParameters": {
                    "gatewayresponse.header.Content-Type": "'application/json; charset=utf-8'",
                    "gatewayresponse.header.X-Request-Id": "context.requestId",
                },
            },
        }
    return resources


def merge_template(stage: str) -> dict[str, Any]:
    resources = cloudformation_resources(stage)
    resources.update(_gateway_responses())
    return {"Resources": resources}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    stage, out = argv
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(merge_template(stage), indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
