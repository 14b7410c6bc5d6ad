//! Every key type of the test kit verifies with the pure-Rust `certclaims::crypto::ALL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certclaims::test_kit::{KeyType, Pki};
use certclaims::Code;
use serde_json::json;

use common::{accept, validator, verify};

/// A whole PKI (root, intermediate, leaf) of one key type verifies, and the chain is reported.
fn whole_chain_of(key_type: KeyType) {
    let prefix = format!("{key_type:?}");
    let pki = Pki::with_key_type(&prefix, key_type);
    let v = validator(&pki, json!({}));
    let leaf = pki.client("alice").issue();
    let p = accept(&v, &leaf);
    assert_eq!(p.subject(), "CN=alice");
    let subjects: Vec<&str> = p.chain().iter().map(|l| l.subject()).collect();
    assert_eq!(
        subjects,
        [
            "CN=alice".to_string(),
            format!("CN={prefix} Issuing CA,O=certclaims test kit"),
            format!("CN={prefix} Root CA,O=certclaims test kit"),
        ]
    );
    // The same chain with a corrupted leaf signature is refused by every algorithm family.
    let mut der = leaf.leaf().to_vec();
    let n = der.len();
    der[n - 1] ^= 0x01;
    let err = v
        .verify(&der.into(), leaf.intermediates(), certclaims::test_kit::NOW)
        .unwrap_err();
    assert_eq!(err.code(), Code::BadSignature, "{key_type:?}: {err}");
}

#[test]
fn p256() {
    whole_chain_of(KeyType::P256);
}

#[test]
fn p384() {
    whole_chain_of(KeyType::P384);
}

#[test]
fn ed25519() {
    whole_chain_of(KeyType::Ed25519);
}

#[test]
fn rsa2048() {
    whole_chain_of(KeyType::Rsa2048);
}

#[test]
fn rsa3072() {
    whole_chain_of(KeyType::Rsa3072);
}

#[test]
fn rsa4096() {
    // Minted once: three 4096-bit keys (root, intermediate, leaf) are the slowest thing here.
    whole_chain_of(KeyType::Rsa4096);
}

#[test]
fn all_key_types_are_covered() {
    // If the kit grows a key type, this file must grow a test for it.
    assert_eq!(
        KeyType::ALL,
        [
            KeyType::P256,
            KeyType::P384,
            KeyType::Ed25519,
            KeyType::Rsa2048,
            KeyType::Rsa3072,
            KeyType::Rsa4096
        ]
    );
}

#[test]
fn mixed_key_types_in_one_chain() {
    // RSA root and intermediate, leaves of every cheap type.
    let rsa = Pki::with_key_type("Mixed", KeyType::Rsa2048);
    let v = validator(&rsa, json!({}));
    for kt in [KeyType::P256, KeyType::P384, KeyType::Ed25519] {
        let p = accept(&v, &rsa.client("mixed").key_type(kt).issue());
        assert_eq!(p.chain().len(), 3, "{kt:?}");
    }
    // ECDSA CAs issuing an RSA leaf.
    let ec = Pki::new();
    accept(
        &validator(&ec, json!({})),
        &ec.client("rsa-leaf").key_type(KeyType::Rsa2048).issue(),
    );
}

#[test]
fn a_restricted_algorithm_set_refuses_the_others() {
    // `crypto::ALL` is ECDSA (4 entries), Ed25519, then RSA: keep only the RSA ones.
    let rsa_only = &certclaims::crypto::ALL[5..];
    let ec = Pki::new();
    let v = certclaims::Validator::from_policy_json(
        &common::policy(&ec, json!({})).to_string(),
        rsa_only,
    )
    .unwrap();
    let err = verify(&v, &ec.client("p256").issue()).unwrap_err();
    assert_eq!(err.code(), Code::UnsupportedAlgorithm, "{err}");

    // An RSA PKI with an Ed25519 leaf, without Ed25519: the leaf signature itself is RSA
    // (verifiable), so the unsupported part is only the leaf's key — which no signature in the
    // path uses. Client certificate validation does not check the leaf key: accepted.
    let rsa = Pki::with_key_type("RsaOnly", KeyType::Rsa2048);
    let v = certclaims::Validator::from_policy_json(
        &common::policy(&rsa, json!({})).to_string(),
        rsa_only,
    )
    .unwrap();
    accept(
        &v,
        &rsa.client("ed-leaf").key_type(KeyType::Ed25519).issue(),
    );
}
