// Types of the npm package `certclaims`. Hand-written to describe the real documents: the
// policy and forwarder JSON read by the Rust core, and the principal and rejection it returns.

/** `sha256:` followed by 64 hex digits. */
export type Fingerprint = string;
/** A {@link Fingerprint}, or `sha1:` followed by the 40 hex digits of a SHA-1 thumbprint (as Windows and ASP.NET show it). */
export type CertDigest = string;

/** A policy document, version 1 (the same JSON the CLI and the native adapters read). */
export interface Policy {
  version: 1;
  trust?: Trust;
  identity?: Identity;
  claims?: Claims;
}

export interface Trust {
  /** PEM trust anchors. */
  anchors?: string[];
  /** PEM intermediates the server may use to complete paths. */
  intermediates?: string[];
  /** PEM CRLs. */
  crls?: string[];
  allowed_types?: "chained" | "self_signed" | "all";
  pinned?: Fingerprint[];
  allow_unpinned_self_signed?: boolean;
  /** Older form of `extended_key_usage`: true is "client_auth" (the default), false "any". */
  require_client_auth_eku?: boolean;
  /**
   * The purpose the leaf's extendedKeyUsage must allow. "server_auth" validates a TLS
   * server's certificate and applies the CA/Browser Forum server certificate profile.
   * Given together with `require_client_auth_eku`, both must name the same mode, or the
   * policy is refused (`trust.extended_key_usage`).
   */
  extended_key_usage?: "client_auth" | "server_auth" | "any";
  check_validity?: boolean;
  clock_skew_seconds?: number;
  max_depth?: number | null;
  deny?: DenyEntry[];
  revocation?: Revocation;
}

export type DenyEntry =
  | CertDigest
  | { issuer: CertDigest; serial: string }
  | { issuer_key: Fingerprint; serial: string };

export interface Revocation {
  depth?: "chain" | "end_entity";
  unknown_status?: "deny" | "allow";
  expired_crl?: "ignore" | "deny";
}

export interface Identity {
  /** One rule must match; an empty or missing list admits every validated certificate. */
  allow?: Rule[];
}

/** All matchers of a rule must match. */
export interface Rule {
  spiffe_id?: string;
  dns?: string;
  email?: string;
  uri?: string;
  subject?: NameMatch;
  issuer?: NameMatch;
  fingerprint?: CertDigest;
}

/** Attributes read by OID; `"*"` means present with any value. */
export interface NameMatch {
  cn?: string;
  o?: string;
  ou?: string;
  c?: string;
  st?: string;
  l?: string;
  dc?: string;
  serial_number?: string;
}

export interface Claims {
  issuer?: string;
  add?: ClaimGrant[];
}

export interface ClaimGrant {
  when: Rule;
  claims: Record<string, string | string[]>;
}

/** How a proxy or platform encodes the forwarded certificate. */
export type ForwardedFormat =
  | "rfc9440"
  | "xfcc"
  | "nginx"
  | "apache"
  | "haproxy"
  | "caddy"
  | "aws-alb"
  | "azure"
  | "cloudflare"
  | "traefik"
  | "gcp"
  | "pem"
  | "base64-der";

/** A forwarder document (docs/forwarded.md): one trusted hop that forwards certificates. */
export interface ForwarderDocument {
  format: ForwardedFormat;
  header?: string;
  chain_header?: string;
  /** CIDRs or addresses of the proxies allowed to send the header. Required, non-empty. */
  trusted_proxies: string[];
  untrusted?: "reject" | "strip";
  verification?: "revalidate" | "danger_trust_proxy_verdict";
  require_headers?: { name: string; value: string }[];
  shared_secret?: { header: string; value: string };
  xfcc_element?: "last" | "only";
  max_header_bytes?: number;
  max_certificates?: number;
}

export interface ChainLink {
  subject: string;
  issuer: string;
  fingerprint_sha256: string;
}

export interface Claim {
  type: string;
  value: string;
  value_type: string;
  issuer: string;
}

/** The verified identity: the same document the CLI prints, field for field. */
export interface Principal {
  authentication_type: "Certificate";
  source: "direct" | "forwarded" | "forwarded_unverified";
  subject: string;
  issuer: string;
  common_name: string | null;
  serial: string;
  fingerprint_sha256: string;
  thumbprint_sha1: string;
  not_before: string;
  not_after: string;
  spiffe_id: string | null;
  dns: string[];
  uris: string[];
  emails: string[];
  upns: string[];
  ips: string[];
  chain: ChainLink[];
  claims: Claim[];
}

export type RejectionCode =
  | "malformed"
  | "no_certificate"
  | "unknown_issuer"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_usage"
  | "key_usage"
  | "ca_as_leaf"
  | "revoked"
  | "unknown_revocation_status"
  | "self_signed_not_allowed"
  | "chained_not_allowed"
  | "chain_too_deep"
  | "name_constraint_violation"
  | "unsupported_algorithm"
  | "denied"
  | "policy_denied"
  | "invalid_certificate"
  | "malformed_header"
  | "untrusted_forwarder"
  | "forwarder_check_failed";

export interface Rejection {
  code: RejectionCode;
  message: string;
  step: "input" | "validation" | "policy";
  /** The HTTP status to answer with: 401, 400 or 403. */
  status: 400 | 401 | 403;
}

export type Outcome = { ok: true; principal: Principal } | { ok: false; error: Rejection };

export interface VerifyOptions {
  /** Validation time (default: now). */
  at?: Date | string;
}

/** A certificate forwarded in a header by a trusted proxy. */
export interface HeaderAuthenticateOptions extends VerifyOptions {
  source?: "header";
  forwarder: ForwarderDocument | string | Forwarder;
  /** The TCP peer address; without it a forwarded header is refused (untrusted_forwarder). */
  remoteAddress?: string;
}

/** Cloudflare Workers: the certificate from `request.cf.tlsClientAuth`; no header is read. */
export interface CloudflareAuthenticateOptions extends VerifyOptions {
  source: "cloudflare";
  /** Cloudflare's certVerified / certRevoked must agree with certclaims' acceptance. */
  cloudflareMustAgree?: boolean;
}

export type AuthenticateOptions = HeaderAuthenticateOptions | CloudflareAuthenticateOptions;

/** Cloudflare's client certificate variables (`request.cf.tlsClientAuth`), as strings. */
export interface TlsClientAuth {
  certPresented: "0" | "1";
  certVerified: string;
  certRevoked: "0" | "1";
  certRFC9440: string;
  certRFC9440TooLarge: boolean;
  certChainRFC9440: string;
  certChainRFC9440TooLarge: boolean;
  [field: string]: unknown;
}

/** The part of a fetch `Request` that `authenticate` reads. */
export interface RequestLike {
  headers: Iterable<[string, string]>;
  cf?: { tlsClientAuth?: TlsClientAuth };
}

/** ASP.NET Core's claim type URIs, as the principal carries them; a policy's `role` grant is `ClaimTypes.Role`. */
export declare const ClaimTypes: {
  readonly NameIdentifier: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
  readonly Name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
  readonly X500DistinguishedName: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/x500distinguishedname";
  readonly Thumbprint: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/thumbprint";
  readonly SerialNumber: "http://schemas.microsoft.com/ws/2008/06/identity/claims/serialnumber";
  readonly Dns: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/dns";
  readonly Email: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
  readonly Upn: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
  readonly Uri: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/uri";
  readonly Role: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
};

export declare class PolicyError extends Error {
  readonly name: "PolicyError";
  readonly code: "invalid_policy" | "invalid_forwarder";
}

export declare class Forwarder {
  constructor(doc: ForwarderDocument | string);
  readonly header: string;
}

/** The validation cache of an `Authenticator` (the core's `certclaims::cache`). */
export interface CacheOptions {
  /** Most outcomes kept, least recently used dropped first (default 4096; 0: no cache). */
  capacity?: number;
  /** Longest a principal is reused, in seconds (default 300; never past its `usable_until`). */
  ttlSeconds?: number;
  /** Longest a rejection is reused, in seconds (default 10). */
  rejectionTtlSeconds?: number;
}

export interface AuthenticatorOptions {
  /** `false` verifies every call; otherwise the cache's options (defaults above). */
  cache?: false | CacheOptions;
  /**
   * Who checks signatures. ECDSA P-256/P-384 and RSA PKCS#1 v1.5/PSS go to the host, Ed25519
   * stays in Rust. `"host"` (default): the host's synchronous `node:crypto` `verify` where the
   * runtime has it (Node, Deno, Bun: answered inside the engine's round, no thread-pool hop),
   * else `crypto.subtle` (workerd); a signature `node:crypto` cannot answer exactly as
   * WebCrypto would goes to `crypto.subtle`. `"webcrypto"`: always `crypto.subtle`.
   * `"rust"`: only the module's pure-Rust algorithms (Ed25519 in the published module; the
   * `rustcrypto-all` build has them all). The verdict is the same in every mode.
   */
  signatures?: "host" | "webcrypto" | "rust";
}

export declare class Authenticator {
  /** Throws `PolicyError` for a bad policy, `TypeError` for bad options. */
  constructor(policy: Policy | string, options?: AuthenticatorOptions);
  verifyChain(chain: string | Uint8Array[], options?: VerifyOptions): Promise<Outcome>;
  authenticate(request: RequestLike, options: AuthenticateOptions): Promise<Outcome>;
}
