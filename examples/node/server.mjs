// certclaims behind a TLS-terminating proxy, in Node (node:http): the proxy forwards the
// client certificate in a header; the forwarder document says which header and which proxy
// addresses are believed. Every path answers the principal or the rejection JSON.
//
//   node examples/node/server.mjs POLICY.json FORWARDER.json [PORT]
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { Authenticator, Forwarder } from "../../wasm/pkg/index.js"; // "certclaims" when installed

const [policyFile, forwarderFile, port = "8080"] = process.argv.slice(2);
const auth = new Authenticator(readFileSync(policyFile, "utf8"));
const forwarder = new Forwarder(readFileSync(forwarderFile, "utf8"));

createServer(async (req, res) => {
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, {
    method: req.method,
    headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
  });
  // The peer of the TCP connection, never X-Forwarded-For.
  const outcome = await auth.authenticate(request, { forwarder, remoteAddress: req.socket.remoteAddress });
  const status = outcome.ok ? 200 : outcome.error.status;
  const body = JSON.stringify(outcome.ok ? outcome.principal : { error: outcome.error });
  console.error(`${req.method} ${req.url} ${status} ${outcome.ok ? outcome.principal.subject : outcome.error.code}`);
  res.writeHead(status, { "content-type": "application/json" }).end(body + "\n");
}).listen(Number(port), "127.0.0.1", () => console.error(`listening on http://127.0.0.1:${port}`));
