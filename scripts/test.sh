#!/usr/bin/env bash
# Runs every certclaims test on a fresh machine, installing what the tests need first.
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
# Each step prints the seconds since the start, so a slow run shows which step grew.
step() { printf '\n==> [%4ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

# --- What the tests need -------------------------------------------------------------------
# Debian packages: real TLS peers and tools for the end-to-end and interop tests, and headless
# Chromium with the NSS tools for the browser test.
need_apt=()
# Checked by binary (nginx and apache2 live in /usr/sbin, which a non-root PATH may lack). The
# proxies' postinst may start system services on ports 80/443; the tests run their own
# instances on free 127.0.0.1 ports and need no service running.
for pair in openssl:openssl curl:curl nginx:nginx /usr/sbin/apache2:apache2 haproxy:haproxy caddy:caddy \
  chromium:chromium certutil:libnss3-tools pk12util:libnss3-tools; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

step "Rust components and the wasm32 target"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown >/dev/null

# --- Static checks ---------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, -D warnings)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked -q

step "no_std check: the core for wasm32-unknown-unknown without std"
cargo check -p certclaims --no-default-features --target wasm32-unknown-unknown --locked
cargo check -p certclaims --no-default-features --features rustcrypto --target wasm32-unknown-unknown --locked

# --- Tests -----------------------------------------------------------------------------------
step "cargo test (workspace, all features)"
cargo test --workspace --all-features --locked

step "benchmarks build (cargo bench --no-run; the dev profile the tests built, no times asserted)"
cargo bench --workspace --all-features --locked --no-run --profile dev -q

# The harnesses cargo test built (dev profile, dependencies optimized): the corpus takes
# seconds there, a release build of the harness minutes. The same run writes the sample the
# npm package's conformance test replays (scripts/test-wasm.sh, LIMBO_SAMPLE).
step "x509-limbo conformance (fails if worse than tests/limbo/exceptions.json)"
limbo=../shared/conformance/x509-limbo/limbo.json
[ -f "$limbo" ] || { echo "missing $limbo (the shared/ folder beside the checkout)"; exit 1; }
./target/debug/limbo "$limbo" --out target/limbo-results.json --check tests/limbo/exceptions.json \
    --sample-out target/limbo-sample.json --sample-every 1
step "differential: certclaims' path engine against rustls-webpki (fails on a difference not in tests/limbo/differential.json)"
./target/debug/differential "$limbo" --check tests/limbo/differential.json

step "the main job: certclaims demo"
cargo run -q -p certclaims-cli --locked -- demo

step "examples: mtls_server + mtls_client (PKCS#12) on a minted PKI"
# The features of the test build: cargo test compiled every example, this only copies them
# to target/debug/examples (a build with the examples' own features would recompile most of
# the workspace).
cargo build -q --workspace --all-features --examples --locked
pki=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$pki"; }
trap cleanup EXIT
./target/debug/certclaims mint --out "$pki" --client alice --spiffe spiffe://example.org/ns/prod/sa/alice \
    --client bob --spiffe spiffe://example.org/ns/dev/sa/bob 2>/dev/null
port=$(( 20000 + RANDOM % 20000 ))
./target/debug/examples/mtls_server "$pki" "127.0.0.1:$port" 2>"$pki/server.log" &
server_pid=$!
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
client() { ./target/debug/examples/mtls_client "$pki/$1.p12" changeit "https://localhost:$port/$2" "$pki/ca.pem"; }
client alice payments | grep -qx "payments for spiffe://example.org/ns/prod/sa/alice"
client alice whoami | grep -q '"spiffe_id": *"spiffe://example.org/ns/prod/sa/alice"'
out=$(client bob payments || true)
echo "$out" | grep -q '^403 Forbidden'
echo "$out" | grep -q '"code":"policy_denied"'
# A browser's Accept: the principal's page, and the refusal page with the same 403.
browser() {
  curl -q -sS --max-time 10 --resolve "localhost:$port:127.0.0.1" --cacert "$pki/ca.pem" \
    --cert "$pki/$1.pem" --key "$pki/$1.key" -H 'Accept: text/html,*/*;q=0.8' \
    -w '\n%{http_code}' "https://localhost:$port/$2"
}
browser alice whoami | grep -q '<title>Signed in as alice</title>'
out=$(browser bob payments)
echo "$out" | grep -q '<code>policy_denied</code>'
[ "$(echo "$out" | tail -1)" = 403 ]
echo "examples: alice reached /payments, bob got 403 policy_denied (JSON and the browser page)"

step "cargo install: the documented install, then the installed binary mints and verifies"
root=$(mktemp -d)
CARGO_TARGET_DIR=$PWD/target cargo install -q --path adapters/cli --locked --debug --root "$root"
"$root/bin/certclaims" --version | grep -qx "certclaims $(cargo pkgid -p certclaims-cli | sed 's/.*[#@]//')"
"$root/bin/certclaims" mint --out "$root/pki" --client alice 2>/dev/null
"$root/bin/certclaims" verify --policy "$root/pki/policy.json" "$root/pki/alice.pem" | grep -q '"common_name": "alice"'
echo "cargo install: $("$root/bin/certclaims" --version) installed, minted and verified"
rm -rf "$root"

step "npm package: wasm/pkg built, types checked, the CLI's verdicts in Node, Deno and Bun"
LIMBO_SAMPLE=target/limbo-sample.json ./scripts/test-wasm.sh

step "fuzz smoke run (15 s per target, when a nightly toolchain is present)"
./scripts/fuzz.sh 15

echo
echo "all checks passed in $(( $(date +%s) - start ))s"
