"""`chalice package` produces a deployable template with our tables, bucket and policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.policy import policy_document
from infra.resources import ARTIFACTS, OUTBOX_STREAM, TABLES
from infra.template import merge_template

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    merge = out / "merge.json"
    merge.write_text(json.dumps(merge_template("dev")), encoding="utf-8")
    env = {**os.environ, "AWS_DEFAULT_REGION": "ap-northeast-1"}
    subprocess.run(  # noqa: S603 - fixed argv
        [str(BIN / "chalice"), "package", "--stage", "dev", "--merge-template", str(merge), str(out / "pkg")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return out / "pkg"


def test_packaged_template_passes_cfn_lint(packaged):
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(BIN / "cfn-lint"), str(packaged / "sam.json")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_deploys_every_table_and_the_bucket(packaged):
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    for table in TABLES:
        props = resources[table.logical_id]["Properties"]
        assert props["TableName"] == table.name("dev")
        assert props["SSESpecification"] == {"SSEEnabled": True}
    bucket = resources[ARTIFACTS.logical_id]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    idempotency = resources["IdempotencyTable"]["Properties"]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_unknown_paths_answer_404_in_the_error_shape_when_deployed(packaged):
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    missing = resources["GatewayResponseMissingAuthenticationToken"]["Properties"]
    assert missing["StatusCode"] == "404"
    body = json.loads(missing["ResponseTemplates"]["application/json"])
    assert body["error"]["code"] == "NOT_FOUND"


def test_functions_run_with_the_stage_policy_naming_its_own_resources(packaged):
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    role = resources["ApiHandlerRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    text = json.dumps(statements)
    for table in TABLES:
        assert f"table/{table.name('dev')}" in text
        assert f"table/{table.name('prod')}" not in text
    assert ARTIFACTS.name("dev") in text


def test_deployed_functions_read_the_root_secret_from_the_stage_parameter_they_may_read(packaged):
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["SECRET_KEY_PARAMETER"] == "/einvoice/dev/secret-key"
    assert "SECRET_KEY" not in variables
    statements = resources["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    granted = [(s["Action"], s["Resource"]) for s in statements if "ssm:GetParameter" in s["Action"]]
    assert granted == [(["ssm:GetParameter"], "arn:aws:ssm:*:*:parameter/einvoice/dev/secret-key")]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_policy_files_are_generated_from_the_resource_definitions(stage):
    committed = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    assert committed == policy_document(stage), f"run: python -m infra.policy {stage} > .chalice/policy-{stage}.json"


def test_the_outbox_function_reads_the_invoices_tables_own_stream_filtered_to_outbox_work(packaged):
    resources = json.loads((packaged / "sam.json").read_text())["Resources"]
    function = resources[OUTBOX_STREAM.function_logical_id]["Properties"]
    source = function["Events"][OUTBOX_STREAM.event_logical_id]
    assert source["Type"] == "DynamoDB"
    properties = source["Properties"]
    # Not the stand-in ARN Chalice needed at import: the stream CloudFormation creates with the table.
    assert properties["Stream"] == {"Fn::GetAtt": ["InvoicesTable", "StreamArn"]}
    assert resources["InvoicesTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    [pattern] = [json.loads(f["Pattern"]) for f in properties["FilterCriteria"]["Filters"]]
    assert pattern["dynamodb"]["Keys"]["sk"] == {"S": [{"prefix": "OUTBOX#"}]}
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["BisectBatchOnFunctionError"] is True
    # The function's timeout is the one .chalice/config.json gives it (PDFs take seconds).
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert function["Timeout"] == config["lambda_functions"]["handle_outbox_stream"]["lambda_timeout"]
    # No queue is left: nothing sends wake-ups.
    assert not [r for r in resources.values() if r["Type"] == "AWS::SQS::Queue"]
