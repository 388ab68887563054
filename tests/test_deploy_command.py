"""Parsing `cdk deploy` command lines: runners, flags, shell constructs, non-deploys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.plans.deploy_command import DeployCommand, find_deploys, parse_deploy, render_deploy

# (command line, (selectors, --all, --exclusively, --concurrency, --force))
PARSED = [
    ("cdk deploy", ((), False, False, 1, False)),
    ("cdk deploy MyStack", (("MyStack",), False, False, 1, False)),
    (
        "npx cdk deploy Example-ComputeStack --require-approval never",
        (("Example-ComputeStack",), False, False, 1, False),
    ),
    ("npx aws-cdk deploy A B", (("A", "B"), False, False, 1, False)),
    ("npx aws-cdk@2 deploy A", (("A",), False, False, 1, False)),
    ("npx --yes aws-cdk@2.1148.1 deploy A", (("A",), False, False, 1, False)),
    ("npx -p aws-cdk@2 cdk deploy A", (("A",), False, False, 1, False)),
    ("npm run cdk -- deploy A --all", (("A",), True, False, 1, False)),
    ("npm run-script cdk -- deploy A", (("A",), False, False, 1, False)),
    ("npm exec -- cdk deploy A", (("A",), False, False, 1, False)),
    ("yarn cdk deploy A", (("A",), False, False, 1, False)),
    ("yarn run cdk deploy A", (("A",), False, False, 1, False)),
    ("pnpm cdk deploy A", (("A",), False, False, 1, False)),
    ("pnpm exec cdk deploy A", (("A",), False, False, 1, False)),
    ("./node_modules/.bin/cdk deploy A", (("A",), False, False, 1, False)),
    ("node_modules/.bin/cdk deploy A", (("A",), False, False, 1, False)),
    ("cdk deploy --all", ((), True, False, 1, False)),
    ("cdk deploy A --exclusively", (("A",), False, True, 1, False)),
    ("cdk deploy -e A", (("A",), False, True, 1, False)),
    ("cdk deploy -ef A", (("A",), False, True, 1, True)),
    ("cdk deploy A --concurrency 4", (("A",), False, False, 4, False)),
    ("cdk deploy A --concurrency=4", (("A",), False, False, 4, False)),
    ("cdk deploy A --concurrency nope", (("A",), False, False, 1, False)),
    ("cdk deploy A --force", (("A",), False, False, 1, True)),
    ("cdk deploy -f A", (("A",), False, False, 1, True)),
    ("cdk deploy --require-approval never A", (("A",), False, False, 1, False)),
    ("cdk deploy --require-approval=never A", (("A",), False, False, 1, False)),
    ("cdk deploy --app 'python3 app.py' A", (("A",), False, False, 1, False)),
    ("cdk deploy -a cdk.out A", (("A",), False, False, 1, False)),
    ("cdk -a cdk.out deploy A", (("A",), False, False, 1, False)),
    ("cdk deploy --context k=v -c env=prod A", (("A",), False, False, 1, False)),
    ("cdk deploy --profile p --role-arn arn:aws:iam::1:role/x A", (("A",), False, False, 1, False)),
    ("cdk deploy --method direct --parameters A:Key=V A", (("A",), False, False, 1, False)),
    ("cdk deploy --outputs-file out.json --toolkit-stack-name T A", (("A",), False, False, 1, False)),
    ("cdk deploy --tags team=x --progress events A", (("A",), False, False, 1, False)),
    ("cdk deploy --hotswap A", (("A",), False, False, 1, False)),
    ("cdk deploy --no-rollback A", (("A",), False, False, 1, False)),
    ("cdk deploy --ci A", (("A",), False, False, 1, False)),
    ("cdk deploy --quiet A -q", (("A",), False, False, 1, False)),
    ("cdk deploy --verbose -vv A", (("A",), False, False, 1, False)),
    ("cdk deploy --no-exclusively A", (("A",), False, False, 1, False)),
    ("cdk deploy 'Prod/*'", (("Prod/*",), False, False, 1, False)),
    ('cdk deploy "Prod/*" Dev/Api', (("Prod/*", "Dev/Api"), False, False, 1, False)),
    ("FOO=1 BAR=2 cdk deploy A", (("A",), False, False, 1, False)),
    ("env CI=true cdk deploy A", (("A",), False, False, 1, False)),
    ("npm ci && cdk deploy A; echo done", (("A",), False, False, 1, False)),
    ("cdk synth && cdk deploy A | tee deploy.log", (("A",), False, False, 1, False)),
    ("set -e; cdk deploy A || exit 1", (("A",), False, False, 1, False)),
    ("cdk deploy A 2>&1 > deploy.log", (("A",), False, False, 1, False)),
    ("cdk deploy A \\\n    --exclusively \\\n    B", (("A", "B"), False, True, 1, False)),
    ("cdk deploy A # then B", (("A",), False, False, 1, False)),
    ("if true; then cdk deploy A; fi", (("A",), False, False, 1, False)),
    (
        "npx cdk deploy --all --require-approval never --concurrency 2",
        ((), True, False, 2, False),
    ),
]

NOT_DEPLOY = [
    "",
    "cdk",
    "npx cdk",
    "cdk synth",
    "cdk diff A",
    "cdk --app x synth",
    "cdkdeploy A",
    "echo cdk deploy A",
    "echo 'cdk deploy A'",
    "# cdk deploy A",
    "git commit -m 'cdk deploy A'",
    "npm run deploy",
    "npx some-tool deploy A",
    "serverless deploy",
    "sam deploy --stack-name A",
    "Run cdk deploy A once by hand.",
]


def fields(command: DeployCommand) -> tuple[tuple[str, ...], bool, bool, int, bool]:
    return (
        command.selectors,
        command.all_stacks,
        command.exclusively,
        command.concurrency,
        command.force,
    )


@pytest.mark.parametrize(("line", "expected"), PARSED)
def test_parse_table(line: str, expected: tuple[tuple[str, ...], bool, bool, int, bool]) -> None:
    command = parse_deploy(line)
    assert command is not None
    assert fields(command) == expected


@pytest.mark.parametrize("line", NOT_DEPLOY)
def test_not_a_deploy(line: str) -> None:
    assert parse_deploy(line) is None


def test_raw_runner_and_kept_options() -> None:
    command = parse_deploy("npm ci && FOO=1 npx aws-cdk@2 deploy 'Prod/*' --require-approval never")
    assert command is not None
    assert command.raw == "npx aws-cdk@2 deploy 'Prod/*' --require-approval never"
    assert command.runner == ("npx", "aws-cdk@2")
    assert command.options == ("--require-approval", "never")


def test_continuations_are_joined_in_raw() -> None:
    command = parse_deploy("cdk deploy A \\\n    --require-approval never")
    assert command is not None
    assert command.raw == "cdk deploy A --require-approval never"


def test_several_deploys_on_one_line_with_spans() -> None:
    text = "cdk deploy A --exclusively && npx cdk deploy B"
    found = find_deploys(text)
    assert [text[m.start : m.end] for m in found] == ["cdk deploy A --exclusively", "npx cdk deploy B"]
    assert [m.command.selectors for m in found] == [("A",), ("B",)]
    assert [m.command.exclusively for m in found] == [True, False]


def test_render_is_canonical_and_quoted() -> None:
    command = parse_deploy("cdk deploy -f 'Prod/*' --concurrency=3 -e --require-approval=never X")
    assert command is not None
    assert render_deploy(command) == (
        "cdk deploy 'Prod/*' X --exclusively --force --concurrency 3 --require-approval=never"
    )
    npm = parse_deploy("npm run cdk -- deploy --all")
    assert npm is not None
    assert render_deploy(npm) == "npm run cdk -- deploy --all"


SELECTOR = st.text(
    alphabet="abcXYZ09-_/*?' \"$", min_size=1, max_size=12
).filter(lambda s: not s.startswith("-"))


@given(
    selectors=st.lists(SELECTOR, max_size=4).map(tuple),
    all_stacks=st.booleans(),
    exclusively=st.booleans(),
    concurrency=st.integers(min_value=1, max_value=16),
    force=st.booleans(),
)
def test_render_then_parse_round_trips(
    selectors: tuple[str, ...], all_stacks: bool, exclusively: bool, concurrency: int, force: bool
) -> None:
    command = DeployCommand(selectors, all_stacks, exclusively, concurrency, force, raw="")
    parsed = parse_deploy(render_deploy(command))
    assert parsed is not None
    assert fields(parsed) == fields(command)


@given(st.text(max_size=200))
def test_never_raises(text: str) -> None:
    for match in find_deploys(text):
        assert 0 <= match.start < match.end <= len(text)
