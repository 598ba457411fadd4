#!/usr/bin/env bash
# npm start: install what is missing (node modules, the three services), build, run the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/@temporalio/worker ]; then
  echo "[prorata] installing node modules (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/install-services.sh all
npm run -s build
exec node dist/scripts/dev-stack.js
