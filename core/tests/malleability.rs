//! ECDSA signatures are malleable: `(r, s)` and `(r, n − s)` both verify, so anyone can
//! re-encode a certificate under a new SHA-256 fingerprint without the issuer's key. The
//! deny-lists must still catch it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certclaims::pki_types::CertificateDer;
use certclaims::test_kit::{fingerprint, Pki, NOW};
use certclaims::{Code, Step};
use der::{Decode, Encode};
use serde_json::json;

/// The same certificate with its ECDSA P-256 signature `s` replaced by `n − s`.
fn flip_s(der: &[u8]) -> Vec<u8> {
    let mut cert = x509_cert::Certificate::from_der(der).unwrap();
    let sig = p256::ecdsa::Signature::from_der(cert.signature.as_bytes().unwrap()).unwrap();
    let (r, s) = sig.split_scalars();
    let neg_s = -(*s.as_ref());
    let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), neg_s.to_bytes()).unwrap();
    cert.signature = der::asn1::BitString::from_bytes(twin.to_der().as_bytes()).unwrap();
    let out = cert.to_der().unwrap();
    assert_ne!(out, der, "the twin is a different encoding");
    out
}

#[test]
fn a_flipped_signature_does_not_take_a_certificate_off_the_deny_list() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let leaf_twin = CertificateDer::from(flip_s(alice.leaf()));
    let inter_twin = CertificateDer::from(flip_s(&alice.intermediates()[0]));
    assert_ne!(fingerprint(&leaf_twin), alice.fingerprint());

    // Without a deny-list both twins are perfectly valid: the attack needs no key.
    let open = common::validator(&pki, json!({}));
    let p = open
        .verify(&leaf_twin, alice.intermediates(), NOW)
        .expect("twin leaf verifies");
    assert_eq!(
        format!("sha256:{}", p.fingerprint_sha256()),
        fingerprint(&leaf_twin)
    );
    open.verify(alice.leaf(), std::slice::from_ref(&inter_twin), NOW)
        .expect("twin intermediate verifies");

    let serial = hex::encode(alice.serial());
    let cases = [
        ("leaf fingerprint", json!([alice.fingerprint()])),
        (
            "intermediate fingerprint",
            json!([fingerprint(&alice.intermediates()[0])]),
        ),
        (
            "issuer and serial",
            json!([{"issuer": fingerprint(&alice.intermediates()[0]), "serial": serial}]),
        ),
    ];
    for (what, deny) in cases {
        let v = common::validator(&pki, json!({"trust": {"deny": deny}}));
        for (leaf, inter) in [
            (alice.leaf().clone(), alice.intermediates()[0].clone()),
            (leaf_twin.clone(), alice.intermediates()[0].clone()),
            (alice.leaf().clone(), inter_twin.clone()),
            (leaf_twin.clone(), inter_twin.clone()),
        ] {
            let r = v.verify(&leaf, &[inter], NOW).expect_err(what);
            assert_eq!(
                (r.code(), r.step()),
                (Code::Denied, Step::Validation),
                "{what}: {r}"
            );
        }
    }
}

#[test]
fn issuer_key_deny_entries_cover_every_certificate_of_the_ca() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let reissued = pki.reissued_issuing_ca();
    assert_ne!(
        fingerprint(&reissued),
        fingerprint(&alice.intermediates()[0])
    );
    let serial = hex::encode(alice.serial());
    let via_original = alice.intermediates()[0].clone();

    // Both certificates of the issuing CA complete the path.
    let open = common::validator(&pki, json!({}));
    open.verify(alice.leaf(), std::slice::from_ref(&via_original), NOW)
        .expect("original intermediate");
    open.verify(alice.leaf(), std::slice::from_ref(&reissued), NOW)
        .expect("re-issued intermediate");

    // Keyed by the issuer certificate, the entry covers that certificate only (documented).
    let by_cert = common::validator(
        &pki,
        json!({"trust": {"deny": [{"issuer": fingerprint(&via_original), "serial": serial}]}}),
    );
    assert_eq!(
        by_cert
            .verify(alice.leaf(), std::slice::from_ref(&via_original), NOW)
            .unwrap_err()
            .code(),
        Code::Denied
    );
    by_cert
        .verify(alice.leaf(), std::slice::from_ref(&reissued), NOW)
        .expect("a cert-keyed entry does not name the re-issued CA certificate");

    // Keyed by the issuer's public key, it covers both.
    let by_key = common::validator(
        &pki,
        json!({"trust": {"deny": [{"issuer_key": pki.issuing_ca_key_hash(), "serial": serial}]}}),
    );
    for inter in [via_original, reissued] {
        let r = by_key.verify(alice.leaf(), &[inter], NOW).unwrap_err();
        assert_eq!(
            (r.code(), r.step()),
            (Code::Denied, Step::Validation),
            "{r}"
        );
    }
    // Another serial under the same key is not denied.
    let bob = pki.client("bob").issue();
    common::accept(&by_key, &bob);
}
