// Runs examples/worker in workerd (npm `workerd`) on 127.0.0.1 and sends real HTTP requests,
// supplying request.cf through workerd's cfBlobHeader, as Cloudflare's edge would fill it.
// Usage: node wasm/test/workerd.mjs CASES_DIR (the folder make-cases.mjs wrote).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const casesDir = process.argv[2];
const read = (p) => readFileSync(p, "utf8");

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), "certclaims-workerd-"));
for (const f of ["workerd.js", "common.js", "certclaims_wasm.js", "certclaims_wasm_bg.wasm"]) {
  copyFileSync(join(root, "wasm", "pkg", f), join(dir, f));
}
copyFileSync(join(root, "examples", "worker", "src", "worker.js"), join(dir, "worker.js"));
// Only alice (spiffe://example.org/ns/prod/sa/alice) is admitted.
writeFileSync(join(dir, "policy.json"), read(join(casesDir, "only-alice.json")));
const port = await freePort();
writeFileSync(
  join(dir, "config.capnp"),
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (cfBlobHeader = "cf-blob"), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "certclaims", esModule = embed "workerd.js"),
    (name = "common.js", esModule = embed "common.js"),
    (name = "certclaims_wasm.js", esModule = embed "certclaims_wasm.js"),
    (name = "certclaims_wasm_bg.wasm", wasm = embed "certclaims_wasm_bg.wasm"),
  ],
  bindings = [
    (name = "POLICY", text = embed "policy.json"),
    (name = "CLOUDFLARE_MUST_AGREE", text = "true"),
  ],
  compatibilityDate = "2025-01-01",
);
`,
);

const bin = join(root, "wasm", "node_modules", ".bin", "workerd");
// Its own process group: `.bin/workerd` is a launcher whose child is the real runtime, and
// both must go when the test ends.
const child = spawn(bin, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "pipe", "pipe"], detached: true });
let log = "";
child.stdout.on("data", (d) => (log += d));
child.stderr.on("data", (d) => (log += d));
const stop = () => {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
};
const deadline = Date.now() + 20_000;
for (;;) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    if (r.ok) break;
  } catch {}
  if (Date.now() > deadline || child.exitCode !== null) {
    stop();
    console.log(`workerd did not start:\n${log}`);
    console.log("workerd: 0 passed, 1 failed");
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}

const pemBody = (file, n) =>
  [...read(file).matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => m[1].replace(/\s+/g, ""))[n];
const pki = join(casesDir, "pki");
const other = join(casesDir, "other");
const sf = (b64) => `:${b64}:`;
const tca = (file, extra = {}) => ({
  certPresented: "1",
  certVerified: "SUCCESS",
  certRevoked: "0",
  certRFC9440: sf(pemBody(file, 0)),
  certRFC9440TooLarge: false,
  certChainRFC9440: sf(pemBody(file, 1)),
  certChainRFC9440TooLarge: false,
  ...extra,
});
const cases = [
  ["valid client", tca(join(pki, "alice.pem")), {}, 200, null],
  ["no certificate", { certPresented: "0" }, {}, 401, "no_certificate"],
  ["no tlsClientAuth at all", null, {}, 401, "no_certificate"],
  ["a client-sent Client-Cert header is ignored", { certPresented: "0" }, { "client-cert": sf(pemBody(join(pki, "alice.pem"), 0)) }, 401, "no_certificate"],
  ["foreign CA", tca(join(other, "eve.pem"), { certVerified: "SUCCESS" }), {}, 403, "unknown_issuer"],
  ["policy-denied client", tca(join(pki, "bob.pem")), {}, 403, "policy_denied"],
  ["malformed value", tca(join(pki, "alice.pem"), { certRFC9440: ":AAAA" }), {}, 400, "malformed_header"],
  ["too large", tca(join(pki, "alice.pem"), { certRFC9440: "", certRFC9440TooLarge: true }), {}, 403, "forwarder_check_failed"],
  ["Cloudflare disagrees", tca(join(pki, "alice.pem"), { certVerified: "FAILED:self signed certificate" }), {}, 403, "forwarder_check_failed"],
];
let passed = 0;
const failed = [];
for (const [name, t, headers, status, code] of cases) {
  const h = { ...headers };
  if (t !== null) h["cf-blob"] = JSON.stringify({ tlsClientAuth: t });
  const r = await fetch(`http://127.0.0.1:${port}/whoami`, { headers: h, signal: AbortSignal.timeout(10_000) });
  const body = await r.json();
  const ok =
    r.status === status &&
    (code === null
      ? body.common_name === "alice" && body.source === "forwarded" && body.claims.some((c) => c.type === "http://schemas.microsoft.com/ws/2008/06/identity/claims/role" && c.value === "payments")
      : body.error && body.error.code === code && body.error.status === status);
  if (ok) passed++;
  else failed.push(`${name}: ${r.status} ${JSON.stringify(body).slice(-700)}`);
}
stop();
for (const f of failed) console.log(`FAIL ${f}`);
console.log(`workerd: ${passed} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
