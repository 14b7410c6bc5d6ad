// certclaims behind a TLS-terminating proxy, in Deno (Deno.serve): like examples/node.
//
//   deno run --allow-read --allow-net examples/deno/server.ts POLICY.json FORWARDER.json [PORT]
import { Authenticator, Forwarder } from "../../wasm/pkg/index.js"; // "npm:certclaims" when published

const [policyFile, forwarderFile, port = "8080"] = Deno.args;
const auth = new Authenticator(await Deno.readTextFile(policyFile));
const forwarder = new Forwarder(await Deno.readTextFile(forwarderFile));

Deno.serve({ hostname: "127.0.0.1", port: Number(port) }, async (request, info) => {
  // The peer of the TCP connection, never X-Forwarded-For.
  const outcome = await auth.authenticate(request, { forwarder, remoteAddress: info.remoteAddr.hostname });
  if (outcome.ok) return Response.json(outcome.principal);
  return Response.json({ error: outcome.error }, { status: outcome.error.status });
});
