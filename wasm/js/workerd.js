// Entry point for Cloudflare Workers (workerd), which imports a .wasm file as a
// WebAssembly.Module: no file system, no fetch of the package's own files.
import { initSync } from "./certclaims_wasm.js";
import module from "./certclaims_wasm_bg.wasm";

initSync({ module });

export { Authenticator, ClaimTypes, Forwarder, PolicyError } from "./common.js";
