#!/usr/bin/env bash
# The npm package's tests: builds wasm/pkg, type-checks the TypeScript example, makes the
# conformance cases from the native CLI and a sample of the x509-limbo corpus from the native
# harness, and runs the same scripts in Node, Deno and Bun.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
limbo=../shared/conformance/x509-limbo/limbo.json
[ -f "$limbo" ] || { echo "missing $limbo (the shared/ folder beside the checkout)"; exit 1; }
./scripts/build-wasm.sh
cargo build -q -p certclaims-cli --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node wasm/test/make-cases.mjs "$target/debug/certclaims" "$work"
# The release profile, as scripts/test.sh builds the harness: no second build.
echo "wasm: x509-limbo sample from the native harness"
cargo run --release --locked -q -p certclaims-tests --bin limbo -- "$limbo" \
    --sample-out "$work/limbo-sample.json" >/dev/null
echo "wasm: tsc --noEmit --strict on examples/ts/example.ts"
wasm/node_modules/.bin/tsc --noEmit --strict --target es2022 --module nodenext \
    --moduleResolution nodenext examples/ts/example.ts
node wasm/test/run.mjs "$work/cases.json"
wasm/node_modules/@deno/linux-x64-glibc/deno run --quiet --no-prompt --allow-read wasm/test/run.mjs "$work/cases.json"
wasm/node_modules/@oven/bun-linux-x64/bin/bun wasm/test/run.mjs "$work/cases.json"
node wasm/test/limbo.mjs "$work/limbo-sample.json"
wasm/node_modules/@deno/linux-x64-glibc/deno run --quiet --no-prompt --allow-read wasm/test/limbo.mjs "$work/limbo-sample.json"
wasm/node_modules/@oven/bun-linux-x64/bin/bun wasm/test/limbo.mjs "$work/limbo-sample.json"
node wasm/test/workerd.mjs "$work"
node wasm/test/examples.mjs "$work"
