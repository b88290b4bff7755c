#!/usr/bin/env bash
# A real npm registry (verdaccio) on 127.0.0.1 for the install tests: sourced by run.sh.
#
# verdaccio is installed into ~/.cache/otel-native-metrics/verdaccio-<version>-<hash of its
# package.json>, not into the repo's devDependencies: it brings ~330 packages (~60 MB) that only
# this test needs, and 6.8.0 (the last release that runs on Node 20) needs an `overrides` entry
# pinning node-fetch to 2.7.0, which would otherwise apply to the whole repo's tree.
#
# Registry content: our tarball is published into it (scope @otel-native: never proxied, so a
# package of the same name elsewhere can never shadow the one under test); every other package
# (the OpenTelemetry peers, @bufbuild/protobuf, typescript, @types/*) is proxied through one
# uplink to the registry npm is configured with. Pre-publishing those instead would mean
# mirroring their whole dependency trees by hand for each version the tests install.

VERDACCIO_VERSION=6.8.0

# verdaccio_install -> sets VERDACCIO_BIN
verdaccio_install() {
  local manifest key dir
  manifest=$(printf '{ "private": true, "dependencies": { "verdaccio": "%s" }, "overrides": { "node-fetch": "2.7.0" } }\n' "$VERDACCIO_VERSION")
  key=$(printf '%s' "$manifest" | sha256sum | cut -c1-12)
  dir="${HOME:-/root}/.cache/otel-native-metrics/verdaccio-$VERDACCIO_VERSION-$key"
  if [ ! -x "$dir/node_modules/.bin/verdaccio" ]; then
    echo "installing verdaccio $VERDACCIO_VERSION into $dir"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    printf '%s' "$manifest" >"$dir.tmp/package.json"
    (cd "$dir.tmp" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  VERDACCIO_BIN="$dir/node_modules/.bin/verdaccio"
}

# verdaccio_start WORKDIR -> sets REGISTRY (http://127.0.0.1:PORT/) and VERDACCIO_PID
verdaccio_start() {
  local work=$1 port uplink
  port=$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  uplink=$(npm config get registry)
  mkdir -p "$work/storage"
  cat >"$work/config.yaml" <<YAML
storage: $work/storage
auth:
  htpasswd:
    file: $work/htpasswd
    max_users: -1
uplinks:
  upstream:
    url: $uplink
    timeout: 60s
    max_fails: 5
packages:
  "@otel-native/*":
    access: \$all
    publish: \$all
  "**":
    access: \$all
    proxy: upstream
log: { type: file, path: $work/verdaccio.log, level: warn }
YAML
  # `timeout`: the registry stops by itself even if the caller's trap never runs.
  timeout 3600 "$VERDACCIO_BIN" --config "$work/config.yaml" --listen "127.0.0.1:$port" \
    >"$work/stdout.log" 2>&1 &
  VERDACCIO_PID=$!
  REGISTRY="http://127.0.0.1:$port/"
  local _
  for _ in $(seq 1 100); do
    if node -e 'fetch(process.argv[1]+"-/ping").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$REGISTRY"; then
      echo "verdaccio $VERDACCIO_VERSION listening on $REGISTRY (pid $VERDACCIO_PID; uplink for everything outside @otel-native/*: npm's configured registry)"
      return 0
    fi
    kill -0 "$VERDACCIO_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "verdaccio did not start:"; cat "$work/stdout.log" "$work/verdaccio.log" 2>/dev/null
  return 1
}

verdaccio_stop() {
  if [ -n "${VERDACCIO_PID:-}" ] && kill -0 "$VERDACCIO_PID" 2>/dev/null; then
    kill "$VERDACCIO_PID" 2>/dev/null || true
    wait "$VERDACCIO_PID" 2>/dev/null || true
    echo "verdaccio stopped"
  fi
  VERDACCIO_PID=
}
