#!/usr/bin/env bash
# npm run test:dates: the date-sensitive tests (unit, and workflow on Temporal's time-skipping
# server) with the clock of every process they start moved to each of the instants below: month
# ends, a leap day, the EU's and the US's DST changes. A billing suite that passes only in some
# months hides exactly the bugs that matter.
#
# How: Debian's libfaketime (LD_PRELOAD, inherited by every child) shifts the wall clock of Node
# (jest, its workers, the SDK's core) and of the Java time-skipping server by one offset, computed
# once per instant, so all of them agree and time still flows. Monotonic clocks stay real (timers
# and timeouts); FAKETIME_FORCE_MONOTONIC_FIX=0 keeps libfaketime from rewriting the JVM's monotonic
# condition waits (with it, every timed wait returned at once: the Java server spun at 100% CPU and
# the workflow tests ran 20 times slower). FerretDB is a static Go binary and keeps the real clock;
# no test reads time from it.
#
# Usage: npm run test:dates [-- INSTANT...]   (ISO-8601 UTC instants; default: the six below)
set -euo pipefail
cd "$(dirname "$0")/.."

instants=("$@")
if [ ${#instants[@]} -eq 0 ]; then
  instants=(
    2026-12-31T23:30:00Z # year end, a 31-day month
    2027-01-31T23:59:00Z # a minute before February (28 days)
    2027-02-28T12:00:00Z # the last day of a short February
    2028-02-29T12:00:00Z # a leap day
    2027-03-28T00:30:00Z # the EU's DST change (01:00 UTC)
    2027-11-07T06:30:00Z # the US's DST change (06:00 UTC in New York)
  )
fi

if [ ! -d node_modules/@temporalio/worker ]; then
  echo "[test:dates] installing node modules (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
bash scripts/install-services.sh all
bash scripts/install-services.sh faketime
npm run -s build

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
summary=()
failed=0
t0=$SECONDS
for instant in "${instants[@]}"; do
  target=$(date -u -d "$instant" +%s) || { echo "[test:dates] not an instant: $instant" >&2; exit 2; }
  offset=$((target - $(date -u +%s)))
  shift_by=$(printf '%+d' "$offset") # libfaketime: a signed offset in seconds from the real clock
  echo "[test:dates] ${instant}: unit + workflow tests, every clock moved by ${shift_by} s"
  out="$results/$(echo "$instant" | tr -c 'A-Za-z0-9\n' '_').json"
  started=$SECONDS
  status=0
  FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 PRORATA_TEST_INSTANT="$instant" \
    faketime -f "$shift_by" npx jest --selectProjects unit workflow --maxWorkers=2 \
    --json --outputFile="$out" || status=$?
  line=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed (${r.numTotalTestSuites} suites)`);
  ' "$out" 2>/dev/null || echo "no results")
  [ "$status" = 0 ] || failed=$((failed + 1))
  summary+=("[test:dates] ${instant}: ${line} in $((SECONDS - started)) s$([ "$status" = 0 ] || echo ' FAILED')")
  echo "${summary[-1]}"
done
echo "[test:dates] ---- ${#instants[@]} instants in $((SECONDS - t0)) s"
printf '%s\n' "${summary[@]}"
[ "$failed" = 0 ] || { echo "[test:dates] failed at ${failed} of ${#instants[@]} instants" >&2; exit 1; }
