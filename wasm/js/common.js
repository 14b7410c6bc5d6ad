// The JavaScript API of the npm package `certclaims`, over the wasm-bindgen glue.
// Everything that decides is in the Rust core; this file converts JS values.

import { Engine, ForwarderConfig } from "./certclaims_wasm.js";

/** Thrown for a bad policy or forwarder document: the operator's mistake, not the client's. */
export class PolicyError extends Error {
  constructor(detail) {
    super(detail.message);
    this.name = "PolicyError";
    this.code = detail.code;
  }
}

function rethrow(e) {
  if (e && typeof e === "object" && e.name === "PolicyError") throw new PolicyError(e);
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
    try {
      this._engine = new Engine(text(policy), capacity, ttl, rejectionTtl);
    } catch (e) {
      rethrow(e);
    }
  }

  /** Synchronous `verifyChain`. */
  verifyChainSync(chain, options = {}) {
    const at = seconds(options.at);
    if (typeof chain === "string") return this._engine.verifyPem(chain, at);
    if (Array.isArray(chain)) {
      const ders = chain.map((c) => (c instanceof Uint8Array ? c : new Uint8Array(c)));
      return this._engine.verifyDer(ders, at);
    }
    throw new TypeError("verifyChain: chain must be a PEM string or an array of DER Uint8Arrays");
  }

  /** Validates a chain (PEM, leaf first, or DER certificates) and applies the policy. */
  async verifyChain(chain, options = {}) {
    return this.verifyChainSync(chain, options);
  }

  /** Synchronous `authenticate`. */
  authenticateSync(request, options = {}) {
    if (options.source === "cloudflare") {
      const t = request.cf && request.cf.tlsClientAuth;
      return this._engine.cloudflare(t, options.cloudflareMustAgree === true, seconds(options.at));
    }
    const forwarder = forwarderOf(options.forwarder);
    const flat = [];
    for (const [name, value] of request.headers) flat.push(name, value);
    const peer = options.remoteAddress ?? undefined;
    return this._engine.authenticate(forwarder._inner, flat, peer, seconds(options.at));
  }

  /**
   * The principal of a request whose certificate a trusted forwarder sent in a header.
   * `options.remoteAddress` is the TCP peer (node:http `req.socket.remoteAddress`,
   * Deno.serve `info.remoteAddr.hostname`); without it the sender is unknown and a forwarded
   * header is refused (`untrusted_forwarder`). Never throws for a client's bad input.
   */
  async authenticate(request, options = {}) {
    return this.authenticateSync(request, options);
  }
}
