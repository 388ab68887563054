"""bot.workspace.synth: the real cdk CLI on small apps, and a fake CLI for the edges."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from bot.workspace.synth import CDK_CLI_ENV, SynthError, find_cdk_cli, synthesize
from tests.synth_cache import APPS_DIR

PYTHON_APP = f"{sys.executable} app.py"

# A stand-in for the cdk CLI: records its argv and environment, writes a manifest
# into --output unless CDK_FAKE_NO_MANIFEST is set.
FAKE_CDK = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
out = args[args.index("--output") + 1]
with open(os.path.join(os.environ["CDK_FAKE_RECORD"]), "w") as f:
    json.dump({{"argv": args, "cwd": os.getcwd(), "env": dict(os.environ)}}, f)
if not os.environ.get("CDK_FAKE_NO_MANIFEST"):
    with open(os.path.join(out, "manifest.json"), "w") as f:
        f.write("{{}}")
print("fake synth done")
"""


def write_app(folder: Path, source: str, cdk_json: object | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(source)
    if cdk_json is not None:
        (folder / "cdk.json").write_text(json.dumps(cdk_json))
    return folder


@pytest.fixture
def fake_cdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    cli = tmp_path / "bin" / "cdk"
    cli.parent.mkdir()
    cli.write_text(FAKE_CDK)
    cli.chmod(cli.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "record.json"
    monkeypatch.setenv("CDK_FAKE_RECORD", str(record))
    return str(cli), record


# --- the real CLI -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.synth
def test_synth_of_a_real_app(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "stale.template.json").write_text("{}")

    result = synthesize(APPS_DIR / "layer_cross_stack", out, app_command=PYTHON_APP, context={"variant": "base"})

    assert result.out_dir == out.resolve()
    assert not (out / "stale.template.json").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = {k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}
    assert stacks == {"Compute", "Admin"}
    admin = (out / "Admin.template.json").read_text()
    assert '"Fn::ImportValue": "Compute:ExportsOutputRefStrandsLayer' in admin
    # Path metadata is kept (the analyzer needs it); version reporting is off.
    compute = json.loads((out / "Compute.template.json").read_text())
    assert all("aws:cdk:path" in r.get("Metadata", {}) for r in compute["Resources"].values())
    assert "CDKMetadata" not in compute["Resources"]
    assert result.command[1] == "synth" and "-c" in result.command and "variant=base" in result.command
    assert result.duration_seconds > 0


@pytest.mark.synth
def test_failing_app_gives_its_exception_in_the_log_tail(tmp_path: Path) -> None:
    app = write_app(tmp_path / "broken", "raise RuntimeError('boom: the app is broken')\n")
    with pytest.raises(SynthError) as caught:
        synthesize(app, tmp_path / "out", app_command=PYTHON_APP)
    assert "cdk synth failed" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "boom: the app is broken" in caught.value.log_tail


@pytest.mark.synth
def test_timeout_stops_the_cli_and_the_app(tmp_path: Path) -> None:
    pid_file = tmp_path / "app.pid"
    app = write_app(
        tmp_path / "sleepy",
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n",
    )
    started = time.monotonic()
    with pytest.raises(SynthError, match=r"^cdk synth timed out after 6 s$"):
        synthesize(app, tmp_path / "out", app_command=PYTHON_APP, timeout_seconds=6)
    assert time.monotonic() - started < 30
    assert pid_file.exists(), "the CLI did not start the app within the timeout"
    assert _ends(int(pid_file.read_text())), "the app outlived the timed-out CLI"


def _ends(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.2)
    return False


# --- edges, with a fake CLI or none -----------------------------------------------


def test_missing_cdk_json_is_a_clear_error(tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", "print('hi')\n")
    with pytest.raises(SynthError, match=r"no app command: .*cdk\.json does not exist; pass --app"):
        synthesize(app, tmp_path / "out", cdk_cli="/nonexistent/cdk")


def test_cdk_json_without_app_is_a_clear_error(tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", "print('hi')\n", cdk_json={"context": {}})
    with pytest.raises(SynthError, match=r'has no "app" string; pass --app'):
        synthesize(app, tmp_path / "out", cdk_cli="/nonexistent/cdk")


def test_app_command_defaults_to_cdk_json_and_context_is_passed(
    tmp_path: Path, fake_cdk: tuple[str, Path]
) -> None:
    cli, record = fake_cdk
    app = write_app(tmp_path / "app", "", cdk_json={"app": "python3 app.py"})
    result = synthesize(app, tmp_path / "out", context={"variant": "head", "a": "b=c"}, cdk_cli=cli,
                        extra_env={"EXTRA": "1"})
    seen = json.loads(record.read_text())
    argv = seen["argv"]
    assert argv[:5] == ["synth", "--app", "python3 app.py", "--output", str((tmp_path / "out").resolve())]
    assert {"--quiet", "--no-version-reporting", "--no-notices"} <= set(argv)
    assert not {"--no-path-metadata", "--no-asset-metadata"} & set(argv)
    assert argv[-4:] == ["-c", "variant=head", "-c", "a=b=c"]
    assert seen["cwd"] == str(app.resolve())
    assert seen["env"]["CDK_DISABLE_VERSION_CHECK"] == "1"
    assert seen["env"]["CI"] == "true"
    assert seen["env"]["EXTRA"] == "1"
    assert result.log_tail == "fake synth done"


def test_success_without_manifest_is_an_error(
    tmp_path: Path, fake_cdk: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, _ = fake_cdk
    monkeypatch.setenv("CDK_FAKE_NO_MANIFEST", "1")
    app = write_app(tmp_path / "app", "")
    with pytest.raises(SynthError, match="wrote no manifest.json") as caught:
        synthesize(app, tmp_path / "out", app_command="python3 app.py", cdk_cli=cli)
    assert caught.value.log_tail == "fake synth done"


def test_refuses_to_empty_a_folder_holding_the_app(tmp_path: Path, fake_cdk: tuple[str, Path]) -> None:
    cli, _ = fake_cdk
    app = write_app(tmp_path / "repo" / "app", "")
    for out in (app, app.parent):
        with pytest.raises(SynthError, match="refusing to empty"):
            synthesize(app, out, app_command="python3 app.py", cdk_cli=cli)
    assert (app / "app.py").exists()


def test_unrunnable_cli_is_a_synth_error(tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", "")
    with pytest.raises(SynthError, match="cannot run"):
        synthesize(app, tmp_path / "out", app_command="python3 app.py", cdk_cli=str(tmp_path / "no-such-cdk"))


def test_find_cdk_cli_prefers_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CDK_CLI_ENV, "/opt/cdk/bin/cdk")
    assert find_cdk_cli() == "/opt/cdk/bin/cdk"


def test_find_cdk_cli_walks_up_to_node_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CDK_CLI_ENV, raising=False)
    cli = tmp_path / "node_modules" / ".bin" / "cdk"
    cli.parent.mkdir(parents=True)
    cli.write_text("#!/bin/sh\n")
    cli.chmod(0o755)
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)
    assert find_cdk_cli(start) == str(cli)


def test_find_cdk_cli_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CDK_CLI_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SynthError, match="npm ci") as caught:
        find_cdk_cli(tmp_path)
    assert "\n" not in str(caught.value)


def test_default_cli_is_the_pinned_one() -> None:
    if os.environ.get(CDK_CLI_ENV):
        pytest.skip(f"{CDK_CLI_ENV} is set")
    pinned = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "cdk"
    if not pinned.exists():
        pytest.skip("npm ci has not been run")
    assert find_cdk_cli() == str(pinned)


SECRET_VARIABLES = {
    "GITHUB_TOKEN": "ghs_" + "t" * 36, "INPUT_GITHUB-TOKEN": "ghs_" + "i" * 36,
    "ACTIONS_RUNTIME_TOKEN": "runtime-token-value", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/oidc", "ACTIONS_CACHE_URL": "https://cache.example",
    "NPM_CONFIG_TOKEN": "npm-token-value", "MY_SERVICE_PASSWORD": "hunter2hunter2",
}
AWS_VARIABLES = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
                 "AWS_SESSION_TOKEN": "session-token-value"}


@pytest.mark.parametrize("aws", [False, True])
def test_the_app_gets_an_allow_listed_environment(
    tmp_path: Path, fake_cdk: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, aws: bool
) -> None:
    for name, value in {**SECRET_VARIABLES, **AWS_VARIABLES, "CDK_DEFAULT_REGION": "eu-west-1",
                        "LANG": "C.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    cli, record = fake_cdk
    app = write_app(tmp_path / "app", "", cdk_json={"app": "python3 app.py"})
    synthesize(app, tmp_path / "out", cdk_cli=cli, aws=aws)
    seen = json.loads(record.read_text())["env"]
    assert not set(SECRET_VARIABLES) & set(seen)
    assert not [v for v in seen.values() if v in SECRET_VARIABLES.values()]
    assert (set(AWS_VARIABLES) <= set(seen)) is aws and (not set(AWS_VARIABLES) & set(seen)) is not aws
    assert seen["CDK_DEFAULT_REGION"] == "eu-west-1" and seen["LANG"] == "C.UTF-8" and "PATH" in seen


# --- which CLI, and what its failures say ------------------------------------------


def _script(path: Path, body: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return str(path)


def test_the_apps_own_cli_wins_over_the_pinned_one(
    tmp_path: Path, fake_cdk: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned, record = fake_cdk
    monkeypatch.setenv(CDK_CLI_ENV, pinned)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    app = write_app(repo / "infra", "", cdk_json={"app": "node bin/app.js"})
    own = repo / "node_modules" / ".bin" / "cdk"  # a workspace root's install, as npm ci makes it
    _script(own, FAKE_CDK.split("\n", 1)[1] + "print('own cli')\n")

    result = synthesize(app, tmp_path / "out")

    assert result.command[0] == str(own)
    assert result.log_tail.endswith("own cli")
    assert find_cdk_cli(app_dir=tmp_path / "elsewhere") == pinned  # no node_modules: the pinned CLI


def test_the_search_for_the_apps_cli_stops_at_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CDK_CLI_ENV, "/opt/pinned/cdk")
    _script(tmp_path / "node_modules" / ".bin" / "cdk", "")  # outside the repository
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "app").mkdir()
    assert find_cdk_cli(app_dir=tmp_path / "repo" / "app") == "/opt/pinned/cdk"


# The CLI's own words (aws-cdk-cli: cloud-assembly schema check) when aws-cdk-lib is newer.
MISMATCH = """
print("This CDK CLI is not compatible with the CDK library used by your application. "
      "Please upgrade the CLI to the latest version.")
print("(Cloud assembly schema version mismatch: Maximum schema version supported is 48.0.0, but found 55.0.0)")
raise SystemExit(1)
"""


def test_a_cli_older_than_the_assembly_schema_says_what_to_do(tmp_path: Path) -> None:
    cli = _script(tmp_path / "bin" / "cdk", MISMATCH)
    app = write_app(tmp_path / "app", "")
    with pytest.raises(SynthError) as caught:
        synthesize(app, tmp_path / "out", app_command="python3 app.py", cdk_cli=cli)
    message = str(caught.value)
    assert "older than the app's aws-cdk-lib" in message and "reads schema 48.0.0, the app writes 55.0.0" in message
    assert "This CDK CLI is not compatible with the CDK library" in message
    assert "package.json" in message and "npm ci" in message and CDK_CLI_ENV in message
    assert "\n" not in message


# What a failing Python app's synth prints on Node 20: jsii's runtime prints the Node banner lines
# it cannot parse as Python bytes reprs, then the app's traceback.
BANNERS = r"""
import sys
print("b'\\x1b[41m!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\\x1b[0m\\n'")
print("b'!!  Node 20 has reached end-of-life on 2026-04-30 and will no longer be supported in new releases.  !!\\n'")
print("b'!!  Please upgrade to a supported node version as soon as possible.                               !!\\n'")
print("b'!!  This software is currently running on node v20.20.2.                                          !!\\n'")
print("b'!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\\n'")
print("b'jsii.errors.JSIIError: Validation failed: caf\\xc3\\xa9 bucket name\\n'")
print("RuntimeError: the app is broken")
sys.exit(1)
"""


def test_node_banners_and_bytes_reprs_stay_out_of_the_error_tail(tmp_path: Path) -> None:
    cli = _script(tmp_path / "bin" / "cdk", BANNERS)
    app = write_app(tmp_path / "app", "")
    with pytest.raises(SynthError) as caught:
        synthesize(app, tmp_path / "out", app_command="python3 app.py", cdk_cli=cli)
    tail = caught.value.log_tail
    assert tail.splitlines() == ["jsii.errors.JSIIError: Validation failed: café bucket name",
                                 "RuntimeError: the app is broken"]


def test_the_cli_is_told_to_silence_jsiis_node_banners(tmp_path: Path, fake_cdk: tuple[str, Path]) -> None:
    cli, record = fake_cdk
    app = write_app(tmp_path / "app", "")
    synthesize(app, tmp_path / "out", app_command="python3 app.py", cdk_cli=cli)
    env = json.loads(record.read_text())["env"]
    assert "20" in env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"].split(",")
    assert env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"]


def test_isolated_mode_keeps_the_jobs_path(
    tmp_path: Path, fake_cdk: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the composite action the bot's virtualenv must not become the app's Python."""
    cli, record = fake_cdk
    app = write_app(tmp_path / "app", "")
    monkeypatch.setattr(sys, "prefix", "/opt/bot-venv")  # as if run from a virtualenv
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("CDK_EXPORT_GUARD_ISOLATED", "true")
    synthesize(app, tmp_path / "out", app_command="python3 app.py", cdk_cli=cli)
    assert json.loads(record.read_text())["env"]["PATH"] == "/usr/bin:/bin"
    monkeypatch.delenv("CDK_EXPORT_GUARD_ISOLATED")
    synthesize(app, tmp_path / "out", app_command="python3 app.py", cdk_cli=cli)
    assert json.loads(record.read_text())["env"]["PATH"].startswith(str(Path(sys.executable).parent))
