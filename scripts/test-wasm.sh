#!/usr/bin/env bash
# The npm package's tests: builds wasm/pkg, type-checks the TypeScript example, makes the
# conformance cases from the native CLI, and runs the same script in Node, Deno and Bun.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-wasm.sh
cargo build -q -p certclaims-cli --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node wasm/test/make-cases.mjs "$PWD/target/debug/certclaims" "$work"
echo "wasm: tsc --noEmit --strict on examples/ts/example.ts"
wasm/node_modules/.bin/tsc --noEmit --strict --target es2022 --module nodenext \
    --moduleResolution nodenext examples/ts/example.ts
node wasm/test/run.mjs "$work/cases.json"
wasm/node_modules/@deno/linux-x64-glibc/deno run --quiet --no-prompt --allow-read wasm/test/run.mjs "$work/cases.json"
wasm/node_modules/@oven/bun-linux-x64/bin/bun wasm/test/run.mjs "$work/cases.json"
node wasm/test/workerd.mjs "$work"
node wasm/test/examples.mjs "$work"
