#!/usr/bin/env bash
# Builds the npm package's contents: dist/ = ESM JavaScript + .d.ts compiled by `tsc` (the
# `typescript` devDependency) from the same TypeScript source JSR publishes.
#
# The entry points are deno.json's "exports" (plus package.json's "bin" targets, mapped back
# from dist/X.js to X.ts); package.json's "exports" must name the same subpaths, each as
# { types: ./dist/X.d.ts, import: ./dist/X.js, default: ./dist/X.js } — checked here, so a new
# subpath added to one file and not the other fails the build instead of shipping broken.
# Runs as `npm run build` and as npm's `prepack` (so `npm pack` / `npm publish` always ship a
# fresh build).
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p .cache
node - <<'JS'
const fs = require("node:fs");
const deno = JSON.parse(fs.readFileSync("deno.json", "utf8"));
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
const problems = [];
const roots = [];
const dist = (source) => "./dist/" + source.replace(/^\.\//, "").replace(/\.ts$/, "");
for (const [subpath, source] of Object.entries(deno.exports)) {
  roots.push(source);
  const want = { types: dist(source) + ".d.ts", import: dist(source) + ".js", default: dist(source) + ".js" };
  const got = pkg.exports?.[subpath];
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    problems.push(`package.json exports["${subpath}"] should be ${JSON.stringify(want)} (deno.json: ${source}), is ${JSON.stringify(got)}`);
  }
}
for (const subpath of Object.keys(pkg.exports ?? {})) {
  if (subpath !== "./package.json" && !(subpath in deno.exports)) {
    problems.push(`package.json exports["${subpath}"] is not in deno.json exports`);
  }
}
const bins = typeof pkg.bin === "string" ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
for (const [name, target] of Object.entries(bins)) {
  const m = /^\.\/dist\/(.+)\.js$/.exec(target);
  if (!m || !fs.existsSync(m[1] + ".ts")) problems.push(`bin "${name}": ${target} is not ./dist/<file>.js of a <file>.ts`);
  else roots.push("./" + m[1] + ".ts");
}
if (problems.length) {
  console.error("build-npm: deno.json and package.json disagree:\n  " + problems.join("\n  "));
  process.exit(1);
}
fs.writeFileSync(".cache/tsconfig.npm.json", JSON.stringify({
  $comment: "written by scripts/build-npm.sh from deno.json exports and package.json bin",
  extends: "../tsconfig.build.json",
  files: roots.map((r) => "../" + r.replace(/^\.\//, "")),
}, null, 2) + "\n");
console.log("build-npm: entry points " + roots.join(" "));
JS

rm -rf dist
node_modules/.bin/tsc -p .cache/tsconfig.npm.json
# bin targets must be executable in the tarball (npm also sets the bit on install).
node -e '
const pkg = require("./package.json");
const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const b of bins) require("node:fs").chmodSync(b, 0o755);
'
echo "build-npm: dist/ has $(find dist -name '*.js' | wc -l) .js and $(find dist -name '*.d.ts' | wc -l) .d.ts files ($(du -sk dist | cut -f1) KiB)"
