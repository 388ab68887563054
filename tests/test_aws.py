"""bot/live/aws.py against moto (a local server on loopback) and botocore's Stubber.

moto serves stacks, templates, exports, STS and (Replacement-less) change sets; it does
not implement ListImports, so that and every error case go through the Stubber.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bot.core.assembly import load_assembly
from bot.core.context import build_context
from bot.core.model import Environment
from bot.live import aws
from tests.aws_fixtures import isolate_credentials
from tests.builders import AppBuilder, ref

ACCOUNT, REGION = "123456789012", "us-east-1"
ENV = Environment(ACCOUNT, REGION)
BUCKET = "assets-bucket"


# --- moto on loopback, once per module --------------------------------------------------------


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_credentials(monkeypatch, tmp_path)


@pytest.fixture
def moto(moto_url: str) -> str:
    """The server, emptied: every test starts from an empty account."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    return moto_url


def moto_factory(url: str) -> aws.ClientFactory:
    return aws.client_factory(endpoint_url=url, config=aws.client_config(max_attempts=1))


def moto_client(url: str, service: str = "cloudformation") -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=url)


def deploy(url: str, name: str, template: dict[str, Any] | str) -> None:
    body = template if isinstance(template, str) else json.dumps(template)
    moto_client(url).create_stack(StackName=name, TemplateBody=body)


def upload_assets(url: str, *keys: str) -> None:
    s3 = moto_client(url, "s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"PK")


def stubbed(service: str = "cloudformation") -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    return client, Stubber(client)


def identity(account: str = ACCOUNT) -> dict[str, str]:
    return {"UserId": "AIDA", "Account": account, "Arn": f"arn:aws:iam::{account}:user/ci"}


def stub_factory(cloudformation: Any, account: str = ACCOUNT) -> aws.ClientFactory:
    sts, sts_stub = stubbed("sts")
    sts_stub.add_response("get_caller_identity", identity(account))
    sts_stub.activate()
    return lambda service, region: sts if service == "sts" else cloudformation


# --- reading an environment from moto ------------------------------------------------------------


def layer_template(key: str, export: str = "shared-layer-arn") -> dict[str, Any]:
    return {
        "Resources": {
            "Layer": {"Type": "AWS::Lambda::LayerVersion",
                      "Properties": {"Content": {"S3Bucket": BUCKET, "S3Key": key}}},
        },
        "Outputs": {"LayerArn": {"Value": ref("Layer"), "Export": {"Name": export}}},
    }


YAML_TEMPLATE = """\
AWSTemplateFormatVersion: 2010-09-09
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '${AWS::StackName}-queue'
Outputs:
  QueueArn:
    Value: !GetAtt Queue.Arn
    Export:
      Name: !Sub '${AWS::StackName}-queue-arn'
  QueueUrl:
    Value: !Ref Queue
"""


def test_reads_exports_and_deployed_templates(moto: str) -> None:
    upload_assets(moto, "k1.zip")
    deploy(moto, "Producer", layer_template("k1.zip"))
    deploy(moto, "Yaml", YAML_TEMPLATE)
    facts = aws.read_environment(moto_factory(moto), ENV, ["Producer", "Yaml", "NotThere"])
    assert facts.account == ACCOUNT
    assert facts.exports is not None
    assert set(facts.exports) == {"shared-layer-arn", "Yaml-queue-arn"}
    assert facts.exporters == {"shared-layer-arn": "Producer", "Yaml-queue-arn": "Yaml"}
    assert facts.templates["Producer"] == layer_template("k1.zip")
    yaml_template = facts.templates["Yaml"]
    assert yaml_template is not None
    assert yaml_template["AWSTemplateFormatVersion"] == "2010-09-09"  # a date stays text
    assert yaml_template["Outputs"]["QueueArn"]["Value"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert yaml_template["Outputs"]["QueueUrl"]["Value"] == {"Ref": "Queue"}
    assert facts.templates["NotThere"] is None
    assert facts.problems == (f"{ENV}: stack NotThere is not deployed (GetTemplate: it does not exist)",)


def test_list_exports_follows_pages(moto: str) -> None:
    outputs = {f"O{i}": {"Value": f"value-{i}", "Export": {"Name": f"export-{i:03}"}} for i in range(130)}
    deploy(moto, "Many", {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": outputs})
    facts = aws.read_environment(moto_factory(moto), ENV, [])
    assert facts.exports is not None and len(facts.exports) == 130  # moto pages by 100
    assert facts.exports["export-129"] == "value-129"


def test_other_account_is_skipped_with_a_line(moto: str) -> None:
    facts = aws.read_environment(moto_factory(moto), Environment("999999999999", REGION), ["P"])
    assert facts.exports is None
    assert facts.problems == (
        f"aws://999999999999/{REGION}: the credentials are for account {ACCOUNT}, not 999999999999; live "
        "checks skipped for this environment (use --aws-profile with credentials for that account)",
    )


def test_environment_agnostic_stacks_are_skipped_with_a_line() -> None:
    facts = aws.read_environment(lambda s, r: pytest.fail("no client"), Environment.parse(None), ["B", "A"])
    assert facts.problems == (
        "live check skipped for A, B: environment-agnostic (no region in the assembly), so where they "
        "deploy is not known; give them an env (account and region) to check them",
    )


# --- YAML short forms ------------------------------------------------------------------------------


def test_yaml_short_forms_become_long_form() -> None:
    body = """\
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Condition: IsProd
    Properties:
      Layers:
        - !ImportValue shared-layer-arn
        - !ImportValue
          Fn::Sub: '${Stage}-layer'
      Role: !GetAtt [Role, Arn]
      Handler: !If [IsProd, a, !Ref AWS::NoValue]
      Description: !Join ['-', [!Ref AWS::StackName, !Select [0, !GetAZs '']]]
      Env: !GetAtt Nested.Outputs.Value
      Flag: !Condition IsProd
      Blob: !Base64 text
"""
    template = aws.parse_template(body)
    props = template["Resources"]["Fn"]["Properties"]
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert props["Layers"] == [{"Fn::ImportValue": "shared-layer-arn"},
                               {"Fn::ImportValue": {"Fn::Sub": "${Stage}-layer"}}]
    assert props["Role"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert props["Handler"] == {"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]}
    assert props["Description"] == {"Fn::Join": ["-", [{"Ref": "AWS::StackName"},
                                                       {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]]}
    assert props["Env"] == {"Fn::GetAtt": ["Nested", "Outputs.Value"]}
    assert props["Flag"] == {"Condition": "IsProd"}
    assert props["Blob"] == {"Fn::Base64": "text"}


def test_unreadable_template_body_is_an_aws_error() -> None:
    with pytest.raises(aws.AwsError, match="neither JSON nor YAML"):
        aws.parse_template("Resources: [unclosed")
    with pytest.raises(aws.AwsError, match="not an object"):
        aws.parse_template("- a list")


# --- ListImports (Stubber) -------------------------------------------------------------------------


def facts_with(*exports: str) -> aws.LiveFacts:
    return aws.LiveFacts(ENV, exports={e: "v" for e in exports}, account=ACCOUNT)


def test_list_imports_follows_pages_and_sorts() -> None:
    client, stub = stubbed()
    stub.add_response("list_imports", {"Imports": ["Zeta", "Alpha"], "NextToken": "t1"}, {"ExportName": "e1"})
    stub.add_response("list_imports", {"Imports": ["Mid"]}, {"ExportName": "e1", "NextToken": "t1"})
    stub.add_client_error("list_imports", "ValidationError", "Export 'e2' is not imported by any stack.",
                          expected_params={"ExportName": "e2"})
    with stub:
        facts = aws.read_importers(lambda s, r: client, facts_with("e1", "e2"), ["e2", "e1", "not-deployed"])
        stub.assert_no_pending_responses()
    assert facts.importers == {"e1": ("Alpha", "Mid", "Zeta"), "e2": (), "not-deployed": ()}
    assert facts.problems == ()


def test_access_denied_names_the_api_and_the_iam_action() -> None:
    client, stub = stubbed()
    stub.add_client_error("list_imports", "AccessDenied", "User: arn:aws:iam::1:user/ci is not authorized",
                          expected_params={"ExportName": "e1"})
    with stub:
        facts = aws.read_importers(lambda s, r: client, facts_with("e1"), ["e1"])
    assert "e1" not in facts.importers  # unknown, not "nobody"
    assert facts.problems == (
        f"{ENV}: ListImports (e1): access denied; the credentials need the IAM action "
        "cloudformation:ListImports (User: arn:aws:iam::1:user/ci is not authorized)",
    )


def test_access_denied_on_list_exports_leaves_exports_unknown_but_reads_templates() -> None:
    client, stub = stubbed()
    stub.add_client_error("list_exports", "AccessDenied", "denied")
    stub.add_response("get_template", {"TemplateBody": json.dumps({"Resources": {}})},
                      {"StackName": "P", "TemplateStage": "Original"})
    with stub:
        facts = aws.read_environment(stub_factory(client), ENV, ["P"])
        stub.assert_no_pending_responses()
    assert facts.exports is None
    assert facts.templates == {"P": {"Resources": {}}}
    assert facts.problems == (
        f"{ENV}: ListExports: access denied; the credentials need the IAM action cloudformation:ListExports (denied)",
    )


class _Throttling(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                b"<Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>")
        self.send_response(400)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_throttling_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)  # skip the backoff waits
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cloudformation = boto3.client("cloudformation", region_name=REGION, endpoint_url=url,
                                      config=aws.client_config(max_attempts=3))
        facts = aws.read_environment(stub_factory(cloudformation), ENV, [])
    finally:
        server.shutdown()
        server.server_close()
    assert _Throttling.calls == 4  # botocore's max_attempts=3 means 3 retries after the first call
    assert facts.problems == (
        f"{ENV}: ListExports: throttled by AWS, still after 3 retries with backoff; try again later",
    )


def test_missing_credentials_is_one_line_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    facts = aws.read_environment(aws.client_factory(config=aws.client_config(max_attempts=1)), ENV, ["P"])
    assert facts.exports is None and facts.templates == {}
    (line,) = facts.problems
    assert line.startswith(f"{ENV}: no usable AWS credentials (Unable to locate credentials); live checks skipped")


def test_unknown_profile_is_one_line() -> None:
    facts = aws.read_environment(aws.client_factory("no-such-profile"), ENV, ["P"])
    assert facts.problems == (f"{ENV}: The config profile (no-such-profile) could not be found; live checks skipped",)


def test_region_that_does_not_exist_is_one_line() -> None:
    with socket.socket() as sock:  # a port nothing listens on: the endpoint is unreachable
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    factory = aws.client_factory(endpoint_url=f"http://127.0.0.1:{port}",
                                 config=aws.client_config(max_attempts=1, connect_timeout=1))
    facts = aws.read_environment(factory, Environment(ACCOUNT, "xx-nowhere-1"), ["P"])
    (line,) = facts.problems
    assert line.startswith(f"aws://{ACCOUNT}/xx-nowhere-1: GetCallerIdentity: cannot reach the endpoint for region "
                           "xx-nowhere-1 (")
    assert line.endswith("the region xx-nowhere-1 does not exist (botocore knows no such CloudFormation "
                         "region); live checks skipped")


# --- change sets ------------------------------------------------------------------------------------

DEPLOYED = {
    "Parameters": {"BootstrapVersion": {"Type": "String"}},
    "Resources": {
        "Layer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": {"S3Key": "k1.zip"}}},
        "Thing": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn", "Size": 1}},
        "Quiet": {"Type": "AWS::SQS::Queue"},
    },
}
HEAD = {
    "Parameters": {"BootstrapVersion": {"Type": "String"}, "NewParam": {"Type": "String", "Default": "x"}},
    "Resources": {
        "Layer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": {"S3Key": "k2.zip"}}},
        "Thing": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn", "Size": 2}},
        "Quiet": {"Type": "AWS::SQS::Queue"},
        "Added": {"Type": "AWS::SQS::Queue"},
    },
}
BODY = json.dumps(HEAD, indent=1)
COMPACT = json.dumps(HEAD, separators=(",", ":"))
NAME = "cdk-export-guard-abcd1234"
CS_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{NAME}/1"


def deployed_facts() -> aws.LiveFacts:
    return aws.LiveFacts(ENV, exports={}, templates={"Producer": DEPLOYED}, account=ACCOUNT)


def stub_create(stub: Stubber) -> None:
    stub.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "Producer", "CreationTime": "2024-01-01T00:00:00Z",
                     "StackStatus": "UPDATE_COMPLETE",
                     "Parameters": [{"ParameterKey": "BootstrapVersion", "ParameterValue": "/cdk/version"}]}]},
        {"StackName": "Producer"},
    )
    stub.add_response(
        "create_change_set",
        {"Id": CS_ARN, "StackId": "stack-id"},
        {
            "StackName": "Producer",
            "ChangeSetName": NAME,
            "ChangeSetType": "UPDATE",
            "TemplateBody": COMPACT,
            "Parameters": [{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Description": "cdk-export-guard: read-only preview of the head template; never executed",
        },
    )


def describe(status: str, changes: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"ChangeSetName": NAME, "Status": status, "Changes": changes or [], **extra}


def modify(logical_id: str, replacement: str) -> dict[str, Any]:
    return {"Type": "Resource", "ResourceChange": {"Action": "Modify", "LogicalResourceId": logical_id,
                                                  "ResourceType": "X", "Replacement": replacement}}


def stub_delete(stub: Stubber) -> None:
    stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN, "StackName": "Producer"})


def run_change_set(client: Any, **kwargs: Any) -> aws.LiveFacts:
    return aws.read_replacements(lambda s, r: client, deployed_facts(), {"Producer": BODY},
                                 sleep=kwargs.pop("sleep", lambda s: None), token=lambda: "abcd1234", **kwargs)


def test_change_set_verdicts_are_read_then_the_change_set_deleted() -> None:
    client, stub = stubbed()
    stub_create(stub)
    expected = {"ChangeSetName": CS_ARN, "StackName": "Producer"}
    stub.add_response("describe_change_set", describe("CREATE_IN_PROGRESS"), expected)
    stub.add_response("describe_change_set", describe("CREATE_COMPLETE", [modify("Layer", "True")], NextToken="n"),
                      expected)
    stub.add_response("describe_change_set",
                      describe("CREATE_COMPLETE", [modify("Thing", "Conditional"),
                                                   {"Type": "Resource", "ResourceChange": {
                                                       "Action": "Add", "LogicalResourceId": "Added"}}]),
                      {**expected, "NextToken": "n"})
    stub_delete(stub)
    with stub:
        facts = run_change_set(client)
        stub.assert_no_pending_responses()
    assert facts.replacements == {
        ("Producer", "Layer"): "True",
        ("Producer", "Thing"): "Conditional",
        ("Producer", "Quiet"): "False",  # in both templates, not in the change set: not modified
    }
    assert facts.change_sets == ("Producer",)
    assert facts.problems == ()


def test_change_set_is_deleted_when_describe_fails() -> None:
    client, stub = stubbed()
    stub_create(stub)
    stub.add_client_error("describe_change_set", "InternalFailure", "boom", http_status_code=500)
    stub_delete(stub)
    with stub:
        facts = run_change_set(client)
        stub.assert_no_pending_responses()  # the delete was called
    assert facts.replacements == {}
    assert facts.problems == (f"{ENV}: DescribeChangeSet (Producer): InternalFailure: boom",)


def test_change_set_is_deleted_on_keyboard_interrupt() -> None:
    client, stub = stubbed()
    stub_create(stub)
    stub.add_response("describe_change_set", describe("CREATE_PENDING"),
                      {"ChangeSetName": CS_ARN, "StackName": "Producer"})
    stub_delete(stub)

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    with stub, pytest.raises(KeyboardInterrupt):
        run_change_set(client, sleep=interrupt)
    stub.assert_no_pending_responses()


def test_change_set_wait_is_bounded() -> None:
    client, stub = stubbed()
    stub_create(stub)
    for _ in range(3):
        stub.add_response("describe_change_set", describe("CREATE_IN_PROGRESS"),
                          {"ChangeSetName": CS_ARN, "StackName": "Producer"})
    stub_delete(stub)
    ticks = iter([0.0, 5.0, 10.0, 20.0])
    with stub:
        facts = run_change_set(client, timeout=12.0, clock=lambda: next(ticks))
        stub.assert_no_pending_responses()
    assert facts.problems == (
        f"{ENV}: the change set for Producer was not ready after 12s (status CREATE_IN_PROGRESS)",
    )


def test_change_set_still_being_created_is_deleted_after_a_retry() -> None:
    client, stub = stubbed()
    stub_create(stub)
    stub.add_client_error("describe_change_set", "InternalFailure", "boom", http_status_code=500)
    stub.add_client_error("delete_change_set", "InvalidChangeSetStatus", "in progress",
                          expected_params={"ChangeSetName": CS_ARN, "StackName": "Producer"})
    stub_delete(stub)
    with stub:
        run_change_set(client)
        stub.assert_no_pending_responses()


def test_undeletable_change_set_is_named_with_the_command_to_delete_it() -> None:
    client, stub = stubbed()
    stub_create(stub)
    stub.add_response("describe_change_set", describe("CREATE_COMPLETE"),
                      {"ChangeSetName": CS_ARN, "StackName": "Producer"})
    stub.add_client_error("delete_change_set", "AccessDenied", "no",
                          expected_params={"ChangeSetName": CS_ARN, "StackName": "Producer"})
    with stub:
        facts = run_change_set(client)
    assert facts.problems == (
        f"{ENV}: could not delete change set {CS_ARN} of Producer (AccessDenied: no); delete it with "
        f"`aws cloudformation delete-change-set --stack-name Producer --change-set-name {CS_ARN}`",
    )


def test_refused_create_needs_no_delete() -> None:
    client, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [{"StackName": "Producer", "CreationTime": "2024-01-01",
                                                      "StackStatus": "CREATE_COMPLETE"}]})
    stub.add_client_error("create_change_set", "InsufficientCapabilitiesException", "Requires capabilities")
    with stub:
        facts = run_change_set(client)
        stub.assert_no_pending_responses()
    assert facts.problems == (
        f"{ENV}: CreateChangeSet (Producer): InsufficientCapabilitiesException: Requires capabilities",
    )


def test_template_over_the_body_limit_is_skipped_with_a_line() -> None:
    big = {"Resources": {f"Q{i}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q" * 100}}
                         for i in range(500)}}
    facts = aws.read_replacements(lambda s, r: pytest.fail("no call"), deployed_facts(),
                                  {"Producer": json.dumps(big)})
    size = len(json.dumps(big, separators=(",", ":")))
    assert facts.problems == (
        f"{ENV}: no change set for Producer: its head template is {size} bytes, over CloudFormation's "
        "51200-byte TemplateBody limit (it would need an S3 upload)",
    )


def test_change_set_against_moto_is_deleted(moto: str) -> None:
    upload_assets(moto, "k1.zip", "k2.zip")
    deployed = layer_template("k1.zip")
    deployed["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue"}
    deploy(moto, "Producer", deployed)
    head = json.loads(json.dumps(deployed))
    head["Resources"]["Layer"]["Properties"]["Content"]["S3Key"] = "k2.zip"
    facts = aws.read_environment(moto_factory(moto), ENV, ["Producer"])
    facts = aws.read_replacements(moto_factory(moto), facts, {"Producer": json.dumps(head)})
    assert facts.problems == ()
    # moto lists every resource as Modify, without a Replacement field: no verdicts at all.
    assert facts.replacements == {}
    assert facts.change_sets == ("Producer",)
    assert moto_client(moto).list_change_sets(StackName="Producer")["Summaries"] == []


# --- gather --------------------------------------------------------------------------------------


def test_gather_reads_each_environment_once_and_skips_agnostic_ones(moto: str, tmp_path: Path) -> None:
    app = AppBuilder()
    app.stack("Producer").export("Out", "value", "shared")
    app.stack("Floating", environment="")
    assembly = load_assembly(app.write(tmp_path / "a"))
    deploy(moto, "Producer", {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
                              "Outputs": {"Out": {"Value": "value", "Export": {"Name": "shared"}}}})
    facts = aws.gather(build_context(assembly, assembly), moto_factory(moto))
    assert set(facts) == {ENV, Environment.parse(None)}
    assert facts[ENV].exports == {"shared": "value"}
    assert facts[ENV].importers == {}  # nothing changes: ListImports is not called
    assert facts[Environment.parse(None)].problems[0].startswith("live check skipped for Floating:")


def test_a_change_set_whose_create_reply_was_lost_is_deleted_by_name() -> None:
    # The first CreateChangeSet reached CloudFormation but its reply was lost; botocore's retry
    # then gets AlreadyExistsException. The change set exists, under our name: use it, delete it.
    client, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [{"StackName": "Producer", "CreationTime": "2024-01-01",
                                                      "StackStatus": "UPDATE_COMPLETE"}]})
    stub.add_client_error("create_change_set", "AlreadyExistsException", f"ChangeSet {NAME} already exists")
    by_name = {"ChangeSetName": NAME, "StackName": "Producer"}
    stub.add_response("describe_change_set", describe("CREATE_COMPLETE", [modify("Layer", "True")]), by_name)
    stub.add_response("delete_change_set", {}, by_name)
    stub.add_response("list_change_sets", {"Summaries": [
        {"ChangeSetName": "cdk-export-guard-old00001", "StackName": "Producer"},
        {"ChangeSetName": "someone-elses", "StackName": "Producer"}]}, {"StackName": "Producer"})
    with stub:
        facts = run_change_set(client)
        stub.assert_no_pending_responses()
    assert facts.replacements[("Producer", "Layer")] == "True"
    assert facts.problems == (
        f"{ENV}: change set cdk-export-guard-old00001 of Producer was left by an earlier run; delete it with "
        "`aws cloudformation delete-change-set --stack-name Producer --change-set-name cdk-export-guard-old00001`",
    )


def test_a_lost_create_reply_that_then_fails_still_deletes_by_name() -> None:
    client, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [{"StackName": "Producer", "CreationTime": "2024-01-01",
                                                      "StackStatus": "UPDATE_COMPLETE"}]})
    stub.add_client_error("create_change_set", "InternalFailure", "reply lost", http_status_code=500)
    by_name = {"ChangeSetName": NAME, "StackName": "Producer"}
    stub.add_response("delete_change_set", {}, by_name)
    stub.add_response("list_change_sets", {"Summaries": []}, {"StackName": "Producer"})
    with stub:
        facts = run_change_set(client)
        stub.assert_no_pending_responses()
    assert facts.problems == (f"{ENV}: CreateChangeSet (Producer): InternalFailure: reply lost",)


def test_sigterm_while_waiting_deletes_the_change_set() -> None:
    import os
    import signal

    from bot.workspace import cancel

    client, stub = stubbed()
    stub_create(stub)
    stub.add_response("describe_change_set", describe("CREATE_PENDING"),
                      {"ChangeSetName": CS_ARN, "StackName": "Producer"})
    stub_delete(stub)
    try:
        with stub, cancel.terminate_as_interrupt(), pytest.raises(KeyboardInterrupt):
            run_change_set(client, sleep=lambda s: os.kill(os.getpid(), signal.SIGTERM))
        stub.assert_no_pending_responses()  # the delete ran
    finally:
        cancel.CANCELLED.clear()


def test_a_cancelled_run_stops_waiting_in_another_thread_and_deletes() -> None:
    import threading

    from bot.workspace import cancel

    client, stub = stubbed()
    stub_create(stub)
    stub.add_response("describe_change_set", describe("CREATE_PENDING"),
                      {"ChangeSetName": CS_ARN, "StackName": "Producer"})
    stub_delete(stub)
    raised: list[BaseException] = []

    def worker() -> None:
        try:
            run_change_set(client, sleep=lambda s: cancel.CANCELLED.set())  # the main thread got SIGTERM
        except BaseException as exc:  # noqa: BLE001
            raised.append(exc)

    try:
        with stub:
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join(10)
            stub.assert_no_pending_responses()
        assert [type(e) for e in raised] == [KeyboardInterrupt]
    finally:
        cancel.CANCELLED.clear()
