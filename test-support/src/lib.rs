//! Helpers shared by every certclaims test (unpublished).
//!
//! - [`process`]: run a command with optional standard input and a time bound (the child is
//!   killed after it), the `openssl`, `curl` and `certclaims` runners, JSON of an output.
//! - [`tls`]: the rustls side of a test client: provider, chains and keys of test-kit
//!   certificates, `ClientConfig` builders, a bounded TLS connect.
//! - [`net`]: loopback ports: a free port, waiting (bounded) until a port accepts.
//! - [`proxy`]: real nginx, Apache httpd, HAProxy and Caddy processes terminating mTLS in
//!   front of a plain-HTTP upstream and forwarding the client certificate in a header.
//!
//! Everything here panics on failures that only a broken test machine could cause; the
//! proxy runner returns `Err` with the proxy's own log instead, so a test can say why.

#![allow(clippy::expect_used)]

pub mod net;
pub mod process;
pub mod proxy;
pub mod tls;

pub use net::{free_port, wait_for_port};
pub use process::{certclaims, curl, json, openssl, openssl_in, run, run_with_timeout, s, text};
pub use proxy::{Proxy, ProxyConfig, ProxyKind, VerifyClient};
pub use tls::{chain_of, key_of, provider};
