#!/usr/bin/env bash
# `certclaims serve` against nginx with `ssl_verify_client on`, as issue 10 asks: the same
# server certificate, client certificate and CA (minted by `certclaims mint`), nginx with
# `worker_processes auto` and no session cache or tickets, full handshakes by the same client
# (`openssl s_time -new -www /`: each connection is a new TLS handshake and one HTTP request,
# so the server's verification of the client certificate is inside the timing), rounds
# alternating between the two servers, on loopback. Prints connections/s per round and the
# ratio of the best rounds. A benchmark, not a test: `./scripts/bench-serve.sh [SECONDS]`.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=3
command -v nginx >/dev/null || { echo "bench-serve: nginx is not installed (apt-get install nginx)"; exit 2; }
cargo build --release -q -p certclaims-cli --locked
bin=${CARGO_TARGET_DIR:-target}/release/certclaims
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
"$bin" mint --out "$work/pki" --client alice >/dev/null
port_cc=$((20000 + RANDOM % 10000))
port_ng=$((port_cc + 1))

"$bin" serve --policy "$work/pki/policy.json" --tls-cert "$work/pki/server.pem" \
  --tls-key "$work/pki/server.key" --listen "127.0.0.1:$port_cc" --mode require \
  >"$work/serve.log" 2>&1 &
pids+=($!)

mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$port_ng ssl;
    ssl_certificate $work/pki/server.pem;
    ssl_certificate_key $work/pki/server.key;
    ssl_client_certificate $work/pki/ca.pem;
    ssl_verify_client on;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

for port in "$port_cc" "$port_ng"; do
  for _ in $(seq 50); do
    (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.1
  done
done

# Connections per wall-clock second (s_time's own "per user sec" counts the client's CPU).
rate() {
  local start end n
  start=$(date +%s.%N)
  n=$(openssl s_time -connect "127.0.0.1:$1" -new -www / -time "$secs" \
    -cert "$work/pki/alice.pem" -key "$work/pki/alice.key" -CAfile "$work/pki/ca.pem" 2>/dev/null |
    awk '/connections in .* real seconds/ {print $1}' | head -1)
  end=$(date +%s.%N)
  awk -v n="${n:-0}" -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", n / (b - a)}'
}

best_cc=0
best_ng=0
for r in $(seq $rounds); do
  cc=$(rate "$port_cc")
  ng=$(rate "$port_ng")
  echo "round $r: certclaims serve $cc connections/s, nginx $ng connections/s"
  best_cc=$(awk -v a="$best_cc" -v b="$cc" 'BEGIN {print (b > a) ? b : a}')
  best_ng=$(awk -v a="$best_ng" -v b="$ng" 'BEGIN {print (b > a) ? b : a}')
done
awk -v a="$best_cc" -v b="$best_ng" 'BEGIN {printf "best: certclaims serve %s, nginx %s connections/s; certclaims / nginx = %.2f\n", a, b, a / b}'
