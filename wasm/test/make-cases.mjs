// Writes the cases of wasm/test/run.mjs from the native CLI: mints PKIs with
// `certclaims mint`, runs `certclaims verify` on each chain and records what it printed.
// Usage: node wasm/test/make-cases.mjs CERTCLAIMS_BINARY OUT_DIR
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const [bin, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const run = (args) => spawnSync(bin, args, { encoding: "utf8", timeout: 60_000 });
const mint = (dir, args) => execFileSync(bin, ["mint", "--out", dir, ...args], { stdio: "ignore", timeout: 60_000 });

const home = join(out, "pki");
const other = join(out, "other");
mint(home, ["--client", "alice", "--spiffe", "spiffe://example.org/ns/prod/sa/alice", "--dns", "alice.svc.example",
  "--client", "bob", "--spiffe", "spiffe://example.org/ns/dev/sa/bob", "--email", "bob@example.com"]);
mint(other, ["--client", "eve"]);
const read = (p) => readFileSync(p, "utf8");
const policy = JSON.parse(read(join(home, "policy.json")));
const onlyAlice = { ...policy, identity: { allow: [{ spiffe_id: "spiffe://example.org/ns/prod/sa/alice" }] },
  claims: { issuer: "edge", add: [{ when: { spiffe_id: "spiffe://example.org/ns/prod/sa/*" }, claims: { role: ["payments", "audit"] } }] } };
writeFileSync(join(out, "only-alice.json"), JSON.stringify(onlyAlice));
writeFileSync(join(out, "garbage.pem"), "-----BEGIN CERTIFICATE-----\nMIIBzz==\n-----END CERTIFICATE-----\n");
writeFileSync(join(out, "empty.pem"), "");
const at = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");

const cases = { verify: [], forwarded: [], bad_policies: [] };
function verify(name, policyFile, chainFile, when = at) {
  const r = run(["verify", "--policy", policyFile, "--at", when, chainFile]);
  if (r.status !== 0 && r.status !== 1) throw new Error(`${name}: exit ${r.status}: ${r.stderr}`);
  const pem = read(chainFile);
  const der = [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => m[1].replace(/\s+/g, ""));
  cases.verify.push({ name, policy: read(policyFile), chain: pem, der, at: when, cli: r.stdout, exit: r.status });
  return r.stdout;
}
const alice = verify("alice", join(home, "policy.json"), join(home, "alice.pem"));
verify("alice with claims", join(out, "only-alice.json"), join(home, "alice.pem"));
verify("bob denied", join(out, "only-alice.json"), join(home, "bob.pem"));
verify("bob", join(home, "policy.json"), join(home, "bob.pem"));
verify("alice in 2100", join(home, "policy.json"), join(home, "alice.pem"), "2100-01-01T00:00:00Z");
verify("foreign CA", join(home, "policy.json"), join(other, "eve.pem"));
verify("garbage", join(home, "policy.json"), join(out, "garbage.pem"));
verify("nothing", join(home, "policy.json"), join(out, "empty.pem"));

// RSA chains made by openssl (the CLI mints ECDSA): PKCS#1 v1.5 and PSS leaves under an
// RSA-2048 root, so that every signature path (WebCrypto, node:crypto, pure Rust) is held to
// the CLI's verdict on RSA too, a tampered PSS signature included.
{
  const rsa = join(out, "rsa");
  mkdirSync(rsa, { recursive: true });
  const ossl = (args) => execFileSync("openssl", args, { cwd: rsa, stdio: "ignore", timeout: 60_000 });
  ossl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
    "-subj", "/O=certclaims test/CN=RSA Root", "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  writeFileSync(join(rsa, "policy.json"), JSON.stringify({ version: 1, trust: { anchors: [read(join(rsa, "ca.pem"))] } }));
  const leaves = [
    ["rsa-pkcs1-sha256", ["-sha256"]],
    ["rsa-pkcs1-sha384", ["-sha384"]],
    ["rsa-pss-sha256", ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]],
    ["rsa-pss-sha384", ["-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48"]],
  ];
  // A minute from now: the certificates are issued now, after `at`.
  const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000).toISOString().replace(".000Z", "Z");
  for (const [i, [name, sig]] of leaves.entries()) {
    ossl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=certclaims test/CN=${name}`]);
    writeFileSync(join(rsa, `${name}.cnf`), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" +
      "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n" +
      `subjectAltName=URI:spiffe://example.org/ns/rsa/sa/${name}\n`);
    ossl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", `${0x1000 + i}`,
      "-days", "365", "-extfile", `${name}.cnf`, "-out", `${name}.crt`, ...sig]);
    writeFileSync(join(rsa, `${name}.pem`), read(join(rsa, `${name}.crt`)) + read(join(rsa, "ca.pem")));
    const said = verify(name, join(rsa, "policy.json"), join(rsa, `${name}.pem`), later);
    if (!said.includes(`"spiffe_id": "spiffe://example.org/ns/rsa/sa/${name}"`)) throw new Error(`${name}: not admitted natively: ${said}`);
  }
  // A byte in the middle of the PSS leaf's signature changed: bad_signature everywhere.
  const pem = read(join(rsa, "rsa-pss-sha256.crt"));
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s+/g, ""), "base64");
  der[der.length - 100] ^= 0x01;
  const tampered = `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
  writeFileSync(join(rsa, "tampered.pem"), tampered + read(join(rsa, "ca.pem")));
  const said = verify("rsa-pss tampered", join(rsa, "policy.json"), join(rsa, "tampered.pem"), later);
  if (!said.includes('"bad_signature"')) throw new Error(`the tampered PSS leaf is not bad_signature natively: ${said}`);
}

const leafPem = (file) => read(file).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/)[0];
const nginx = { format: "nginx", trusted_proxies: ["127.0.0.2/32", "fd00::/8"] };
const forwarded = alice.replace('"source": "direct"', '"source": "forwarded"');
const esc = (pem) => encodeURIComponent(pem);
const p = read(join(home, "policy.json"));
const fwd = (name, headers, peer, expect, extra = {}) =>
  cases.forwarded.push({ name, policy: p, forwarder: nginx, headers, peer, at, expect, ...extra });
fwd("nginx from the proxy", [["ssl-client-cert", esc(leafPem(join(home, "alice.pem")))]], "127.0.0.2", "ok", { principal: forwarded });
fwd("nginx from IPv6 proxy", [["ssl-client-cert", esc(leafPem(join(home, "alice.pem")))]], "fd00::7", "ok", { principal: forwarded });
fwd("nginx from a stranger", [["ssl-client-cert", esc(leafPem(join(home, "alice.pem")))]], "127.0.0.1", "untrusted_forwarder");
fwd("nginx without a peer", [["ssl-client-cert", esc(leafPem(join(home, "alice.pem")))]], null, "untrusted_forwarder");
fwd("no header", [], "127.0.0.2", "no_certificate");
fwd("malformed header", [["ssl-client-cert", "%zz"]], "127.0.0.2", "malformed_header");
fwd("foreign CA from the proxy", [["ssl-client-cert", esc(leafPem(join(other, "eve.pem")))]], "127.0.0.2", "unknown_issuer");
fwd("two formats", [["ssl-client-cert", esc(leafPem(join(home, "alice.pem")))], ["client-cert", ":MA==:"]], "127.0.0.2", "malformed_header");
const xfcc = { format: "xfcc", trusted_proxies: ["10.0.0.1"] };
const el = (file) => `Cert="${esc(leafPem(file))}"`;
cases.forwarded.push({ name: "xfcc appended by a client", policy: p, forwarder: xfcc, peer: "10.0.0.1", at, expect: "ok",
  headers: [["x-forwarded-client-cert", `${el(join(home, "bob.pem"))},${el(join(home, "alice.pem"))}`]], principal: forwarded });

for (const [name, doc] of [["version 2", { version: 2 }], ["unknown field", { version: 1, trusts: {} }],
  ["bad anchor", { version: 1, trust: { anchors: ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] } }], ["bad pattern", { ...policy, identity: { allow: [{ dns: "a*.example" }] } }]]) {
  const f = join(out, `bad-${name.replace(/ /g, "-")}.json`);
  writeFileSync(f, JSON.stringify(doc));
  const r = run(["verify", "--policy", f, join(home, "alice.pem")]);
  if (r.status !== 2) throw new Error(`${name}: expected exit 2, got ${r.status}`);
  cases.bad_policies.push({ name, policy: doc, cli: r.stderr });
}
writeFileSync(join(out, "cases.json"), JSON.stringify(cases, null, 1));
console.log(`make-cases: ${cases.verify.length} verify, ${cases.forwarded.length} forwarded, ${cases.bad_policies.length} bad-policy cases in ${join(out, "cases.json")}`);
