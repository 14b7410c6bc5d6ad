//! Test-kit chains through both engines (certclaims' and rustls-webpki), with the verdict
//! each must give: they agree except where a listed difference applies (URI name
//! constraints, which webpki refuses).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certclaims::test_kit::{Issued, Pki, NOW};
use certclaims_tests::differential::compare_der;

fn both(pki: &Pki, chain: &Issued) -> (bool, bool) {
    let (ours, theirs) = compare_der(&[pki.root_der()], chain.intermediates(), chain.leaf(), NOW);
    (ours.is_ok(), theirs.is_ok())
}

#[test]
fn test_kit_chains_get_the_same_verdict_from_both_engines() {
    let pki = Pki::new();
    let other = Pki::with_key_type("Other", certclaims::test_kit::KeyType::Ed25519);
    let constrained = pki.constrained_ca(pki.issuing_ca(), "Constrained CA", &["svc.example"]);
    let rollover = pki.sub_ca(pki.issuing_ca(), "Test Issuing CA");
    let mut deep_ca = pki.sub_ca(pki.issuing_ca(), "Sub 1");
    for i in 2..=6 {
        deep_ca = pki.sub_ca(&deep_ca, &format!("Sub {i}"));
    }
    let cases: Vec<(&str, Issued, (bool, bool))> = vec![
        ("valid", pki.client("alice").issue(), (true, true)),
        (
            "expired",
            pki.client("old").expired().issue(),
            (false, false),
        ),
        (
            "not yet valid",
            pki.client("early").not_yet_valid().issue(),
            (false, false),
        ),
        ("foreign CA", other.client("eve").issue(), (false, false)),
        (
            "DNS constraint, inside",
            pki.client("api")
                .dns("api.svc.example")
                .issued_by(&constrained)
                .issue(),
            (true, true),
        ),
        (
            "DNS constraint, outside",
            pki.client("x")
                .dns("api.evil.example")
                .issued_by(&constrained)
                .issue(),
            (false, false),
        ),
        (
            "key rollover (self-issued intermediate)",
            pki.client("rolled").issued_by(&rollover).issue(),
            (true, true),
        ),
        (
            "seven intermediates",
            pki.client("deep").issued_by(&deep_ca).issue(),
            (false, false),
        ),
    ];
    for (what, chain, want) in &cases {
        assert_eq!(both(&pki, chain), *want, "{what}");
    }
    // The listed difference: webpki refuses URI name constraints (rustls/webpki#514), the
    // very constraint the SPIFFE X.509-SVID specification recommends.
    let td = pki.uri_constrained_ca(pki.issuing_ca(), "SPIFFE CA", &["example.org"]);
    let svid = pki
        .client("w")
        .spiffe("spiffe://example.org/a")
        .issued_by(&td)
        .issue();
    assert_eq!(both(&pki, &svid), (true, false));
    let outside = pki
        .client("w2")
        .spiffe("spiffe://evil.example/a")
        .issued_by(&td)
        .issue();
    assert_eq!(both(&pki, &outside), (false, false));
}
