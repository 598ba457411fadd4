#!/usr/bin/env bash
# npm test: install what is missing (node modules, the three services), build the workflow bundle
# the worker ships, then run every test: unit, workflow (time-skipping), integration and e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/@temporalio/worker ]; then
  echo "[prorata] installing node modules (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/install-services.sh all
npm run -s build
# 2 cores: two jest workers; each test file starts its own services on free ports.
exec npx jest --maxWorkers=2 "$@"
