"""Seeded, deterministic pairs of large cloud assemblies (base, head) shaped like `cdk synth` output.

    from bench.generate import generate
    base_dir, head_dir = generate(tmp / "app", stacks=200, resources_per_stack=200, references=2000, seed=1)

    python -m bench.generate --stacks 200 --resources 200 --references 2000 --seed 1 --out DIR

What is written follows what aws-cdk-lib 2.275 writes (compare ``tests/.cache/synth``):
``manifest.json`` version 55.0.0 with ``aws:cloudformation:stack``, ``cdk:asset-manifest``,
``cdk:cloud-assembly`` (Stages in ``assembly-<Stage>/`` with their own manifest),
``cdk:tree`` and ``cdk:feature-flag-report`` artifacts; per stack a template, an asset
manifest (``<Stack>.assets.json``) and a metadata file (``<Stack>.metadata.json``);
nested stack templates (``<x>.nested.template.json``); ``tree.json``. Templates hold
Lambda functions (role, default policy, log group, asset-backed code, sometimes an
event source mapping or ``current_version``), layers, SQS queues, DynamoDB tables, SSM
parameters, SNS topics, CDKMetadata and the bootstrap version rule.

Cross-stack references form a DAG per environment (a consumer only reads from stacks
created before it, and lists them in its manifest ``dependencies``): automatic strong
exports (``<Stack>:ExportsOutputRef<Id><hash>``), hand-named exports, weak references
(``Fn::GetStackOutput``) and SSM links (typed template parameters and
``{{resolve:ssm:...}}``); a few stacks publish an output of their nested stack.

Head is base plus the changes of a typical pull request (``ChangePlan``); what was
changed and which findings it should produce is written to ``<out>/changes.json``.
Asset folders (``asset.<hash>``) are not written: nothing here reads them.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_VERSION = "55.0.0"
LIBRARY_VERSION = "2.275.0"
QUALIFIER = "hnb659fds"
CHANGES_FILE = "changes.json"
MAX_LAYERS = 5  # Lambda's limit per function

DOMAINS = (
    "Orders", "Payments", "Invoices", "Inventory", "Shipping", "Users", "Catalog", "Search",
    "Notify", "Billing", "Reports", "Auth", "Reviews", "Cart", "Pricing", "Media", "Audit",
    "Ledger", "Exports", "Imports", "Sync", "Batch", "Stream", "Loyalty",
)
KINDS = ("Api", "Workers", "Events", "Admin", "Jobs", "Store")
THINGS = ("Handler", "Worker", "Processor", "Api", "Consumer", "Scheduler", "Indexer", "Router")
ENVIRONMENTS = (  # (stage, account, region, share of the stacks)
    (None, "111111111111", "us-east-1", 0.2),
    ("Beta", "222222222222", "us-east-1", 0.4),
    ("Prod", "333333333333", "eu-west-1", 0.4),
)
FQN = {
    "AWS::Lambda::Function": "aws-cdk-lib.aws_lambda.CfnFunction",
    "AWS::Lambda::LayerVersion": "aws-cdk-lib.aws_lambda.CfnLayerVersion",
    "AWS::Lambda::Version": "aws-cdk-lib.aws_lambda.CfnVersion",
    "AWS::Lambda::EventSourceMapping": "aws-cdk-lib.aws_lambda.CfnEventSourceMapping",
    "AWS::IAM::Role": "aws-cdk-lib.aws_iam.CfnRole",
    "AWS::IAM::Policy": "aws-cdk-lib.aws_iam.CfnPolicy",
    "AWS::Logs::LogGroup": "aws-cdk-lib.aws_logs.CfnLogGroup",
    "AWS::SQS::Queue": "aws-cdk-lib.aws_sqs.CfnQueue",
    "AWS::DynamoDB::Table": "aws-cdk-lib.aws_dynamodb.CfnTable",
    "AWS::SSM::Parameter": "aws-cdk-lib.aws_ssm.CfnParameter",
    "AWS::SNS::Topic": "aws-cdk-lib.aws_sns.CfnTopic",
    "AWS::CloudFormation::Stack": "aws-cdk-lib.CfnStack",
    "AWS::CDK::Metadata": "aws-cdk-lib.CfnResource",
}
FEATURE_FLAGS = (
    "@aws-cdk/core:newStyleStackSynthesis", "@aws-cdk/core:stackRelativeExports",
    "@aws-cdk/aws-lambda:recognizeVersionProps", "@aws-cdk/aws-lambda:recognizeLayerVersion",
    "@aws-cdk/core:checkSecretUsage", "@aws-cdk/aws-iam:minimizePolicies",
    "@aws-cdk/core:validateSnapshotRemovalPolicy", "@aws-cdk/core:enablePartitionLiterals",
    "@aws-cdk/aws-lambda:useCdkManagedLogGroup", "@aws-cdk/core:defaultCrossStackReferences",
)
BOOTSTRAP_PARAMETER = {
    "Type": "AWS::SSM::Parameter::Value<String>",
    "Default": f"/cdk-bootstrap/{QUALIFIER}/version",
    "Description": "Version of the CDK Bootstrap resources in this environment, automatically retrieved "
    "from SSM Parameter Store. [cdk:skip]",
}
BOOTSTRAP_RULE = {
    "CheckBootstrapVersion": {
        "Assertions": [{
            "Assert": {"Fn::Not": [{"Fn::Contains": [["1", "2", "3", "4", "5"], {"Ref": "BootstrapVersion"}]}]},
            "AssertDescription": "CDK bootstrap stack version 6 required. Please run 'cdk bootstrap' with a "
            "recent version of the CDK CLI.",
        }]
    }
}
CREATION_STACK = {
    "type": "aws:cdk:creationStack",
    "data": ["...aws-cdk-lib, jsii runtime, node internals...",
             "(no user code in 10 frames, use --stack-trace-limit to capture more)"],
}


# --- the pull request --------------------------------------------------------------


@dataclass(frozen=True)
class ChangePlan:
    """How many changes of each kind head makes (each picks a different stack where it can)."""

    layer_blockers: int = 0  # new contents of a layer another stack imports (strong): blocker
    asset_in_place: int = 0  # new code of a function: updated in place, no finding
    in_place: int = 0  # memory, timeout, visibility timeout: updated in place, no finding
    queue_renames: int = 0  # QueueName of an imported queue: replaced, blocker
    dropped_references: int = 0  # a consumer stops importing: export-removed-in-use
    new_references: int = 0  # a consumer starts importing a new export: new-reference-order
    added_resources: int = 0
    removed_resources: int = 0
    weak_stale: int = 0  # new contents of a layer read through Fn::GetStackOutput / SSM
    current_version: int = 0  # new code behind an exported fn.current_version (renamed export)
    nested: int = 0  # new layer contents in a nested stack whose output the parent exports

    @classmethod
    def default(cls, stacks: int) -> ChangePlan:
        """A busy pull request: about one stack in ten changes (200 stacks: ~20)."""
        return cls(
            layer_blockers=max(1, stacks // 70),
            asset_in_place=max(1, stacks // 50),
            in_place=max(1, stacks // 100),
            queue_renames=1 + stacks // 400,
            dropped_references=1 + stacks // 400,
            new_references=1 + stacks // 400,
            added_resources=1 + stacks // 400,
            removed_resources=1 + stacks // 400,
            weak_stale=1 + stacks // 400,
            current_version=1 + stacks // 800,
            nested=1 if stacks >= 10 else 0,
        )

    @classmethod
    def none(cls) -> ChangePlan:
        return cls()


# --- the model of one app ----------------------------------------------------------


@dataclass
class Exportable:
    """A value of one stack that other stacks may read."""

    logical_id: str
    attribute: str | None  # None: Ref
    kind: str  # layer | queue | table | function | role | version | nested-layer
    label: str  # readable name for env vars and export names

    def value(self) -> Any:
        if self.attribute is None:
            return {"Ref": self.logical_id}
        return {"Fn::GetAtt": [self.logical_id, self.attribute]}

    @property
    def id_part(self) -> str:
        """How CDK spells the value in an automatic output id."""
        if self.attribute is None:
            return f"Ref{self.logical_id}"
        return f"FnGetAtt{self.logical_id}{self.attribute.replace('.', '')}"


@dataclass
class CrossRef:
    kind: str  # strong | named | weak | ssm | ssm-dynamic
    consumer: str  # stack key
    producer: str
    target: Exportable
    expression: Any  # what the consumer's template holds
    name: str  # export name, output id (weak) or SSM parameter name
    output: str | None  # producer Output id, or the producer's AWS::SSM::Parameter logical id
    function: str  # the consumer function that reads it


@dataclass
class StackModel:
    key: str  # hierarchical id: `Name` or `Stage/Name`
    name: str  # construct id
    artifact_id: str
    stack_name: str
    stage: str | None
    account: str
    region: str
    index: int  # position in its environment: producers come first
    template: dict[str, Any]
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)  # hash -> asset manifest entry
    dependencies: list[str] = field(default_factory=list)  # stack keys
    exportables: list[Exportable] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    policy_of: dict[str, str] = field(default_factory=dict)  # function -> its default policy
    version_of: dict[str, str] = field(default_factory=dict)  # function -> its Lambda::Version
    layers: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    nested: dict[str, dict[str, Any]] = field(default_factory=dict)  # resource id -> {file, template}
    outputs_by_value: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id part) -> output
    names: dict[str, int] = field(default_factory=dict)

    @property
    def root(self) -> str:
        return self.key

    @property
    def folder(self) -> str:
        return f"assembly-{self.stage}" if self.stage else ""

    @property
    def env(self) -> str:
        return f"aws://{self.account}/{self.region}"

    @property
    def bucket(self) -> str:
        return f"cdk-{QUALIFIER}-assets-{self.account}-{self.region}"

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]  # type: ignore[no-any-return]

    def unique(self, base: str) -> str:
        count = self.names.get(base, 0) + 1
        self.names[base] = count
        return base if count == 1 else f"{base}{count}"


@dataclass
class AppModel:
    seed: int
    stacks: dict[str, StackModel]  # by key, producers before consumers within each stage
    refs: list[CrossRef] = field(default_factory=list)
    ref_keys: set[tuple[str, str, str, str | None]] = field(default_factory=set)

    def stage_stacks(self, stage: str | None) -> list[StackModel]:
        return [s for s in self.stacks.values() if s.stage == stage]


def _h8(*parts: object) -> str:
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()[:8].upper()


def _sha(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


# --- base ----------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, stacks: int, resources_per_stack: int, references: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.count = stacks
        self.budget = resources_per_stack
        self.references = references
        self.app = AppModel(seed, {})
        self._by_stage: dict[str | None, list[StackModel]] = {}
        self._all: list[StackModel] = []

    def build(self, plan: ChangePlan) -> AppModel:
        groups = _split(self.count)
        for (stage, account, region, _share), size in zip(ENVIRONMENTS, groups, strict=True):
            for index in range(size):
                stack = self._stack(stage, account, region, index)
                self.app.stacks[stack.key] = stack
                self._fill(stack)
        reserved = self._reserved_references(plan)
        for _ in range(max(self.references - reserved, 0)):
            self._random_reference()
        return self.app

    # -- stacks ----------------------------------------------------------------------

    def _stack(self, stage: str | None, account: str, region: str, index: int) -> StackModel:
        if index == 0:
            name = "SharedLayers"
        elif index == 1:
            name = "SharedData"
        else:
            n = index - 2
            domain = DOMAINS[n % len(DOMAINS)]
            kind = KINDS[(n // len(DOMAINS)) % len(KINDS)]
            cycle = n // (len(DOMAINS) * len(KINDS))
            name = f"{domain}{kind}{cycle + 1 if cycle else ''}"
        key = f"{stage}/{name}" if stage else name
        artifact_id = f"{stage}{name}{_h8(key)}" if stage else name
        stack_name = f"{stage}-{name}" if stage else name
        template: dict[str, Any] = {"Resources": {}}
        return StackModel(key, name, artifact_id, stack_name, stage, account, region, index, template)

    def _fill(self, stack: StackModel) -> None:
        resources = stack.resources
        resources["CDKMetadata"] = {
            "Type": "AWS::CDK::Metadata",
            "Properties": {"Analytics": "v2:deflate64:H4sIAAAAAAAA/" + _sha(stack.key, "analytics")[:48] + "AAAA=="},
            "Metadata": {"aws:cdk:path": f"{stack.root}/CDKMetadata/Default"},
        }
        if stack.index == 0:
            weights = {"layer": 0.45, "function": 0.35, "queue": 0.1, "parameter": 0.1}
        elif stack.index == 1:
            weights = {"queue": 0.35, "table": 0.35, "function": 0.2, "topic": 0.1}
        else:
            weights = {"function": 0.5, "queue": 0.15, "table": 0.13, "layer": 0.05, "parameter": 0.07,
                       "topic": 0.1}
        if stack.index >= 2 and (self.rng.random() < 0.05 or stack.index == 4):
            self._nested(stack)
        kinds, shares = zip(*weights.items(), strict=True)
        while len(resources) < self.budget:
            unit = self.rng.choices(kinds, shares)[0]
            getattr(self, f"_{unit}")(stack, stack.template)
        if not stack.functions:
            self._function(stack, stack.template)

    def _layer(self, stack: StackModel, template: dict[str, Any], path: str | None = None) -> str:
        name = stack.unique(self.rng.choice(DOMAINS) + "Layer")
        construct = f"{path or stack.root}/{name}"
        logical_id = f"{name}{_h8(construct)}"
        asset = _sha(self.seed, construct, "content", 0)
        template["Resources"][logical_id] = {
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {
                "CompatibleRuntimes": ["python3.12"],
                "Content": {"S3Bucket": stack.bucket, "S3Key": f"{asset}.zip"},
                "Description": f"{name} dependencies",
            },
            "Metadata": {
                "aws:cdk:path": f"{construct}/Resource",
                "aws:asset:path": _asset_path(stack, asset),
                "aws:asset:is-bundled": False,
                "aws:asset:property": "Content",
            },
        }
        _add_asset(stack, asset, f"{name}/Code")
        if path is None:
            stack.layers.append(logical_id)
            stack.exportables.append(Exportable(logical_id, None, "layer", name))
        return logical_id

    def _queue(self, stack: StackModel, template: dict[str, Any]) -> str:
        name = stack.unique(self.rng.choice(DOMAINS) + "Queue")
        construct = f"{stack.root}/{name}"
        logical_id = f"{name}{_h8(construct)}"
        properties: dict[str, Any] = {"VisibilityTimeout": 300}
        if self.rng.random() < 0.5:
            dlq = f"{name}Dlq{_h8(construct, 'dlq')}"
            template["Resources"][dlq] = {
                "Type": "AWS::SQS::Queue",
                "Properties": {"MessageRetentionPeriod": 1209600},
                "UpdateReplacePolicy": "Delete",
                "DeletionPolicy": "Delete",
                "Metadata": {"aws:cdk:path": f"{construct}Dlq/Resource"},
            }
            properties["RedrivePolicy"] = {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}, "maxReceiveCount": 3}
        if self.rng.random() < 0.4:
            properties["QueueName"] = f"{stack.stack_name}-{name}".lower()
        template["Resources"][logical_id] = {
            "Type": "AWS::SQS::Queue",
            "Properties": properties,
            "UpdateReplacePolicy": "Delete",
            "DeletionPolicy": "Delete",
            "Metadata": {"aws:cdk:path": f"{construct}/Resource"},
        }
        stack.queues.append(logical_id)
        stack.exportables.append(Exportable(logical_id, None, "queue", name))
        stack.exportables.append(Exportable(logical_id, "Arn", "queue", name))
        return logical_id

    def _table(self, stack: StackModel, template: dict[str, Any]) -> str:
        name = stack.unique(self.rng.choice(DOMAINS) + "Table")
        construct = f"{stack.root}/{name}"
        logical_id = f"{name}{_h8(construct)}"
        properties: dict[str, Any] = {
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        }
        stream = self.rng.random() < 0.3
        if stream:
            properties["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
        if self.rng.random() < 0.2:
            properties["TableName"] = f"{stack.stack_name}-{name}".lower()
        template["Resources"][logical_id] = {
            "Type": "AWS::DynamoDB::Table",
            "Properties": properties,
            "UpdateReplacePolicy": "Retain",
            "DeletionPolicy": "Retain",
            "Metadata": {"aws:cdk:path": f"{construct}/Resource"},
        }
        stack.tables.append(logical_id)
        stack.exportables.append(Exportable(logical_id, None, "table", name))
        stack.exportables.append(Exportable(logical_id, "Arn", "table", name))
        if stream:
            stack.exportables.append(Exportable(logical_id, "StreamArn", "table", name))
        return logical_id

    def _topic(self, stack: StackModel, template: dict[str, Any]) -> str:
        name = stack.unique(self.rng.choice(DOMAINS) + "Topic")
        construct = f"{stack.root}/{name}"
        logical_id = f"{name}{_h8(construct)}"
        template["Resources"][logical_id] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": f"{stack.stack_name} {name}"},
            "Metadata": {"aws:cdk:path": f"{construct}/Resource"},
        }
        stack.topics.append(logical_id)
        return logical_id

    def _parameter(self, stack: StackModel, template: dict[str, Any]) -> str:
        name = stack.unique(self.rng.choice(DOMAINS) + "Setting")
        construct = f"{stack.root}/{name}"
        logical_id = f"{name}{_h8(construct)}"
        local = stack.queues + stack.tables + stack.layers
        value: Any = {"Ref": self.rng.choice(local)} if local and self.rng.random() < 0.6 else f"{name}-v1"
        template["Resources"][logical_id] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": f"/{(stack.stage or 'app').lower()}/{stack.name.lower()}/{name.lower()}",
                           "Type": "String", "Value": value},
            "Metadata": {"aws:cdk:path": f"{construct}/Resource"},
        }
        return logical_id

    def _function(self, stack: StackModel, template: dict[str, Any], path: str | None = None) -> str:
        rng = self.rng
        name = stack.unique(rng.choice(DOMAINS) + rng.choice(THINGS))
        construct = f"{path or stack.root}/{name}"
        role = f"{name}ServiceRole{_h8(construct, 'role')}"
        policy = f"{name}ServiceRoleDefaultPolicy{_h8(construct, 'policy')}"
        function = f"{name}{_h8(construct)}"
        log_group = f"{name}LogGroup{_h8(construct, 'logs')}"
        asset = _sha(self.seed, construct, "code", 0)
        resources = template["Resources"]
        resources[role] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                   "Principal": {"Service": "lambda.amazonaws.com"}}],
                    "Version": "2012-10-17",
                },
                "ManagedPolicyArns": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                         ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}],
            },
            "Metadata": {"aws:cdk:path": f"{construct}/ServiceRole/Resource"},
        }
        statements: list[Any] = []
        variables: dict[str, Any] = {"POWERTOOLS_SERVICE_NAME": name.lower(), "LOG_LEVEL": "INFO"}
        layers: list[Any] = []
        if path is None:  # wire up a few of the stack's own resources, as grants do
            for queue in rng.sample(stack.queues, min(len(stack.queues), rng.randint(0, 2))):
                variables[f"{queue[:-8].upper()}_URL"] = {"Ref": queue}
                statements.append({"Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                                   "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue, "Arn"]}})
            for table in rng.sample(stack.tables, min(len(stack.tables), rng.randint(0, 2))):
                variables[f"{table[:-8].upper()}_NAME"] = {"Ref": table}
                statements.append({
                    "Action": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                               "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                    "Effect": "Allow",
                    "Resource": [{"Fn::GetAtt": [table, "Arn"]},
                                 {"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, "/index/*"]]}],
                })
            for layer in rng.sample(stack.layers, min(len(stack.layers), rng.randint(0, 2))):
                layers.append({"Ref": layer})
            if stack.nested and rng.random() < 0.5:
                nested_id, nested = next(iter(stack.nested.items()))
                output = next(iter(nested["template"].get("Outputs", {})), None)
                if output:
                    layers.append({"Fn::GetAtt": [nested_id, f"Outputs.{output}"]})
        statements.append({"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                           "Effect": "Allow", "Resource": "*"})
        resources[policy] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {"PolicyDocument": {"Statement": statements, "Version": "2012-10-17"},
                           "PolicyName": policy, "Roles": [{"Ref": role}]},
            "Metadata": {"aws:cdk:path": f"{construct}/ServiceRole/DefaultPolicy/Resource"},
        }
        resources[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": 731},
            "UpdateReplacePolicy": "Retain",
            "DeletionPolicy": "Retain",
            "Metadata": {"aws:cdk:path": f"{construct}/LogGroup/Resource"},
        }
        properties: dict[str, Any] = {
            "Code": {"S3Bucket": stack.bucket, "S3Key": f"{asset}.zip"},
            "Environment": {"Variables": variables},
            "Handler": "index.handler",
            "LoggingConfig": {"LogGroup": {"Ref": log_group}},
            "MemorySize": rng.choice((128, 256, 512, 1024)),
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Runtime": "python3.12",
            "Timeout": rng.choice((3, 10, 30, 60)),
            "TracingConfig": {"Mode": "Active"},
        }
        if layers:
            properties["Layers"] = layers
        resources[function] = {
            "Type": "AWS::Lambda::Function",
            "Properties": properties,
            "DependsOn": [policy, role],
            "Metadata": {
                "aws:cdk:path": f"{construct}/Resource",
                "aws:asset:path": _asset_path(stack, asset),
                "aws:asset:is-bundled": False,
                "aws:asset:property": "Code",
            },
        }
        _add_asset(stack, asset, f"{name}/Code")
        if path is not None:
            return function
        stack.functions.append(function)
        stack.policy_of[function] = policy
        stack.exportables.append(Exportable(function, "Arn", "function", name))
        stack.exportables.append(Exportable(role, "Arn", "role", f"{name}Role"))
        if stack.queues and rng.random() < 0.2:
            queue = rng.choice(stack.queues)
            resources[f"{name}SqsEventSource{_h8(construct, queue)}"] = {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"BatchSize": 10, "EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]},
                               "FunctionName": {"Ref": function}},
                "Metadata": {"aws:cdk:path": f"{construct}/SqsEventSource/Resource"},
            }
            statements.insert(0, {"Action": ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility",
                                             "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                                  "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue, "Arn"]}})
        if rng.random() < 0.1:
            version = _version_id(name, construct, asset)
            resources[version] = {
                "Type": "AWS::Lambda::Version",
                "Properties": {"FunctionName": {"Ref": function}},
                "Metadata": {"aws:cdk:path": f"{construct}/CurrentVersion/Resource", "aws:cdk:do-not-refactor": True},
            }
            stack.version_of[function] = version
            stack.exportables.append(Exportable(version, None, "version", f"{name}Version"))
        return function

    def _nested(self, stack: StackModel) -> None:
        """A nested stack holding a few layers and a function; the parent reads its outputs."""
        name = "Shared"
        path = f"{stack.root}/{name}"
        resource_id = f"{name}NestedStack{name}NestedStackResource{_h8(path)}"
        file_name = f"{stack.artifact_id}{name}{_h8(path, 'file')}.nested.template.json"
        template: dict[str, Any] = {"Resources": {}, "Outputs": {}}
        for _ in range(max(2, self.budget // 60)):
            layer = self._layer(stack, template, path)
            output = f"{stack.artifact_id}{name}{layer[:-8]}{_h8(path, layer)}Ref"
            template["Outputs"][output] = {"Value": {"Ref": layer}}
            label = f"{name}{layer[:-8]}"
            stack.exportables.append(Exportable(resource_id, f"Outputs.{output}", "nested-layer", label))
        self._function(stack, template, path)
        stack.nested[resource_id] = {"file": file_name, "template": template}
        stack.resources[resource_id] = {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {"TemplateURL": None},  # set when written: it names the template's hash
            "UpdateReplacePolicy": "Delete",
            "DeletionPolicy": "Delete",
            "Metadata": {
                "aws:cdk:path": f"{stack.root}/{name}.NestedStack/{name}.NestedStackResource",
                "aws:asset:path": file_name,
                "aws:asset:property": "TemplateURL",
            },
        }

    # -- references --------------------------------------------------------------------

    def _reserved_references(self, plan: ChangePlan) -> int:
        """References the plan's changes need, made on purpose so every change has a target."""
        made = 0
        for stage, *_ in ENVIRONMENTS:
            stacks = self.app.stage_stacks(stage)
            if len(stacks) < 3:
                continue
            for stack in stacks[2:]:  # every service reads a shared layer: a realistic hub
                target = self.rng.choice([e for e in stacks[0].exportables if e.kind == "layer"] or [None])
                if target is not None and made < self.references:
                    made += bool(add_reference(self.app, "strong", stack, stacks[0], target, self.rng))
        wanted = {
            "version": plan.current_version,
            "nested-layer": plan.nested,
            "weak-layer": plan.weak_stale,
            "named": 2,
        }
        for kind, count in wanted.items():
            for _ in range(count * 3):
                made += self._reference_of(kind)
        return made

    def _reference_of(self, want: str) -> int:
        for _ in range(200):
            consumer, producer = self._pair()
            if consumer is None or producer is None:
                continue
            if want == "version":
                options = [e for e in producer.exportables if e.kind == "version"]
                kind = "strong"
            elif want == "nested-layer":
                options = [e for e in producer.exportables if e.kind == "nested-layer"]
                kind = "strong"
            elif want == "weak-layer":
                options = [e for e in producer.exportables
                           if e.kind == "layer" and not _strongly_used(self.app, producer, e)]
                kind = self.rng.choice(("weak", "ssm"))
            else:
                options = [e for e in producer.exportables if e.kind in ("queue", "table")]
                kind = "named"
            if options and add_reference(self.app, kind, consumer, producer, self.rng.choice(options), self.rng):
                return 1
        return 0

    def _pair(self) -> tuple[StackModel | None, StackModel | None]:
        if not self._all:
            self._all = list(self.app.stacks.values())
            for stack in self._all:
                self._by_stage.setdefault(stack.stage, []).append(stack)
        consumer = self.rng.choice(self._all)
        earlier = self._by_stage[consumer.stage][: consumer.index]
        if not earlier:
            return None, None
        # A third of the references read from the two shared stacks: hubs, as in real apps.
        producer = self.rng.choice(earlier[:2]) if self.rng.random() < 0.35 else self.rng.choice(earlier)
        return consumer, producer

    def _random_reference(self) -> None:
        for _ in range(50):
            consumer, producer = self._pair()
            if consumer is None or producer is None or not producer.exportables:
                continue
            target = self.rng.choice(producer.exportables)
            kind = self.rng.choices(("strong", "named", "weak", "ssm", "ssm-dynamic"), (80, 6, 7, 5, 2))[0]
            if target.kind == "nested-layer" and kind != "strong":
                kind = "strong"
            if add_reference(self.app, kind, consumer, producer, target, self.rng):
                return


def _split(count: int) -> list[int]:
    if count >= 10:
        sizes = [max(2, round(count * share)) for *_, share in ENVIRONMENTS]
        sizes[-1] = count - sum(sizes[:-1])
        return sizes
    if count >= 4:
        return [count - count // 2, 0, count // 2]
    return [count, 0, 0]


def _asset_path(stack: StackModel, asset: str) -> str:
    return f"../asset.{asset}" if stack.stage else f"asset.{asset}"


def _add_asset(stack: StackModel, asset: str, display: str) -> None:
    stack.assets[asset] = {
        "displayName": display,
        "source": {"path": _asset_path(stack, asset), "packaging": "zip"},
        "destinations": {
            f"{stack.account}-{stack.region}-{_h8(asset).lower()}": {
                "bucketName": stack.bucket,
                "objectKey": f"{asset}.zip",
                "region": stack.region,
                "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::{stack.account}:role/cdk-{QUALIFIER}-file-"
                f"publishing-role-{stack.account}-{stack.region}",
            }
        },
    }


def _version_id(name: str, construct: str, asset: str) -> str:
    return f"{name}CurrentVersion{_h8(construct, 'version')}{hashlib.md5(asset.encode()).hexdigest()}"


def _strongly_used(app: AppModel, producer: StackModel, target: Exportable) -> bool:
    return any(r.producer == producer.key and r.target.logical_id == target.logical_id
               and r.kind in ("strong", "named") for r in app.refs)


def add_reference(app: AppModel, kind: str, consumer: StackModel, producer: StackModel, target: Exportable,
                  rng: random.Random) -> CrossRef | None:
    """Make ``consumer`` read ``target`` of ``producer`` the way CDK writes it; None if it already does."""
    key = (consumer.key, producer.key, target.logical_id, target.attribute)
    if key in app.ref_keys:
        return None
    if kind == "strong":
        output = producer.outputs_by_value.get(("strong", target.id_part))
        if output is None:
            output = f"ExportsOutput{target.id_part}{_h8(producer.key, target.id_part)}"
            producer.template.setdefault("Outputs", {})[output] = {
                "Value": target.value(), "Export": {"Name": f"{producer.stack_name}:{output}"}}
            producer.outputs_by_value[("strong", target.id_part)] = output
        name = f"{producer.stack_name}:{output}"
        expression: Any = {"Fn::ImportValue": name}
        depends = True
    elif kind == "named":
        output = producer.outputs_by_value.get(("named", target.id_part))
        attribute = (target.attribute or "Name").replace(".", "")
        if output is None:
            output = producer.unique(f"{target.label}{attribute}Output")
            if rng.random() < 0.3:
                export: Any = {"Fn::Sub": f"${{AWS::StackName}}-{target.label}{attribute}"}
            else:
                export = f"{producer.stack_name}-{target.label}-{attribute}".lower()
            producer.template.setdefault("Outputs", {})[output] = {"Value": target.value(), "Export": {"Name": export}}
            producer.outputs_by_value[("named", target.id_part)] = output
        export = producer.template["Outputs"][output]["Export"]["Name"]
        name = export if isinstance(export, str) else f"{producer.stack_name}-{target.label}{attribute}"
        expression = {"Fn::ImportValue": name}
        depends = rng.random() < 0.7
    elif kind == "weak":
        output = producer.outputs_by_value.get(("weak", target.id_part))
        if output is None:
            output = f"PublishOutput{target.id_part}{_h8(producer.key, 'publish', target.id_part)}"
            producer.template.setdefault("Outputs", {})[output] = {"Value": target.value()}
            producer.outputs_by_value[("weak", target.id_part)] = output
        name = output
        expression = {"Fn::GetStackOutput": {"StackName": producer.stack_name, "Region": producer.region,
                                             "OutputName": output}}
        depends = True
    else:  # ssm, ssm-dynamic
        output = producer.outputs_by_value.get(("ssm", target.id_part))
        attribute = (target.attribute or "ref").replace(".", "-").lower()
        name = f"/{(producer.stage or 'app').lower()}/{producer.name.lower()}/{target.label.lower()}-{attribute}"
        if output is None:
            output = f"{target.label}{attribute.title().replace('-', '')}Param{_h8(producer.key, name)}"
            producer.resources[output] = {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": name, "Type": "String", "Value": target.value()},
                "Metadata": {"aws:cdk:path": f"{producer.root}/{output[:-8]}/Resource"},
            }
            producer.outputs_by_value[("ssm", target.id_part)] = output
        if kind == "ssm-dynamic" and target.kind not in ("layer", "nested-layer"):
            expression = f"{{{{resolve:ssm:{name}}}}}"
        else:
            kind = "ssm"
            parameter = f"SsmParameterValue{re.sub('[^A-Za-z0-9]', '', name)}C96584B6F00A464EAD1953AFF4B05118Parameter"
            consumer.template.setdefault("Parameters", {})[parameter] = {
                "Type": "AWS::SSM::Parameter::Value<String>", "Default": name}
            expression = {"Ref": parameter}
        depends = rng.random() < 0.5
    function = rng.choice(consumer.functions)
    _place(consumer, function, target, expression)
    if depends and producer.key not in consumer.dependencies:
        consumer.dependencies.append(producer.key)
    ref = CrossRef(kind, consumer.key, producer.key, target, expression, name, output, function)
    app.refs.append(ref)
    app.ref_keys.add(key)
    return ref


def _place(consumer: StackModel, function: str, target: Exportable, expression: Any) -> None:
    """Use the value in one of the consumer's functions: as a layer, an env var, a policy resource."""
    properties = consumer.resources[function]["Properties"]
    layers = properties.get("Layers", [])
    if target.kind in ("layer", "nested-layer") and len(layers) < MAX_LAYERS and isinstance(expression, dict):
        properties["Layers"] = [*layers, expression]
        return
    variables = properties["Environment"]["Variables"]
    base = re.sub(r"[^A-Z0-9]+", "_", f"{target.label}_{target.attribute or 'ref'}".upper())
    name, n = base, 1
    while name in variables:
        n += 1
        name = f"{base}_{n}"
    variables[name] = expression
    if target.attribute in ("Arn", "StreamArn") and target.kind in ("queue", "table"):
        action = ["sqs:SendMessage"] if target.kind == "queue" else ["dynamodb:GetItem", "dynamodb:Query"]
        statements = consumer.resources[consumer.policy_of[function]]["Properties"]["PolicyDocument"]["Statement"]
        statements.insert(-1, {"Action": action, "Effect": "Allow", "Resource": expression})


# --- head: the pull request --------------------------------------------------------


class _Changer:
    def __init__(self, app: AppModel, plan: ChangePlan, seed: int) -> None:
        self.app = app
        self.plan = plan
        self.rng = random.Random(seed * 7919 + 1)
        self.touched: set[str] = set()
        self.log: list[dict[str, Any]] = []

    def apply(self) -> list[dict[str, Any]]:
        plan = self.plan
        steps = (
            (plan.layer_blockers, self.layer_blocker),
            (plan.queue_renames, self.queue_rename),
            (plan.current_version, self.current_version),
            (plan.nested, self.nested),
            (plan.dropped_references, self.dropped_reference),
            (plan.new_references, self.new_reference),
            (plan.weak_stale, self.weak_stale),
            (plan.asset_in_place, self.asset_in_place),
            (plan.in_place, self.in_place),
            (plan.added_resources, self.added_resource),
            (plan.removed_resources, self.removed_resource),
        )
        for count, change in steps:
            for _ in range(count):
                if not change():
                    self.log.append({"kind": change.__name__, "skipped": "no suitable target in this app"})
        return self.log

    def _fresh(self, stacks: list[StackModel]) -> list[StackModel]:
        """Prefer stacks no earlier change touched, so each change is seen on its own."""
        untouched = [s for s in stacks if s.key not in self.touched]
        return untouched or stacks

    def _record(self, kind: str, stacks: list[str], detail: str, expect: list[str]) -> bool:
        self.touched.update(stacks)
        self.log.append({"kind": kind, "stacks": stacks, "detail": detail, "expect": expect})
        return True

    def _strong_refs(self, kind: str) -> list[CrossRef]:
        return [r for r in self.app.refs if r.kind in ("strong", "named") and r.target.kind == kind]

    def layer_blocker(self) -> bool:
        refs = [r for r in self._strong_refs("layer") if r.producer not in self.touched] or self._strong_refs("layer")
        if not refs:
            return False
        ref = self.rng.choice(refs)
        stack = self.app.stacks[ref.producer]
        _new_asset(stack, stack.template, ref.target.logical_id, "Content", self.app.seed)
        return self._record("layer_blocker", [stack.key], f"new contents of layer {ref.target.logical_id}",
                            ["export-value-change-in-use"])

    def weak_stale(self) -> bool:
        refs = [r for r in self.app.refs if r.kind in ("weak", "ssm", "ssm-dynamic") and r.target.kind == "layer"
                and not _strongly_used(self.app, self.app.stacks[r.producer], r.target)]
        refs = [r for r in refs if r.producer not in self.touched] or refs
        if not refs:
            return False
        ref = self.rng.choice(refs)
        stack = self.app.stacks[ref.producer]
        _new_asset(stack, stack.template, ref.target.logical_id, "Content", self.app.seed)
        return self._record("weak_stale", [stack.key], f"new contents of layer {ref.target.logical_id} "
                            f"read through {ref.kind}", ["weak-reference-stale"])

    def queue_rename(self) -> bool:
        refs = [r for r in self._strong_refs("queue")
                if "QueueName" in self.app.stacks[r.producer].resources[r.target.logical_id]["Properties"]]
        refs = [r for r in refs if r.producer not in self.touched] or refs
        if not refs:
            return False
        ref = self.rng.choice(refs)
        stack = self.app.stacks[ref.producer]
        properties = stack.resources[ref.target.logical_id]["Properties"]
        properties["QueueName"] += "-v2"
        return self._record("queue_rename", [stack.key], f"QueueName of {ref.target.logical_id} -> "
                            f"{properties['QueueName']}", ["export-value-change-in-use"])

    def current_version(self) -> bool:
        refs = [r for r in self._strong_refs("version") if r.kind == "strong"]
        if not refs:
            return False
        ref = self.rng.choice(refs)
        producer = self.app.stacks[ref.producer]
        function = next(f for f, v in producer.version_of.items() if v == ref.target.logical_id)
        asset = _new_asset(producer, producer.template, function, "Code", self.app.seed)
        old = ref.target.logical_id
        construct = producer.resources[old]["Metadata"]["aws:cdk:path"].rsplit("/CurrentVersion/", 1)[0]
        new = _version_id(old.split("CurrentVersion")[0], construct, asset)
        producer.resources[new] = producer.resources.pop(old)
        producer.version_of[function] = new
        _rewrite(producer.template, {}, {}, {old: new})
        # Automatic output ids embed the logical id: the outputs (and their exports) are renamed.
        imports: dict[str, str] = {}
        outputs: dict[str, str] = {}
        for output_id in [o for o in producer.template.get("Outputs", {}) if old in o]:
            spec = producer.template["Outputs"].pop(output_id)
            new_output = output_id.replace(old, new)[:-8] + _h8(producer.key, output_id.replace(old, new))
            outputs[output_id] = new_output
            export = spec.get("Export", {}).get("Name")
            if isinstance(export, str) and export.endswith(f":{output_id}"):
                imports[export] = spec["Export"]["Name"] = f"{producer.stack_name}:{new_output}"
            producer.template["Outputs"][new_output] = spec
        producer.outputs_by_value = {(kind, part.replace(old, new)): outputs.get(o, o)
                                     for (kind, part), o in producer.outputs_by_value.items()}
        target = Exportable(new, None, "version", ref.target.label)
        producer.exportables = [target if e.logical_id == old else e for e in producer.exportables]
        consumers = []
        for r in self.app.refs:
            if r.producer != producer.key or r.target.logical_id != old:
                continue
            consumers.append(r.consumer)
            _rewrite(self.app.stacks[r.consumer].template, imports, outputs, {})
            self.app.ref_keys.discard((r.consumer, r.producer, old, None))
            self.app.ref_keys.add((r.consumer, r.producer, new, None))
            r.target = target
            r.name = imports.get(r.name, outputs.get(r.name, r.name))
            r.output = outputs.get(r.output or "", r.output)
            r.expression = _rewritten(r.expression, imports, outputs)
        consumers = sorted(set(consumers))
        return self._record("current_version", [producer.key, *consumers],
                            f"new code of {function}: {old} -> {new}, export renamed",
                            ["export-removed-in-use", "new-reference-order"])

    def nested(self) -> bool:
        refs = [r for r in self._strong_refs("nested-layer") if r.kind == "strong"]
        if not refs:
            return False
        ref = self.rng.choice(refs)
        stack = self.app.stacks[ref.producer]
        assert ref.target.attribute is not None
        nested = stack.nested[ref.target.logical_id]["template"]
        output = ref.target.attribute.split(".", 1)[1]
        layer = nested["Outputs"][output]["Value"]["Ref"]
        _new_asset(stack, nested, layer, "Content", self.app.seed)
        return self._record("nested", [stack.key], f"new contents of layer {layer} in nested stack "
                            f"{ref.target.logical_id}, exported by the parent", ["export-value-change-in-use"])

    def dropped_reference(self) -> bool:
        by_export: dict[tuple[str, str], list[CrossRef]] = {}
        for ref in self.app.refs:
            if ref.kind == "strong" and ref.target.kind in ("queue", "table", "function", "role"):
                by_export.setdefault((ref.producer, ref.name), []).append(ref)
        single = [refs[0] for refs in by_export.values() if len(refs) == 1]
        single = [r for r in single if r.consumer not in self.touched and r.producer not in self.touched] or single
        if not single:
            return False
        ref = self.rng.choice(single)
        producer, consumer = self.app.stacks[ref.producer], self.app.stacks[ref.consumer]
        _drop_value(consumer.template, ref.expression)
        assert ref.output is not None
        del producer.template["Outputs"][ref.output]
        if not producer.template["Outputs"]:
            del producer.template["Outputs"]
        producer.outputs_by_value = {k: v for k, v in producer.outputs_by_value.items() if v != ref.output}
        self.app.refs.remove(ref)
        self.app.ref_keys.discard((ref.consumer, ref.producer, ref.target.logical_id, ref.target.attribute))
        if not any(r.consumer == consumer.key and r.producer == producer.key for r in self.app.refs):
            consumer.dependencies.remove(producer.key)
        return self._record("dropped_reference", [consumer.key, producer.key],
                            f"{consumer.key} stops importing {ref.name}", ["export-removed-in-use"])

    def new_reference(self) -> bool:
        stacks = self._fresh([s for s in self.app.stacks.values() if s.index >= 2])
        for _ in range(200):
            consumer = self.rng.choice(stacks)
            earlier = [s for s in self.app.stage_stacks(consumer.stage) if s.index < consumer.index]
            producer = self.rng.choice(earlier)
            options = [e for e in producer.exportables if e.kind in ("queue", "table", "function")
                       and ("strong", e.id_part) not in producer.outputs_by_value]
            if not options:
                continue
            ref = add_reference(self.app, "strong", consumer, producer, self.rng.choice(options), self.rng)
            if ref is not None:
                return self._record("new_reference", [consumer.key, producer.key],
                                    f"{consumer.key} starts importing {ref.name}", ["new-reference-order"])
        return False

    def asset_in_place(self) -> bool:
        stacks = self._fresh([s for s in self.app.stacks.values() if s.functions])
        stack = self.rng.choice(stacks)
        candidates = [f for f in stack.functions if f not in stack.version_of]
        if not candidates:
            return False
        function = self.rng.choice(candidates)
        _new_asset(stack, stack.template, function, "Code", self.app.seed)
        return self._record("asset_in_place", [stack.key], f"new code of {function}", [])

    def in_place(self) -> bool:
        stack = self.rng.choice(self._fresh([s for s in self.app.stacks.values() if s.functions]))
        function = self.rng.choice(stack.functions)
        properties = stack.resources[function]["Properties"]
        properties["MemorySize"] = properties["MemorySize"] * 2
        properties["Timeout"] = properties["Timeout"] + 30
        return self._record("in_place", [stack.key], f"MemorySize/Timeout of {function}", [])

    def added_resource(self) -> bool:
        stack = self.rng.choice(self._fresh(list(self.app.stacks.values())))
        builder = _Builder(self.app.seed + 1, 0, 0, 0)
        builder.rng = self.rng
        logical_id = builder._queue(stack, stack.template)
        return self._record("added_resource", [stack.key], f"new queue {logical_id}", [])

    def removed_resource(self) -> bool:
        stacks = self._fresh([s for s in self.app.stacks.values() if s.topics])
        if not stacks:
            return False
        stack = self.rng.choice(stacks)
        topic = stack.topics.pop()
        del stack.resources[topic]
        return self._record("removed_resource", [stack.key], f"topic {topic} removed", [])


def _new_asset(stack: StackModel, template: dict[str, Any], logical_id: str, prop: str, seed: int) -> str:
    """Give a function's code or a layer's contents a new asset hash, as a source edit does."""
    resource = template["Resources"][logical_id]
    old = resource["Properties"][prop]["S3Key"].removesuffix(".zip")
    new = _sha(seed, old, "edited")
    resource["Properties"][prop]["S3Key"] = f"{new}.zip"
    resource["Metadata"]["aws:asset:path"] = _asset_path(stack, new)
    display = stack.assets.pop(old)["displayName"]
    _add_asset(stack, new, display)
    return new


def _rewrite(node: Any, imports: dict[str, str], outputs: dict[str, str], refs: dict[str, str]) -> None:
    """In place: rename imported export names, Fn::GetStackOutput output names and Ref targets."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue" and isinstance(value, str) and value in imports:
                node[key] = imports[value]
            elif key == "Ref" and isinstance(value, str) and value in refs:
                node[key] = refs[value]
            elif key == "OutputName" and isinstance(value, str) and value in outputs:
                node[key] = outputs[value]
            else:
                _rewrite(value, imports, outputs, refs)
    elif isinstance(node, list):
        for item in node:
            _rewrite(item, imports, outputs, refs)


def _rewritten(value: Any, imports: dict[str, str], outputs: dict[str, str]) -> Any:
    copied = copy.deepcopy(value)
    _rewrite(copied, imports, outputs, {})
    return copied


def _drop_value(template: dict[str, Any], expression: Any) -> None:
    """Remove every use of ``expression`` from the template's functions and policies."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function":
            variables = properties["Environment"]["Variables"]
            for name in [n for n, v in variables.items() if v == expression]:
                del variables[name]
            if "Layers" in properties:
                properties["Layers"] = [layer for layer in properties["Layers"] if layer != expression]
                if not properties["Layers"]:
                    del properties["Layers"]
        elif resource["Type"] == "AWS::IAM::Policy":
            statements = properties["PolicyDocument"]["Statement"]
            statements[:] = [s for s in statements if not _contains(s.get("Resource"), expression)]


def _contains(node: Any, value: Any) -> bool:
    if node == value:
        return True
    if isinstance(node, dict):
        return any(_contains(v, value) for v in node.values())
    if isinstance(node, list):
        return any(_contains(v, value) for v in node)
    return False


# --- writing -------------------------------------------------------------------------


def write_assembly(app: AppModel, directory: Path) -> Path:
    """Write ``app`` as a cloud assembly folder (replacing what is there)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    tree_children: dict[str, Any] = {}
    top_artifacts: dict[str, Any] = {}
    for stage in [None, *sorted({s.stage for s in app.stacks.values() if s.stage})]:
        stacks = app.stage_stacks(stage)
        if not stacks:
            continue
        folder = directory / (f"assembly-{stage}" if stage else "")
        folder.mkdir(exist_ok=True)
        artifacts: dict[str, Any] = {}
        for stack in stacks:
            artifacts.update(_write_stack(app, stack, folder))
        stage_children = tree_children
        if stage:
            node = tree_children.setdefault(stage, _tree_node(stage, stage, "aws-cdk-lib.Stage"))
            stage_children = node.setdefault("children", {})
            top_artifacts[f"assembly-{stage}"] = {
                "type": "cdk:cloud-assembly",
                "properties": {"directoryName": f"assembly-{stage}", "displayName": stage},
            }
            _write_json(folder / "manifest.json", {"version": MANIFEST_VERSION, "artifacts": {
                **artifacts, **_feature_flags()}, "minimumCliVersion": "2.1148.0"}, indent=2)
            _write_json(folder / "cdk.out", {"version": MANIFEST_VERSION})
        else:
            top_artifacts.update(artifacts)
        for stack in stacks:
            stage_children[stack.name] = _stack_tree(stack)
    top_artifacts["Tree"] = {"type": "cdk:tree", "properties": {"file": "tree.json"}}
    top_artifacts.update(_feature_flags())
    _write_json(directory / "manifest.json", {"version": MANIFEST_VERSION, "artifacts": top_artifacts,
                                              "minimumCliVersion": "2.1148.0"}, indent=2)
    tree = {"version": "tree-0.1", "tree": {"id": "App", "path": "", "constructInfo": {
        "fqn": "aws-cdk-lib.App", "version": LIBRARY_VERSION}, "children": tree_children}}
    _write_json(directory / "tree.json", tree, indent=None)
    _write_json(directory / "cdk.out", {"version": MANIFEST_VERSION})
    _write_json(directory / "validation-report.json",
                {"version": MANIFEST_VERSION, "title": "Validation Report", "pluginReports": []}, indent=2)
    return directory


def _write_stack(app: AppModel, stack: StackModel, folder: Path) -> dict[str, Any]:
    files = dict(stack.assets)
    template = stack.template
    if stack.nested:
        template = copy.copy(template)
        template["Resources"] = dict(template["Resources"])
        for resource_id, nested in stack.nested.items():
            text = _dumps(nested["template"], indent=1)
            (folder / nested["file"]).write_text(text)
            digest = hashlib.sha256(text.encode()).hexdigest()
            resource = copy.deepcopy(template["Resources"][resource_id])
            resource["Properties"]["TemplateURL"] = {"Fn::Join": ["", [
                f"https://s3.{stack.region}.", {"Ref": "AWS::URLSuffix"}, f"/{stack.bucket}/{digest}.json"]]}
            template["Resources"][resource_id] = resource
            files[digest] = _template_asset(stack, nested["file"], f"{stack.stack_name}/{resource_id} Nested Template",
                                            digest)
    document = {**template}
    document["Parameters"] = {**template.get("Parameters", {}), "BootstrapVersion": BOOTSTRAP_PARAMETER}
    document["Rules"] = BOOTSTRAP_RULE
    template_file = f"{stack.artifact_id}.template.json"
    text = _dumps(document, indent=1)
    (folder / template_file).write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    files[digest] = _template_asset(stack, template_file, f"{stack.stack_name} Template", digest)
    _write_json(folder / f"{stack.artifact_id}.assets.json",
                {"version": MANIFEST_VERSION, "files": files, "dockerImages": {}}, indent=2)
    _write_json(folder / f"{stack.artifact_id}.metadata.json", _metadata(stack, document, template_file), indent=2)
    role = f"arn:${{AWS::Partition}}:iam::{stack.account}:role/cdk-{QUALIFIER}"
    suffix = f"{stack.account}-{stack.region}"
    dependency_ids = [app.stacks[k].artifact_id for k in stack.dependencies]
    return {
        f"{stack.artifact_id}.assets": {
            "type": "cdk:asset-manifest",
            "properties": {"file": f"{stack.artifact_id}.assets.json", "requiresBootstrapStackVersion": 6,
                           "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version"},
        },
        stack.artifact_id: {
            "type": "aws:cloudformation:stack",
            "environment": stack.env,
            "properties": {
                "templateFile": template_file,
                "terminationProtection": False,
                "validateOnSynth": False,
                "assumeRoleArn": f"{role}-deploy-role-{suffix}",
                "cloudFormationExecutionRoleArn": f"{role}-cfn-exec-role-{suffix}",
                "stackTemplateAssetObjectUrl": f"s3://{stack.bucket}/{digest}.json",
                "requiresBootstrapStackVersion": 6,
                "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version",
                "additionalDependencies": [f"{stack.artifact_id}.assets"],
                "lookupRole": {"arn": f"{role}-lookup-role-{suffix}", "requiresBootstrapStackVersion": 8,
                               "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version"},
                **({"stackName": stack.stack_name} if stack.stack_name != stack.artifact_id else {}),
            },
            "dependencies": [*dependency_ids, f"{stack.artifact_id}.assets"],
            "additionalMetadataFile": f"{stack.artifact_id}.metadata.json",
            "displayName": stack.key,
        },
    }


def _template_asset(stack: StackModel, file_name: str, display: str, digest: str) -> dict[str, Any]:
    return {
        "displayName": display,
        "source": {"path": file_name, "packaging": "file"},
        "destinations": {f"{stack.account}-{stack.region}-{_h8(digest).lower()}": {
            "bucketName": stack.bucket,
            "objectKey": f"{digest}.json",
            "region": stack.region,
            "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::{stack.account}:role/cdk-{QUALIFIER}-file-publishing-role-"
            f"{stack.account}-{stack.region}",
        }},
    }


def _metadata(stack: StackModel, template: dict[str, Any], template_file: str) -> dict[str, Any]:
    out: dict[str, Any] = {f"/{stack.root}": [CREATION_STACK, {"type": "aws:cdk:templateFile", "data": template_file}]}
    for logical_id, resource in template["Resources"].items():
        out[f"/{resource['Metadata']['aws:cdk:path']}"] = [{"type": "aws:cdk:logicalId", "data": logical_id},
                                                           CREATION_STACK]
    for section in ("Outputs", "Parameters"):
        for logical_id in template.get(section, {}):
            out[f"/{stack.root}/{logical_id}"] = [{"type": "aws:cdk:logicalId", "data": logical_id}, CREATION_STACK]
    return out


def _tree_node(node_id: str, path: str, fqn: str) -> dict[str, Any]:
    return {"id": node_id, "path": path, "constructInfo": {"fqn": fqn, "version": LIBRARY_VERSION}}


def _stack_tree(stack: StackModel) -> dict[str, Any]:
    node = _tree_node(stack.name, stack.root, "aws-cdk-lib.Stack")
    templates = [stack.template, *(n["template"] for n in stack.nested.values())]
    for template in templates:
        for logical_id, resource in template["Resources"].items():
            parts = resource["Metadata"]["aws:cdk:path"].split("/")[len(stack.root.split("/")):]
            here = node
            for depth, part in enumerate(parts):
                children = here.setdefault("children", {})
                path = "/".join([stack.root, *parts[: depth + 1]])
                leaf = depth == len(parts) - 1
                fqn = FQN.get(resource["Type"], "constructs.Construct") if leaf else "constructs.Construct"
                here = children.setdefault(part, _tree_node(part, path, fqn))
            here["attributes"] = {"aws:cdk:cloudformation:type": resource["Type"],
                                  "aws:cdk:cloudformation:logicalId": logical_id,
                                  "aws:cdk:cloudformation:props": resource.get("Properties", {})}
    return node


def _feature_flags() -> dict[str, Any]:
    flags = {name: {"recommendedValue": True, "explanation": f"{name.split(':')[-1]} (generated)"}
             for name in FEATURE_FLAGS}
    return {"aws-cdk-lib/feature-flag-report": {"type": "cdk:feature-flag-report",
                                                "properties": {"module": "aws-cdk-lib", "flags": flags}}}


def _dumps(value: Any, indent: int | None) -> str:
    if indent is None:
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value, indent=indent)


def _write_json(path: Path, value: Any, indent: int | None = 1) -> None:
    path.write_text(_dumps(value, indent))


# --- entry points --------------------------------------------------------------------


def build_app(*, stacks: int, resources_per_stack: int, references: int, seed: int,
              change: ChangePlan | None = None) -> tuple[AppModel, AppModel, list[dict[str, Any]]]:
    """The base and head models, and the log of the changes made to head."""
    plan = ChangePlan.default(stacks) if change is None else change
    base = _Builder(seed, stacks, resources_per_stack, references).build(plan)
    head = copy.deepcopy(base)
    log = _Changer(head, plan, seed).apply()
    return base, head, log


def generate(out_dir: str | Path, *, stacks: int, resources_per_stack: int, references: int, seed: int,
             change: ChangePlan | None = None) -> tuple[Path, Path]:
    """Write ``out_dir/base`` and ``out_dir/head`` (and ``out_dir/changes.json``); return both folders.

    ``change``: what the pull request changes (default ``ChangePlan.default(stacks)``;
    ``ChangePlan.none()`` makes head a copy of base). The same arguments always give
    byte-identical folders.
    """
    out = Path(out_dir)
    base, head, log = build_app(stacks=stacks, resources_per_stack=resources_per_stack, references=references,
                                seed=seed, change=change)
    base_dir = write_assembly(base, out / "base")
    head_dir = write_assembly(head, out / "head")
    summary = {
        "arguments": {"stacks": stacks, "resources_per_stack": resources_per_stack, "references": references,
                      "seed": seed, "plan": asdict(ChangePlan.default(stacks) if change is None else change)},
        "base": counts(base),
        "head": counts(head),
        "changes": log,
        "changed_stacks": sorted({k for entry in log for k in entry.get("stacks", [])}),
        "expected_rules": sorted({r for entry in log for r in entry.get("expect", [])}),
    }
    (out / CHANGES_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return base_dir, head_dir


def load_changes(out_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / CHANGES_FILE).read_text())  # type: ignore[no-any-return]


def counts(app: AppModel) -> dict[str, int]:
    def all_templates() -> Iterator[dict[str, Any]]:
        for stack in app.stacks.values():
            yield stack.template
            for nested in stack.nested.values():
                yield nested["template"]

    kinds: dict[str, int] = {}
    for ref in app.refs:
        kinds[ref.kind] = kinds.get(ref.kind, 0) + 1
    return {
        "stacks": len(app.stacks),
        "nested_stacks": sum(len(s.nested) for s in app.stacks.values()),
        "resources": sum(len(t["Resources"]) for t in all_templates()),
        "outputs": sum(len(t.get("Outputs", {})) for t in all_templates()),
        "references": len(app.refs),
        **{f"references_{k}": v for k, v in sorted(kinds.items())},
    }


def disk_usage(directory: Path) -> tuple[int, int]:
    """(files, bytes) under a folder."""
    files = [p for p in Path(directory).rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--resources", type=int, default=200, help="resources per stack (top-level template)")
    parser.add_argument("--references", type=int, default=2000, help="cross-stack references in the app")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-change", action="store_true", help="head is a copy of base")
    args = parser.parse_args(argv)
    base_dir, head_dir = generate(args.out, stacks=args.stacks, resources_per_stack=args.resources,
                                  references=args.references, seed=args.seed,
                                  change=ChangePlan.none() if args.no_change else None)
    summary = load_changes(args.out)
    for side, folder in (("base", base_dir), ("head", head_dir)):
        files, size = disk_usage(folder)
        print(f"{side}: {folder} ({files} files, {size / 1e6:.1f} MB) {json.dumps(summary[side])}")
    for entry in summary["changes"]:
        print(f"  change {entry['kind']}: {entry.get('detail') or entry.get('skipped')}")
    print(f"changed stacks: {len(summary['changed_stacks'])}; expected rules: {', '.join(summary['expected_rules'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
