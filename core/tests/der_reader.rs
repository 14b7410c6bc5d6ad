//! certclaims' own DER reader against the decoders it replaced (x509-cert 0.2 / der 0.7): every
//! truncation and thousands of bit flips of minted certificates go through
//! [`certclaims::inspect`], which must never panic, must refuse with `malformed` (and a message
//! that names a DER byte), and must accept exactly what x509-cert's decoding, plus the checks
//! certclaims made on top of it, accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use certclaims::pki_types::CertificateDer;
use certclaims::test_kit::Pki;
use certclaims::Code;
use der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
};
use x509_cert::Certificate;

/// Whether certclaims before its own reader parsed `der`: x509-cert's Certificate, the
/// extensions it decoded as fatal, whole-octet key and signature, 4- or 16-octet IP SANs, UTF-8
/// UPNs and emailAddress attributes. `None`: a time before 1970, which x509-cert could not
/// decode (certclaims patched a copy), so the old verdict is not computable here.
fn old_accepts(der: &[u8]) -> Option<bool> {
    let cert = match Certificate::from_der(der) {
        Ok(c) => c,
        Err(e) => {
            return if format!("{e}").contains("date") || format!("{e:?}").contains("DateTime") {
                None
            } else {
                Some(false)
            };
        }
    };
    let tbs = &cert.tbs_certificate;
    if cert.signature.has_unused_bits()
        || tbs
            .subject_public_key_info
            .subject_public_key
            .has_unused_bits()
    {
        return Some(false);
    }
    let ok = tbs.get::<BasicConstraints>().is_ok()
        && tbs.get::<KeyUsage>().is_ok()
        && tbs.get::<ExtendedKeyUsage>().is_ok()
        && tbs.get::<CrlDistributionPoints>().is_ok();
    let san = match tbs.get::<SubjectAltName>() {
        Ok(san) => san,
        Err(_) => return Some(false),
    };
    let upn = const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3");
    let sans_ok = san.iter().flat_map(|(_, s)| s.0.iter()).all(|n| match n {
        GeneralName::IpAddress(o) => matches!(o.as_bytes().len(), 4 | 16),
        GeneralName::OtherName(o) if o.type_id == upn => {
            der::asn1::Utf8StringRef::try_from(&o.value).is_ok()
        }
        _ => true,
    });
    let email = const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
    let emails_ok = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|a| a.oid == email)
        .all(|a| std::str::from_utf8(a.value.value()).is_ok());
    Some(ok && sans_ok && emails_ok)
}

/// certclaims' verdict; panics on a rejection that is not `malformed` or has no position.
fn new_accepts(der: &[u8]) -> bool {
    match certclaims::inspect(&CertificateDer::from(der.to_vec())) {
        Ok(_) => true,
        Err(r) => {
            assert_eq!(r.code(), Code::Malformed, "{r}");
            let text = r.to_string();
            assert!(
                text.contains("at DER byte") || text.contains("SAN") || text.contains("UPN"),
                "a message without a position: {text}"
            );
            assert!(!text.contains("Error {"), "Rust debug text: {text}");
            false
        }
    }
}

fn certificates() -> Vec<Vec<u8>> {
    let pki = Pki::new();
    let ca = pki.constrained_ca(
        pki.root(),
        "Constrained CA",
        &["example.org", ".example.net"],
    );
    let mut out = vec![
        pki.root_der().to_vec(),
        pki.issuing_ca().der().to_vec(),
        ca.der().to_vec(),
    ];
    let alice = pki
        .client("alice")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .dns("alice.example.org")
        .email("alice@example.org")
        .upn("alice@corp.example")
        .ip("192.0.2.7".parse().unwrap())
        .org("Example")
        .ou("Payments")
        .issue();
    out.push(alice.leaf().to_vec());
    let uri_ca = pki.uri_constrained_ca(pki.root(), "SPIFFE CA", &["example.org"]);
    out.push(uri_ca.der().to_vec());
    out
}

#[test]
fn mutated_certificates_are_refused_as_x509_cert_refused_them() {
    let started = Instant::now();
    let (mut cases, mut accepted, mut skipped) = (0usize, 0usize, 0usize);
    let mut differences = Vec::new();
    for cert in certificates() {
        assert!(new_accepts(&cert), "a minted certificate is refused");
        assert_eq!(old_accepts(&cert), Some(true));
        let mut variants: Vec<Vec<u8>> = (1..cert.len()).map(|n| cert[..n].to_vec()).collect();
        for i in 0..cert.len() {
            for mask in [0x01u8, 0x80, 0xff, 0x20] {
                let mut v = cert.clone();
                v[i] ^= mask;
                variants.push(v);
            }
        }
        for v in variants {
            cases += 1;
            let new = new_accepts(&v);
            accepted += usize::from(new);
            match old_accepts(&v) {
                None => skipped += 1,
                Some(old) if old != new => differences.push((v, old, new)),
                Some(_) => {}
            }
        }
    }
    let shown: Vec<String> = differences
        .iter()
        .take(5)
        .map(|(v, old, new)| {
            let why = certclaims::inspect(&CertificateDer::from(v.clone()))
                .err()
                .map(|r| r.to_string());
            format!("x509-cert {old}, certclaims {new} ({why:?}): {}", hex(v))
        })
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {cases} mutations judged differently:\n{}",
        differences.len(),
        shown.join("\n")
    );
    eprintln!("{cases} mutations, {accepted} accepted, {skipped} not comparable");
    // The loop must exercise both verdicts and stay quick.
    assert!(accepted > 0 && accepted < cases, "{accepted} of {cases}");
    assert!(skipped < cases / 10, "{skipped} of {cases} not comparable");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A sanity check of the harness itself: x509-cert's own encoding round-trips.
#[test]
fn the_oracle_reads_what_it_writes() {
    for cert in certificates() {
        let c = Certificate::from_der(&cert).unwrap();
        assert_eq!(c.to_der().unwrap(), cert);
    }
}
