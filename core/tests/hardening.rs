//! Regression tests for the security review of issue 12 (defects 2–6): strict policy fields,
//! `*` that matches only what no normaliser would rewrite, one notion of validity, the spiffe
//! scheme in any spelling, and verdicts that do not depend on the route that admitted a
//! certificate.
#![cfg(feature = "test-kit")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use certclaims::pki_types::UnixTime;
use certclaims::policy::{ClaimGrant, ClaimValues, DenyEntry, Trust};
use certclaims::test_kit::{Issued, Pki, DAY, NOW};
use certclaims::{Code, Policy, PolicyError, Step, Validator};
use serde_json::{json, Value};

use common::{accept, crl_pem, policy, reject, validator, verify};

/// The JSON error of loading `extra` merged into a policy trusting `pki`.
fn json_error(pki: &Pki, extra: Value) -> String {
    match Policy::from_json(&policy(pki, extra.clone()).to_string()) {
        Err(PolicyError::Json(msg)) => msg,
        other => panic!("{extra}: expected a JSON error, got {other:?}"),
    }
}

// --- Defect 2: every policy type rejects unknown and conflicting fields ----------------------

#[test]
fn deny_entries_reject_unknown_fields() {
    let pki = Pki::new();
    let issuing = pki.issuing_ca().fingerprint();
    let msg = json_error(
        &pki,
        json!({"trust": {"deny": [{"issuer": issuing, "serial": "80", "comment": "x"}]}}),
    );
    assert!(
        msg.starts_with(
            "unknown field `comment`, expected one of `issuer`, `issuer_key`, `serial`"
        ),
        "{msg}"
    );
    assert!(msg.contains(" at line 1 column "), "{msg}");
}

#[test]
fn deny_entries_reject_issuer_together_with_issuer_key() {
    let pki = Pki::new();
    let alice = pki.client("alice").serial(0x80).issue();
    let entry = json!({
        "issuer": pki.issuing_ca().fingerprint(),
        "issuer_key": pki.issuing_ca_key_hash(),
        "serial": "80",
    });
    let msg = json_error(&pki, json!({"trust": {"deny": [entry]}}));
    assert!(
        msg.starts_with("conflicting fields `issuer` and `issuer_key` in a deny entry"),
        "{msg}"
    );
    // What the entry meant: deny alice under either certificate of her CA. Written as one
    // `issuer_key` entry it does.
    let v = validator(
        &pki,
        json!({"trust": {"deny": [{"issuer_key": pki.issuing_ca_key_hash(), "serial": "80"}]}}),
    );
    let reissued = [pki.reissued_issuing_ca()];
    let r = v.verify(alice.leaf(), &reissued, NOW).unwrap_err();
    assert_eq!(r.code(), Code::Denied);
}

#[test]
fn deny_entries_reject_repeated_missing_and_mistyped_fields() {
    let pki = Pki::new();
    let fp = pki.issuing_ca().fingerprint();
    let cases = [
        (
            // serde_json would keep the last `serial` of a derived map.
            format!(r#"{{"issuer":"{fp}","serial":"80","serial":"81"}}"#),
            "duplicate field `serial`",
        ),
        (format!(r#"{{"issuer":"{fp}"}}"#), "missing field `serial`"),
        (
            r#"{"serial":"80"}"#.to_string(),
            "a deny entry with `serial` needs `issuer` or `issuer_key`",
        ),
        (r#"{}"#.to_string(), "missing field `serial`"),
        (
            r#"42"#.to_string(),
            "invalid type: integer `42`, expected a deny entry",
        ),
        (
            format!(r#"{{"issuer":"{fp}","serial":80}}"#),
            "invalid type: integer `80`, expected a string",
        ),
    ];
    for (entry, want) in cases {
        let doc = format!(
            r#"{{"version":1,"trust":{{"anchors":[{}],"deny":[{entry}]}}}}"#,
            serde_json::to_string(&pki.root_pem()).unwrap()
        );
        match Policy::from_json(&doc) {
            Err(PolicyError::Json(msg)) => assert!(msg.starts_with(want), "{entry}: {msg}"),
            other => panic!("{entry}: expected a JSON error, got {other:?}"),
        }
    }
}

#[test]
fn valid_deny_entries_still_load_as_written() {
    let pki = Pki::new();
    let fp = pki.issuing_ca().fingerprint();
    let key = pki.issuing_ca_key_hash();
    let doc = policy(
        &pki,
        json!({"trust": {"deny": [
            fp,
            {"issuer": fp, "serial": "80"},
            {"serial": "81", "issuer_key": key},
        ]}}),
    );
    let p = Policy::from_json(&doc.to_string()).unwrap();
    let want = {
        let mut t = Trust::default();
        t.deny = vec![
            DenyEntry::Fingerprint(fp.clone()),
            DenyEntry::IssuerSerial {
                issuer: fp.clone(),
                serial: "80".into(),
            },
            DenyEntry::IssuerKeySerial {
                issuer_key: key.clone(),
                serial: "81".into(),
            },
        ];
        t.deny
    };
    assert_eq!(p.trust.deny, want);
}

#[test]
fn claim_grants_reject_a_claim_type_given_twice() {
    let pki = Pki::new();
    let doc = format!(
        r#"{{"version":1,"trust":{{"anchors":[{}]}},"claims":{{"add":[{{"when":{{"dns":"a.example"}},"claims":{{"role":"reader","role":"admin"}}}}]}}}}"#,
        serde_json::to_string(&pki.root_pem()).unwrap()
    );
    match Policy::from_json(&doc) {
        Err(PolicyError::Json(msg)) => {
            assert!(msg.starts_with("claim type `role` is given twice"), "{msg}")
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    // One type, one value or a list: both still load.
    let g: ClaimGrant = serde_json::from_value(
        json!({"when": {"dns": "a.example"}, "claims": {"role": "reader", "team": ["a", "b"]}}),
    )
    .unwrap();
    assert_eq!(g.claims["role"], ClaimValues::One("reader".into()));
    assert_eq!(
        g.claims["team"],
        ClaimValues::Many(vec!["a".into(), "b".into()])
    );
    let msg = json_error(
        &pki,
        json!({"claims": {"add": [{"when": {"dns": "a.example"}, "claims": {"role": 1}}]}}),
    );
    assert!(
        msg.starts_with(
            "invalid type: integer `1`, expected a claim value (a string) or an array of strings"
        ),
        "{msg}"
    );
}

#[test]
fn repeated_fields_of_derived_policy_types_are_errors() {
    let pki = Pki::new();
    let anchors = serde_json::to_string(&[pki.root_pem()]).unwrap();
    for (doc, want) in [
        (
            format!(
                r#"{{"version":1,"trust":{{"anchors":{anchors},"check_validity":true,"check_validity":false}}}}"#
            ),
            "duplicate field `check_validity`",
        ),
        (
            format!(
                r#"{{"version":1,"trust":{{"anchors":{anchors}}},"identity":{{"allow":[{{"dns":"a.example","dns":"*.example"}}]}}}}"#
            ),
            "duplicate field `dns`",
        ),
        (
            format!(
                r#"{{"version":1,"trust":{{"anchors":{anchors}}},"identity":{{"allow":[{{"subject":{{"cn":"a","cn":"*"}}}}]}}}}"#
            ),
            "duplicate field `cn`",
        ),
    ] {
        match Policy::from_json(&doc) {
            Err(PolicyError::Json(msg)) => assert!(msg.starts_with(want), "{doc}: {msg}"),
            other => panic!("{doc}: expected a JSON error, got {other:?}"),
        }
    }
}

// --- Defect 3: `*` matches one plain segment, never what a normaliser would rewrite ----------

/// Whether a leaf with `uri` as its only URI SAN is admitted by `{"uri": pattern}`.
fn uri_admitted(pki: &Pki, pattern: &str, uri: &str) -> bool {
    let v = validator(pki, json!({"identity": {"allow": [{"uri": pattern}]}}));
    match verify(&v, &pki.client("w").uri(uri).issue()) {
        Ok(_) => true,
        Err(r) if (r.code(), r.step()) == (Code::PolicyDenied, Step::Policy) => false,
        Err(r) => panic!("{uri}: unexpected rejection {r}"),
    }
}

#[test]
fn uri_wildcard_matches_only_plain_path_segments() {
    let pki = Pki::new();
    let users = "https://example.org/users/*";
    let rows = [
        ("https://example.org/users/alice", true),
        ("https://example.org/users/a-b_c.d~e", true),
        ("https://example.org/users/a%20b", true),
        ("https://example.org/users/alice:x@y", true),
        ("https://example.org/users/..", false),
        ("https://example.org/users/.", false),
        ("https://example.org/users/%2e%2e", false),
        ("https://example.org/users/%2E%2E", false),
        ("https://example.org/users/.%2e", false),
        ("https://example.org/users/%2e", false),
        ("https://example.org/users/a%2fb", false),
        ("https://example.org/users/a%2Eb", false),
        ("https://example.org/users/a%5cb", false),
        ("https://example.org/users/..\\admin", false),
        ("https://example.org/users/x?role=admin", false),
        ("https://example.org/users/x#frag", false),
        ("https://example.org/users/%zz", false),
        ("https://example.org/users/a%2", false),
        ("https://example.org/users/a b", false),
        ("https://example.org/users/", false),
    ];
    let mut wrong = Vec::new();
    for (uri, want) in rows {
        if uri_admitted(&pki, users, uri) != want {
            wrong.push(format!("{users} vs {uri}: expected admitted={want}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn uri_rule_for_spiffe_names_refuses_what_spiffe_id_refuses() {
    let pki = Pki::new();
    let pattern = "spiffe://example.org/ns/*/sa/*";
    assert!(uri_admitted(
        &pki,
        pattern,
        "spiffe://example.org/ns/prod/sa/alice"
    ));
    for uri in [
        "spiffe://example.org/ns/../sa/admin",
        "spiffe://example.org/ns/./sa/admin",
        "spiffe://example.org/ns/%2e%2e/sa/admin",
        "spiffe://example.org/ns/prod/sa/admin?x",
    ] {
        assert!(!uri_admitted(&pki, pattern, uri), "{uri}");
        // The spiffe_id matcher agrees.
        let v = validator(
            &pki,
            json!({"identity": {"allow": [{"spiffe_id": pattern}]}}),
        );
        reject(
            &v,
            &pki.client("w").uri(uri).issue(),
            Code::PolicyDenied,
            Step::Policy,
        );
    }
}

#[test]
fn literal_uri_patterns_stay_byte_exact() {
    let pki = Pki::new();
    let exact = "https://example.org/users/alice?tab=keys";
    assert!(uri_admitted(&pki, exact, exact));
    assert!(!uri_admitted(
        &pki,
        exact,
        "https://example.org/users/alice"
    ));
    assert!(uri_admitted(&pki, "urn:example:alice", "urn:example:alice"));
}

#[test]
fn uri_patterns_that_could_only_match_unnormalised_names_are_refused() {
    let pki = Pki::new();
    for (pattern, reason) in [
        (
            "https://example.org/users/../admin",
            "`..` in `https://example.org/users/../admin` is a dot segment or hides a `.`, `/` or `\\`: a path normaliser would turn the names it matches into others",
        ),
        (
            "https://example.org/./users/*",
            "`.` in `https://example.org/./users/*` is a dot segment or hides a `.`, `/` or `\\`: a path normaliser would turn the names it matches into others",
        ),
        (
            "https://example.org/users/%2E%2e",
            "`%2E%2e` in `https://example.org/users/%2E%2e` is a dot segment or hides a `.`, `/` or `\\`: a path normaliser would turn the names it matches into others",
        ),
        (
            "https://example.org/a%2Fb/*",
            "`a%2Fb` in `https://example.org/a%2Fb/*` is a dot segment or hides a `.`, `/` or `\\`: a path normaliser would turn the names it matches into others",
        ),
        (
            "https://example.org/users/*/x?y",
            "a pattern with `*` cannot have a query or fragment: `https://example.org/users/*/x?y`",
        ),
        (
            "https://example.org/users/*/x#y",
            "a pattern with `*` cannot have a query or fragment: `https://example.org/users/*/x#y`",
        ),
    ] {
        let doc = policy(&pki, json!({"identity": {"allow": [{"uri": pattern}]}}));
        let err = Validator::from_policy_json(&doc.to_string(), certclaims::crypto::ALL)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid policy field `identity.allow[0].uri`: {reason}"),
            "{pattern}"
        );
    }
    let doc = policy(
        &pki,
        json!({"identity": {"allow": [{"spiffe_id": "spiffe://example.org/ns/../sa/*"}]}}),
    );
    let err = Validator::from_policy_json(&doc.to_string(), certclaims::crypto::ALL).unwrap_err();
    assert!(
        matches!(&err, PolicyError::Invalid { field, .. } if field == "identity.allow[0].spiffe_id"),
        "{err}"
    );
}

#[test]
fn dns_wildcard_matches_one_plain_label() {
    let pki = Pki::new();
    let v = validator(
        &pki,
        json!({"identity": {"allow": [{"dns": "*.svc.example"}]}}),
    );
    accept(&v, &pki.client("a").dns("api-1.svc.example").issue());
    accept(&v, &pki.client("a").dns("_srv.svc.example").issue());
    // A wildcard SAN is not one name: `*` of a pattern does not stand for it.
    reject(
        &v,
        &pki.client("a").dns("*.svc.example").issue(),
        Code::PolicyDenied,
        Step::Policy,
    );
    let v = validator(
        &pki,
        json!({"identity": {"allow": [{"email": "*@*.example"}]}}),
    );
    accept(&v, &pki.client("a").email("bob@corp.example").issue());
    reject(
        &v,
        &pki.client("a").email("bob@*.example").issue(),
        Code::PolicyDenied,
        Step::Policy,
    );
}

// --- Defect 4: one notion of validity, exposed on the principal -----------------------------

#[test]
fn usable_until_follows_the_policy_notion_of_validity() {
    let pki = Pki::new();
    let now = NOW.as_secs();
    let late = pki
        .client("late")
        .validity(now - 30 * DAY, now - 60)
        .issue();
    let fresh = pki.client("fresh").validity(now - DAY, now + DAY).issue();
    let secs = |t: Option<UnixTime>| t.map(|t| t.as_secs());

    // The policy's default: usable until notAfter, inclusive.
    let strict = validator(&pki, json!({}));
    let p = accept(&strict, &fresh);
    assert_eq!(secs(p.usable_until()), Some(now + DAY));
    assert!(p.is_usable_at(at(now + DAY)));
    assert!(!p.is_usable_at(at(now + DAY + 1)));
    reject(&strict, &late, Code::Expired, Step::Validation);

    // With clock skew the leaf that expired 60 s ago is admitted, and usable for the rest of
    // the skew.
    let skewed = validator(&pki, json!({"trust": {"clock_skew_seconds": 3600}}));
    let p = accept(&skewed, &late);
    assert_eq!(secs(p.usable_until()), Some(now - 60 + 3600));
    assert!(p.is_usable_at(NOW));
    assert!(p.is_usable_at(at(now - 60 + 3600)));
    assert!(!p.is_usable_at(at(now - 60 + 3601)));
    // The same instant the validator itself would refuse it.
    assert!(skewed
        .verify(late.leaf(), late.intermediates(), at(now - 60 + 3600))
        .is_ok());
    assert_eq!(
        skewed
            .verify(late.leaf(), late.intermediates(), at(now - 60 + 3601))
            .unwrap_err()
            .code(),
        Code::Expired
    );

    // Without validity checking, the leaf never expires for this policy.
    let unchecked = validator(&pki, json!({"trust": {"check_validity": false}}));
    let p = accept(&unchecked, &late);
    assert_eq!(p.usable_until(), None);
    assert!(p.is_usable_at(at(u64::MAX / 2)));
    // Same through the builder.
    let built = Validator::builder(certclaims::crypto::ALL)
        .with_anchors([pki.root_der()])
        .with_clock_skew(Duration::from_secs(3600))
        .build()
        .unwrap();
    assert_eq!(
        secs(accept(&built, &late).usable_until()),
        Some(now - 60 + 3600)
    );
}

#[test]
fn usable_until_stops_at_an_issuer_that_expires_first() {
    // The issuing CA expires 1825 days after NOW; a leaf valid beyond that is usable only
    // until the CA expires, with or without validity checking of the leaf.
    let pki = Pki::new();
    let now = NOW.as_secs();
    let ca_until = now + 1825 * DAY;
    let long = pki
        .client("long")
        .validity(now - DAY, ca_until + DAY)
        .issue();
    for extra in [json!({}), json!({"trust": {"check_validity": false}})] {
        let v = validator(&pki, extra.clone());
        let p = accept(&v, &long);
        assert_eq!(
            p.usable_until().map(|t| t.as_secs()),
            Some(ca_until),
            "{extra}"
        );
        assert!(v
            .verify(long.leaf(), long.intermediates(), at(ca_until))
            .is_ok());
        assert!(v
            .verify(long.leaf(), long.intermediates(), at(ca_until + 1))
            .is_err());
    }
}

fn at(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(secs))
}

// --- Defect 5: the spiffe scheme in any spelling counts --------------------------------------

#[test]
fn any_spiffe_scheme_uri_counts_towards_exactly_one() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let alice = "spiffe://example.org/ns/prod/sa/alice";
    let spiffe_id = |uris: &[&str]| {
        let mut b = pki.client("w");
        for u in uris {
            b = b.uri(u);
        }
        accept(&v, &b.issue()).spiffe_id().map(String::from)
    };
    assert_eq!(spiffe_id(&[alice]), Some(alice.to_string()));
    for second in [
        "spiffe:/example.org/ns/prod/sa/admin",
        "spiffe:example.org/ns/prod/sa/admin",
        "SPIFFE:/example.org/ns/prod/sa/admin",
        "Spiffe://example.org/ns/prod/sa/admin",
    ] {
        assert_eq!(spiffe_id(&[alice, second]), None, "{second}");
        assert_eq!(spiffe_id(&[second, alice]), None, "{second}");
    }
    // Other schemes do not count.
    for other in [
        "https://example.org/ns/prod/sa/admin",
        "spiffex://example.org/ns/prod/sa/admin",
        "urn:spiffe:example.org",
    ] {
        assert_eq!(
            spiffe_id(&[alice, other]),
            Some(alice.to_string()),
            "{other}"
        );
    }
    // A spiffe_id rule then matches nothing.
    let rule = validator(
        &pki,
        json!({"identity": {"allow": [{"spiffe_id": "spiffe://example.org/ns/prod/sa/alice"}]}}),
    );
    reject(
        &rule,
        &pki.client("w")
            .uri(alice)
            .uri("spiffe:/example.org/ns/prod/sa/admin")
            .issue(),
        Code::PolicyDenied,
        Step::Policy,
    );
}

// --- Defect 6: a verdict does not depend on the route that admitted a certificate ------------

/// SHA-256 of the certificate's SubjectPublicKeyInfo, `sha256:<hex>`.
fn key_hash(issued: &Issued) -> String {
    use der::{Decode, Encode};
    use sha2::Digest;
    let cert = x509_cert::Certificate::from_der(issued.leaf()).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(spki)))
}

/// The three routes a self-signed certificate can take to admission.
fn routes(selfie: &Issued, extra: &Value) -> Vec<(&'static str, Value)> {
    let pin = selfie.fingerprint();
    let mut out = vec![
        (
            "pinned",
            json!({"trust": {"allowed_types": "all", "pinned": [pin]}}),
        ),
        (
            "pinned and listed as an anchor",
            json!({"trust": {"anchors": [selfie.leaf_pem()], "allowed_types": "all", "pinned": [pin]}}),
        ),
        (
            "unpinned opt-in",
            json!({"trust": {"allowed_types": "self_signed", "allow_unpinned_self_signed": true}}),
        ),
    ];
    for (_, p) in &mut out {
        common::merge(p, extra.clone());
    }
    out
}

#[test]
fn issuer_serial_deny_entries_deny_pinned_self_signed_leaves_on_every_route() {
    let pki = Pki::new();
    let selfie = pki.client("selfie").self_signed().serial(0x77).issue();
    let other = pki.client("other").self_signed().serial(0x78).issue();
    for entry in [
        json!({"issuer": selfie.fingerprint(), "serial": "77"}),
        json!({"issuer_key": key_hash(&selfie), "serial": "0077"}),
    ] {
        let deny = json!({"trust": {"deny": [entry.clone()]}});
        for (route, extra) in routes(&selfie, &deny) {
            let v = validator(&pki, extra);
            let r = reject(&v, &selfie, Code::Denied, Step::Validation);
            assert_eq!(
                r.detail(),
                format!(
                    "self-signed certificate {} is deny-listed by issuer and serial",
                    selfie.fingerprint()
                ),
                "{route}, {entry}"
            );
        }
        // Another serial, or the same serial under another issuer, is not denied.
        let v = validator(
            &pki,
            json!({"trust": {"allowed_types": "all", "allow_unpinned_self_signed": true, "deny": [entry]}}),
        );
        accept(&v, &other);
    }
    let v = validator(
        &pki,
        json!({"trust": {"allowed_types": "all", "allow_unpinned_self_signed": true,
            "deny": [{"issuer": other.fingerprint(), "serial": "77"}]}}),
    );
    accept(&v, &selfie);
}

#[test]
fn crls_do_not_change_a_self_signed_verdict_by_route() {
    // Self-signed leaves are not subject to CRLs (README); listing one as an anchor as well
    // must not make a CRL policy apply to it.
    let pki = Pki::new();
    let selfie = pki.client("selfie").self_signed().issue();
    let crl = json!({"trust": {"crls": [crl_pem(&pki.crl(&[]))],
        "revocation": {"depth": "chain", "unknown_status": "deny"}}});
    for (route, extra) in routes(&selfie, &crl) {
        let v = validator(&pki, extra);
        let p = verify(&v, &selfie).unwrap_or_else(|r| panic!("{route}: {r}"));
        assert_eq!(p.chain().len(), 1, "{route}");
    }
}
