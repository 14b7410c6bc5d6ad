// A Cloudflare Worker that authenticates mTLS clients with certclaims: Cloudflare terminates
// TLS and puts the client certificate in request.cf.tlsClientAuth; the worker re-validates it
// against its own policy (env.POLICY, the same JSON the native server reads) and answers the
// principal, or the rejection with its HTTP status.
import { Authenticator } from "certclaims";

let auth;

export default {
  async fetch(request, env) {
    auth ??= new Authenticator(env.POLICY); // a bad policy throws: the deployment's mistake
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok\n");
    const outcome = await auth.authenticate(request, {
      source: "cloudflare",
      cloudflareMustAgree: env.CLOUDFLARE_MUST_AGREE === "true",
    });
    if (!outcome.ok) {
      return Response.json({ error: outcome.error }, { status: outcome.error.status });
    }
    return Response.json(outcome.principal);
  },
};
