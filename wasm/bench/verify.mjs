// The npm package's benchmark, in one Node process: verifyChain on a 3-certificate P-256
// chain (leaf, issuing CA, root) against @peculiar/x509 building and checking the same chain,
// and the native core on the same chain (its figures come from the bench_chain example).
// Ratios only are meaningful: `node wasm/bench/verify.mjs` (after scripts/build-wasm.sh).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { webcrypto } from "node:crypto";
import { Authenticator } from "../pkg/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = mkdtempSync(join(tmpdir(), "certclaims-bench-"));
const native = JSON.parse(
  execFileSync("cargo", ["run", "-q", "--release", "-p", "certclaims-examples", "--example", "bench_chain", "--", dir, "300"], {
    cwd: root,
    encoding: "utf8",
  }),
);
const pem = readFileSync(join(dir, "chain.pem"), "utf8");
const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
const at = new Date(native.at * 1000);

// A miss every time (the cache off), and the same chain answered from the cache.
const policyText = readFileSync(join(dir, "policy.json"), "utf8");
const auth = new Authenticator(policyText, { cache: false });
const cached = new Authenticator(policyText);
const chainPem = blocks.slice(0, 2).join("\n");
const check = auth.verifyChainSync(chainPem, { at });
if (!check.ok) throw new Error(`certclaims did not verify the chain: ${JSON.stringify(check.error)}`);

x509.cryptoProvider.set(webcrypto);
const [leaf, issuing, rootCert] = blocks.map((b) => new x509.X509Certificate(b));
async function peculiar() {
  const builder = new x509.X509ChainBuilder({ certificates: [issuing, rootCert] });
  const items = await builder.build(leaf);
  if (items.length !== 3) throw new Error(`@peculiar/x509 built ${items.length} certificates`);
  for (let i = 0; i < items.length; i++) {
    const issuer = items[Math.min(i + 1, items.length - 1)];
    if (!(await items[i].verify({ publicKey: issuer.publicKey, date: at }))) throw new Error("signature");
  }
}

async function time(fn, iterations) {
  for (let i = 0; i < Math.max(5, iterations / 10); i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e3 / iterations;
}

// Interleaved rounds, best of each, so that neither side gets the quieter moment.
const rounds = 3;
let ours = Infinity;
let theirs = Infinity;
let hit = Infinity;
for (let r = 0; r < rounds; r++) {
  ours = Math.min(ours, await time(() => auth.verifyChainSync(chainPem, { at }), 100));
  theirs = Math.min(theirs, await time(peculiar, 100));
  hit = Math.min(hit, await time(() => cached.verifyChainSync(chainPem, { at }), 1000));
}
const result = {
  chain: "P-256, leaf + issuing CA + root",
  certclaims_wasm_node_us: Math.round(ours),
  certclaims_wasm_node_cache_hit_us: +hit.toFixed(1),
  peculiar_x509_node_us: Math.round(theirs),
  native_rustcrypto_us: Math.round(native.native_rustcrypto_us),
  native_aws_lc_rs_us: Math.round(native.native_aws_lc_rs_us),
  ratio_peculiar_over_certclaims: +(theirs / ours).toFixed(2),
  ratio_wasm_over_native_rustcrypto: +(ours / native.native_rustcrypto_us).toFixed(2),
  ratio_wasm_over_native_aws_lc_rs: +(ours / native.native_aws_lc_rs_us).toFixed(2),
  ratio_miss_over_hit: +(ours / hit).toFixed(1),
};
console.log(JSON.stringify(result, null, 2));
