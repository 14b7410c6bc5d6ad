#!/usr/bin/env bash
# The npm package's tests: builds wasm/pkg (and wasm/pkg-rustcrypto, the whole pure-Rust set,
# for comparison), type-checks the TypeScript example, makes the conformance cases from the
# native CLI and the x509-limbo corpus from the native harness, and runs the same scripts in
# Node, Deno and Bun: the whole corpus in Node through WebCrypto and through pure Rust, every
# 19th testcase of it in Deno and Bun.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
limbo=../shared/conformance/x509-limbo/limbo.json
[ -f "$limbo" ] || { echo "missing $limbo (the shared/ folder beside the checkout)"; exit 1; }
./scripts/build-wasm.sh
./scripts/build-wasm.sh --rustcrypto-all
cargo build -q -p certclaims-cli --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node wasm/test/make-cases.mjs "$target/debug/certclaims" "$work"
# The corpus sample with the native verdicts: the one scripts/test.sh's conformance run wrote
# (LIMBO_SAMPLE), or made here by the native harness.
if [ -n "${LIMBO_SAMPLE:-}" ]; then
  echo "wasm: x509-limbo sample from scripts/test.sh's conformance run ($LIMBO_SAMPLE)"
  cp "$LIMBO_SAMPLE" "$work/limbo-all.json"
else
  echo "wasm: x509-limbo sample from the native harness"
  cargo run --release --locked -q -p certclaims-tests --bin limbo -- "$limbo" \
      --sample-out "$work/limbo-all.json" --sample-every 1 >/dev/null
fi
echo "wasm: tsc --noEmit --strict on examples/ts/example.ts"
wasm/node_modules/.bin/tsc --noEmit --strict --target es2022 --module nodenext \
    --moduleResolution nodenext examples/ts/example.ts
node wasm/test/run.mjs "$work/cases.json"
wasm/node_modules/@deno/linux-x64-glibc/deno run --quiet --no-prompt --allow-read wasm/test/run.mjs "$work/cases.json"
wasm/node_modules/@oven/bun-linux-x64/bin/bun wasm/test/run.mjs "$work/cases.json"
echo "wasm: the whole x509-limbo corpus in Node, WebCrypto against the pure-Rust set and the native verdicts"
# In two halves at once, one per core: each process exits non-zero on a failure of its half.
node wasm/test/limbo.mjs "$work/limbo-all.json" --rust ../pkg-rustcrypto/index.js --part 1/2 &
first=$!
node wasm/test/limbo.mjs "$work/limbo-all.json" --rust ../pkg-rustcrypto/index.js --part 2/2 || status=$?
wait "$first" || status=$?
[ "${status:-0}" -eq 0 ] || { echo "wasm: the x509-limbo corpus in Node failed"; exit 1; }
wasm/node_modules/@deno/linux-x64-glibc/deno run --quiet --no-prompt --allow-read wasm/test/limbo.mjs "$work/limbo-all.json" --every 19
wasm/node_modules/@oven/bun-linux-x64/bin/bun wasm/test/limbo.mjs "$work/limbo-all.json" --every 19
node wasm/test/workerd.mjs "$work"
node wasm/test/examples.mjs "$work"
