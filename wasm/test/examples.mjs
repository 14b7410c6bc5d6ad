// Runs examples/node (node:http) and examples/deno (Deno.serve) on 127.0.0.1 with a nginx-format
// forwarder trusting 127.0.0.1, and sends real requests: a forwarded valid certificate (200
// and the principal), a malformed header (400), no header (401). Usage:
// node wasm/test/examples.mjs CASES_DIR
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = process.argv[2];
const forwarderFile = join(dir, "forwarder.json");
writeFileSync(forwarderFile, JSON.stringify({ format: "nginx", trusted_proxies: ["127.0.0.1/32", "::1/128"] }));
const pem = readFileSync(join(dir, "pki", "alice.pem"), "utf8").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/)[0];
const port = () => new Promise((r) => { const s = createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });

const deno = join(root, "wasm", "node_modules", "@deno", "linux-x64-glibc", "deno");
const servers = [
  ["node", process.execPath, [join(root, "examples", "node", "server.mjs")]],
  ["deno", deno, ["run", "--quiet", "--no-prompt", "--allow-read", "--allow-net", join(root, "examples", "deno", "server.ts")]],
];
let passed = 0;
const failed = [];
for (const [name, bin, args] of servers) {
  const p = await port();
  const child = spawn(bin, [...args, join(dir, "pki", "policy.json"), forwarderFile, String(p)], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${p}/whoami`;
  const deadline = Date.now() + 20_000;
  let up = false;
  while (!up && Date.now() < deadline) {
    try { await fetch(url, { signal: AbortSignal.timeout(1000) }); up = true; } catch { await new Promise((r) => setTimeout(r, 200)); }
  }
  const cases = [
    [{ "ssl-client-cert": encodeURIComponent(pem) }, 200, (b) => b.common_name === "alice" && b.source === "forwarded"],
    [{ "ssl-client-cert": "%zz" }, 400, (b) => b.error.code === "malformed_header"],
    [{}, 401, (b) => b.error.code === "no_certificate"],
  ];
  for (const [headers, status, ok] of cases) {
    try {
      const r = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
      const b = await r.json();
      if (r.status === status && ok(b)) passed++;
      else failed.push(`${name} ${JSON.stringify(headers).slice(0, 40)}: ${r.status} ${JSON.stringify(b).slice(0, 300)}`);
    } catch (e) {
      failed.push(`${name}: ${e}\n${log}`);
    }
  }
  child.kill("SIGKILL");
}
for (const f of failed) console.log(`FAIL ${f}`);
console.log(`examples: ${passed} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
