#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30: the CI smoke run) with cargo-fuzz on
# the nightly toolchain, starting from the committed seeds in fuzz/seeds/<target>.
# New inputs go to fuzz/corpus/<target> (not committed). Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain; skipping"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  # A build tool: opt-level 1 without LTO builds faster and runs the same.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install cargo-fuzz --quiet
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(chain policy pem forwarded differential)
cd fuzz
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if ! cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: target $t FAILED"
    exit 1
  fi
  echo "fuzz: $t: $(grep -E '^Done [0-9]+ runs' "$log" | tail -1)"
  rm -f "$log"
done
