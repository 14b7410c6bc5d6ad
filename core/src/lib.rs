//! # certclaims
//!
//! Turns a mutual-TLS client certificate chain into a verified claims [`Principal`], or a
//! typed [`Rejection`] that says exactly why not.
//!
//! ```text
//!  chain (DER/PEM) ──► Validator::verify(leaf, intermediates, now) ──► Principal | Rejection
//!                       │ trust anchors, RFC 5280 path building and validation (certclaims'
//!                       │ own engine: name constraints of every form, CRLs), EKU, key usage,
//!                       │ validity + skew, depth, deny-lists, CRLs, self-signed pins
//!                       └ Policy: identity rules (SPIFFE, DNS, URI, email, subject, issuer,
//!                         fingerprint) and extra claims
//! ```
//!
//! The crate is `#![no_std]` + `alloc`: time ([`pki_types::UnixTime`]) and signature
//! algorithms are arguments, so the same code runs natively (with rustls's crypto provider)
//! and on wasm32 (with the pure-Rust [`crypto::ALL`] set, feature `rustcrypto`).
//!
//! ```
//! # #[cfg(feature = "test-kit")] {
//! use certclaims::{test_kit::Pki, Validator, Code};
//! let pki = Pki::new();
//! let alice = pki.client("alice").spiffe("spiffe://example.org/ns/prod/sa/alice").issue();
//! let policy = format!(r#"{{"version":1,"trust":{{"anchors":[{:?}]}},
//!     "identity":{{"allow":[{{"spiffe_id":"spiffe://example.org/ns/*/sa/alice"}}]}}}}"#, pki.root_pem());
//! let validator = Validator::from_policy_json(&policy, certclaims::crypto::ALL).unwrap();
//! let principal = validator.verify(alice.leaf(), alice.intermediates(), certclaims::test_kit::NOW).unwrap();
//! assert_eq!(principal.spiffe_id(), Some("spiffe://example.org/ns/prod/sa/alice"));
//! # }
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// rustls-pki-types, re-exported so callers speak the same vocabulary.
pub use rustls_pki_types as pki_types;

pub mod cache;
mod cert;
#[cfg(any(
    feature = "rustcrypto-p256",
    feature = "rustcrypto-p384",
    feature = "rustcrypto-ed25519",
    feature = "rustcrypto-rsa"
))]
pub mod crypto;
mod error;
pub mod forwarded;
pub mod host;
pub mod input;
pub mod inspect;
pub(crate) mod path;
pub mod policy;
mod principal;
#[cfg(feature = "test-kit")]
pub mod test_kit;
mod validator;

pub use cache::{CacheOptions, CacheStats};
pub use error::{Code, PolicyError, Rejection, Step};
pub use input::Chain;
pub use inspect::{inspect, UnverifiedCertificate};
pub use policy::Policy;
pub use principal::{claim_types, value_types, ChainLink, Claim, Principal, Source};
pub use validator::{Algorithms, Validator, ValidatorBuilder};
