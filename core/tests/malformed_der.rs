//! Hostile DER that a client or a proxy can send: each is a typed rejection with an exact
//! code, well under a second, and never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use certclaims::pki_types::CertificateDer;
use certclaims::test_kit::{Pki, NOW};
use certclaims::{Code, Step};
use serde_json::json;

const SAN: &[u64] = &[2, 5, 29, 17];
const KEY_USAGE: &[u64] = &[2, 5, 29, 15];

/// Verifies `leaf` (with the minted intermediates) and returns (code, step, elapsed).
fn run(
    v: &certclaims::Validator,
    leaf: Vec<u8>,
    inters: &[CertificateDer<'static>],
) -> (Code, Step, Duration) {
    let t = Instant::now();
    let r = v
        .verify(&CertificateDer::from(leaf), inters, NOW)
        .expect_err("must be rejected");
    (r.code(), r.step(), t.elapsed())
}

fn fast(d: Duration) {
    assert!(d < Duration::from_millis(500), "took {d:?}");
}

#[test]
fn trailing_garbage_after_the_certificate() {
    let pki = Pki::new();
    let v = common::validator(&pki, json!({}));
    let alice = pki.client("alice").issue();
    for tail in [vec![0u8], vec![0x30, 0x00], alice.leaf().to_vec()] {
        let mut der = alice.leaf().to_vec();
        der.extend_from_slice(&tail);
        let (code, step, took) = run(&v, der, alice.intermediates());
        assert_eq!(
            (code, step),
            (Code::Malformed, Step::Input),
            "tail {tail:02x?}"
        );
        fast(took);
    }
    // Garbage after an intermediate too.
    let mut inter = alice.intermediates()[0].to_vec();
    inter.push(0);
    let t = Instant::now();
    let r = v
        .verify(alice.leaf(), &[CertificateDer::from(inter)], NOW)
        .expect_err("trailing garbage in an intermediate");
    fast(t.elapsed());
    // Every presented certificate must be well-formed DER, not only the ones on the path.
    assert_eq!((r.code(), r.step()), (Code::Malformed, Step::Input), "{r}");
}

#[test]
fn truncated_length_claims_more_than_present() {
    let pki = Pki::new();
    let v = common::validator(&pki, json!({}));
    let alice = pki.client("alice").issue();
    // Outer SEQUENCE claims 64 KiB of content that is not there.
    let mut der = alice.leaf().to_vec();
    der[1] = 0x83;
    der.splice(2..4, [0x01, 0x00, 0x00]);
    let (code, step, took) = run(&v, der, alice.intermediates());
    assert_eq!((code, step), (Code::Malformed, Step::Input));
    fast(took);
}

#[test]
fn duplicate_extensions() {
    let pki = Pki::new();
    let v = common::validator(&pki, json!({}));
    // A second subjectAltName and a second keyUsage (the kit already adds one of each).
    let san = pki
        .client("dup-san")
        .dns("a.example")
        .extension(SAN, vec![0x30, 0x03, 0x82, 0x01, b'b'], false)
        .issue();
    let (code, _, took) = run(&v, san.leaf().to_vec(), san.intermediates());
    assert_eq!(code, Code::Malformed);
    fast(took);
    let ku = pki
        .client("dup-ku")
        .extension(KEY_USAGE, vec![0x03, 0x02, 0x07, 0x80], true)
        .issue();
    let (code, _, took) = run(&v, ku.leaf().to_vec(), ku.intermediates());
    assert_eq!(code, Code::Malformed);
    fast(took);
}

#[test]
fn invalid_utf8_and_non_ascii_in_sans() {
    let pki = Pki::new();
    let v = common::validator(&pki, json!({}));
    let cases: [(&str, Vec<u8>); 4] = [
        // dNSName (IA5String) with bytes above 0x7F.
        ("dns", vec![0x30, 0x04, 0x82, 0x02, 0xff, 0xfe]),
        // rfc822Name with a non-ASCII byte.
        ("email", vec![0x30, 0x05, 0x81, 0x03, b'a', 0xc3, b'@']),
        // URI with an invalid byte.
        ("uri", vec![0x30, 0x04, 0x86, 0x02, 0x80, 0x81]),
        // UPN otherName whose UTF8String is not UTF-8.
        (
            "upn",
            vec![
                0x30, 0x14, 0xa0, 0x12, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x14,
                0x02, 0x03, 0xa0, 0x04, 0x0c, 0x02, 0xc3, 0x28,
            ],
        ),
    ];
    for (what, san) in cases {
        let leaf = pki.client(what).extension(SAN, san, false).issue();
        let (code, step, took) = run(&v, leaf.leaf().to_vec(), leaf.intermediates());
        assert_eq!((code, step), (Code::Malformed, Step::Input), "{what}");
        fast(took);
    }
}

#[test]
fn unknown_critical_extension() {
    let pki = Pki::new();
    let v = common::validator(&pki, json!({}));
    let leaf = pki
        .client("crit")
        .extension(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00], true)
        .issue();
    let (code, step, took) = run(&v, leaf.leaf().to_vec(), leaf.intermediates());
    assert_eq!((code, step), (Code::InvalidCertificate, Step::Validation));
    fast(took);
    // The same extension, not critical, is ignored.
    let ok = pki
        .client("noncrit")
        .extension(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![0x05, 0x00], false)
        .issue();
    common::accept(&v, &ok);
}

#[test]
fn der_kind_tells_certificates_crls_and_keys_apart() {
    use certclaims::input::{der_kind, DerKind};
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    assert_eq!(der_kind(alice.leaf().as_ref()), DerKind::Other);
    assert_eq!(der_kind(pki.root_der().as_ref()), DerKind::Other);
    assert_eq!(der_kind(pki.crl(&[&alice]).as_ref()), DerKind::Crl);
    assert_eq!(der_kind(alice.key_der()), DerKind::PrivateKey);
    assert_eq!(der_kind(alice.leaf_pem().as_bytes()), DerKind::NotDer);
    assert_eq!(der_kind(b""), DerKind::NotDer);
    // A PFX's shape: SEQUENCE { INTEGER 3, SEQUENCE {} }.
    assert_eq!(
        der_kind(&[0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00]),
        DerKind::Pkcs12
    );
    // Truncated or odd: never a panic, and not mistaken for a key or a CRL.
    let leaf = alice.leaf().as_ref();
    for n in 0..leaf.len() {
        let k = der_kind(&leaf[..n]);
        assert!(matches!(k, DerKind::NotDer | DerKind::Other), "{n}: {k:?}");
    }
}
