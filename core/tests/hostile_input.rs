//! Hostile input: oversized chains and certificates, random bytes, mutated certificates.
//! Every case must end in a typed rejection, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use certclaims::input::limits;
use certclaims::pki_types::CertificateDer;
use certclaims::test_kit::{Ca, Issued, Pki, NOW};
use certclaims::{Chain, Code, Rejection, Step, Validator};
use serde_json::json;

use common::validator;

/// A small deterministic PRNG (xorshift64*): no wall clock, no OS entropy, same run every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn present(v: &Validator, certs: Vec<Vec<u8>>) -> Result<(), Rejection> {
    let chain = Chain::from_der(certs.into_iter().map(CertificateDer::from).collect())?;
    v.verify_chain(&chain, NOW).map(|_| ())
}

fn code_step(r: Result<(), Rejection>) -> (Code, Step) {
    let r = r.expect_err("hostile input was accepted");
    (r.code(), r.step())
}

#[test]
fn a_hundred_certificate_chain_is_too_deep() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let mut certs = vec![alice.leaf().to_vec()];
    certs.extend(std::iter::repeat_n(alice.intermediates()[0].to_vec(), 99));

    // Chain::from_der refuses before any parsing.
    let r = Chain::from_der(certs.iter().cloned().map(CertificateDer::from).collect()).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::ChainTooDeep, Step::Input));
    assert_eq!(
        r.detail(),
        "more than 64 intermediates presented; at most 64 are considered: present only the chain from the leaf to the trust anchor"
    );
    // So does Validator::verify when handed the slices directly.
    let inters: Vec<CertificateDer<'_>> = certs[1..]
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let r = v.verify(alice.leaf(), &inters, NOW).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::ChainTooDeep, Step::Input));
    // And PEM decoding stops early instead of decoding all hundred.
    let pem: String = std::iter::once(alice.leaf_pem())
        .chain(std::iter::repeat_n(pki.issuing_ca().pem(), 99))
        .collect();
    let r = Chain::from_pem(pem.as_bytes()).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::ChainTooDeep, Step::Input));

    // The limit itself: 64 intermediates are accepted input, 65 are not.
    assert_eq!(limits::MAX_PRESENTED_INTERMEDIATES, 64);
    let mut many = alice.intermediates().to_vec();
    many.extend(std::iter::repeat_n(pki.root_der(), 63));
    assert_eq!(many.len(), 64);
    v.verify(alice.leaf(), &many, NOW).unwrap();
    let mut certs = vec![alice.leaf().clone()];
    certs.extend(many.iter().cloned());
    Chain::from_der(certs.clone()).unwrap();
    many.push(pki.root_der());
    let r = v.verify(alice.leaf(), &many, NOW).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::ChainTooDeep, Step::Input));
    assert_eq!(
        r.detail(),
        "more than 64 intermediates presented; at most 64 are considered: present only the chain from the leaf to the trust anchor"
    );
    certs.push(pki.root_der());
    let r = Chain::from_der(certs).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::ChainTooDeep, Step::Input));
}

#[test]
fn a_one_mebibyte_certificate_is_malformed() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let alice = pki.client("alice").issue();
    // DER-shaped: a SEQUENCE header announcing exactly 1 MiB of content.
    let mut huge = vec![0x30, 0x83, 0x10, 0x00, 0x00];
    huge.resize(5 + (1 << 20), 0x41);

    let r = Chain::from_der(vec![CertificateDer::from(huge.clone())]).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::Malformed, Step::Input));
    assert_eq!(
        r.detail(),
        format!(
            "certificate #0 is {} bytes; the limit is {} bytes",
            huge.len(),
            limits::MAX_CERT_BYTES
        )
    );
    let r = v
        .verify(&CertificateDer::from(huge.as_slice()), &[], NOW)
        .unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::Malformed, Step::Input));
    // As an intermediate.
    let r = v
        .verify(alice.leaf(), &[CertificateDer::from(huge.as_slice())], NOW)
        .unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::Malformed, Step::Input));
    assert!(
        r.detail().starts_with("certificate #1 is "),
        "{}",
        r.detail()
    );
    // As PEM larger than the PEM limit.
    let pem = format!("{}{}", alice.leaf_pem(), "A".repeat(limits::MAX_PEM_BYTES));
    let r = Chain::from_pem(pem.as_bytes()).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::Malformed, Step::Input));
    // Just at the certificate limit, the size is not the complaint but the content still is.
    let mut at_limit = vec![0x30, 0x83, 0x00, 0xFF, 0xFB];
    at_limit.resize(limits::MAX_CERT_BYTES, 0);
    assert_eq!(
        code_step(present(&v, vec![at_limit])),
        (Code::Malformed, Step::Input)
    );
}

#[test]
fn random_bytes_are_malformed() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    for i in 0..400 {
        let len = (rng.next() % 3000) as usize + 1;
        let mut bytes = rng.bytes(len);
        if i % 2 == 0 {
            // Half of them start like a certificate: SEQUENCE { SEQUENCE { ...
            let n = bytes.len().saturating_sub(4).min(0xFFFF) as u16;
            let head = [0x30, 0x82, (n >> 8) as u8, n as u8, 0x30, 0x82];
            for (b, h) in bytes.iter_mut().zip(head) {
                *b = h;
            }
        }
        assert_eq!(
            code_step(present(&v, vec![bytes.clone()])),
            (Code::Malformed, Step::Input),
            "input #{i}"
        );
        // Random bytes as a PEM document: no certificate, or a broken one; never a panic.
        let r = Chain::from_pem(&bytes).unwrap_err();
        assert!(
            matches!(r.code(), Code::NoCertificate | Code::Malformed),
            "pem #{i}: {r}"
        );
    }
}

#[test]
fn every_truncation_of_a_certificate_is_malformed() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let alice = pki.client("alice").dns("alice.svc.example").issue();
    let leaf = alice.leaf().as_ref();
    assert_eq!(
        code_step(present(&v, vec![Vec::new()])),
        (Code::NoCertificate, Step::Input)
    );
    for n in 1..leaf.len() {
        let got = code_step(present(&v, vec![leaf[..n].to_vec()]));
        assert_eq!(
            got,
            (Code::Malformed, Step::Input),
            "truncated to {n} of {} bytes",
            leaf.len()
        );
    }
}

#[test]
fn every_single_byte_mutation_is_rejected() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let alice = pki.client("alice").dns("alice.svc.example").issue();
    let leaf = alice.leaf().as_ref();
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    for i in 0..leaf.len() {
        for mask in [0x01u8, 0x80] {
            let mut der = leaf.to_vec();
            der[i] ^= mask;
            let r = v.verify(&CertificateDer::from(der), alice.intermediates(), NOW);
            let r = r
                .err()
                .unwrap_or_else(|| panic!("byte {i} ^ {mask:#x}: mutated leaf accepted"));
            *seen.entry(r.code().as_str()).or_default() += 1;
        }
    }
    // Every mutation changes either the signed bytes or the signature: the outcome is a
    // decoding error or a signature failure (a few land on fields checked before signatures:
    // names, validity, extensions).
    let allowed = [
        "malformed",
        "bad_signature",
        "unknown_issuer",
        "unsupported_algorithm",
        "expired",
        "not_yet_valid",
        "invalid_certificate",
        "ca_as_leaf",
        "key_usage",
        "wrong_usage",
    ];
    for code in seen.keys() {
        assert!(allowed.contains(code), "unexpected code {code} in {seen:?}");
    }
    assert!(
        seen["malformed"] > 0 && seen["bad_signature"] > 0,
        "{seen:?}"
    );
}

#[test]
fn lookalike_intermediates_do_not_hide_the_real_one() {
    // 63 impostors named "Test Issuing CA" (other keys, issued by another "Test Root CA")
    // before the real one: path building tries them in turn, each failing a signature check
    // (within webpki's budget of 100), and finds the genuine path.
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let mut inters: Vec<CertificateDer<'static>> =
        (0..63).map(|_| Pki::new().issuing_ca().der()).collect();
    inters.push(alice.intermediates()[0].clone());
    let p = v.verify(alice.leaf(), &inters, NOW).unwrap();
    assert_eq!(
        p.chain()[1].fingerprint_sha256(),
        common::hex_of(&pki.issuing_ca().fingerprint())
    );
    // Only impostors: the names chain but no signature verifies.
    inters.pop();
    assert_eq!(
        v.verify(alice.leaf(), &inters, NOW).unwrap_err().code(),
        Code::BadSignature
    );
}

/// The worst a client can present within the input limit: 64 intermediates that all carry
/// the leaf's issuer name and chain to one another by name. The engine checks a candidate's
/// signature before building on it, so only genuine issuers extend a path, and its budget
/// (100 signature checks, 200,000 candidates) ends the search in well under a second, even in
/// a debug build.
#[test]
fn many_same_subject_intermediates_are_rejected_quickly() {
    use std::time::{Duration, Instant};
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    // Genuine CA certificates named like the issuing CA, each with its own key and signed by
    // the issuing CA (self-issued: subject equals issuer).
    let lookalikes: Vec<Ca> = (0..limits::MAX_PRESENTED_INTERMEDIATES)
        .map(|_| pki.sub_ca(pki.issuing_ca(), "Test Issuing CA"))
        .collect();
    let ders: Vec<CertificateDer<'static>> = lookalikes.iter().map(Ca::der).collect();
    assert_eq!(ders.len(), 64);
    let timed = |what: &str, leaf: &Issued, inters: &[CertificateDer<'static>]| {
        let start = Instant::now();
        let r = v.verify(leaf.leaf(), inters, NOW);
        let elapsed = start.elapsed();
        eprintln!("{what}: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(1), "{what}: took {elapsed:?}");
        r
    };

    // A leaf of the real issuing CA, which is not presented: each lookalike is a candidate
    // issuer by name, and none has the key that signed the leaf (64 signature checks, within
    // the budget of 100); nothing is built on a candidate whose signature fails.
    let alice = pki.client("alice").issue();
    let r = timed("issuer absent", &alice, &ders).unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::BadSignature, Step::Validation));
    assert_eq!(
        r.detail(),
        "the signature of `CN=alice` does not verify with the key of `CN=Test Issuing CA,O=certclaims test kit`"
    );
    // A leaf of the first lookalike: its issuer is found (one signature out of 64), then the
    // 63 others are tried above it, and the signature budget runs out.
    let bob = pki.client("bob").issued_by(&lookalikes[0]).issue();
    let r = timed("issued by a lookalike", &bob, &ders).unwrap_err();
    assert_eq!(
        (r.code(), r.step()),
        (Code::ChainTooDeep, Step::Validation),
        "{r}"
    );
    assert_eq!(
        r.detail(),
        "path building for `CN=bob` gave up after 100 signature checks: the certificates offered \
         contain too many candidate issuers; present only the chain"
    );
    // With the real issuing CA among them, the one candidate whose key verifies the leaf is
    // found, and its issuer is the anchor: padding does not hide the genuine path.
    let mut with_real = ders.clone();
    with_real[63] = pki.issuing_ca().der();
    let p = timed("real issuer last", &alice, &with_real).unwrap();
    assert_eq!(p.chain().len(), 3);
}
