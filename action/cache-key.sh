#!/usr/bin/env bash
# Step "key" of action.yml: where the bot's runtime goes and the cache key for it.
# The key covers what the install depends on: the locks, the interpreter and the platform.
# (hashFiles() only sees the workspace, not the action's own folder, so it is computed here.)
set -euo pipefail
: "${CDK_EXPORT_GUARD_PYTHON:?the python step found no interpreter}"
action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
home="${RUNNER_TEMP:?}/cdk-export-guard"
python_id=$("$CDK_EXPORT_GUARD_PYTHON" -c 'import platform, sys; print(platform.python_version(), sys.executable)')
digest=$( { cat "$action_path/requirements-runtime.lock" "$action_path/package-lock.json"; echo "$python_id"; } \
  | sha256sum | cut -c1-32)
{
  echo "home=$home"
  echo "key=cdk-export-guard-${RUNNER_OS:-Linux}-${RUNNER_ARCH:-X64}-$digest"
} >> "$GITHUB_OUTPUT"
