// An A/B of npm-package builds in one Node process: `node wasm/bench/miss-ab.mjs CHAINDIR PKG_A PKG_B …`
// (CHAINDIR from `cargo run --release -p certclaims-examples --example bench_chain -- DIR 1000 rsa2048`;
// a PKG is a copy of wasm/pkg). Per build: the miss through node:crypto for the PEM chain (`real`) and
// for the same certificates as DER (`der`: no PEM to decode, as the native benchmark's input), the
// miss with every signature answered "valid" by a JS stand-in (`acc`: the module's own work), and a
// cache hit; 7 interleaved rounds, best of each. Ratios between builds only; no time is asserted.

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
const sides = [];
for (const p of pkgs) {
  const common = await import(p + "/common.js");
  const { Authenticator } = await import(p + "/index.js");
  const real = new Authenticator(policy, { cache: false });
  common.useHostCrypto({ ...nodeCrypto, verify: () => true });
  const acc = new Authenticator(policy, { cache: false });
  const hit = new Authenticator(policy);
  common.useHostCrypto(nodeCrypto);
  const r = await real.verifyChain(chainPem, { at });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  const d = await real.verifyChain(chainDer, { at });
  if (JSON.stringify(d) !== JSON.stringify(r)) throw new Error("DER and PEM outcomes differ");
  sides.push({ p, real, der: real, acc, hit, best: { real: Infinity, der: Infinity, acc: Infinity, hit: Infinity } });
}
async function time(a, n, chain = chainPem) {
  for (let i = 0; i < n / 5; i++) await a.verifyChain(chain, { at });
  const s = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await a.verifyChain(chain, { at });
  return Number(process.hrtime.bigint() - s) / 1e3 / n;
}
for (let r = 0; r < 7; r++)
  for (const s of sides)
    for (const k of ["real", "der", "acc", "hit"]) s.best[k] = Math.min(s.best[k], await time(s[k], k === "hit" ? 3000 : 1000, k === "der" ? chainDer : chainPem));
for (const s of sides) console.log(s.p.padEnd(40), Object.entries(s.best).map(([k, v]) => `${k} ${v.toFixed(1)}`).join("  "));
