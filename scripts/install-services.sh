#!/usr/bin/env bash
# Builds and caches, outside the repo, the real services prorata runs on:
#   temporal       Temporal CLI dev server (go install)
#   test-server    Temporal's Java time-skipping test server (Maven) + an exec wrapper
#   ferretdb       FerretDB, a MongoDB wire-protocol server on SQLite (go install)
#   faketime       Debian's libfaketime, for `npm run test:dates` only (apt-get; not part of `all`)
# Usage: scripts/install-services.sh [all|temporal|test-server|ferretdb|faketime]
# Every step is idempotent: a binary already in the cache is reused.
# Overrides: TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH, FERRETDB_PATH (an existing executable),
# MONGODB_URI (an existing MongoDB: FerretDB is not needed), PRORATA_CACHE (cache folder).
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1          # v1.6+ cannot be built with `go install` (nested cliext module)
FERRETDB_VERSION=v1.24.2
TEST_SERVER_VERSION=1.38.0           # >= 1.36 for continueAsNewSuggested

CACHE="${PRORATA_CACHE:-$HOME/.cache/prorata}"
SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$CACHE/bin"
mkdir -p "$BIN"

log() { printf '[prorata setup] %s\n' "$*" >&2; }
need() {
  command -v "$1" >/dev/null 2>&1 || { log "ERROR: '$1' is required to build $2 but was not found on PATH. Install $3 and retry."; exit 1; }
}
timed() { # timed <label> <command...>
  local label=$1; shift
  local t0=$SECONDS
  log "$label ..."
  "$@"
  log "$label done in $((SECONDS - t0)) s"
}

go_build() { # go_build <binary-name> <module@version>
  local name=$1 mod=$2 stamp="$BIN/.$1.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$mod" ]; then
    log "$name: cached at $BIN/$name ($mod)"
    return
  fi
  need go "$name" "Go >= 1.25 (https://go.dev/dl)"
  # CGO off: both are pure Go (modernc SQLite), and a static binary runs anywhere.
  timed "building $name from $mod (first time only; several minutes on 2 cores)" \
    env GOBIN="$BIN" CGO_ENABLED=0 go install "$mod"
  echo "$mod" >"$stamp"
}

install_temporal() {
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then log "temporal: using TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH"; return; fi
  go_build temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
}

install_ferretdb() {
  if [ -n "${MONGODB_URI:-}" ]; then log "ferretdb: not needed, MONGODB_URI is set"; return; fi
  if [ -n "${FERRETDB_PATH:-}" ]; then log "ferretdb: using FERRETDB_PATH=$FERRETDB_PATH"; return; fi
  # `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary panics at start:
  # the module zip lacks the generated build/version/version.txt ("Invalid build/version/version.txt").
  # So: the same module source from the Go module proxy, with that file written, built with `go build`.
  # And two fixes (build_ferretdb_source): its SQLite backend looks documents up by _id with an
  # expression its _id index does not match, so every lookup, update and delete by _id scanned the
  # whole collection (O(n): 24 ms per update at 3,000 documents, billing day quadratic), and only
  # when the filter was `{_id}` alone. A third (scripts/ferretdb-id-range.patch) serves `_id` ranges
  # from the same index, with their sort and limit, for the lists and markers of docs/scaling.md.
  # A fourth (scripts/ferretdb-id-in.patch) serves `_id: {$in: [...]}` from it too, and writes the
  # documents one update command modifies in one transaction: the deliverer's writes per page.
  local mod="github.com/FerretDB/FerretDB@$FERRETDB_VERSION" stamp="$BIN/.ferretdb.version"
  local build="$mod+id-index-2+id-range-1+id-in-1"
  if [ -x "$BIN/ferretdb" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$build" ]; then
    log "ferretdb: cached at $BIN/ferretdb ($build)"
    return
  fi
  need go ferretdb "Go >= 1.22 (https://go.dev/dl)"
  local src="$CACHE/src/ferretdb-$FERRETDB_VERSION"
  timed "downloading $mod source (Go module proxy)" build_ferretdb_source "$mod" "$src"
  timed "building ferretdb $FERRETDB_VERSION (first time only)" \
    env -C "$src" CGO_ENABLED=0 go build -buildvcs=false -trimpath -o "$BIN/ferretdb" ./cmd/ferretdb
  echo "$build" >"$stamp"
}

build_ferretdb_source() { # <module@version> <dir>: module source, writable, with version.txt
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { log "ERROR: go mod download $1 gave no source folder"; return 1; }
  rm -rf "$2"; mkdir -p "$(dirname "$2")"
  cp -R "$dir" "$2"; chmod -R u+w "$2"
  echo "$FERRETDB_VERSION" >"$2/build/version/version.txt"
  # The _id index is created on `_ferretdb_sjson->"_id"` (registry.go) but queried, updated and
  # deleted with `_ferretdb_sjson->'$._id'`: the same value, but SQLite only uses an index on an
  # expression written the same way, so it scanned. Query with the index's own expression.
  local metadata="$2/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\\\$._id'\"|IDColumn = DefaultColumn + \"->\\\\\"_id\\\\\"\"|" "$metadata"
  grep -q 'IDColumn = DefaultColumn + "->\\"_id\\""' "$metadata" || {
    log "ERROR: could not point FerretDB's _id lookups at its _id index ($metadata)"
    return 1
  }
  # It also looked _id up only when the filter is `{_id}` alone; `{_id, status: 'draft'}` scanned.
  # Every command filters the documents again after the backend's query (FilterIterator), so a
  # string _id at the top of any filter is a safe pre-filter: use it whatever else the filter holds.
  local collection="$2/internal/backends/sqlite/collection.go"
  sed -i 's|if params.Filter.Len() == 1 {|if params.Filter.Len() >= 1 {|' "$collection"
  [ "$(grep -c 'if params.Filter.Len() >= 1 {' "$collection")" = 2 ] || {
    log "ERROR: could not widen FerretDB's _id pre-filter ($collection)"
    return 1
  }
  # Any filter other than `{_id: <string>}` is evaluated in Go over the whole collection, with no
  # sort or limit pushed down: a page of a list, or one subscription's markers, cost a scan of the
  # collection. With the patch, a find whose filter is exactly an `_id` range of strings and whose
  # comment is `prorata:id-range` (the caller vouches its _ids are plain ASCII, so their JSON text
  # sorts as the strings) becomes `WHERE _ferretdb_sjson->"_id" > ? AND … < ?`, served by the _id
  # index, with `ORDER BY` that expression for a `{_id: ±1}` sort and `LIMIT skip+limit`. FerretDB
  # still filters, sorts, skips and limits the rows again; explain shows the plan
  # (test/integration/ferretdb.test.ts).
  patch -s -p1 -d "$2" <"$SCRIPTS/ferretdb-id-range.patch" || {
    log "ERROR: could not apply scripts/ferretdb-id-range.patch to $2"
    return 1
  }
  # `{_id: {$in: [strings]}}` (any command) becomes `WHERE _ferretdb_sjson->"_id" IN (?, …)`, served
  # by the _id index, where it scanned the collection (a delete of settled markers by `$in` held the
  # single writer for 282 ms per command behind a backlog in the ingest benchmark). And an update command's modified documents are
  # written by one UpdateAll (one transaction, one commit) instead of one transaction each.
  patch -s -p1 -d "$2" <"$SCRIPTS/ferretdb-id-in.patch" || {
    log "ERROR: could not apply scripts/ferretdb-id-in.patch to $2"
    return 1
  }
}

install_test_server() {
  if [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then log "test-server: using TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH"; return; fi
  local dir="$CACHE/temporal-test-server-$TEST_SERVER_VERSION" wrapper="$BIN/temporal-test-server"
  if [ -x "$wrapper" ] && [ -f "$dir/.complete" ]; then
    log "temporal-test-server: cached at $wrapper ($TEST_SERVER_VERSION)"
    return
  fi
  need java "the Temporal test server" "a Java runtime >= 11"
  need mvn "the Temporal test server" "Apache Maven"
  mkdir -p "$dir"
  # A throwaway POM that only names the artifacts; Maven resolves them from its configured repository.
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.prorata</groupId><artifactId>temporal-test-server-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$TEST_SERVER_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$dir/lib"
  timed "downloading temporal-test-server $TEST_SERVER_VERSION and its runtime dependencies (Maven)" \
    mvn -q -B -f "$dir/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$dir/lib"
  # exec java, so stopping the wrapper's process stops the server; start the JVM lean (C1 only,
  # serial GC, class-data sharing): the tests start it once per test file.
  cat >"$wrapper" <<WRAP
#!/bin/sh
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xss512k \${TEMPORAL_TEST_SERVER_JAVA_OPTS:-} -cp "$dir/lib/*" io.temporal.testserver.TestServer "\$@"
WRAP
  chmod +x "$wrapper"
  touch "$dir/.complete"
}

install_faketime() {
  if command -v faketime >/dev/null 2>&1; then log "faketime: $(command -v faketime)"; return; fi
  # Debian's package moves the clock of every dynamically linked process it starts (Node, java).
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  command -v apt-get >/dev/null 2>&1 || { log "ERROR: faketime is missing and there is no apt-get: install libfaketime's faketime"; exit 1; }
  timed "installing faketime (apt-get)" sh -c \
    "$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null 2>&1 ||
     { $sudo apt-get update -qq >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }"
  command -v faketime >/dev/null 2>&1 || { log "ERROR: apt-get did not install faketime"; exit 1; }
}

what="${1:-all}"
t0=$SECONDS
case "$what" in
  all) install_temporal; install_ferretdb; install_test_server ;;
  temporal) install_temporal ;;
  ferretdb) install_ferretdb ;;
  test-server) install_test_server ;;
  faketime) install_faketime ;;
  *) log "unknown target '$what' (all|temporal|test-server|ferretdb|faketime)"; exit 2 ;;
esac
log "services ready in $((SECONDS - t0)) s (cache: $CACHE)"
