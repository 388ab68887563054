"""Code people paste, spelled in the app's language. Pure.

Names follow each CDK binding: Python ``snake_case`` methods, TypeScript/JavaScript and
Java ``camelCase``, C# and Go ``PascalCase``; Go wraps strings in ``jsii.String``.
"""

from __future__ import annotations

import re

LANGUAGES = ("python", "typescript", "javascript", "java", "csharp", "go")

# (resource type, attribute or "Ref") -> the L2 property holding that value, in snake_case.
# Only L2 constructs whose default child is the resource: `<id>/Resource` in the construct path.
ATTRIBUTES: dict[tuple[str, str], str] = {
    ("AWS::Lambda::LayerVersion", "Ref"): "layer_version_arn",
    ("AWS::SQS::Queue", "Ref"): "queue_url",
    ("AWS::SQS::Queue", "Arn"): "queue_arn",
    ("AWS::SQS::Queue", "QueueName"): "queue_name",
    ("AWS::Lambda::Function", "Ref"): "function_name",
    ("AWS::Lambda::Function", "Arn"): "function_arn",
    ("AWS::DynamoDB::Table", "Ref"): "table_name",
    ("AWS::DynamoDB::Table", "Arn"): "table_arn",
    ("AWS::DynamoDB::Table", "StreamArn"): "table_stream_arn",
    ("AWS::S3::Bucket", "Ref"): "bucket_name",
    ("AWS::S3::Bucket", "Arn"): "bucket_arn",
    ("AWS::SNS::Topic", "Ref"): "topic_arn",
    ("AWS::SNS::Topic", "TopicName"): "topic_name",
    ("AWS::IAM::Role", "Ref"): "role_name",
    ("AWS::IAM::Role", "Arn"): "role_arn",
    ("AWS::Events::EventBus", "Ref"): "event_bus_name",
    ("AWS::Events::EventBus", "Arn"): "event_bus_arn",
    ("AWS::KMS::Key", "Arn"): "key_arn",
    ("AWS::KMS::Key", "Ref"): "key_id",
    ("AWS::Cognito::UserPool", "Ref"): "user_pool_id",
    ("AWS::Cognito::UserPool", "Arn"): "user_pool_arn",
    ("AWS::StepFunctions::StateMachine", "Ref"): "state_machine_arn",
    ("AWS::ECS::Cluster", "Ref"): "cluster_name",
    ("AWS::ECS::Cluster", "Arn"): "cluster_arn",
    # Ref of a secret is its ARN (AWS::SecretsManager::Secret return values), as Secret.secret_arn
    ("AWS::SecretsManager::Secret", "Ref"): "secret_arn",
    ("AWS::EC2::VPC", "Ref"): "vpc_id",
    ("AWS::EC2::SecurityGroup", "GroupId"): "security_group_id",
}


def attribute(resource_type: str, value: object) -> str | None:
    """The snake_case L2 property of an export's value (``{"Ref": X}`` / ``{"Fn::GetAtt": [X, A]}``)."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value:
            return ATTRIBUTES.get((resource_type, "Ref"))
        got = value.get("Fn::GetAtt")
        if isinstance(got, list) and len(got) == 2 and isinstance(got[1], str):
            return ATTRIBUTES.get((resource_type, got[1]))
    return None


def member(name: str, language: str) -> str:
    """A snake_case member name in the language's spelling."""
    if language == "python":
        return name
    parts = name.split("_")
    camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return camel[:1].upper() + camel[1:] if language in ("csharp", "go") else camel


def variable(construct_id: str, language: str) -> str:
    """A variable name for a construct id (``StrandsLayer`` -> ``strands_layer`` / ``strandsLayer``)."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", construct_id) or ["value"]
    snake = "_".join(w.lower() for w in words)
    if not snake[0].isalpha():
        snake = "v_" + snake
    return member(snake, "typescript") if language != "python" else snake


def this(language: str) -> str:
    return "self" if language == "python" else "this"


def string(text: str, language: str) -> str:
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"jsii.String({quoted})" if language == "go" else quoted


def statement(code: str, language: str) -> str:
    return code if language in ("python", "go") else code + ";"


def export_value(scope: str, value: str, language: str, name: str | None = None) -> str:
    """``scope.export_value(value[, name=...])``: re-creates the automatic export name when unnamed."""
    method = member("export_value", language)
    if name is None:
        return statement(f"{scope}.{method}({value})", language)
    options = {
        "python": f"{value}, name={string(name, language)}",
        "typescript": f"{value}, {{ name: {string(name, language)} }}",
        "javascript": f"{value}, {{ name: {string(name, language)} }}",
        "java": f"{value}, ExportValueOptions.builder().name({string(name, language)}).build()",
        "csharp": f"{value}, new ExportValueOptions {{ Name = {string(name, language)} }}",
        "go": f"{value}, &awscdk.ExportValueOptions{{Name: {string(name, language)}}}",
    }[language]
    return statement(f"{scope}.{method}({options})", language)


def add_dependency(consumer: str, producer: str, language: str) -> str:
    return statement(f"{consumer}.{member('add_dependency', language)}({producer})", language)


def ssm_write(scope: str, construct_id: str, parameter: str, value: str, language: str) -> str:
    """A StringParameter the producer writes (module alias ``ssm`` / ``awsssm``)."""
    name, cid = string(parameter, language), string(construct_id, language)
    return {
        "python": f"ssm.StringParameter({scope}, {cid}, parameter_name={name}, string_value={value})",
        "typescript": f"new ssm.StringParameter({scope}, {cid}, {{ parameterName: {name}, stringValue: {value} }});",
        "javascript": f"new ssm.StringParameter({scope}, {cid}, {{ parameterName: {name}, stringValue: {value} }});",
        "java": f"StringParameter.Builder.create({scope}, {cid}).parameterName({name}).stringValue({value}).build();",
        "csharp": f"new StringParameter({scope}, {cid}, new StringParameterProps "
        f"{{ ParameterName = {name}, StringValue = {value} }});",
        "go": f"awsssm.NewStringParameter({scope}, {cid}, &awsssm.StringParameterProps{{"
        f"ParameterName: {name}, StringValue: {value}}})",
    }[language]


def ssm_read(scope: str, parameter: str, language: str) -> str:
    """The consumer's read of the parameter (resolved at deploy time)."""
    name = string(parameter, language)
    return {
        "python": f"ssm.StringParameter.value_for_string_parameter({scope}, {name})",
        "typescript": f"ssm.StringParameter.valueForStringParameter({scope}, {name})",
        "javascript": f"ssm.StringParameter.valueForStringParameter({scope}, {name})",
        "java": f"StringParameter.valueForStringParameter({scope}, {name})",
        "csharp": f"StringParameter.ValueForStringParameter({scope}, {name})",
        "go": f"awsssm.StringParameter_ValueForStringParameter({scope}, {name}, nil)",
    }[language]
