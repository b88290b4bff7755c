#!/usr/bin/env bash
# Regenerates proto/gen/ from the OTLP .proto files shipped in the @elastic/mockotlpserver
# devDependency. Generated files are committed and never edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
rm -rf proto/gen
buf generate --template proto/buf.gen.yaml
echo "generated:"; find proto/gen -name '*.ts' | sort
