// A sample of the x509-limbo corpus through the npm package, in Node, Deno and Bun:
// `node wasm/test/limbo.mjs SAMPLE.json`, `deno run --allow-read wasm/test/limbo.mjs
// SAMPLE.json`, `bun wasm/test/limbo.mjs SAMPLE.json`. SAMPLE.json is written by the native
// harness (`limbo … --sample-out`, see tests/src/limbo.rs): per testcase a policy document,
// the presented chain as PEM, the validation time and the native verdict. The package must
// give the same verdict: the same ok, code, message and step, and for an accepted chain the
// principal JSON byte for byte.
//
// `node wasm/test/limbo.mjs SAMPLE.json --rust ../pkg-rustcrypto/index.js` also runs every
// testcase through the package built with the whole pure-Rust set (`build-wasm.sh
// --rustcrypto-all`) in `signatures: "rust"` mode, and requires its outcome to be identical
// to the WebCrypto one: the two signature paths give the same verdict on every case. Every
// testcase also runs through the default, the host's synchronous crypto (node:crypto's
// `verify` in Node, Deno and Bun), which must give the WebCrypto outcome byte for byte.
import { Authenticator, PolicyError } from "../pkg/index.js";

const runtime = typeof Deno !== "undefined" ? "deno" : typeof Bun !== "undefined" ? "bun" : "node";
const args = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const file = args[0];
const rustAt = args.indexOf("--rust");
const Rust = rustAt > 0 ? (await import(args[rustAt + 1])).Authenticator : undefined;
// `--every N`: only every N-th testcase (Deno and Bun replay a sample of the corpus).
const everyAt = args.indexOf("--every");
const every = everyAt > 0 ? Number(args[everyAt + 1]) : 1;
// `--part K/N`: of those, the K-th of N interleaved parts (scripts/test-wasm.sh runs the
// parts of the whole corpus in parallel processes).
const partAt = args.indexOf("--part");
const [part, parts] = partAt > 0 ? String(args[partAt + 1] ?? "").split("/").map(Number) : [1, 1];
const exit = (code) => (typeof Deno !== "undefined" ? Deno.exit(code) : process.exit(code));
if (!file || !(Number.isInteger(every) && every >= 1) || !(Number.isInteger(parts) && parts >= 1 && part >= 1 && part <= parts)) {
  console.log("usage: limbo.mjs SAMPLE.json [--rust PKG-RUSTCRYPTO/index.js] [--every N] [--part K/N]");
  exit(2);
}
const readText = async (p) =>
  typeof Deno !== "undefined"
    ? Deno.readTextFile(p)
    : (await import("node:fs/promises")).readFile(p, "utf8");
const sample = JSON.parse(await readText(file));
if (sample.version !== 1 || !Array.isArray(sample.cases) || sample.cases.length === 0) {
  console.log(`${file}: not a limbo sample (version 1 with cases)`);
  exit(2);
}

const pretty = (v) => JSON.stringify(v, null, 2);

// Count what the host's WebCrypto verified, by algorithm (evidence that the package used it).
const byAlgorithm = new Map();
const subtle = globalThis.crypto.subtle;
const realVerify = subtle.verify.bind(subtle);
// WebCrypto calls made while the default ("host": node:crypto) authenticator ran: the
// requests node:crypto left to WebCrypto.
let phase = "webcrypto";
let hostLeftToWebCrypto = 0;
subtle.verify = (params, key, signature, data) => {
  if (phase === "host") {
    hostLeftToWebCrypto++;
    return realVerify(params, key, signature, data);
  }
  const name = `${params.name}${key.algorithm.namedCurve ? ` ${key.algorithm.namedCurve}` : ""} ${params.hash ?? key.algorithm.hash?.name ?? ""}`.trim();
  byAlgorithm.set(name, (byAlgorithm.get(name) ?? 0) + 1);
  return realVerify(params, key, signature, data);
};
let passed = 0;
const failed = [];

const chosen = sample.cases.filter((_, i) => i % every === 0).filter((_, j) => j % parts === part - 1);
if (chosen.length === 0) {
  console.log(`${file}: no testcase in part ${part}/${parts} of every ${every}`);
  exit(2);
}
for (const c of chosen) {
  let got;
  try {
    got = await new Authenticator(c.policy, { signatures: "webcrypto" }).verifyChain(c.chain, { at: c.at });
  } catch (e) {
    const what = e instanceof PolicyError ? `PolicyError ${e.code}: ${e.message}` : `threw ${e}`;
    failed.push(`${c.id}: ${what}`);
    continue;
  }
  const want = c.native;
  const problems = [];
  // The default: the host's synchronous crypto (node:crypto in Node, Deno and Bun).
  phase = "host";
  const host = await new Authenticator(c.policy).verifyChain(c.chain, { at: c.at });
  phase = "webcrypto";
  if (pretty(host) !== pretty(got)) {
    problems.push(`WebCrypto and host crypto differ\n--- webcrypto\n${pretty(got)}\n--- host\n${pretty(host)}`);
  }
  if (Rust) {
    const rust = await new Rust(c.policy, { signatures: "rust" }).verifyChain(c.chain, { at: c.at });
    const a = pretty(got);
    const b = pretty(rust);
    if (a !== b) problems.push(`WebCrypto and pure-Rust differ\n--- webcrypto\n${a}\n--- rust\n${b}`);
  }
  if (got.ok !== want.ok) problems.push(`ok ${got.ok}, native ${want.ok}`);
  else if (got.ok) {
    const text = pretty(got.principal);
    if (text !== want.principal) problems.push(`principal differs\n--- package\n${text}\n--- native\n${want.principal}`);
  } else {
    for (const key of ["code", "message", "step"]) {
      if (got.error[key] !== want[key]) problems.push(`${key} ${pretty(got.error[key])}, native ${pretty(want[key])}`);
    }
  }
  if (problems.length === 0) passed++;
  else failed.push(`${c.id}: ${problems.join("; ")}`);
}

// node:crypto answers every signature of the corpus (the key and hash codes the module passes
// match common.js's tables): one it left to WebCrypto means a request it could not read.
if (hostLeftToWebCrypto > 0) failed.push(`the host-crypto runs left ${hostLeftToWebCrypto} signatures to WebCrypto`);
for (const f of failed) console.log(`FAIL ${f}`);
const counts = [...byAlgorithm].sort().map(([k, v]) => `${k}: ${v}`).join(", ");
console.log(`${runtime}: WebCrypto verified ${counts || "nothing"}`);
console.log(`${runtime}: the host-crypto runs left ${hostLeftToWebCrypto} signatures to WebCrypto`);
const mode = Rust ? " (WebCrypto, host crypto and pure-Rust, compared)" : " (WebCrypto and host crypto, compared)";
const of = parts > 1 ? ` part ${part}/${parts}` : "";
console.log(`${runtime}: limbo sample${of}${mode}: ${passed} passed, ${failed.length} failed`);
if (failed.length > 0) exit(1);
