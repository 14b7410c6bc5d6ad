//! Helpers shared by the integration tests: policies as JSON, validators, exact outcomes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use certclaims::pki_types::CertificateRevocationListDer;
use certclaims::test_kit::{Issued, Pki, NOW};
use certclaims::{Code, Principal, Rejection, Step, Validator};
use serde_json::{json, Value};

/// Merges `extra` into `base`: objects key by key (recursively), anything else replaces.
pub(crate) fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            for (k, v) in e {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, e) => *b = e,
    }
}

/// A version-1 policy trusting `pki`'s root, with `extra` merged in.
pub(crate) fn policy(pki: &Pki, extra: Value) -> Value {
    let mut p = json!({"version": 1, "trust": {"anchors": [pki.root_pem()]}});
    merge(&mut p, extra);
    p
}

/// A validator (all RustCrypto algorithms) for [`policy`]`(pki, extra)`.
pub(crate) fn validator(pki: &Pki, extra: Value) -> Validator {
    let json = policy(pki, extra).to_string();
    Validator::from_policy_json(&json, certclaims::crypto::ALL)
        .unwrap_or_else(|e| panic!("policy does not load: {e}\n{json}"))
}

/// Verifies a minted certificate (leaf + its intermediates) at [`NOW`].
pub(crate) fn verify(v: &Validator, issued: &Issued) -> Result<Principal, Rejection> {
    v.verify(issued.leaf(), issued.intermediates(), NOW)
}

/// Verifies and expects acceptance.
pub(crate) fn accept(v: &Validator, issued: &Issued) -> Principal {
    verify(v, issued).unwrap_or_else(|r| panic!("expected acceptance, got {r}"))
}

/// Verifies and expects a rejection; returns it after checking its code and step.
pub(crate) fn reject(v: &Validator, issued: &Issued, code: Code, step: Step) -> Rejection {
    match verify(v, issued) {
        Ok(p) => panic!("expected {code}, got a principal for {}", p.subject()),
        Err(r) => {
            assert_eq!(
                (r.code(), r.step()),
                (code, step),
                "unexpected rejection: {r}"
            );
            r
        }
    }
}

/// PEM of a CRL, for `trust.crls`.
pub(crate) fn crl_pem(crl: &CertificateRevocationListDer<'_>) -> String {
    Pki::crl_pem(crl)
}

/// Lowercase hex of a `sha256:<hex>` fingerprint string.
pub(crate) fn hex_of(fingerprint: &str) -> &str {
    fingerprint.strip_prefix("sha256:").expect("sha256: prefix")
}

/// Uppercase hex SHA-1 of DER (the .NET thumbprint).
pub(crate) fn sha1_upper(der: &[u8]) -> String {
    use sha1::Digest;
    hex::encode_upper(sha1::Sha1::digest(der))
}

/// The values of a principal's JSON form as `Principal::as_json_values` lists them: each
/// field's value in the form's order (`principal.rs` holds that order), a list preceded by
/// its length, an object in a list (a chain link, a claim) as its fields' values in order.
pub(crate) fn json_values(p: &Principal) -> Value {
    let mut out = Vec::new();
    for value in p.to_json().as_object().unwrap().values() {
        match value {
            Value::Array(items) => {
                out.push(json!(items.len()));
                for item in items {
                    match item {
                        Value::Object(fields) => out.extend(fields.values().cloned()),
                        other => out.push(other.clone()),
                    }
                }
            }
            other => out.push(other.clone()),
        }
    }
    Value::Array(out)
}
