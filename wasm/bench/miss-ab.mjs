// An A/B of npm-package builds in one Node process: `node wasm/bench/miss-ab.mjs CHAINDIR PKG_A PKG_B …`
// (CHAINDIR from `cargo run --release -p certclaims-examples --example bench_chain -- DIR 1000 rsa2048`;
// a PKG is a copy of wasm/pkg). Per build: the miss through node:crypto for the PEM chain (`real`), for
// the same certificates as DER (`der`: no PEM to decode, as the native benchmark's input) and for the
// chain in an nginx header through `authenticate` (`header`); the same three with every signature
// answered "valid" by a JS stand-in (`acc`, `accDer`, `accHeader`: the module's own work); and a cache
// hit. Each side runs for 300 ms first (V8 optimizes a module's hot functions only after they have run
// a while), then 9 interleaved rounds, best of each. Ratios between builds only; no time is asserted.

import { readFileSync } from "node:fs";
import * as nodeCrypto from "node:crypto";
const [dir, ...pkgs] = process.argv.slice(2);
const pem = readFileSync(dir + "/chain.pem", "utf8");
const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
const chainPem = blocks.slice(0, 2).join("\n");
const chainDer = blocks.slice(0, 2).map((b) => new Uint8Array(Buffer.from(b.replace(/-----[A-Z ]+-----|\s/g, ""), "base64")));
const policy = readFileSync(dir + "/policy.json", "utf8");
// The test kit's NOW, at which bench_chain's chains are valid (its JSON output's `at`).
const at = new Date(1780272000 * 1000);
const nginx = new Headers({ "ssl-client-cert": encodeURIComponent(chainPem + "\n") });
const sides = [];
for (const p of pkgs) {
  const common = await import(p + "/common.js");
  const { Authenticator, Forwarder } = await import(p + "/index.js");
  const real = new Authenticator(policy, { cache: false });
  common.useHostCrypto({ ...nodeCrypto, verify: () => true });
  const acc = new Authenticator(policy, { cache: false });
  const hit = new Authenticator(policy);
  common.useHostCrypto(nodeCrypto);
  const forwarded = { forwarder: new Forwarder({ format: "nginx", trusted_proxies: ["127.0.0.2/32"] }), remoteAddress: "127.0.0.2", at };
  const r = await real.verifyChain(chainPem, { at });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  const d = await real.verifyChain(chainDer, { at });
  if (JSON.stringify(d) !== JSON.stringify(r)) throw new Error("DER and PEM outcomes differ");
  const h = await real.authenticate({ headers: nginx }, forwarded);
  if (!h.ok || h.principal.source !== "forwarded") throw new Error(`header: ${JSON.stringify(h)}`);
  const fns = {
    real: () => real.verifyChain(chainPem, { at }),
    der: () => real.verifyChain(chainDer, { at }),
    header: () => real.authenticate({ headers: nginx }, forwarded),
    acc: () => acc.verifyChain(chainPem, { at }),
    accDer: () => acc.verifyChain(chainDer, { at }),
    accHeader: () => acc.authenticate({ headers: nginx }, forwarded),
    hit: () => hit.verifyChain(chainPem, { at }),
  };
  sides.push({ p, fns, best: {} });
}
async function time(fn, n) {
  for (let i = 0; i < n / 5; i++) await fn();
  const s = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - s) / 1e3 / n;
}
for (const s of sides) {
  for (const fn of Object.values(s.fns)) {
    const end = performance.now() + 300;
    while (performance.now() < end) await fn();
  }
}
for (let r = 0; r < 9; r++)
  for (const s of sides)
    for (const [k, fn] of Object.entries(s.fns)) s.best[k] = Math.min(s.best[k] ?? Infinity, await time(fn, k === "hit" ? 3000 : 1000));
for (const s of sides) console.log(s.p.padEnd(40), Object.entries(s.best).map(([k, v]) => `${k} ${v.toFixed(1)}`).join("  "));
