"""Run ``cdk synth`` for a CDK app into a fresh cloud assembly folder.  [I/O]

The only module that starts the CDK CLI. It keeps what the analyzer needs
(``aws:cdk:path`` and asset metadata), turns off what makes templates noisy or
needs the network (version reporting, telemetry, notices, the update check), and
never lets the CLI wait for input. Failures raise :class:`SynthError` with a
one-line message and the tail of the CLI's combined output.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CDK_CLI_ENV = "CDK_EXPORT_GUARD_CDK_CLI"
# Set by the composite action: the bot runs from its own virtualenv and the app must keep the
# job's interpreters, so that virtualenv is not put first on the app's PATH.
ISOLATED_ENV = "CDK_EXPORT_GUARD_ISOLATED"
LOG_TAIL_LINES = 40
_KILL_GRACE_SECONDS = 5.0

# Non-interactive, offline-friendly CLI behaviour; the user's extra_env may override.
_CLI_ENV = {
    "CI": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
    # jsii's Node version banners (@jsii/check-node, in jsii's embedded runtime): noise in an error
    # tail. The end-of-life one is silenced per major version, listed; the others by any value.
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": ",".join(str(major) for major in range(14, 30)),
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
}
# The CLI's words when the app's aws-cdk-lib writes a newer cloud assembly schema than it reads.
_SCHEMA_MISMATCH = re.compile(
    r"This CDK CLI is not compatible with the CDK library|Cloud assembly schema version mismatch", re.IGNORECASE)
_SCHEMA_VERSIONS = re.compile(r"Maximum schema version supported is ([\w.-]+), but found ([\w.-]+)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours, even with NO_COLOR set
# Banner lines (Node end-of-life / untested-version warnings from jsii and the CLI) kept out of tails.
_BANNER = re.compile(
    r"^!{5,}|end-of-life|has reached end of life|has not been tested with|untested Node|"
    r"JSII_SILENCE_WARNING|runtime issues|upgrade to a supported node version|"
    r"Node\.js \d+ is (?:deprecated|no longer supported)|^\s*!!\s",
    re.IGNORECASE)


# What a child (the app, the install command, `cdk diff`) may see of our environment: what
# toolchains need, never a token. GITHUB_TOKEN, INPUT_GITHUB-TOKEN, ACTIONS_RUNTIME_TOKEN,
# ACTIONS_ID_TOKEN_REQUEST_* and the like are not on the list; AWS_* only with ``aws=True``
# (an app whose synth does context lookups against the account).
_CHILD_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "TERM",
    "CI", "VIRTUAL_ENV", "CONDA_PREFIX", "JAVA_HOME", "GOPATH", "GOROOT", "GOCACHE", "GOFLAGS", "GOPROXY",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "NODE_PATH",
    "PYTHONPATH", "PYTHONHOME", "PYTHONUTF8", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL",
    "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "RUNNER_TEMP", "RUNNER_OS", "RUNNER_ARCH",
    "GITHUB_WORKSPACE", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_EVENT_NAME",
    "GITHUB_ACTIONS", "SYSTEMROOT", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA", "USERPROFILE",
})
_CHILD_PREFIXES = ("LC_", "CDK_", "JSII_", "npm_config_", "NPM_CONFIG_", "YARN_", "PNPM_", "MAVEN_", "GRADLE_",
                   "DOTNET_", "NUGET_", "CARGO_", "RUSTUP_")
_NEVER = ("TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "PRIVATE")  # even under an allowed prefix
_AWS_PREFIX = "AWS_"


def child_environment(aws: bool = False, source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of ``source`` (our environment) a child process may see."""
    env: dict[str, str] = {}
    for name, value in (os.environ if source is None else source).items():
        allowed = name in _CHILD_NAMES or name.startswith(_CHILD_PREFIXES)
        if allowed and any(word in name.upper() for word in _NEVER):
            allowed = False
        if aws and name.startswith(_AWS_PREFIX):
            allowed = True
        if allowed:
            env[name] = value
    return env


class SynthError(Exception):
    """``cdk synth`` could not produce an assembly; the message is one line for the user."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail


class SynthCancelled(SynthError):
    """The synth was cancelled (:func:`cancelled_by`): its whole process group was ended."""


# Set by a caller that may need to stop synths it started in other threads (a time budget).
_CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("synth_cancel", default=None)
# Where that caller wants the synth's temporary files (removed with its scratch folder).
_TMPDIR: contextvars.ContextVar[Path | None] = contextvars.ContextVar("synth_tmpdir", default=None)
_POLL_SECONDS = 0.2


@contextlib.contextmanager
def cancelled_by(event: threading.Event, tmpdir: Path | None = None) -> Iterator[None]:
    """Within this block (in this thread), a synth ends its process group once ``event`` is set.

    ``tmpdir``: the CLI and the app get it as ``TMPDIR``: a process ended by a signal never
    removes its temporary files (jsii's ``jsii-kernel-*`` folders), so the caller does.
    """
    token = _CANCEL.set(event)
    folder = _TMPDIR.set(tmpdir)
    try:
        yield
    finally:
        _TMPDIR.reset(folder)
        _CANCEL.reset(token)


@dataclass(frozen=True)
class SynthResult:
    """A finished synth: where the assembly is, what ran, how long it took."""

    out_dir: Path
    command: tuple[str, ...]
    duration_seconds: float
    log_tail: str


def find_cdk_cli(start: Path | None = None, *, app_dir: Path | None = None, stop: Path | None = None) -> str:
    """Return the cdk CLI to run.

    In order: the app's own ``node_modules/.bin/cdk`` (walking up from ``app_dir`` to
    ``stop``, the repository root, once its install command has run: the CLI released with
    the app's aws-cdk-lib reads its cloud assembly schema); ``$CDK_EXPORT_GUARD_CDK_CLI``
    (the composite action's pinned CLI); the nearest ``node_modules/.bin/cdk`` walking up
    from ``start`` (default: this project's root, where ``npm ci`` installs the pinned CLI);
    ``cdk`` on ``PATH``.
    """
    if app_dir is not None:
        own = _nearest_cli(app_dir.resolve(), stop.resolve() if stop is not None else None, at_git_root=True)
        if own is not None:
            return own
    configured = os.environ.get(CDK_CLI_ENV)
    if configured:
        return configured
    here = (start if start is not None else Path(__file__).resolve().parents[1]).resolve()
    found = _nearest_cli(here, None)
    if found is not None:
        return found
    on_path = shutil.which("cdk")
    if on_path:
        return on_path
    raise SynthError(
        f"cdk CLI not found: run `npm ci` in the cdk-export-guard project, put `cdk` on PATH, or set {CDK_CLI_ENV}"
    )


def _nearest_cli(folder: Path, stop: Path | None, *, at_git_root: bool = False) -> str | None:
    """The nearest ``node_modules/.bin/cdk`` from ``folder`` up to ``stop`` (or the git root)."""
    for candidate_dir in (folder, *folder.parents):
        candidate = candidate_dir / "node_modules" / ".bin" / "cdk"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        if candidate_dir == stop or (at_git_root and (candidate_dir / ".git").exists()):
            break
    return None


def synthesize(
    app_dir: Path,
    out_dir: Path,
    *,
    app_command: str | None = None,
    context: Mapping[str, str] | None = None,
    timeout_seconds: float = 900,
    cdk_cli: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    aws: bool = False,
    repo_root: Path | None = None,
) -> SynthResult:
    """Synthesize the app in ``app_dir`` into ``out_dir`` (emptied first).

    ``app_command`` defaults to the ``app`` of ``app_dir/cdk.json``; each
    ``context`` item is passed as ``-c key=value``; without ``cdk_cli`` the app's own CLI
    (``node_modules/.bin/cdk`` up to ``repo_root``) is preferred. The CLI and the app see only
    :func:`child_environment` (AWS credentials only with ``aws``). Raises :class:`SynthError`
    when the CLI is missing, times out, fails, or writes no ``manifest.json``.
    """
    app_dir = Path(app_dir).resolve()
    out_dir = Path(out_dir).resolve()
    if not app_dir.is_dir():
        raise SynthError(f"app folder not found: {app_dir}")
    command_line = app_command if app_command is not None else _app_from_cdk_json(app_dir)
    cli = cdk_cli if cdk_cli is not None else find_cdk_cli(app_dir=app_dir, stop=repo_root)
    _reset_out_dir(out_dir, app_dir)

    command = [
        cli, "synth",
        "--app", command_line,
        "--output", str(out_dir),
        "--quiet",
        "--no-version-reporting",
        "--no-notices",
        "--no-color",
    ]
    for key, value in (context or {}).items():
        command += ["-c", f"{key}={value}"]

    started = time.monotonic()
    env = cli_environment(extra_env, aws=aws)
    tmpdir = _TMPDIR.get()
    if tmpdir is not None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        env.update({name: str(tmpdir) for name in ("TMPDIR", "TMP", "TEMP")})
    returncode, output = _run(command, app_dir, env, timeout_seconds)
    duration = time.monotonic() - started
    tail = _tail(output)

    if returncode is None:
        raise SynthError(f"cdk synth timed out after {timeout_seconds:g} s", tail)
    if returncode != 0:
        mismatch = schema_mismatch(output, cli)
        if mismatch:
            raise SynthError(mismatch, tail)
        raise SynthError(f"cdk synth failed with exit code {returncode}", tail)  # no runner path: it ends in a comment
    if not (out_dir / "manifest.json").is_file():
        raise SynthError(f"cdk synth succeeded but wrote no manifest.json to {out_dir}", tail)
    return SynthResult(out_dir=out_dir, command=tuple(command), duration_seconds=duration, log_tail=tail)


def _app_from_cdk_json(app_dir: Path) -> str:
    """The ``app`` command of ``app_dir/cdk.json``, or a SynthError saying why not."""
    config_path = app_dir / "cdk.json"
    if not config_path.is_file():
        raise SynthError(f"no app command: {config_path} does not exist; pass --app")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SynthError(f"cannot read {config_path}: {exc}") from exc
    app = config.get("app") if isinstance(config, dict) else None
    if not isinstance(app, str) or not app.strip():
        raise SynthError(f"no app command: {config_path} has no \"app\" string; pass --app")
    return app


def _reset_out_dir(out_dir: Path, app_dir: Path) -> None:
    """Remove ``out_dir`` and create it empty, refusing folders that hold the app or the cwd."""
    protected = (app_dir, Path.cwd().resolve(), Path.home().resolve())
    if any(out_dir == folder or out_dir in folder.parents for folder in protected):
        raise SynthError(f"refusing to empty {out_dir}: it contains the app, the current folder or home")
    if out_dir.is_symlink() or out_dir.is_file():
        raise SynthError(f"output path exists and is not a folder: {out_dir}")
    if out_dir.exists():
        if (out_dir / ".git").exists():
            raise SynthError(f"refusing to empty {out_dir}: it is a git checkout")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)


def cli_environment(extra_env: Mapping[str, str] | None, *, aws: bool = False) -> dict[str, str]:
    """The CLI's environment: ours (allow-listed), non-interactive settings, then the caller's overrides.

    When this process runs inside a virtualenv, its ``bin`` folder goes first on
    ``PATH`` (as ``activate`` would), so a ``python3 app.py`` app command uses the
    interpreter that has aws-cdk-lib installed.
    """
    env = child_environment(aws=aws)
    env.update(_CLI_ENV)
    if sys.prefix != sys.base_prefix and os.environ.get(ISOLATED_ENV, "").lower() not in ("1", "true"):
        bin_dir = str(Path(sys.executable).parent)
        path = env.get("PATH", "")
        if bin_dir not in path.split(os.pathsep):
            env["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
        env.setdefault("VIRTUAL_ENV", sys.prefix)
    env.update(extra_env or {})
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout_seconds: float) -> tuple[int | None, str]:
    """Run ``command``; return (exit code or None on timeout, combined output).

    The CLI runs in its own process group so a timeout or a cancellation (:func:`cancelled_by`)
    also ends the app it started; then :class:`SynthCancelled` is raised.
    """
    stop = _CANCEL.get()
    if stop is not None and stop.is_set():
        raise SynthCancelled("cdk synth cancelled before it started")
    try:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    except OSError as exc:
        raise SynthError(f"cannot run {command[0]}: {exc.strerror or exc}") from exc
    deadline = time.monotonic() + timeout_seconds
    try:
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                # With a cancel event, wake up often to look at it; communicate() may be retried.
                raw, _ = process.communicate(timeout=remaining if stop is None else min(remaining, _POLL_SECONDS))
                return process.returncode, raw.decode("utf-8", errors="replace")
            except subprocess.TimeoutExpired as exc:
                if stop is not None and stop.is_set():
                    _end_group(process)
                    raise SynthCancelled("cdk synth cancelled: its process group was ended") from None
                if time.monotonic() < deadline:
                    continue
                partial = exc.output or b""
                rest = _end_group(process)
                # communicate() keeps what it read before the timeout: ``rest`` is the whole output.
                return None, (rest or partial).decode("utf-8", errors="replace")
    except SynthCancelled:
        raise
    except BaseException:
        _kill_group(process, signal.SIGKILL)
        process.wait()
        raise


def _end_group(process: subprocess.Popen[bytes]) -> bytes:
    """SIGTERM the CLI's process group, SIGKILL what is left after a grace period; the output."""
    _kill_group(process, signal.SIGTERM)
    try:
        rest, _ = process.communicate(timeout=_KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _kill_group(process, signal.SIGKILL)
        rest, _ = process.communicate()
    # The CLI may be gone while the app it started still runs in the group: end it too.
    _kill_group(process, signal.SIGKILL)
    return rest or b""


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the CLI's whole process group (the CLI and the app it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def schema_mismatch(output: str, cli: str) -> str | None:
    """What to do when the CLI is older than the app's cloud assembly schema, or None."""
    if not _SCHEMA_MISMATCH.search(output):
        return None
    versions = _SCHEMA_VERSIONS.search(output)
    detail = f" (it reads schema {versions.group(1)}, the app writes {versions.group(2)})" if versions else ""
    return (
        f"the CDK CLI {cli} is older than the app's aws-cdk-lib{detail}: "
        "\"This CDK CLI is not compatible with the CDK library\". Add `aws-cdk` to the app's package.json "
        "(a version released with or after its aws-cdk-lib) and install it in the install command (`npm ci`): "
        f"its node_modules/.bin/cdk is used first; or set {CDK_CLI_ENV} to a newer CLI."
    )


def _tail(output: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of the CLI's output, as text, without Node version banners."""
    text = _ANSI.sub("", "\n".join(map(_decoded, output.rstrip().splitlines())))
    kept = [line for line in text.splitlines() if not _BANNER.search(line)]
    return "\n".join(kept[-lines:])


def _decoded(line: str) -> str:
    """jsii's Python runtime prints stderr lines it cannot parse as ``b'...'``: show them as text."""
    stripped = line.strip()
    if len(stripped) > 3 and stripped.startswith(("b'", 'b"')) and stripped.endswith(stripped[1]):
        try:
            value = ast.literal_eval(stripped)
        except (ValueError, SyntaxError):
            return line
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace").rstrip("\n")
    return line
