"""Keep tokens out of ``/proc/<pid>/environ``, where the app's code could read them.  [I/O]

The runner starts the Action with the GitHub token (``INPUT_GITHUB-TOKEN``), the runner's
own tokens and possibly AWS keys in its environment. Children get an allow-listed
environment (``bot.workspace.synth.child_environment``), but the app's code runs as the same user
and can read the *initial* environment of every ancestor from ``/proc/<pid>/environ``;
removing a variable from ``os.environ`` does not change that memory.

So the Action process re-executes itself once, before doing anything: the new image
starts from an environment without those variables, and the values it still needs
(the GitHub token, AWS credentials for live mode) arrive through an inherited pipe and
live only in this process's memory. The runner's own tokens are dropped: the bot never
needs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence

HANDOFF_FD = "CDK_EXPORT_GUARD_HANDOFF_FD"
HANDED_OVER = ("INPUT_GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "GITHUB_TOKEN", "GH_TOKEN",
               "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
DROPPED = ("ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
           "ACTIONS_RESULTS_URL", "ACTIONS_CACHE_URL", "ACTIONS_RUNTIME_URL")
_MAX_HANDOFF = 60_000  # below a pipe's buffer (64 KiB), so the write never blocks


def needs_reexec(env: Mapping[str, str]) -> bool:
    return HANDOFF_FD not in env and any(name in env for name in (*HANDED_OVER, *DROPPED))


def reexec_without_secrets(argv: Sequence[str]) -> None:
    """Replace this process by ``python -m bot <argv>`` without the secret variables.

    Returns only when it cannot (no ``execve`` on this platform, values too large):
    then the caller goes on in this process, as before.
    """
    kept = {k: v for k, v in os.environ.items() if k not in HANDED_OVER and k not in DROPPED}
    handed = {k: os.environ[k] for k in HANDED_OVER if k in os.environ}
    payload = json.dumps(handed).encode()
    if not hasattr(os, "execve") or len(payload) > _MAX_HANDOFF:
        return
    read_end, write_end = os.pipe()
    os.write(write_end, payload)
    os.close(write_end)
    os.set_inheritable(read_end, True)
    kept[HANDOFF_FD] = str(read_end)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "bot", *argv], kept)


def take_handed_over() -> dict[str, str]:
    """The values the previous image handed over (read once; the pipe is closed after)."""
    fd_text = os.environ.pop(HANDOFF_FD, None)
    if fd_text is None or not fd_text.isdigit():
        return {}
    fd = int(fd_text)
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return {}
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    try:
        data = json.loads(b"".join(chunks))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
