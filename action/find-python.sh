#!/usr/bin/env bash
# Step "python" of action.yml: is the runner's own Python new enough (3.11+) for the bot?
# Prints `path=<interpreter>` to $GITHUB_OUTPUT when it is, nothing when actions/setup-python
# must provide one (with update-environment: false, so the job's Python stays what it was).
set -euo pipefail
for candidate in python3 python; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "cdk-export-guard: using the runner's $("$path" --version 2>&1) ($path)"
    echo "path=$path" >> "$GITHUB_OUTPUT"
    exit 0
  fi
done
echo "cdk-export-guard: the runner's Python is older than 3.11; actions/setup-python provides one for the bot only"
