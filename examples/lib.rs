//! Runnable examples of certclaims; see the `[[example]]` entries of this crate:
//!
//! - `mtls_server DIR [ADDR]`: axum over mutual TLS with the PKI of `certclaims mint --out DIR`.
//! - `mtls_client P12 PASSWORD URL CA.pem`: call it with a PKCS#12 client certificate.
//! - `policy_test`: unit-test a policy with the test kit.
