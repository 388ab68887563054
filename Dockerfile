# cdk-export-guard as a GitHub Docker action: Python 3.11, Node.js 22 LTS, the pinned aws-cdk CLI.
# Base images are pinned to exact versions; Python and npm packages to the project's lock files.
FROM node:22.12.0-bookworm-slim AS node

FROM python:3.11.11-slim-bookworm

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
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    && ln -s /opt/cdk-export-guard/node_modules/.bin/cdk /usr/local/bin/cdk \
    && npm cache clean --force

COPY requirements-runtime.lock ./
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps . \
    && rm -rf /opt/cdk-export-guard/bot /opt/cdk-export-guard/build

# Runs as the runner's uid (1001 on GitHub-hosted runners), not root: the mounted workspace and
# the runner's command files belong to that uid. An app's `pip install` then goes to ~/.local.
RUN useradd --create-home --uid 1001 guard \
    && git config --system --add safe.directory '*'
ENV HOME=/home/guard \
    PATH=/home/guard/.local/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CDK_DISABLE_VERSION_CHECK=1 \
    CDK_EXPORT_GUARD_CDK_CLI=/usr/local/bin/cdk
USER 1001
ENTRYPOINT ["cdk-export-guard"]
