// The JavaScript API of the npm package `certclaims`, over the wasm-bindgen glue.
// Everything that decides is in the Rust core; this file converts JS values.

import { Engine, ForwarderConfig } from "./certclaims_wasm.js";

/** Thrown for a bad policy or forwarder document: the operator's mistake, not the client's. */
// ASP.NET Core's claim type URIs, as the core emits them (certclaims::claim_types). A
// policy grants `role` as ClaimTypes.Role.
export const ClaimTypes = Object.freeze({
  NameIdentifier: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
  Name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
  X500DistinguishedName: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/x500distinguishedname",
  Thumbprint: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/thumbprint",
  SerialNumber: "http://schemas.microsoft.com/ws/2008/06/identity/claims/serialnumber",
  Dns: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/dns",
  Email: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
  Upn: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
  Uri: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/uri",
  Role: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
});

export class PolicyError extends Error {
  constructor(detail) {
    super(detail.message);
    this.name = "PolicyError";
    this.code = detail.code;
  }
}

// The module throws a bad policy or forwarder as JSON text ({ name, code, message }).
function rethrow(e) {
  if (typeof e === "string") {
    let detail;
    try {
      detail = JSON.parse(e);
    } catch {
      throw new Error(e);
    }
    if (detail && detail.name === "PolicyError") throw new PolicyError(detail);
  }
  throw e;
}

function seconds(at) {
  if (at === undefined || at === null) return Date.now() / 1000;
  if (at instanceof Date) return at.getTime() / 1000;
  if (typeof at === "string") return new Date(at).getTime() / 1000; // NaN → rejection
  if (typeof at === "number") return at / 1000;
  return NaN;
}

function text(doc) {
  return typeof doc === "string" ? doc : JSON.stringify(doc);
}

// A PEM chain crosses as UTF-8 bytes that the host encodes natively (see verifyPem), into a
// buffer kept for the purpose: a fresh one per call costs an ArrayBuffer to allocate and to
// collect. Chains that could need more than it holds (3 bytes per UTF-16 unit at most) get
// their own.
const utf8 = new TextEncoder();
const SCRATCH = 65536;
let scratch;
function pemBytes(chain) {
  if (chain.length * 3 > SCRATCH) return utf8.encode(chain);
  scratch ??= new Uint8Array(SCRATCH);
  return scratch.subarray(0, utf8.encodeInto(chain, scratch).written);
}

// A request's headers cross the same way: their names and values encoded one after the other
// into one buffer (the scratch buffer when they fit), with the byte length of each.
function headerBytes(headers) {
  const strings = [];
  let units = 0;
  for (const [name, value] of headers) {
    const n = String(name);
    const v = String(value);
    strings.push(n, v);
    units += n.length + v.length;
  }
  let buf;
  if (units * 3 > SCRATCH) {
    buf = new Uint8Array(units * 3);
  } else {
    scratch ??= new Uint8Array(SCRATCH);
    buf = scratch;
  }
  const lengths = new Uint32Array(strings.length);
  let at = 0;
  for (let i = 0; i < strings.length; i++) {
    const written = utf8.encodeInto(strings[i], buf.subarray(at)).written;
    lengths[i] = written;
    at += written;
  }
  return [buf.subarray(0, at), lengths];
}

const forwarders = new WeakMap();

function forwarderOf(f) {
  if (f instanceof Forwarder) return f;
  if (f && typeof f === "object") {
    let cached = forwarders.get(f);
    if (!cached) {
      cached = new Forwarder(f);
      forwarders.set(f, cached);
    }
    return cached;
  }
  if (typeof f === "string") return new Forwarder(f);
  throw new TypeError("authenticate: options.forwarder is required (a forwarder document)");
}

/** A forwarder document (docs/forwarded.md), parsed and checked once. */
export class Forwarder {
  constructor(doc) {
    try {
      this._inner = new ForwarderConfig(text(doc));
    } catch (e) {
      rethrow(e);
    }
  }

  /** The header that carries the certificate (lower case). */
  get header() {
    return this._inner.header;
  }
}

// Signatures through the host's WebCrypto (certclaims::host): the engine runs in rounds and
// asks for the signatures of each round; they are verified here, in parallel, and answered.
const VALID = 0;
const INVALID = 1;
const UNSUPPORTED = 2;

const importParams = (r) =>
  r.key === "P-256" || r.key === "P-384"
    ? { name: "ECDSA", namedCurve: r.key }
    : { name: r.key, hash: r.hash };
const verifyParams = (r) =>
  r.key === "P-256" || r.key === "P-384"
    ? { name: "ECDSA", hash: r.hash }
    : r.key === "RSA-PSS"
      ? { name: "RSA-PSS", saltLength: r.saltLength }
      : { name: "RSASSA-PKCS1-v1_5" };

// A well-formed key of each type: when a key does not import, importing this one tells a host
// that lacks the algorithm (answered "unsupported": the engine's own algorithms are used)
// from a key that is malformed (the signature is invalid).
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const PROBE = {
  "P-256": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeTga7garoubu4RSE7aXnR5aJvs98JisuvrJGuUhhBEIGqwNBGjyTqQwgL+EqKRkKQLKhjWMs5qLA2ZH1aimZ3w==",
  "P-384": "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEfHYC1LtfIu3R7ZieaSrhjnqHMKvaUwGlFaf+RNAZ/Osj15flG+Cqc43lxWpWjFCw9b5CFam0JsuasF+codpSf1V2LCVdtt34QgvjaQjnY873XIJu+qtOSCThKC/IH2lD",
  RSA: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvnAf4FoZtiSaA74pkL3D+OoBKcOQNp1vtuLYCGqF7jVEHOb6wiMNIVE1mxfbyj+D+uJzUoQXpVrAzeuFyvS6L7CZ6PHCbRuVHSOH3yZP+9gPKBg0wX7kqwxpEizVVP6r3oS+dGTxL4D2IURqg13jz8+N1qqzREIHFY1Go0YOwNt3DQYfopIJFZCKTIlQFpgr0IsKO8eeNfNJ3Vzd9+LBpskcUtBrnpQvPt3L8Pu4zr2D4p0Eoay/9iE7yY/ZEnHPZ2AbBwmAJi6zrTVcel4Lz4jEVoo3ph8vNWOlhnHIXZjPTyNaqeN/MHteQNV365FYAU+yjbDtp8cbvGI158VGcQIDAQAB",
};
const supported = new Map(); // import parameters → Promise<boolean>, per isolate
function hostHas(r) {
  const params = importParams(r);
  const id = JSON.stringify(params);
  let known = supported.get(id);
  if (!known) {
    const subtle = globalThis.crypto && globalThis.crypto.subtle;
    const probe = PROBE[r.key.startsWith("P-") ? r.key : "RSA"];
    known = subtle
      ? subtle.importKey("spki", b64(probe), params, false, ["verify"]).then(() => true, () => false)
      : Promise.resolve(false);
    supported.set(id, known);
  }
  return known;
}

/** Imported keys, by key id (type, hash and SPKI), at most `KEYS` per Authenticator. */
const KEYS = 1024;

async function importOnce(keys, r) {
  let key = keys.get(r.keyId);
  if (key === undefined) {
    const subtle = globalThis.crypto && globalThis.crypto.subtle;
    key = (async () => {
      if (!subtle) return UNSUPPORTED;
      try {
        return await subtle.importKey("spki", r.spki, importParams(r), false, ["verify"]);
      } catch {
        return (await hostHas(r)) ? INVALID : UNSUPPORTED;
      }
    })();
    if (keys.size >= KEYS) keys.delete(keys.keys().next().value);
    keys.set(r.keyId, key);
  }
  return key;
}

async function verifyOne(keys, r) {
  const key = await importOnce(keys, r);
  if (key === INVALID || key === UNSUPPORTED) return key;
  try {
    return (await globalThis.crypto.subtle.verify(verifyParams(r), key, r.signature, r.message)) ? VALID : INVALID;
  } catch {
    return INVALID;
  }
}

// Signatures through the host's synchronous crypto (`node:crypto`'s `verify`, in Node, Deno
// and Bun; see index.js): answered inside the engine's round, so a chain takes one step, with
// no thread-pool hop per signature. A request it cannot answer exactly as WebCrypto would (a
// key that does not import, a curve that is not the request's, an exception) is left to the
// WebCrypto path above, which decides it.
let hostCrypto = null;

/** Registers the host's synchronous crypto (index.js, where `node:crypto` exists). */
export function useHostCrypto(nodeCrypto) {
  hostCrypto = nodeCrypto;
}

// The module passes a request's key type and hash as indexes into these (key_code and
// hash_code in wasm/src/lib.rs): no string crosses per signature.
const SYNC_KEYS = ["P-256", "P-384", "RSASSA-PKCS1-v1_5", "RSA-PSS"];
const SYNC_HASHES = ["sha256", "sha384", "sha512"];
const NODE_CURVE = { "P-256": "prime256v1", "P-384": "secp384r1" };

/**
 * A per-Authenticator synchronous verifier over `node:crypto`. Each key id (one key type,
 * hash and SPKI) is prepared once: the imported key and the options `verify` takes, or
 * `null` for a key that is not the request's type (left to WebCrypto, which decides it).
 * It also computes the presented certificates' SHA-256 for the module (their fingerprints
 * and the cache key): `node:crypto`'s one-shot `hash` where the host has it, else
 * `createHash`; either is several times faster than SHA-256 compiled to wasm.
 */
function syncVerifier(nc) {
  const digest =
    typeof nc.hash === "function"
      ? (data) => nc.hash("sha256", data, "buffer")
      : (data) => nc.createHash("sha256").update(data).digest();
  const prepared = new Map(); // keyId → [hash, options] or null, at most KEYS
  const prepare = (keyId, key, hash, saltLength, spki) => {
    const name = SYNC_KEYS[key];
    const hashName = SYNC_HASHES[hash];
    let entry = null;
    if (name !== undefined && hashName !== undefined) {
      const k = nc.createPublicKey({ key: spki, format: "der", type: "spki" });
      const curve = NODE_CURVE[name];
      const details = k.asymmetricKeyDetails;
      const matches = curve
        ? k.asymmetricKeyType === "ec" && details && details.namedCurve === curve
        : k.asymmetricKeyType === "rsa";
      if (matches) {
        // RSASSA-PKCS1-v1_5 is `verify`'s default for an RSA key: the key object alone.
        const options = curve
          ? { key: k, dsaEncoding: "ieee-p1363" }
          : name === "RSA-PSS"
            ? { key: k, padding: nc.constants.RSA_PKCS1_PSS_PADDING, saltLength }
            : k;
        entry = [hashName, options];
      }
    }
    if (prepared.size >= KEYS) prepared.delete(prepared.keys().next().value);
    prepared.set(keyId, entry);
    return entry;
  };
  return {
    verify(keyId, key, hash, saltLength, spki, message, signature) {
      try {
        let entry = prepared.get(keyId);
        if (entry === undefined) entry = prepare(keyId, key, hash, saltLength, spki);
        if (entry === null) return undefined;
        return nc.verify(entry[0], message, entry[1], signature) ? VALID : INVALID;
      } catch {
        return undefined;
      }
    },
    // `out` is a 32-byte view of the module's memory; false leaves the digest to the module.
    sha256(data, out) {
      try {
        const d = digest(data);
        if (d.length !== 32) return false;
        out.set(d);
        return true;
      } catch {
        return false;
      }
    },
  };
}

// An outcome's JSON text: an accepted chain's principal as the array of its JSON form's
// values (certclaims::Principal::as_json_values), or `{ ok: false, error }`.
function result(outcome) {
  const o = JSON.parse(outcome);
  return Array.isArray(o) ? { ok: true, principal: principal(o) } : o;
}

// The principal's JSON form (the keys and order of its serde form, as the CLI prints it)
// from the array of its values: the scalars, then each list preceded by its length, a chain
// link as subject, issuer and fingerprint, a claim as type, value, value type and issuer.
// Parsing the array and building the objects here takes about half the time of parsing the
// form's own text.
function principal(v) {
  let i = 11;
  const list = () => {
    const n = v[i];
    const items = v.slice(i + 1, i + 1 + n);
    i += 1 + n;
    return items;
  };
  const p = {
    authentication_type: v[0],
    source: v[1],
    subject: v[2],
    issuer: v[3],
    common_name: v[4],
    serial: v[5],
    fingerprint_sha256: v[6],
    thumbprint_sha1: v[7],
    not_before: v[8],
    not_after: v[9],
    spiffe_id: v[10],
    dns: list(),
    uris: list(),
    emails: list(),
    upns: list(),
    ips: list(),
    chain: null,
    claims: null,
  };
  const chain = new Array(v[i++]);
  for (let k = 0; k < chain.length; k++, i += 3) {
    chain[k] = { subject: v[i], issuer: v[i + 1], fingerprint_sha256: v[i + 2] };
  }
  p.chain = chain;
  const claims = new Array(v[i++]);
  for (let k = 0; k < claims.length; k++, i += 4) {
    claims[k] = { type: v[i], value: v[i + 1], value_type: v[i + 2], issuer: v[i + 3] };
  }
  p.claims = claims;
  return p;
}

/**
 * The outcome of a validation that the module began: its JSON text when the first round
 * (run by the module, with `sync`, the host's synchronous crypto, when there is one)
 * finished it, or else a wasm `Verification`, whose requests are verified through WebCrypto
 * (in parallel) and answered before each further round.
 */
async function drive(keys, sync, started) {
  if (typeof started === "string") return result(started);
  const v = started;
  try {
    for (;;) {
      const requests = v.pending();
      const answers = await Promise.all(requests.map((r) => verifyOne(keys, r)));
      answers.forEach((a, i) => v.answer(i, a));
      const outcome = sync ? v.stepWith(sync) : v.step();
      if (outcome !== undefined) return result(outcome);
    }
  } finally {
    v.free();
  }
}

/** A policy, parsed and checked once. */
export class Authenticator {
  constructor(policy, options = {}) {
    // The validation cache (one per Authenticator, so per isolate): on by default with the
    // core's defaults; `cache: false` turns it off.
    const c = options.cache === false ? { capacity: 0 } : options.cache ?? {};
    const count = (v, d, what) => {
      if (v === undefined) return d;
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TypeError(`cache.${what}: a whole number of at least 0`);
      return v;
    };
    const capacity = count(c.capacity, 4096, "capacity");
    const ttl = count(c.ttlSeconds, 300, "ttlSeconds");
    const rejectionTtl = count(c.rejectionTtlSeconds, 10, "rejectionTtlSeconds");
    const signatures = options.signatures ?? "host";
    if (signatures !== "host" && signatures !== "webcrypto" && signatures !== "rust") {
      throw new TypeError('signatures: "host" (the default), "webcrypto" or "rust"');
    }
    try {
      this._engine = new Engine(text(policy), capacity, ttl, rejectionTtl, signatures !== "rust");
    } catch (e) {
      rethrow(e);
    }
    this._keys = new Map();
    this._sync = signatures === "host" && hostCrypto ? syncVerifier(hostCrypto) : undefined;
  }

  /** Validates a chain (PEM, leaf first, or DER certificates) and applies the policy. */
  async verifyChain(chain, options = {}) {
    const at = seconds(options.at);
    if (typeof chain === "string") return drive(this._keys, this._sync, this._engine.verifyPem(pemBytes(chain), at, this._sync));
    if (Array.isArray(chain)) {
      const ders = chain.map((c) => (c instanceof Uint8Array ? c : new Uint8Array(c)));
      return drive(this._keys, this._sync, this._engine.verifyDer(ders, at, this._sync));
    }
    throw new TypeError("verifyChain: chain must be a PEM string or an array of DER Uint8Arrays");
  }

  /**
   * The principal of a request whose certificate a trusted forwarder sent in a header, or
   * (`source: "cloudflare"`) that Cloudflare put in `request.cf.tlsClientAuth`.
   * `options.remoteAddress` is the TCP peer (node:http `req.socket.remoteAddress`,
   * Deno.serve `info.remoteAddr.hostname`); without it the sender is unknown and a forwarded
   * header is refused (`untrusted_forwarder`). Never throws for a client's bad input.
   */
  async authenticate(request, options = {}) {
    const at = seconds(options.at);
    if (options.source === "cloudflare") {
      const t = request.cf && request.cf.tlsClientAuth;
      const json = t === undefined || t === null ? undefined : JSON.stringify(t);
      return drive(this._keys, this._sync, this._engine.cloudflare(json, options.cloudflareMustAgree === true, at, this._sync));
    }
    const forwarder = forwarderOf(options.forwarder);
    const [text, lengths] = headerBytes(request.headers);
    const peer = options.remoteAddress ?? undefined;
    return drive(this._keys, this._sync, this._engine.authenticate(forwarder._inner, text, lengths, peer, at, this._sync));
  }
}
