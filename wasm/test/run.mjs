// One conformance script for Node, Deno and Bun: `node wasm/test/run.mjs CASES.json`,
// `deno run --allow-read wasm/test/run.mjs CASES.json`, `bun wasm/test/run.mjs CASES.json`.
// CASES.json (written by scripts/test-wasm.sh) holds minted chains, policies and what the
// native CLI printed for each; the package must give the same document, byte for byte.
import { Authenticator, ClaimTypes, Forwarder, PolicyError } from "../pkg/index.js";

const runtime = typeof Deno !== "undefined" ? "deno" : typeof Bun !== "undefined" ? "bun" : "node";
const file = (typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2))[0];
const readText = async (p) =>
  typeof Deno !== "undefined"
    ? Deno.readTextFile(p)
    : (await import("node:fs/promises")).readFile(p, "utf8");
const cases = JSON.parse(await readText(file));

let passed = 0;
const failed = [];
function check(name, ok, detail) {
  if (ok) passed++;
  else failed.push(`${name}: ${detail}`);
}
const pretty = (v) => JSON.stringify(v, null, 2);

// 1. verifyChain against the CLI's own output, byte for byte.
for (const c of cases.verify) {
  const auth = new Authenticator(c.policy);
  const got = await auth.verifyChain(c.chain, { at: c.at });
  let text;
  if (got.ok) text = pretty(got.principal);
  else {
    const { code, message, step } = got.error;
    text = pretty({ error: { code, message, step } });
  }
  check(`verify ${c.name}`, text === c.cli.trimEnd(), `\n--- package\n${text}\n--- cli\n${c.cli}`);
  // WebCrypto alone gives the same document as the default (the host's node:crypto).
  const web = await new Authenticator(c.policy, { signatures: "webcrypto" }).verifyChain(c.chain, { at: c.at });
  check(`verify ${c.name} via webcrypto`, pretty(web) === pretty(got), `\n--- webcrypto\n${pretty(web)}\n--- host\n${pretty(got)}`);
  check(`verify ${c.name} ok`, got.ok === (c.exit === 0), `ok=${got.ok}, cli exit ${c.exit}`);
  if (!got.ok) {
    const want = got.error.code === "no_certificate" ? 401 : got.error.code === "malformed_header" ? 400 : 403;
    check(`verify ${c.name} status`, got.error.status === want, `status ${got.error.status}`);
  }
}

// 1a. A policy's `role` grant is ASP.NET's ClaimTypes.Role, as natively.
{
  const granted = [];
  for (const c of cases.verify) {
    const got = await new Authenticator(c.policy).verifyChain(c.chain, { at: c.at });
    if (got.ok) granted.push(...got.principal.claims.filter((x) => x.type === ClaimTypes.Role).map((x) => x.value));
  }
  check("ClaimTypes.Role", granted.includes("payments") && granted.includes("audit") && Object.isFrozen(ClaimTypes),
    `roles ${JSON.stringify(granted)}`);
}

// 1b. The cache: the same chain again is answered from it with the identical document, an
// Authenticator without a cache gives the same, and bad cache options throw.
for (const c of cases.verify) {
  const cached = new Authenticator(c.policy);
  const uncached = new Authenticator(c.policy, { cache: false });
  const first = JSON.stringify(await cached.verifyChain(c.chain, { at: c.at }));
  const again = JSON.stringify(await cached.verifyChain(c.chain, { at: c.at }));
  const plain = JSON.stringify(await uncached.verifyChain(c.chain, { at: c.at }));
  check(`cache ${c.name}`, first === again && again === plain, `\n${first}\n${again}\n${plain}`);
}
{
  let threw = null;
  try {
    new Authenticator(cases.verify[0].policy, { cache: { capacity: -1 } });
  } catch (e) {
    threw = e;
  }
  check("cache options", threw instanceof TypeError && /cache\.capacity/.test(threw.message), String(threw));
}

// 1c. The certificates' SHA-256 (fingerprints, cache key) comes from the host's node:crypto:
// its `hash`, or `createHash` on a host without it; a host whose digest fails or is not 32
// bytes leaves it to the module. The same document every way, a miss and a hit.
{
  const common = await import("../pkg/common.js");
  const nodeCrypto = await import("node:crypto");
  const c = cases.verify.find((c) => c.exit === 0);
  const hosts = [
    ["createHash", { ...nodeCrypto, hash: undefined }],
    ["throwing", { ...nodeCrypto, hash() { throw new Error("unavailable"); }, createHash() { throw new Error("unavailable"); } }],
    ["short", { ...nodeCrypto, hash: () => new Uint8Array(31) }],
  ];
  for (const [name, host] of hosts) {
    common.useHostCrypto(host);
    const auth = new Authenticator(c.policy);
    const miss = await auth.verifyChain(c.chain, { at: c.at });
    const hit = await auth.verifyChain(c.chain, { at: c.at });
    check(`sha256 ${name}`, miss.ok && pretty(miss.principal) === c.cli.trimEnd() && pretty(hit) === pretty(miss), pretty(miss));
  }
  common.useHostCrypto(nodeCrypto);
}

// 2. DER input gives the same principal as PEM.
{
  const c = cases.verify.find((c) => c.exit === 0);
  const ders = c.der.map((b64) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  const a = await new Authenticator(c.policy).verifyChain(ders, { at: new Date(c.at) });
  check("der input", a.ok && pretty(a.principal) === c.cli.trimEnd(), pretty(a));
  // The PEM text crosses as UTF-8 through a kept 64 KiB buffer, or, for a text that could
  // need more, its own: text outside the blocks (non-ASCII here) is skipped either way.
  const auth = new Authenticator(c.policy, { cache: false });
  for (const [what, pad] of [["short", "é 中文 🦀\n"], ["long", "é 中文 🦀 explanatory text\n".repeat(1000)]]) {
    const r = await auth.verifyChain(pad + c.chain + "\n" + pad, { at: c.at });
    check(`pem with ${what} text outside the blocks`, r.ok && pretty(r.principal) === c.cli.trimEnd(), pretty(r));
  }
}

// 3. authenticate(Request) with forwarded headers, as the native server does.
for (const c of cases.forwarded) {
  const auth = new Authenticator(c.policy);
  const request = new Request("http://worker.example/", { headers: c.headers });
  const got = await auth.authenticate(request, {
    forwarder: c.forwarder,
    remoteAddress: c.peer ?? undefined,
    at: c.at,
  });
  const code = got.ok ? "ok" : got.error.code;
  check(`authenticate ${c.name}`, code === c.expect, `got ${code}: ${pretty(got)}`);
  if (got.ok && c.principal) {
    check(`authenticate ${c.name} principal`, pretty(got.principal) === c.principal.trimEnd(), pretty(got.principal));
  }
}

// 3b. The headers cross into the module as one UTF-8 buffer and the byte length of each name
// and value: other headers with non-ASCII values (as a runtime's Latin-1 bytes arrive) and
// [name, value] pairs instead of Headers change nothing, and a header hidden inside another's
// value (which a separator-joined crossing could split out) is not a header.
{
  const c = cases.forwarded.find((f) => f.name === "nginx from the proxy");
  const auth = new Authenticator(c.policy);
  const opts = { forwarder: c.forwarder, remoteAddress: c.peer, at: c.at };
  const [[name, value]] = c.headers;
  const pairs = [["x-note", "caf\u00e9 \u00fcber \u20ac"], [name, value], ["x-after", "\u00ff"]];
  const got = await auth.authenticate({ headers: pairs }, opts);
  check("authenticate with non-ASCII headers around the certificate", got.ok && pretty(got.principal) === c.principal.trimEnd(), pretty(got));
  const hidden = await auth.authenticate({ headers: [["x-note", `a\u0000${name}\u0000${value}`]] }, opts);
  check("a header inside another header's value", !hidden.ok && hidden.error.code === "no_certificate", pretty(hidden));
}

// 4. A bad policy or forwarder is the operator's PolicyError, with the CLI's message.
for (const c of cases.bad_policies) {
  try {
    new Authenticator(c.policy);
    check(`bad policy ${c.name}`, false, "no PolicyError");
  } catch (e) {
    check(`bad policy ${c.name}`, e instanceof PolicyError && e.code === "invalid_policy" && c.cli.includes(e.message), `${e} vs ${c.cli}`);
  }
}
try {
  new Forwarder({ format: "nginx", trusted_proxies: [] });
  check("bad forwarder", false, "no PolicyError");
} catch (e) {
  check("bad forwarder", e instanceof PolicyError && e.code === "invalid_forwarder" && e.message.includes("forwarder.trusted_proxies"), String(e));
}

// 5. Client input never throws.
{
  const auth = new Authenticator(cases.verify[0].policy);
  for (const junk of ["", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", [new Uint8Array([0x30, 0x03, 0x02, 0x01])], []]) {
    try {
      const r = await auth.verifyChain(junk);
      check(`junk ${JSON.stringify(junk).slice(0, 30)}`, r.ok === false && typeof r.error.code === "string", pretty(r));
    } catch (e) {
      check(`junk ${JSON.stringify(junk).slice(0, 30)}`, false, `threw ${e}`);
    }
  }
}

// 6. Signatures: WebCrypto checks them (counted), the host's synchronous crypto (the default)
// gives the same principal without WebCrypto, a tampered signature is bad_signature through
// WebCrypto, the host's crypto and Rust alike, and when the host's WebCrypto lacks ECDSA, the
// module built with the whole pure-Rust set (wasm/pkg-rustcrypto) falls back to it while the
// published one (Ed25519 only in Rust) answers unsupported_algorithm. This part patches
// crypto.subtle, so it runs last.
{
  const { Authenticator: RustAuthenticator } = await import("../pkg-rustcrypto/index.js");
  const c = cases.verify.find((c) => c.exit === 0);
  const ders = c.der.map((b64) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  const subtle = globalThis.crypto.subtle;
  const realVerify = subtle.verify.bind(subtle);
  const realImport = subtle.importKey.bind(subtle);
  let verified = 0;
  subtle.verify = (...a) => {
    verified++;
    return realVerify(...a);
  };
  const web = await new Authenticator(c.policy, { cache: false, signatures: "webcrypto" }).verifyChain(ders, { at: c.at });
  // One signature per link of the path (leaf … anchor).
  const links = web.ok ? web.principal.chain.length - 1 : -1;
  check("webcrypto verifies", web.ok && links > 0 && verified === links, `${verified} WebCrypto checks for ${links} links: ${pretty(web)}`);
  // The default ("host"): node:crypto's synchronous verify answers inside the round, in
  // every runtime here (Node, Deno, Bun): the same principal, and WebCrypto is not asked.
  verified = 0;
  const host = await new Authenticator(c.policy, { cache: false }).verifyChain(ders, { at: c.at });
  check("host crypto verifies", host.ok && verified === 0 && pretty(host) === pretty(web), `${verified} WebCrypto checks: ${pretty(host)}`);
  // RSA PKCS#1 v1.5 and PSS too (the openssl-made chains), tampered PSS included.
  for (const r of cases.verify.filter((v) => v.name.startsWith("rsa-"))) {
    verified = 0;
    const got = await new Authenticator(r.policy, { cache: false }).verifyChain(r.chain, { at: r.at });
    const ok = r.exit === 0 ? got.ok : !got.ok && got.error.code === "bad_signature";
    check(`host crypto verifies ${r.name}`, ok && verified === 0, `${verified} WebCrypto checks: ${pretty(got)}`);
  }
  const rust = await new RustAuthenticator(c.policy, { cache: false, signatures: "rust" }).verifyChain(ders, { at: c.at });
  check("rust mode", pretty(rust) === pretty(web), pretty(rust));
  const noRust = await new Authenticator(c.policy, { cache: false, signatures: "rust" }).verifyChain(ders, { at: c.at });
  check("rust mode without ECDSA in Rust", !noRust.ok && noRust.error.code === "unsupported_algorithm", pretty(noRust));

  // The last byte of the leaf is the last byte of its ECDSA signature's s: still DER.
  const tampered = [Uint8Array.from(ders[0]), ...ders.slice(1)];
  tampered[0][tampered[0].length - 1] ^= 0x01;
  const badWeb = await new Authenticator(c.policy, { cache: false, signatures: "webcrypto" }).verifyChain(tampered, { at: c.at });
  const badHost = await new Authenticator(c.policy, { cache: false }).verifyChain(tampered, { at: c.at });
  const badRust = await new RustAuthenticator(c.policy, { cache: false, signatures: "rust" }).verifyChain(tampered, { at: c.at });
  check("tampered via webcrypto", !badWeb.ok && badWeb.error.code === "bad_signature", pretty(badWeb));
  check("tampered via host crypto", pretty(badHost) === pretty(badWeb), pretty(badHost));
  check("tampered via rust", pretty(badRust) === pretty(badWeb), pretty(badRust));

  let asked = 0;
  subtle.importKey = async (format, key, params, ...rest) => {
    if (params && params.name === "ECDSA") {
      asked++;
      throw new DOMException("Unrecognized algorithm name", "NotSupportedError");
    }
    return realImport(format, key, params, ...rest);
  };
  verified = 0;
  const fallback = await new RustAuthenticator(c.policy, { cache: false, signatures: "webcrypto" }).verifyChain(ders, { at: c.at });
  check("fallback to rust", asked > 0 && verified === 0 && pretty(fallback) === pretty(web), `${asked} imports, ${verified} verifies: ${pretty(fallback)}`);
  const none = await new Authenticator(c.policy, { cache: false, signatures: "webcrypto" }).verifyChain(ders, { at: c.at });
  check("no ECDSA anywhere", !none.ok && none.error.code === "unsupported_algorithm", pretty(none));
  subtle.importKey = realImport;
  subtle.verify = realVerify;
}

for (const f of failed) console.log(`FAIL ${f}`);
console.log(`${runtime}: ${passed} passed, ${failed.length} failed`);
if (failed.length > 0) {
  if (typeof Deno !== "undefined") Deno.exit(1);
  else process.exit(1);
}
