"""`--help` and `analyze --help` start in a blink: what they import is kept small (issue #14)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# PyGithub, boto3, Jinja2, PyYAML: only the commands that use them load them. The model's
# dataclasses (about 35 ms to build) are not needed to print help either.
NOT_FOR_HELP = ("github", "boto3", "botocore", "jinja2", "yaml", "bot.core.model")


@pytest.mark.parametrize("argv", [["--help"], ["analyze", "--help"]])
def test_help_imports_none_of_the_heavy_modules(argv: list[str]) -> None:
    script = (
        "import sys, json\n"
        "from bot.cli.main import build_parser\n"
        f"try:\n    build_parser({argv!r}).parse_args({argv!r})\n"
        "except SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {NOT_FOR_HELP!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
