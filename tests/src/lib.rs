//! Conformance harnesses for certclaims that drive the core through its public API only.
//!
//! [`limbo`] runs the [x509-limbo](https://x509-limbo.com) corpus through the same
//! [`certclaims::Validator`] code path the adapters use; the `limbo` binary writes the
//! results file and compares the counts with the committed baseline in
//! `tests/limbo/exceptions.json`.

pub mod differential;
pub mod limbo;
