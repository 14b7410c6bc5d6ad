// Entry point for Node >= 20, Deno, Bun and browsers: loads the module next to this file.
import { initSync } from "./certclaims_wasm.js";
import { useHostCrypto } from "./common.js";

const url = new URL("./certclaims_wasm_bg.wasm", import.meta.url);
let bytes;
if (typeof Deno !== "undefined") {
  bytes = await Deno.readFile(url);
} else if (typeof process !== "undefined" && process.versions && process.versions.node) {
  const { readFile } = await import("node:fs/promises");
  bytes = await readFile(url);
} else {
  bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
}
initSync({ module: bytes });

// The host's synchronous crypto, where the runtime has `node:crypto` (Node, Deno, Bun):
// signatures are verified inside the engine's round (see common.js). Elsewhere WebCrypto.
try {
  useHostCrypto(await import("node:crypto"));
} catch {
  // No node:crypto: crypto.subtle answers.
}

export { Authenticator, ClaimTypes, Forwarder, PolicyError } from "./common.js";
