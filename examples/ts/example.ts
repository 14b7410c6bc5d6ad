// A typed use of the npm package (checked by `tsc --noEmit --strict` in scripts/test-wasm.sh):
// an edge handler that answers the principal or the rejection with its status.
import {
  Authenticator,
  ClaimTypes,
  Forwarder,
  PolicyError,
  type ForwarderDocument,
  type Outcome,
  type Policy,
  type Principal,
} from "../../wasm/pkg/index.js";

const policy: Policy = {
  version: 1,
  trust: { anchors: ["-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"], clock_skew_seconds: 30 },
  identity: { allow: [{ spiffe_id: "spiffe://example.org/ns/*/sa/*" }] },
  claims: { add: [{ when: { spiffe_id: "spiffe://example.org/ns/prod/sa/*" }, claims: { role: ["payments"] } }] },
};

const forwarder: ForwarderDocument = {
  format: "xfcc",
  trusted_proxies: ["10.0.0.0/8"],
  require_headers: [{ name: "x-ssl-client-verify", value: "SUCCESS" }],
};

export function makeHandler(): (request: Request, remoteAddress: string) => Promise<Response> {
  let auth: Authenticator;
  try {
    auth = new Authenticator(policy);
  } catch (e) {
    if (e instanceof PolicyError) throw new Error(`bad policy (${e.code}): ${e.message}`);
    throw e;
  }
  const fwd = new Forwarder(forwarder);
  return async (request, remoteAddress) => {
    const outcome: Outcome = await auth.authenticate(request, { forwarder: fwd, remoteAddress });
    if (outcome.ok) {
      const p: Principal = outcome.principal;
      const roles: string[] = p.claims.filter((c) => c.type === ClaimTypes.Role).map((c) => c.value);
      return Response.json({ who: p.spiffe_id ?? p.subject, roles, source: p.source });
    }
    return Response.json({ error: outcome.error }, { status: outcome.error.status });
  };
}

export async function check(pem: string): Promise<string | null> {
  const auth = new Authenticator(JSON.stringify(policy));
  const r = await auth.verifyChain(pem, { at: new Date("2026-06-01T00:00:00Z") });
  return r.ok ? r.principal.fingerprint_sha256 : r.error.code;
}
