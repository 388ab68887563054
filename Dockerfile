# cdk-export-guard as a container image, for CI systems other than GitHub Actions and for local use:
#   docker build -t cdk-export-guard .
#   docker run --rm -v "$PWD:/work" -w /work cdk-export-guard analyze --base base.out --head head.out
# (The GitHub Action itself is the composite action in action.yml: it runs on the runner, with the
# job's toolchains; this image only has Python 3.11, Node.js 22 and the pinned aws-cdk CLI.)
#
# Base images are pinned by tag and digest (the digests are the ones public projects pin for these
# tags; no registry is reachable where this file was written: check them with
# `docker buildx imagetools inspect <image>` when you bump a tag). Python packages are installed with
# --require-hashes from requirements-runtime.lock, the CLI with `npm ci` from package-lock.json.
FROM node:22.12.0-bookworm-slim@sha256:35531c52ce27b6575d69755c73e65d4468dba93a25644eed56dc12879cae9213 AS node

FROM python:3.11.11-slim-bookworm@sha256:081075da77b2b55c23c088251026fb69a7b2bf92471e491ff5fd75c192fd38e5

# git: base worktrees; Node.js copied from the official image (Debian's is too old for the CDK CLI).
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s /usr/local/lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx

WORKDIR /opt/cdk-export-guard
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
    && ln -s /opt/cdk-export-guard/node_modules/.bin/cdk /usr/local/bin/cdk \
    && npm cache clean --force

COPY requirements-runtime.lock ./
RUN pip install --no-cache-dir --disable-pip-version-check --require-hashes --only-binary=:all: -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps . \
    && rm -rf /opt/cdk-export-guard/bot /opt/cdk-export-guard/build

# No USER: the image runs as root, as GitHub requires of Docker actions ("Docker actions must be
# run by the default Docker user (root)") and as most CI containers expect, so the mounted
# workspace and the runner's files are writable. git's ownership check (safe.directory) is left on:
# run with `-u "$(id -u):$(id -g)"`, or add `git config --global --add safe.directory /work` for the
# one folder you mount, if git refuses a checkout owned by another user.
ENV PYTHONUNBUFFERED=1 \
    CDK_DISABLE_VERSION_CHECK=1 \
    CDK_EXPORT_GUARD_CDK_CLI=/usr/local/bin/cdk
ENTRYPOINT ["cdk-export-guard"]
