// A sample of the x509-limbo corpus through the npm package, in Node, Deno and Bun:
// `node wasm/test/limbo.mjs SAMPLE.json`, `deno run --allow-read wasm/test/limbo.mjs
// SAMPLE.json`, `bun wasm/test/limbo.mjs SAMPLE.json`. SAMPLE.json is written by the native
// harness (`limbo … --sample-out`, see tests/src/limbo.rs): per testcase a policy document,
// the presented chain as PEM, the validation time and the native verdict. The package must
// give the same verdict: the same ok, code, message and step, and for an accepted chain the
// principal JSON byte for byte.
import { Authenticator, PolicyError } from "../pkg/index.js";

const runtime = typeof Deno !== "undefined" ? "deno" : typeof Bun !== "undefined" ? "bun" : "node";
const file = (typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2))[0];
const exit = (code) => (typeof Deno !== "undefined" ? Deno.exit(code) : process.exit(code));
if (!file) {
  console.log("usage: limbo.mjs SAMPLE.json");
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
let passed = 0;
const failed = [];

for (const c of sample.cases) {
  let got;
  try {
    got = await new Authenticator(c.policy).verifyChain(c.chain, { at: c.at });
  } catch (e) {
    const what = e instanceof PolicyError ? `PolicyError ${e.code}: ${e.message}` : `threw ${e}`;
    failed.push(`${c.id}: ${what}`);
    continue;
  }
  const want = c.native;
  const problems = [];
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

for (const f of failed) console.log(`FAIL ${f}`);
console.log(`${runtime}: limbo sample: ${passed} passed, ${failed.length} failed`);
if (failed.length > 0) exit(1);
