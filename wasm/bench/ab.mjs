// A/B of two builds of the npm package in one Node process: `verifyChain` answered by the
// cache (a hit) and with the cache off (a host miss, `node:crypto`), the two builds
// interleaved, 7 rounds, best of each; the outcomes of both must be identical.
//
//   cp -r wasm/pkg /tmp/pkg-before        # the build to compare against
//   (change, then) ./scripts/build-wasm.sh
//   target/debug/certclaims mint --out /tmp/pki --client alice
//   node wasm/bench/ab.mjs /tmp/pkg-before/index.js ../pkg/index.js /tmp/pki
//
// Run it in both orders (the first build of each round can be favoured). Ratios only.
import { readFileSync } from "node:fs";
const [before, after, dir] = process.argv.slice(2);
const A = (await import(before)).Authenticator;
const B = (await import(after)).Authenticator;
const policy = readFileSync(`${dir}/policy.json`, "utf8");
const chain = readFileSync(`${dir}/alice.pem`, "utf8");
async function time(fn, n) {
  for (let i = 0; i < n / 10; i++) await fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t) / 1e3 / n;
}
const sides = { before: A, after: B };
const best = {};
const auths = {};
for (const [k, C] of Object.entries(sides)) {
  auths[k] = { hit: new C(policy), miss: new C(policy, { cache: false }) };
  const a = await auths[k].hit.verifyChain(chain), b = await auths[k].miss.verifyChain(chain);
  if (!a.ok || !b.ok) throw new Error(`${k}: ${JSON.stringify(a.error ?? b.error)}`);
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${k}: hit and miss differ`);
  best[k] = { hit: Infinity, miss: Infinity };
}
if (JSON.stringify(await auths.before.hit.verifyChain(chain)) !== JSON.stringify(await auths.after.hit.verifyChain(chain))) throw new Error("outcomes differ");
for (let r = 0; r < 7; r++) {
  for (const k of Object.keys(sides)) {
    best[k].hit = Math.min(best[k].hit, await time(() => auths[k].hit.verifyChain(chain), 3000));
    best[k].miss = Math.min(best[k].miss, await time(() => auths[k].miss.verifyChain(chain), 300));
  }
}
console.log(JSON.stringify(best), "hit after/before", (best.after.hit / best.before.hit).toFixed(3), "miss after/before", (best.after.miss / best.before.miss).toFixed(3));
