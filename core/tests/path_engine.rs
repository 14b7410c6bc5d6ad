//! certclaims' own path engine: what rustls-webpki could not do — URI name constraints
//! (SPIFFE), validity before 1970 — and messages that name the certificate and the rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certclaims::test_kit::{Pki, NOW};
use certclaims::{Code, Step};
use serde_json::json;

use common::{accept, reject, validator};

#[test]
fn a_spiffe_intermediate_constrained_to_its_trust_domain() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let td = pki.uri_constrained_ca(pki.issuing_ca(), "SPIFFE CA", &["example.org"]);
    let ok = pki
        .client("workload")
        .spiffe("spiffe://example.org/ns/prod/sa/api")
        .issued_by(&td)
        .issue();
    let p = accept(&v, &ok);
    assert_eq!(p.spiffe_id(), Some("spiffe://example.org/ns/prod/sa/api"));
    assert_eq!(p.chain().len(), 4);

    let evil = pki
        .client("impostor")
        .spiffe("spiffe://evil.example/ns/prod/sa/api")
        .issued_by(&td)
        .issue();
    let r = reject(&v, &evil, Code::NameConstraintViolation, Step::Validation);
    assert_eq!(
        r.detail(),
        "`spiffe://evil.example/ns/prod/sa/api` of `CN=impostor` is outside the URI constraint \
         `example.org` of `CN=SPIFFE CA,O=certclaims test kit` (RFC 5280 4.2.1.10)"
    );
    // A subdomain is another host: `example.org` permits exactly that host.
    let sub = pki
        .client("sub")
        .spiffe("spiffe://prod.example.org/x")
        .issued_by(&td)
        .issue();
    reject(&v, &sub, Code::NameConstraintViolation, Step::Validation);
    // A URI without a host cannot be placed inside a host constraint: fail closed.
    let urn = pki
        .client("urn")
        .uri("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66")
        .issued_by(&td)
        .issue();
    reject(&v, &urn, Code::NameConstraintViolation, Step::Validation);
    // `.example.org` permits the hosts inside the domain, not the domain itself.
    let domain = pki.uri_constrained_ca(pki.issuing_ca(), "Domain CA", &[".example.org"]);
    let inside = pki
        .client("inside")
        .uri("https://api.example.org/")
        .issued_by(&domain)
        .issue();
    accept(&v, &inside);
    let apex = pki
        .client("apex")
        .uri("https://example.org/")
        .issued_by(&domain)
        .issue();
    reject(&v, &apex, Code::NameConstraintViolation, Step::Validation);
}

#[test]
fn a_certificate_valid_since_1965() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    // 1965-06-01T12:00:00Z, a UTCTime of the 1950s-1960s range RFC 5280 4.1.2.5 defines.
    let old = pki.client("old-timer").valid_since(-144_676_800).issue();
    let p = accept(&v, &old);
    assert_eq!(p.to_json()["not_before"], "1965-06-01T12:00:00Z");
}

#[test]
fn failures_name_the_certificate_and_the_rule() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let other = Pki::with_key_type("Other", certclaims::test_kit::KeyType::P256);
    let eve = other.client("eve").issue();
    // The leaf alone: its issuer is not among the anchors or the presented certificates.
    let r = v.verify(eve.leaf(), &[], NOW).unwrap_err();
    assert_eq!(
        (r.code(), r.step()),
        (Code::UnknownIssuer, Step::Validation)
    );
    assert!(
        r.detail()
            .starts_with("no issuer for `CN=eve`: its issuer `CN=Other Issuing CA"),
        "{}",
        r.detail()
    );
    assert!(r
        .detail()
        .ends_with("is neither a trust anchor nor a presented intermediate"));
    let expired_ca = pki.client("late").expired().issue();
    let r = reject(&v, &expired_ca, Code::Expired, Step::Validation);
    assert_eq!(
        r.detail(),
        "the client certificate `CN=late` expired at 2026-05-31T00:00:00Z (evaluated at \
         2026-06-01T00:00:00Z)"
    );
}
