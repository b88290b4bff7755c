#!/usr/bin/env bash
# The package installed as a user installs it (issue 10, item 10): builds and packs the npm
# package, publishes it into a real local npm registry (verdaccio on 127.0.0.1, see
# verdaccio.sh), and in fresh temporary projects installs it from there and uses it:
#   - the tarball holds what it needs and nothing else; bun:ffi is reachable only from Bun;
#   - Bun:  `bun add`, `tsc --noEmit` without and with @types/bun (and with Deno's types), the
#           README's first example (on a machine without user_events: exit 0, one "unavailable"
#           warning, exporter.status/stats say why), the SDK round trip;
#   - Deno: `deno add npm:…` from that registry, `deno check`, the example with --allow-ffi and
#           without it, the round trip; and from a checkout (import map to mod.ts);
#   - Node: `npm install`, one copy of each OpenTelemetry package (`npm ls`), the example
#           (clear outcome: unavailable, "no-ffi"), the round trip, the import cost of "." vs
#           "./decode";
#   - the lowest supported peers (sdk-metrics 2.0.0, api 1.9.0) under Node, Bun and Deno;
#   - `deno publish --dry-run` and `deno doc --lint` for every entry point in deno.json.
# Each check prints what it checked; the run ends with "N passed, N failed" and exits 1 on any
# failure. The registry is stopped on exit (trap; it also stops itself after an hour).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/package
fixtures=$here/fixtures
deno=$repo/node_modules/.bin/deno
bun=$repo/node_modules/.bin/bun
TS_VERSION=$(node -p 'require(process.argv[1]).devDependencies.typescript' "$repo/package.json")
TYPES_BUN_VERSION=1.4.5
TYPES_DENO_VERSION=2.7.0
ESBUILD_VERSION=0.28.2
NODE26_VERSION=26.10.0
TS_OLD_VERSION=5.4.5
# shellcheck source=tests/package/verdaccio.sh
source "$here/verdaccio.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/otel-native-package.XXXXXX")
cleanup() {
  verdaccio_stop
  rm -rf "$work"
}
trap cleanup EXIT
# Fresh caches: the package's version stays 0.1.0 while its content changes, so a cached
# tarball from an earlier run would hide what this run built.
export npm_config_cache=$work/npm-cache BUN_INSTALL_CACHE_DIR=$work/bun-cache DENO_DIR=$work/deno-dir
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export NO_COLOR=1

passed=0
failed=0
failures=()
# check NAME COMMAND...: runs one check, its output indented, and counts it.
check() {
  local name=$1
  shift
  echo "--- $name"
  ("$@") 2>&1 | sed 's/^/    /'
  if [ "${PIPESTATUS[0]}" = 0 ]; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "FAIL $name"
  fi
}

# The README's first example (the first ```ts block under "## Use"), and the same plus two lines
# printing what the exporter says about itself.
readme_example() {
  node -e '
    const md = require("node:fs").readFileSync(process.argv[1], "utf8");
    const use = md.indexOf("\n## Use");
    const m = /```ts\n([\s\S]*?)```/.exec(md.slice(use));
    if (use < 0 || !m) { console.error("README: no ts block under ## Use"); process.exit(1); }
    process.stdout.write(m[1]);
  ' "$repo/README.md"
}
write_examples() { # DIR EXT
  readme_example >"$1/main.$2" || return 1
  # status before the shutdown (after it, it says "shutdown"), stats after (the last export).
  awk '/await provider\.shutdown\(\)/ { print "console.log(\"STATUS \" + JSON.stringify(exporter.status));" }
       { print }
       END { print "console.log(\"STATS \" + JSON.stringify(exporter.stats));" }' "$1/main.$2" >"$1/status.$2"
  grep -q '^console.log("STATUS' "$1/status.$2" || { echo "README example: no provider.shutdown()"; return 1; }
}
# The outcome expected here: unavailable (why, on this machine), or ready where user_events works.
expected_here() {
  if [ -w /sys/kernel/tracing/user_events_data ]; then echo ready
  elif [ -e /sys/kernel/tracing/user_events_data ]; then echo permission
  elif [ -d /sys/kernel/tracing/events ] || grep -q tracefs /proc/mounts; then echo no-user-events
  else echo no-tracefs
  fi
}
# run_example LABEL EXPECTED COMMAND...: runs the status example, checks exit 0, one warning,
# status and stats.
run_example() {
  local label=$1 expected=$2 out code
  shift 2
  out=$(mktemp "$work/out.XXXXXX")
  timeout 60 "$@" >"$out" 2>&1 </dev/null
  code=$?
  sed 's/^/  | /' "$out"
  node "$fixtures/check_outcome.mjs" "$label" "$code" "$out" "$expected"
}
# one_copy DIR PKG...: `npm ls` shows exactly one version of each package.
one_copy() {
  local dir=$1 pkg ok=0
  shift
  (cd "$dir" && npm ls --all "$@") || true
  for pkg in "$@"; do
    local versions
    versions=$(cd "$dir" && npm ls --all --json "$pkg" | node -e '
      const seen = new Set();
      const walk = (deps) => { for (const [n, d] of Object.entries(deps ?? {})) {
        if (n === process.argv[1] && d.version) seen.add(d.version); walk(d.dependencies); } };
      walk(JSON.parse(require("node:fs").readFileSync(0, "utf8")).dependencies);
      console.log([...seen].join(" "));' "$pkg")
    if [ "$(wc -w <<<"$versions")" = 1 ]; then
      echo "$pkg: one copy ($versions)"
    else
      echo "$pkg: $(wc -w <<<"$versions") versions installed: '$versions'"
      ok=1
    fi
  done
  return $ok
}
new_project() { # DIR: an empty ESM project using the local registry
  mkdir -p "$1"
  printf '{ "name": "user-project", "private": true, "type": "module" }\n' >"$1/package.json"
  printf 'registry=%s\n' "$REGISTRY" >"$1/.npmrc"
}

echo "=== build and pack"
check "npm pack (prepack runs scripts/build-npm.sh)" bash -c "cd '$repo' && npm pack --pack-destination '$work' --silent >'$work/packed' && echo \"packed \$(cat '$work/packed')\""
tarball=$work/$(tail -1 "$work/packed" 2>/dev/null)
tarball_contents() {
  local listing bad missing
  listing=$(tar -tzf "$tarball") || return 1
  echo "$(wc -l <<<"$listing") files; $(grep -c '\.js$' <<<"$listing") .js, $(grep -c '\.d\.ts$' <<<"$listing") .d.ts"
  bad=$(grep -vE '^package/(package\.json|README\.md|LICENSE|dist/.+\.(js|d\.ts))$' <<<"$listing")
  [ -z "$bad" ] || { echo "unexpected files in the tarball:"; echo "$bad"; return 1; }
  missing=$(node -e '
    const pkg = require(process.argv[1]);
    const files = new Set(process.argv[2].split("\n"));
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e) => typeof e === "string" ? [e] : Object.values(e)), ...Object.values(typeof pkg.bin === "string" ? {b: pkg.bin} : pkg.bin ?? {})];
    for (const t of new Set(targets)) if (!files.has("package/" + t.replace(/^\.\//, ""))) console.log(t);
  ' "$repo/package.json" "$listing")
  [ -z "$missing" ] || { echo "exports/bin targets missing from the tarball: $missing"; return 1; }
  echo "only package.json, README.md, LICENSE and dist/**/*.{js,d.ts}; every exports/bin target present"
}
check "tarball file list" tarball_contents
bun_ffi_only_on_bun() {
  local dir=$work/unpacked
  mkdir -p "$dir" && tar -xzf "$tarball" -C "$dir" || return 1
  local users importers
  users=$(cd "$dir/package" && grep -rl '"bun:ffi"' dist)
  importers=$(cd "$dir/package" && grep -rlE 'from "\./bun\.js"|import\("\./bun\.js"\)' dist)
  echo "files naming bun:ffi: $users; files importing ./bun.js: $importers"
  [ "$users" = dist/ffi/bun.js ] && [ "$importers" = dist/ffi/runtime.js ] || return 1
  grep -n 'import("./bun.js")' "$dir/package/dist/ffi/runtime.js" | grep -q 'runtime === "bun"' ||
    grep -B1 -n 'import("./bun.js")' "$dir/package/dist/ffi/runtime.js" | grep -q '"bun"' || return 1
  if grep -nE '^\s*import[^(]*"bun:ffi"' "$dir/package/dist/ffi/bun.js"; then
    echo "dist/ffi/bun.js imports bun:ffi statically: a bundle for Node would load it at startup"
    return 1
  fi
  echo "bun:ffi is imported only by dist/ffi/bun.js (dynamically), which only runtime.js imports, dynamically, in its runtime === \"bun\" branch"
  if grep -rn 'Deno\.\|bun:ffi' "$dir/package/dist" --include=*.d.ts | grep -v '^\S*:[0-9]*: *\*\|/\*\*\|//' ; then
    echo "the .d.ts files refer to Deno's namespace or bun:ffi (outside comments)"
    return 1
  fi
  echo "no .d.ts refers to the Deno namespace or bun:ffi"
}
check "bun:ffi reachable only from Bun; runtime-neutral .d.ts" bun_ffi_only_on_bun

echo
echo "=== local registry"
verdaccio_install || exit 1
verdaccio_start "$work/registry" || exit 1
publish() {
  mkdir -p "$work/publish" && cd "$work/publish" || return 1
  printf '//%s:_authToken=local-verdaccio-test-token\n' "${REGISTRY#http://}" >.npmrc
  npm publish "$tarball" --registry "$REGISTRY" --access public 2>&1 | grep -v '^npm notice' || true
  npm view @otel-native/metrics name version peerDependencies dependencies --registry "$REGISTRY"
  [ "$(npm view @otel-native/metrics version --registry "$REGISTRY")" = "$(node -p 'require(process.argv[1]).version' "$repo/package.json")" ]
}
check "npm publish into the local registry" publish
expected=$(expected_here)
echo "expected outcome of the README example on this machine: $expected"

echo
echo "=== Bun"
b=$work/bun
bun_install() {
  new_project "$b" && cd "$b" &&
    "$bun" add @otel-native/metrics @opentelemetry/sdk-metrics @opentelemetry/api --registry "$REGISTRY" 2>&1 | tail -5 &&
    "$bun" add -d "typescript@$TS_VERSION" --registry "$REGISTRY" >/dev/null 2>&1 &&
    write_examples "$b" ts && node -p 'JSON.stringify(require("./package.json").dependencies)'
}
check "bun add @otel-native/metrics @opentelemetry/sdk-metrics @opentelemetry/api" bun_install
tsc_user() { # DIR TSCONFIG-JSON: the user's tsc --noEmit over the examples
  cd "$1" && printf '%s\n' "$2" >tsconfig.json && echo "tsconfig: $2" &&
    ./node_modules/.bin/tsc --noEmit -p tsconfig.json && echo "tsc --noEmit: clean (typescript $TS_VERSION, skipLibCheck off)"
}
check "Bun project: tsc --noEmit without @types/bun" tsc_user "$b" \
  '{ "compilerOptions": { "target": "es2022", "module": "nodenext", "strict": true, "types": [] }, "files": ["main.ts", "status.ts"] }'
bun_types() {
  cd "$b" && "$bun" add -d "@types/bun@$TYPES_BUN_VERSION" --registry "$REGISTRY" >/dev/null 2>&1 &&
    tsc_user "$b" '{ "compilerOptions": { "target": "esnext", "module": "preserve", "moduleResolution": "bundler", "strict": true, "types": ["bun"] }, "files": ["main.ts", "status.ts"] }'
}
check "Bun project: tsc --noEmit with @types/bun $TYPES_BUN_VERSION" bun_types
deno_types() {
  cd "$b" && "$bun" add -d "@types/deno@$TYPES_DENO_VERSION" --registry "$REGISTRY" >/dev/null 2>&1 &&
    tsc_user "$b" '{ "compilerOptions": { "target": "esnext", "module": "nodenext", "strict": true, "types": ["deno"] }, "files": ["main.ts", "status.ts"] }'
}
check "Bun project: tsc --noEmit with Deno's types (@types/deno $TYPES_DENO_VERSION)" deno_types
check "Bun: the README example (bun main.ts)" run_example bun "$expected" bash -c "cd '$b' && '$bun' status.ts"
check "Bun: SDK round trip, sdk-metrics $(node -p 'require(process.argv[1]).version' "$b/node_modules/@opentelemetry/sdk-metrics/package.json" 2>/dev/null)" \
  bash -c "cd '$b' && cp '$fixtures/roundtrip.mjs' . && '$bun' roundtrip.mjs"

echo
echo "=== Deno through npm: (NPM_CONFIG_REGISTRY=$REGISTRY)"
d=$work/deno
deno_install() {
  mkdir -p "$d" && cd "$d" && echo '{}' >deno.json &&
    NPM_CONFIG_REGISTRY=$REGISTRY "$deno" add --minimum-dependency-age=0 npm:@otel-native/metrics npm:@opentelemetry/sdk-metrics npm:@opentelemetry/api &&
    cat deno.json && write_examples "$d" ts
}
check "deno add npm:@otel-native/metrics npm:@opentelemetry/sdk-metrics npm:@opentelemetry/api" deno_install
check "Deno: deno check main.ts status.ts" bash -c "cd '$d' && NPM_CONFIG_REGISTRY=$REGISTRY '$deno' check main.ts status.ts"
check "Deno: the README example (deno run --allow-ffi main.ts)" run_example deno "$expected" \
  bash -c "cd '$d' && NPM_CONFIG_REGISTRY=$REGISTRY '$deno' run --allow-ffi status.ts"
check "Deno without --allow-ffi: unavailable, ffi-permission" run_example deno-no-ffi ffi-permission \
  bash -c "cd '$d' && NPM_CONFIG_REGISTRY=$REGISTRY '$deno' run status.ts"
check "Deno: SDK round trip (npm: specifiers)" bash -c "cd '$d' && cp '$fixtures/roundtrip.mjs' . && NPM_CONFIG_REGISTRY=$REGISTRY '$deno' run --allow-ffi roundtrip.mjs"
deno_checkout() {
  local c=$work/deno-checkout
  mkdir -p "$c" && cd "$c" || return 1
  # What the README says to do until JSR has the package: the checkout's source through an
  # import map, with the library's own npm dependencies mapped beside it.
  node -e '
    const repo = process.argv[1];
    const lib = require(repo + "/deno.json").imports;
    const imports = { "@otel-native/metrics": repo + "/mod.ts", "@otel-native/metrics/decode": repo + "/src/decode.ts" };
    for (const k of ["@opentelemetry/api", "@opentelemetry/core", "@opentelemetry/sdk-metrics", "@bufbuild/protobuf", "@bufbuild/protobuf/"]) if (lib[k]) imports[k] = lib[k];
    console.log(JSON.stringify({ imports }, null, 2));
  ' "$repo" >deno.json && cat deno.json && write_examples "$c" ts &&
    NPM_CONFIG_REGISTRY=$REGISTRY "$deno" check status.ts &&
    run_example deno-checkout "$expected" "$deno" run --allow-ffi status.ts
}
check "Deno from a checkout (import map to mod.ts)" deno_checkout

echo
echo "=== Node.js $(node --version)"
n=$work/node
node_install() {
  new_project "$n" && cd "$n" && npm install @otel-native/metrics @opentelemetry/sdk-metrics @opentelemetry/api 2>&1 | tail -3 &&
    write_examples "$n" mjs && node -p 'JSON.stringify(require("./package.json").dependencies)'
}
check "npm install @otel-native/metrics @opentelemetry/sdk-metrics @opentelemetry/api" node_install
old_tsc() {
  # The .d.ts import each other by ./x.ts paths (tsc keeps them in declarations); TypeScript
  # releases before the one building them must read them too.
  cd "$n" && npm install -D "ts-old@npm:typescript@$TS_OLD_VERSION" >/dev/null 2>&1 && write_examples "$n" ts &&
    printf '%s\n' '{ "compilerOptions": { "target": "es2022", "module": "nodenext", "strict": true, "types": [] }, "files": ["main.ts", "status.ts"] }' >tsconfig.json &&
    node node_modules/ts-old/bin/tsc --noEmit -p tsconfig.json && echo "tsc $TS_OLD_VERSION --noEmit: clean"
}
check "Node project: tsc --noEmit with TypeScript $TS_OLD_VERSION" old_tsc
check "npm ls: one copy of api, sdk-metrics, core" one_copy "$n" @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/core
check "Node: the README example (node main.mjs): unavailable, no-ffi" run_example node no-ffi bash -c "cd '$n' && node status.mjs"
check "Node: SDK round trip into a MemorySink, sdk-metrics $(node -p 'require(process.argv[1]).version' "$n/node_modules/@opentelemetry/sdk-metrics/package.json" 2>/dev/null)" \
  bash -c "cd '$n' && cp '$fixtures/roundtrip.mjs' . && node roundtrip.mjs"
import_cost() { # SPEC MUST-NOT-LOAD-REGEX
  local list=$work/modules.$RANDOM
  (cd "$n" && MODULES_OUT=$list node --import "$fixtures/count_modules.mjs" --input-type=module -e "await import('$1')") || return 1
  sort -u "$list" -o "$list"
  node -e '
    const fs = require("node:fs"); const url = require("node:url");
    const files = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((u) => url.fileURLToPath(u));
    const by = {};
    for (const f of files) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
      const k = m ? m[1] : "(project)";
      by[k] ??= { modules: 0, bytes: 0 };
      by[k].modules++; by[k].bytes += fs.statSync(f).size;
    }
    const total = Object.values(by).reduce((a, b) => ({ modules: a.modules + b.modules, bytes: a.bytes + b.bytes }), { modules: 0, bytes: 0 });
    console.log(`import "${process.argv[2]}": ${total.modules} modules, ${total.bytes} bytes`);
    for (const [k, v] of Object.entries(by).sort()) console.log(`  ${k}: ${v.modules} modules, ${v.bytes} bytes`);
    const bad = files.filter((f) => new RegExp(process.argv[3]).test(f));
    if (process.argv[3] && bad.length) { console.log("must not load:\n  " + bad.join("\n  ")); process.exit(1); }
    if (process.argv[3]) console.log(`nothing matching /${process.argv[3]}/ loaded`);
  ' "$list" "$1" "${2:-}"
}
node26() {
  # Node 26 (npm `node`, cached by version): node:ffi exists there behind --experimental-ffi, but
  # the library has no Node backend yet, so the outcome is the same clear "no-ffi".
  local dir="${HOME:-/root}/.cache/otel-native-metrics/node-$NODE26_VERSION"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" && echo '{ "private": true }' >"$dir.tmp/package.json" &&
      (cd "$dir.tmp" && npm install "node@$NODE26_VERSION" >/dev/null 2>&1) && rm -rf "$dir" && mv "$dir.tmp" "$dir" || return 1
  fi
  echo "node $("$dir/node_modules/.bin/node" --version)"
  cd "$n" && run_example node26 no-ffi "$dir/node_modules/.bin/node" status.mjs
}
check "Node $NODE26_VERSION (npm node@$NODE26_VERSION): the README example" node26
bundle_node() {
  # esbuild for Node: bun:ffi external (it is only ever imported on Bun), and the usual
  # createRequire banner for the OpenTelemetry SDK's CommonJS requires of Node built-ins.
  cd "$n" && npm install -D "esbuild@$ESBUILD_VERSION" >/dev/null 2>&1 &&
    ./node_modules/.bin/esbuild status.mjs --bundle --platform=node --format=esm --external:bun:ffi \
      "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" \
      --outfile=bundle/status.mjs --log-level=warning && echo "bundled: $(wc -c <bundle/status.mjs) bytes" &&
    run_example node-bundle no-ffi node bundle/status.mjs
}
check "esbuild $ESBUILD_VERSION bundle for Node of the README example, run by node" bundle_node
bundle_bun() {
  cd "$n" && "$bun" build status.mjs --target=bun --outfile=bundle/status-bun.js >/dev/null &&
    run_example bun-bundle "$expected" "$bun" bundle/status-bun.js
}
check "bun build --target=bun of the README example, run by bun" bundle_bun
check 'Import cost of "." (no protobuf-es, no generated schema)' import_cost @otel-native/metrics '@bufbuild|/proto/gen/'
check 'Import cost of "./decode" (for comparison)' import_cost @otel-native/metrics/decode ''

echo
echo "=== lowest supported peers: @opentelemetry/sdk-metrics 2.0.0, @opentelemetry/api 1.9.0"
l=$work/lowest
lowest_install() {
  new_project "$l" && cd "$l" &&
    npm install @otel-native/metrics @opentelemetry/sdk-metrics@2.0.0 @opentelemetry/api@1.9.0 2>&1 | tail -2 &&
    cp "$fixtures/roundtrip.mjs" .
}
check "npm install with sdk-metrics 2.0.0, api 1.9.0" lowest_install
check "lowest: npm ls one copy" one_copy "$l" @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/core
lowest_tsc() {
  cd "$l" && npm install -D "typescript@$TS_VERSION" "@types/node@20" >/dev/null 2>&1 && write_examples "$l" ts &&
    tsc_user "$l" '{ "compilerOptions": { "target": "es2022", "module": "nodenext", "strict": true, "types": ["node"] }, "files": ["main.ts", "status.ts"] }'
}
check "lowest: tsc --noEmit against sdk-metrics 2.0.0's types (with @types/node 20: core 2.0.0's own .d.ts need it)" lowest_tsc
check "lowest: SDK round trip under Node" bash -c "cd '$l' && node roundtrip.mjs"
check "lowest: SDK round trip under Bun" bash -c "cd '$l' && '$bun' roundtrip.mjs"
check "lowest: SDK round trip under Deno (npm project, node_modules)" bash -c "cd '$l' && '$deno' run --allow-ffi --allow-read --allow-env roundtrip.mjs"

echo
echo "=== highest supported peers (latest 3.x under Node too)"
h=$work/highest
highest_install() {
  new_project "$h" && cd "$h" &&
    npm install @otel-native/metrics "@opentelemetry/sdk-metrics@^3" "@opentelemetry/api@^1.10" 2>&1 | tail -2 &&
    cp "$fixtures/roundtrip.mjs" . &&
    node -p '"sdk-metrics " + require("@opentelemetry/sdk-metrics/package.json").version + ", api " + require("@opentelemetry/api/package.json").version' 2>/dev/null || true
}
check "npm install with sdk-metrics ^3, api ^1.10" highest_install
check "highest: npm ls one copy" one_copy "$h" @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/core
check "highest: SDK round trip under Node" bash -c "cd '$h' && node roundtrip.mjs"

echo
echo "=== from the tarball, without a registry (README: until the registries have it)"
tarball_install() { # DIR INSTALLER...
  local dir=$1
  shift
  new_project "$dir" && cd "$dir" && "$@" "$tarball" @opentelemetry/sdk-metrics @opentelemetry/api >/dev/null 2>&1 &&
    node -p 'JSON.stringify(require("./package.json").dependencies)' && write_examples "$dir" mjs
}
tarball_node() { tarball_install "$work/tarball-npm" npm install && run_example node-tarball no-ffi node status.mjs; }
tarball_bun() { tarball_install "$work/tarball-bun" "$bun" add && run_example bun-tarball "$expected" "$bun" status.mjs; }
check "npm install ./$(basename "$tarball"), then the README example under Node" tarball_node
check "bun add ./$(basename "$tarball"), then the README example under Bun" tarball_bun

echo
echo "=== JSR: publish --dry-run and doc --lint (the TypeScript source)"
publish_dry_run() {
  # Everything but the file listing (the files it would publish).
  cd "$repo" && NO_COLOR=1 "$deno" publish --dry-run --allow-dirty >"$work/publish.log" 2>&1
  local rc=$?
  grep -vE '^\s*file://' "$work/publish.log" | grep -v '^\s*$'
  echo "$(grep -cE '^\s*file://' "$work/publish.log") files would be published"
  return $rc
}
check "deno publish --dry-run" publish_dry_run
entry_points=$(node -p 'Object.values(require(process.argv[1]).exports).join(" ")' "$repo/deno.json")
# shellcheck disable=SC2086
check "deno doc --lint $entry_points" node "$here/doc_lint.mjs" "$deno" "$repo" $entry_points

echo
[ "$failed" = 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "package: $passed passed, $failed failed"
[ "$failed" = 0 ]
