#!/usr/bin/env bash
# Step "install" of action.yml: the bot's runtime, isolated from the job.
#   $CDK_EXPORT_GUARD_HOME/venv  a virtualenv with requirements-runtime.lock, installed --require-hashes
#   $CDK_EXPORT_GUARD_HOME/cli   the pinned aws-cdk CLI (package-lock.json), used when the app has none
# A complete install restored by actions/cache is kept; anything else is rebuilt. The job's PATH,
# Python and node_modules are not touched.
set -euo pipefail
: "${CDK_EXPORT_GUARD_PYTHON:?}" "${CDK_EXPORT_GUARD_HOME:?}"
action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
home=$CDK_EXPORT_GUARD_HOME
venv="$home/venv"
cli="$home/cli"
stamp="$home/installed"
want=$(cat "$action_path/requirements-runtime.lock" "$action_path/package-lock.json" | sha256sum | cut -c1-64)

complete() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$cli/node_modules/.bin/cdk" ] \
    && "$venv/bin/python" -c 'import github, jinja2, yaml, orjson' 2>/dev/null
}

if complete; then
  echo "cdk-export-guard: runtime restored from the cache ($home)"
else
  if ! command -v npm >/dev/null 2>&1; then
    echo "::error::cdk-export-guard: Node.js (npm) is not on PATH; the CDK CLI needs it. Add actions/setup-node before this action."
    exit 2
  fi
  rm -rf "$venv" "$cli" "$stamp"
  mkdir -p "$home"
  "$CDK_EXPORT_GUARD_PYTHON" -m venv "$venv"
  # Wheels only: building an sdist would fetch unhashed build dependencies.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$action_path/requirements-runtime.lock"
  mkdir -p "$cli"
  cp "$action_path/package.json" "$action_path/package-lock.json" "$cli/"
  (cd "$cli" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
  echo "cdk-export-guard: runtime installed in $home"
fi
# The bot itself runs from the action's folder: a .pth file puts it on the venv's path only.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
printf '%s\n' "$action_path" > "$site/cdk_export_guard_action.pth"
"$venv/bin/python" -m bot --version
