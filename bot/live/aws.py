"""Live mode, the I/O edge: what CloudFormation has deployed, read with boto3.

Per environment (account/region of the app's stacks): the deployed exports
(``ListExports``), who imports the exports this change alters (``ListImports``), the
deployed templates of the producers (``GetTemplate``, ``TemplateStage=Original``) and,
optionally, the ``Replacement`` verdicts of a change set for each producer whose export
changes. Read-only, except the change sets: created, read and always deleted, never
executed. Every failure becomes one line in ``LiveFacts.problems``; ``gather`` never
raises for an AWS failure, so the offline report is always produced.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import botocore.session  # type: ignore[import-untyped]
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

from bot.core.context import Context
from bot.core.model import UNKNOWN_ACCOUNT, UNKNOWN_REGION, Environment
from bot.live.facts import LiveFacts
from bot.workspace import cancel

Client = Any  # a botocore client; botocore ships no type information
ClientFactory = Callable[[str, str], Client]  # (service, region) -> client

MAX_ATTEMPTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
TEMPLATE_BODY_LIMIT = 51_200  # bytes: CloudFormation's TemplateBody limit (larger needs TemplateURL)
CHANGE_SET_TIMEOUT = 300.0
CHANGE_SET_POLL = 2.0
CHANGE_SET_PREFIX = "cdk-export-guard-"
LIVE_BUDGET = 300.0  # seconds for everything live mode reads; stuck endpoints must not hold the run for long
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")

_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
_THROTTLED = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
    "TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "SlowDown",
}
_BAD_CREDENTIALS = {
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
    "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthFailure", "InvalidToken",
}
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class AwsError(Exception):
    """One AWS call failed; the message is one line for the user.

    ``fatal``: nothing else in that environment can work either (no credentials, an
    unreachable endpoint), so the remaining calls are skipped.
    """

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclass
class Deadline:
    """The live check's overall time budget: checked before every AWS call that can wait."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def left(self) -> float:
        return self.seconds - (self.clock() - self.started)

    def passed(self) -> bool:
        return self.left() <= 0

    def line(self, environment: Environment) -> str:
        return (f"{environment}: the live check stopped at its {self.seconds:g}-second budget; "
                "what was not read yet is unknown")


@dataclass(frozen=True)
class LiveOptions:
    """How the command line asked for live mode."""

    profile: str | None = None
    change_sets: bool = False
    endpoint_url: str | None = None  # a local emulator (moto, LocalStack); None: AWS
    factory: ClientFactory | None = None  # tests inject clients here
    budget_seconds: float = LIVE_BUDGET


# --- clients --------------------------------------------------------------------------------


def client_config(max_attempts: int | None = None, connect_timeout: float = CONNECT_TIMEOUT,
                  read_timeout: float = READ_TIMEOUT) -> Config:
    """Bounded retries (standard mode: throttling and transient errors, with backoff) and timeouts."""
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts or MAX_ATTEMPTS},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        user_agent_extra="cdk-export-guard",
    )


def client_factory(profile: str | None = None, *, endpoint_url: str | None = None,
                   config: Config | None = None) -> ClientFactory:
    """Clients from one boto3 session (the profile, else the default credential chain), cached."""
    config = config or client_config()
    session: list[Any] = []
    clients: dict[tuple[str, str], Client] = {}

    def factory(service: str, region: str) -> Client:
        if not session:
            session.append(boto3.session.Session(profile_name=profile))
        key = (service, region)
        if key not in clients:
            clients[key] = session[0].client(service, region_name=region, endpoint_url=endpoint_url, config=config)
        return clients[key]

    return factory


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """The CloudFormation regions of every partition in botocore's endpoint data (offline)."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("cloudformation", partition)
    )


@contextmanager
def _translate(environment: Environment, operation: str, client: Client | None = None,
               subject: str = "") -> Iterator[None]:
    """Turn what botocore raises into an AwsError with one clear line."""
    where = f"{environment}: {operation}{f' ({subject})' if subject else ''}"
    service = _service(client)
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
        if code in _ACCESS_DENIED:
            raise AwsError(
                f"{where}: access denied; the credentials need the IAM action {service}:{operation} "
                f"({message or code})"
            ) from None
        if code in _THROTTLED:
            raise AwsError(
                f"{where}: throttled by AWS, still after {_retries(client)} retries with backoff; "
                "try again later"
            ) from None
        if code in _BAD_CREDENTIALS:
            raise AwsError(
                f"{where}: the AWS credentials were refused ({code}: {message}); they may be expired, "
                f"or the region {environment.region} is not enabled for this account",
                fatal=True,
            ) from None
        raise AwsError(f"{where}: {code}: {message}") from None
    except ProfileNotFound as exc:
        raise AwsError(f"{environment}: {exc}; live checks skipped", fatal=True) from None
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
        raise AwsError(
            f"{environment}: no usable AWS credentials ({exc}); live checks skipped. Set credentials "
            "(AWS_PROFILE or --aws-profile, environment variables, SSO, an instance role) or run "
            "without --live",
            fatal=True,
        ) from None
    except (EndpointConnectionError, ConnectTimeoutError, NoRegionError) as exc:
        region = environment.region
        hint = (
            f"the region {region} does not exist (botocore knows no such CloudFormation region)"
            if region not in known_regions()
            else "is the network, a proxy or a firewall blocking it?"
        )
        raise AwsError(
            f"{where}: cannot reach the endpoint for region {region} ({exc}): {hint}; live checks skipped",
            fatal=True,
        ) from None
    except ReadTimeoutError as exc:
        raise AwsError(f"{where}: timed out, still after {_retries(client)} retries ({exc})") from None
    except ResponseParserError as exc:
        first = str(exc).split("\n")[0][:200]
        raise AwsError(f"{where}: the endpoint sent a response botocore cannot read ({first})") from None
    except BotoCoreError as exc:
        raise AwsError(f"{where}: {type(exc).__name__}: {exc}") from None


def _service(client: Client | None) -> str:
    try:
        return str(client.meta.service_model.signing_name)  # type: ignore[union-attr]
    except AttributeError:
        return "cloudformation"


def _retries(client: Client | None) -> int:
    """Retries after the first attempt (botocore's ``max_attempts`` counts retries, not calls)."""
    try:
        retries = client.meta.config.retries or {}  # type: ignore[union-attr]
    except AttributeError:
        return MAX_ATTEMPTS
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"]) - 1
    return int(retries.get("max_attempts", MAX_ATTEMPTS))


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


# --- templates ---------------------------------------------------------------------------------


class _TemplateLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML as CloudFormation reads it: short-form tags, and dates left as text."""


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    """``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub`` ..."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _short_form)


def parse_template(body: Any) -> dict[str, Any]:
    """A template body from GetTemplate as a dict: botocore decodes JSON; YAML comes as text.

    Raises AwsError when it is neither JSON nor YAML, or not an object.
    """
    if isinstance(body, Mapping):
        body = json.dumps(body)  # plain dicts and lists below, not botocore's OrderedDicts
    if not isinstance(body, str):
        raise AwsError(f"the template body is a {type(body).__name__}, not text")
    try:
        data = json.loads(body)
    except ValueError:
        try:
            data = yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise AwsError(f"the template is neither JSON nor YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict):
        raise AwsError("the template is not an object")
    return data


# --- reading one environment ----------------------------------------------------------------------


def read_environment(factory: ClientFactory, environment: Environment, stacks: Iterable[str],
                     deadline: Deadline | None = None) -> LiveFacts:
    """Exports and the deployed templates of ``stacks``, after checking the credentials' account."""
    if environment.region == UNKNOWN_REGION:
        return LiveFacts(environment, problems=(_agnostic_line(environment, stacks),))
    problems: list[str] = []
    try:
        with _translate(environment, "GetCallerIdentity"):
            sts = factory("sts", environment.region)
        with _translate(environment, "GetCallerIdentity", sts):
            account = str(sts.get_caller_identity()["Account"])
    except AwsError as exc:
        return LiveFacts(environment, problems=(str(exc),))
    if environment.account not in (UNKNOWN_ACCOUNT, account):
        return LiveFacts(environment, account=account, problems=(
            f"{environment}: the credentials are for account {account}, not {environment.account}; live "
            "checks skipped for this environment (use --aws-profile with credentials for that account)",
        ))
    if environment.account == UNKNOWN_ACCOUNT:
        problems.append(f"{environment}: no account in the assembly; assuming the credentials' account {account}")
    client = factory("cloudformation", environment.region)
    exports: dict[str, str] | None = None
    exporters: dict[str, str] = {}
    try:
        exports, exporters = _list_exports(client, environment)
    except AwsError as exc:
        problems.append(str(exc))
        if exc.fatal:
            return LiveFacts(environment, problems=tuple(problems), account=account)
    templates: dict[str, Mapping[str, Any] | None] = {}
    for stack in sorted(set(stacks)):
        if deadline is not None and deadline.passed():
            problems.append(deadline.line(environment))
            break
        try:
            templates[stack] = _deployed_template(client, environment, stack)
        except AwsError as exc:
            problems.append(str(exc))
            if exc.fatal:
                break
            continue
        if templates[stack] is None:
            problems.append(f"{environment}: stack {stack} is not deployed (GetTemplate: it does not exist)")
    return LiveFacts(environment, exports=exports, exporters=exporters, templates=templates,
                     problems=tuple(problems), account=account)


def _agnostic_line(environment: Environment, stacks: Iterable[str]) -> str:
    names = ", ".join(sorted(set(stacks)))
    return (
        f"live check skipped for {names}: environment-agnostic (no region in the assembly), so where "
        "they deploy is not known; give them an env (account and region) to check them"
    )


def _list_exports(client: Client, environment: Environment) -> tuple[dict[str, str], dict[str, str]]:
    exports: dict[str, str] = {}
    exporters: dict[str, str] = {}
    with _translate(environment, "ListExports", client):
        for page in client.get_paginator("list_exports").paginate():
            for export in page.get("Exports", []):
                name = export.get("Name")
                if isinstance(name, str):
                    exports[name] = str(export.get("Value", ""))
                    exporters[name] = _stack_name(str(export.get("ExportingStackId", "")))
    return exports, exporters


def _stack_name(stack_id: str) -> str:
    """``arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`` -> ``NAME``."""
    parts = stack_id.split("/")
    return parts[1] if len(parts) >= 3 and parts[0].endswith(":stack") else stack_id


def _deployed_template(client: Client, environment: Environment, stack: str) -> Mapping[str, Any] | None:
    with _translate(environment, "GetTemplate", client, subject=stack):
        try:
            response = client.get_template(StackName=stack, TemplateStage="Original")
        except ClientError as exc:
            if _error_code(exc) == "ValidationError" and "does not exist" in _error_message(exc):
                return None
            raise
    try:
        return parse_template(response.get("TemplateBody"))
    except AwsError as exc:
        raise AwsError(f"{environment}: the deployed template of {stack} cannot be read: {exc}") from None


def read_importers(factory: ClientFactory, facts: LiveFacts, export_names: Iterable[str],
                   deadline: Deadline | None = None) -> LiveFacts:
    """Add who imports each export (``ListImports``); an export not deployed has no importer.

    Past the ``deadline`` the rest stay unread (unknown, which the report says).
    """
    if facts.exports is None:
        return facts
    environment = facts.environment
    client = factory("cloudformation", environment.region)
    importers = dict(facts.importers)
    problems = list(facts.problems)
    for name in sorted(set(export_names)):
        if name not in facts.exports:
            importers[name] = ()
            continue
        if deadline is not None and deadline.passed():
            problems.append(deadline.line(environment))
            break
        try:
            importers[name] = _list_imports(client, environment, name)
        except AwsError as exc:
            problems.append(str(exc))
            if exc.fatal:
                break
    return replace(facts, importers=importers, problems=tuple(problems))


def _list_imports(client: Client, environment: Environment, name: str) -> tuple[str, ...]:
    stacks: set[str] = set()
    with _translate(environment, "ListImports", client, subject=name):
        try:
            for page in client.get_paginator("list_imports").paginate(ExportName=name):
                stacks.update(str(s) for s in page.get("Imports", []))
        except ClientError as exc:
            # CloudFormation answers an export nobody imports with an error, not an empty list.
            if _error_code(exc) == "ValidationError" and "is not imported by any stack" in _error_message(exc):
                return ()
            raise
    return tuple(sorted(stacks))


# --- change sets -------------------------------------------------------------------------------------


def read_replacements(
    factory: ClientFactory,
    facts: LiveFacts,
    bodies: Mapping[str, str],
    *,
    timeout: float = CHANGE_SET_TIMEOUT,
    poll: float = CHANGE_SET_POLL,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    token: Callable[[], str] = lambda: secrets.token_hex(4),
    deadline: Deadline | None = None,
) -> LiveFacts:
    """Add ``Replacement`` verdicts from one change set per stack (head template ``bodies``).

    Each change set is created, read and deleted, never executed; the deletion runs in a
    ``finally`` (errors, the timeout, KeyboardInterrupt). A resource in both templates
    that the change set does not list is not modified: its verdict is "False".
    """
    environment = facts.environment
    if facts.account is None:
        return facts
    replacements = dict(facts.replacements)
    computed = list(facts.change_sets)
    problems = list(facts.problems)
    for stack, body in sorted(bodies.items()):
        cancel.check()
        if deadline is not None and deadline.passed():
            problems.append(deadline.line(environment))
            break
        if deadline is not None:
            timeout = max(min(timeout, deadline.left()), poll)
        deployed = facts.templates.get(stack)
        if deployed is None:
            problems.append(f"{environment}: no change set for {stack}: it is not deployed (or was not read)")
            continue
        compact = _compact(body)
        size = len(compact.encode())
        if size > TEMPLATE_BODY_LIMIT:
            problems.append(
                f"{environment}: no change set for {stack}: its head template is {size} bytes, over "
                f"CloudFormation's {TEMPLATE_BODY_LIMIT}-byte TemplateBody limit (it would need an S3 upload)"
            )
            continue
        try:
            client = factory("cloudformation", environment.region)
            verdicts = _change_set(client, environment, stack, compact, deployed, problems,
                                   timeout=timeout, poll=poll, sleep=sleep, clock=clock,
                                   name=f"{CHANGE_SET_PREFIX}{token()}")
        except AwsError as exc:
            problems.append(str(exc))
            if exc.fatal:
                break
            continue
        replacements.update({(stack, logical_id): v for logical_id, v in verdicts.items()})
        computed.append(stack)
    return replace(facts, replacements=replacements, change_sets=tuple(computed), problems=tuple(problems))


def _compact(body: str) -> str:
    """The template without the indentation cdk synth adds (same template, fewer bytes)."""
    try:
        return json.dumps(json.loads(body), separators=(",", ":"))
    except ValueError:
        return body


def _change_set(
    client: Client,
    environment: Environment,
    stack: str,
    body: str,
    deployed: Mapping[str, Any],
    problems: list[str],
    *,
    timeout: float,
    poll: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    name: str,
) -> dict[str, str]:
    with _translate(environment, "DescribeStacks", client, subject=stack):
        described = client.describe_stacks(StackName=stack)["Stacks"][0]
    existing = {p.get("ParameterKey") for p in described.get("Parameters") or []}
    head = parse_template(body)
    head_parameters = _section(head, "Parameters")
    parameters = [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(head_parameters) if k in existing]
    created = True  # until the service says otherwise: a timeout may hide a created change set
    uncertain = False  # the create's outcome is unknown (a lost reply): look for leftovers afterwards
    identifier = name  # the name is unique to this run: delete by name when the reply (and its Id) is lost
    try:
        with _translate(environment, "CreateChangeSet", client, subject=stack):
            try:
                response = client.create_change_set(
                    StackName=stack,
                    ChangeSetName=name,
                    ChangeSetType="UPDATE",
                    TemplateBody=body,
                    Parameters=parameters,
                    Capabilities=list(CAPABILITIES),
                    Description="cdk-export-guard: read-only preview of the head template; never executed",
                )
            except ClientError as exc:
                if _error_code(exc) in ("AlreadyExistsException", "AlreadyExists"):
                    # botocore retried a create whose reply was lost: the first one exists, with our name.
                    response, uncertain = {}, True
                else:
                    # A 5xx or throttled create may still have happened; a 4xx refusal did not.
                    uncertain = _status(exc) >= 500 or _error_code(exc) in _THROTTLED
                    created = uncertain
                    raise
            except BotoCoreError:
                uncertain = True  # a timeout: it may exist
                raise
        identifier = str(response.get("Id") or name)
        first = _wait(client, environment, stack, identifier, timeout=timeout, poll=poll, sleep=sleep, clock=clock)
        if first is None:
            changes: list[Mapping[str, Any]] = []
        else:
            changes = _all_changes(client, environment, stack, identifier, first)
    finally:
        if created:
            _delete_change_set(client, environment, stack, identifier, problems, poll=poll, sleep=sleep)
        if uncertain:
            _report_leftovers(client, environment, stack, name, problems)
    return _verdicts(changes, head, deployed)


def _status(exc: ClientError) -> int:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else 0


def _report_leftovers(client: Client, environment: Environment, stack: str, ours: str, problems: list[str]) -> None:
    """After an uncertain create: name every change set of ours still on the stack (never executed, safe to delete)."""
    try:
        summaries = [s for page in client.get_paginator("list_change_sets").paginate(StackName=stack)
                     for s in page.get("Summaries", [])]
    except (ClientError, BotoCoreError) as exc:
        problems.append(f"{environment}: could not list the change sets of {stack} to find leftovers ({exc})")
        return
    for summary in summaries:
        name = str(summary.get("ChangeSetName", ""))
        if name.startswith(CHANGE_SET_PREFIX) and name != ours:
            problems.append(
                f"{environment}: change set {name} of {stack} was left by an earlier run; delete it with "
                f"`aws cloudformation delete-change-set --stack-name {stack} --change-set-name {name}`"
            )
        elif name == ours:
            problems.append(
                f"{environment}: change set {name} of {stack} is still there; delete it with "
                f"`aws cloudformation delete-change-set --stack-name {stack} --change-set-name {name}`"
            )


def _wait(
    client: Client,
    environment: Environment,
    stack: str,
    identifier: str,
    *,
    timeout: float,
    poll: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> Mapping[str, Any] | None:
    """The first page of the finished change set, or None when it has no changes."""
    deadline = clock() + timeout
    while True:
        cancel.check()  # SIGTERM while waiting: the caller's finally deletes the change set
        with _translate(environment, "DescribeChangeSet", client, subject=stack):
            page = client.describe_change_set(ChangeSetName=identifier, StackName=stack)
        status = page.get("Status")
        if status == "CREATE_COMPLETE":
            return dict(page)
        if status == "FAILED":
            reason = str(page.get("StatusReason", ""))
            if any(text in reason for text in _NO_CHANGES):
                return None
            raise AwsError(f"{environment}: the change set for {stack} failed: {reason}")
        if clock() >= deadline:
            raise AwsError(f"{environment}: the change set for {stack} was not ready after {timeout:.0f}s "
                           f"(status {status})")
        sleep(poll)


def _all_changes(client: Client, environment: Environment, stack: str, identifier: str,
                 first: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    changes = list(first.get("Changes", []))
    token = first.get("NextToken")
    while token:
        with _translate(environment, "DescribeChangeSet", client, subject=stack):
            page = client.describe_change_set(ChangeSetName=identifier, StackName=stack, NextToken=token)
        changes.extend(page.get("Changes", []))
        token = page.get("NextToken")
    return changes


def _delete_change_set(client: Client, environment: Environment, stack: str, identifier: str,
                       problems: list[str], *, poll: float, sleep: Callable[[float], None]) -> None:
    """Delete it; a change set still being created cannot be deleted yet, so a few tries."""
    for attempt in range(3):
        try:
            client.delete_change_set(ChangeSetName=identifier, StackName=stack)
            return
        except ClientError as exc:
            code = _error_code(exc)
            if code in ("ChangeSetNotFound", "ChangeSetNotFoundException"):
                return
            if code in ("InvalidChangeSetStatus", "InvalidChangeSetStatusException") and attempt < 2:
                sleep(poll)
                continue
            reason = f"{code}: {_error_message(exc)}"
        except BotoCoreError as exc:
            reason = str(exc)
        problems.append(
            f"{environment}: could not delete change set {identifier} of {stack} ({reason}); delete it with "
            f"`aws cloudformation delete-change-set --stack-name {stack} --change-set-name {identifier}`"
        )
        return


def _verdicts(changes: Iterable[Mapping[str, Any]], head: Mapping[str, Any],
              deployed: Mapping[str, Any]) -> dict[str, str]:
    verdicts: dict[str, str] = {}
    listed: set[str] = set()
    for change in changes:
        resource = change.get("ResourceChange") or {}
        logical_id = resource.get("LogicalResourceId")
        if not isinstance(logical_id, str):
            continue
        listed.add(logical_id)
        replacement = resource.get("Replacement")
        if resource.get("Action") == "Modify" and replacement in ("True", "False", "Conditional"):
            verdicts[logical_id] = str(replacement)
    head_resources = _section(head, "Resources")
    deployed_resources = _section(deployed, "Resources")
    for logical_id in head_resources:
        if logical_id in deployed_resources and logical_id not in listed:
            verdicts[logical_id] = "False"  # not in the change set: not modified at all
    return verdicts


def _section(template: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = template.get(name)
    return value if isinstance(value, Mapping) else {}


# --- everything live mode reads ---------------------------------------------------------------------


def gather(
    context: Context,
    factory: ClientFactory,
    *,
    change_sets: bool = False,
    read_text: Callable[[Path], str] = lambda path: path.read_text(encoding="utf-8"),
    change_set_timeout: float = CHANGE_SET_TIMEOUT,
    budget_seconds: float = LIVE_BUDGET,
    clock: Callable[[], float] = time.monotonic,
) -> dict[Environment, LiveFacts]:
    """Read what every environment of the app has deployed; never raises for AWS failures.

    Two passes: exports and deployed templates first; then, with head compared to what
    is deployed, the importers of the exports that change (and the change sets).
    """
    from bot.live import adjust as live  # the pure half decides what to read next

    deadline = Deadline(budget_seconds, clock)
    facts: dict[Environment, LiveFacts] = {}
    for environment, request in live.requests(context).items():
        if environment.region == UNKNOWN_REGION:
            facts[environment] = LiveFacts(environment, problems=(_agnostic_line(environment, request.stacks),))
            continue
        if deadline.passed():
            facts[environment] = LiveFacts(environment, problems=(deadline.line(environment),))
            continue
        facts[environment] = _safely(
            environment, partial(read_environment, factory, environment, request.producers, deadline)
        )
    rebased, _ = live.rebase(context, facts)
    changes = live.changed_exports(rebased)
    names: dict[Environment, set[str]] = {}
    for change in changes:
        if change.environment in facts:
            names.setdefault(change.environment, set()).add(change.name)
    for environment, export_names in names.items():
        current = facts[environment]
        facts[environment] = _safely(
            environment, partial(read_importers, factory, current, export_names, deadline), fallback=current
        )
    if not change_sets:
        return facts
    root = Path(rebased.head.path)
    bodies: dict[Environment, dict[str, str]] = {}
    for change in changes:
        stack = change.producer
        if change.removed or stack.parent is not None or change.environment not in facts:
            continue  # a removed export has no replacement to confirm; nested stacks go with their parent
        try:
            body = read_text(root / stack.template_file)
        except OSError as exc:
            current = facts[change.environment]
            facts[change.environment] = replace(current, problems=(
                *current.problems,
                f"{change.environment}: no change set for {stack.stack_name}: its head template cannot be "
                f"read ({exc.strerror})",
            ))
            continue
        bodies.setdefault(change.environment, {})[stack.stack_name] = body
    for environment, stack_bodies in bodies.items():
        current = facts[environment]
        facts[environment] = _safely(
            environment,
            partial(read_replacements, factory, current, stack_bodies, timeout=change_set_timeout, deadline=deadline),
            fallback=current,
        )
    return facts


def _safely(environment: Environment, read: Callable[[], LiveFacts], fallback: LiveFacts | None = None) -> LiveFacts:
    """Whatever goes wrong while reading one environment becomes a problem line, not a crash."""
    try:
        return read()
    except AwsError as exc:
        problem = str(exc)
    except Exception as exc:  # noqa: BLE001 - the offline report must survive any live failure
        problem = f"{environment}: live check failed unexpectedly ({type(exc).__name__}: {exc})"
    base = fallback or LiveFacts(environment)
    return replace(base, problems=(*base.problems, problem))
