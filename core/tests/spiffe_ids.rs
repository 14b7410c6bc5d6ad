//! A certificate's SPIFFE ID is set only when it is a valid SPIFFE ID, so that patterns like
//! `spiffe://td/ns/*/sa/*` never match `..`, query strings or other non-IDs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certclaims::policy::is_valid_spiffe_id;
use certclaims::test_kit::Pki;
use certclaims::Code;
use serde_json::json;

#[test]
fn spiffe_id_syntax() {
    for ok in [
        "spiffe://example.org",
        "spiffe://example.org/ns/prod/sa/api",
        "spiffe://td-1.example_x/a.b/C-d_e",
    ] {
        assert!(is_valid_spiffe_id(ok), "{ok}");
    }
    for bad in [
        "SPIFFE://example.org/a",
        "spiffe://Example.org/a",
        "spiffe:///a",
        "spiffe://example.org/",
        "spiffe://example.org/a/",
        "spiffe://example.org//a",
        "spiffe://example.org/a/../b",
        "spiffe://example.org/./a",
        "spiffe://example.org/a?x=1",
        "spiffe://example.org/a#f",
        "spiffe://example.org:443/a",
        "spiffe://user@example.org/a",
        "spiffe://example.org/a%2Fb",
        "https://example.org/a",
    ] {
        assert!(!is_valid_spiffe_id(bad), "{bad}");
    }
    assert!(!is_valid_spiffe_id(&format!(
        "spiffe://example.org/{}",
        "a".repeat(2048)
    )));
}

#[test]
fn invalid_spiffe_uris_give_no_spiffe_id_and_match_no_pattern() {
    let pki = Pki::new();
    let v = common::validator(
        &pki,
        json!({"identity": {"allow": [{"spiffe_id": "spiffe://example.org/ns/*/sa/*"}]}}),
    );
    let good = pki
        .client("good")
        .spiffe("spiffe://example.org/ns/prod/sa/api")
        .issue();
    assert_eq!(
        common::accept(&v, &good).spiffe_id(),
        Some("spiffe://example.org/ns/prod/sa/api")
    );
    for bad in [
        "spiffe://example.org/ns/../sa/api",
        "spiffe://example.org/ns/prod/sa/api?admin=1",
        "spiffe://example.org/ns/prod/sa/",
        "SPIFFE://example.org/ns/prod/sa/api",
    ] {
        let leaf = pki.client("bad").spiffe(bad).issue();
        let r = common::verify(&v, &leaf).expect_err(bad);
        assert_eq!(r.code(), Code::PolicyDenied, "{bad}");
        // Admitted by an open policy, the URI is still listed but is no SPIFFE ID.
        let open = common::validator(&pki, json!({}));
        let p = common::accept(&open, &leaf);
        assert_eq!(p.spiffe_id(), None, "{bad}");
        assert_eq!(p.uris(), [bad.to_string()]);
    }
}
