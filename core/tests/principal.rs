//! The principal: its claim list (ASP.NET Core claim types, policy claims) and its JSON shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certclaims::test_kit::{Issued, Pki};
use certclaims::{claim_types as ct, value_types as vt, Principal};
use serde_json::{json, Value};

use common::{accept, hex_of, sha1_upper, validator};

const STR: &str = vt::STRING;
const LOCAL: &str = "LOCAL AUTHORITY";

fn rich(pki: &Pki) -> Issued {
    pki.client("alice")
        .org("Example Corp")
        .ou("payments")
        .serial(0x80)
        .dns("alice.svc.example")
        .dns("alice.payments.example")
        .email("alice@example.com")
        .email("a.smith@example.com")
        .upn("alice@corp.example")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .uri("https://example.org/users/alice")
        .issue()
}

/// The claims as `(type, value, value_type, issuer)`.
fn claims(p: &Principal) -> Vec<(&str, &str, &str, &str)> {
    p.claims()
        .iter()
        .map(|c| (c.claim_type(), c.value(), c.value_type(), c.issuer()))
        .collect()
}

#[test]
fn claim_list_of_a_rich_leaf() {
    let pki = Pki::new();
    let alice = rich(&pki);
    let p = accept(&validator(&pki, json!({})), &alice);
    let subject = "CN=alice,OU=payments,O=Example Corp";
    let issuer = "CN=Test Issuing CA,O=certclaims test kit";
    let thumb = sha1_upper(alice.leaf());
    assert_eq!(
        claims(&p),
        vec![
            (ct::NAME_IDENTIFIER, subject, STR, LOCAL),
            (ct::NAME, subject, STR, LOCAL),
            (ct::X500_DISTINGUISHED_NAME, subject, STR, LOCAL),
            (ct::THUMBPRINT, thumb.as_str(), vt::BASE64_BINARY, LOCAL),
            (ct::SERIAL_NUMBER, "80", STR, LOCAL),
            (ct::ISSUER, issuer, STR, LOCAL),
            (ct::DNS, "alice.svc.example", STR, LOCAL),
            (ct::DNS, "alice.payments.example", STR, LOCAL),
            (ct::EMAIL, "alice@example.com", STR, LOCAL),
            (ct::EMAIL, "a.smith@example.com", STR, LOCAL),
            (ct::UPN, "alice@corp.example", STR, LOCAL),
            (ct::URI, "spiffe://example.org/ns/prod/sa/alice", STR, LOCAL),
            (ct::URI, "https://example.org/users/alice", STR, LOCAL),
        ]
    );
    // The URIs ASP.NET Core uses, spelled out once.
    assert_eq!(
        ct::NAME_IDENTIFIER,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
    );
    assert_eq!(
        ct::NAME,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
    );
    assert_eq!(
        ct::X500_DISTINGUISHED_NAME,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/x500distinguishedname"
    );
    assert_eq!(
        ct::THUMBPRINT,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/thumbprint"
    );
    assert_eq!(
        ct::SERIAL_NUMBER,
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/serialnumber"
    );
    assert_eq!(
        ct::DNS,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/dns"
    );
    assert_eq!(
        ct::EMAIL,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    );
    assert_eq!(
        ct::UPN,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
    );
    assert_eq!(
        ct::URI,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/uri"
    );
    assert_eq!(ct::ISSUER, "issuer");
    assert_eq!(vt::STRING, "http://www.w3.org/2001/XMLSchema#string");
    assert_eq!(
        vt::BASE64_BINARY,
        "http://www.w3.org/2001/XMLSchema#base64Binary"
    );

    // Accessors agree with the claims.
    assert_eq!(
        p.claim_values(ct::DNS).collect::<Vec<_>>(),
        ["alice.svc.example", "alice.payments.example"]
    );
    assert!(p.has_claim(ct::UPN, "alice@corp.example"));
    assert!(!p.has_claim(ct::UPN, "bob@corp.example"));
    assert_eq!(p.thumbprint_sha1(), thumb);
    assert_eq!(thumb.len(), 40);
    assert!(thumb
        .chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
}

#[test]
fn serial_is_uppercase_hex_without_leading_zero() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    // 0x80 is DER-encoded as 00 80 (sign byte); the claim drops it. 0x0102 keeps both bytes.
    for (serial, hex) in [
        (0x80u64, "80"),
        (0x0102, "0102"),
        (0x01, "01"),
        (0xABCDEF, "ABCDEF"),
        (0x7F, "7F"),
    ] {
        let p = accept(&v, &pki.client("s").serial(serial).issue());
        assert_eq!(p.serial(), hex, "{serial:#x}");
        assert_eq!(p.claim_values(ct::SERIAL_NUMBER).collect::<Vec<_>>(), [hex]);
    }
}

#[test]
fn policy_claims_and_claims_issuer() {
    let pki = Pki::new();
    let alice = rich(&pki);
    let bob = pki.client("bob").dns("bob.svc.example").issue();
    let policy = json!({"claims": {
        "issuer": "https://certclaims.example",
        "add": [
            {"when": {"spiffe_id": "spiffe://example.org/ns/*/sa/alice"},
             "claims": {"role": ["reader", "writer"], "tenant": "acme"}},
            {"when": {"dns": "*.svc.example"}, "claims": {"http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "svc"}},
            {"when": {"subject": {"cn": "nobody"}}, "claims": {"role": "never"}},
        ],
    }});
    let v = validator(&pki, policy);
    let iss = "https://certclaims.example";

    let p = accept(&v, &alice);
    let all = claims(&p);
    assert!(
        all.iter().all(|c| c.3 == iss),
        "every claim carries claims.issuer"
    );
    assert_eq!(
        all[13..],
        [
            // `role` is granted as ASP.NET's ClaimTypes.Role; other short types as written.
            (ct::ROLE, "reader", STR, iss),
            (ct::ROLE, "writer", STR, iss),
            ("tenant", "acme", STR, iss),
            (
                "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
                "svc",
                STR,
                iss
            ),
        ]
    );
    assert_eq!(all.len(), 17);

    let p = accept(&v, &bob);
    let extra: Vec<_> = claims(&p)
        .into_iter()
        .filter(|c| {
            !c.0.starts_with("http://schemas.xmlsoap.org")
                && c.0 != ct::SERIAL_NUMBER
                && c.0 != ct::ISSUER
        })
        .collect();
    assert_eq!(
        extra,
        [(
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
            "svc",
            STR,
            iss
        )]
    );
    assert!(!p.has_claim("role", "never"));
    // The short and the full type ask the same question; IsInRole reads the same claims.
    let a = accept(&v, &alice);
    assert!(a.has_claim("role", "writer") && a.has_claim(ct::ROLE, "writer"));
    assert!(a.is_in_role("reader") && a.is_in_role("svc") && !a.is_in_role("acme"));
    assert_eq!(
        a.claim_values("role").collect::<Vec<_>>(),
        ["reader", "writer", "svc"]
    );
    assert_eq!(a.claim_values("tenant").collect::<Vec<_>>(), ["acme"]);
    assert!(!a.has_claim("Role", "reader"), "types are case-sensitive");

    // Default issuer.
    let p = accept(&validator(&pki, json!({})), &bob);
    assert!(p.claims().iter().all(|c| c.issuer() == "LOCAL AUTHORITY"));
}

#[test]
fn principal_json_shape() {
    let pki = Pki::new();
    let alice = pki
        .client("alice")
        .org("Example Corp")
        .ou("payments")
        .serial(0x0102)
        .dns("alice.svc.example")
        .email("alice@example.com")
        .upn("alice@corp.example")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .ip("10.1.2.3".parse().unwrap())
        .ip("2001:db8::1".parse().unwrap())
        .ip("192.0.2.7".parse().unwrap())
        .issue();
    let p = accept(
        &validator(
            &pki,
            json!({"claims": {"add": [{"when": {"dns": "alice.svc.example"}, "claims": {"role": "admin"}}]}}),
        ),
        &alice,
    );

    let subject = "CN=alice,OU=payments,O=Example Corp";
    let issuing = "CN=Test Issuing CA,O=certclaims test kit";
    let root = "CN=Test Root CA,O=certclaims test kit";
    let fp = hex_of(&alice.fingerprint()).to_string();
    let thumb = sha1_upper(alice.leaf());
    let c = |t: &str, v: &str, ty: &str| json!({"type": t, "value": v, "value_type": ty, "issuer": LOCAL});
    let expected = json!({
        "authentication_type": "Certificate",
        "source": "direct",
        "subject": subject,
        "issuer": issuing,
        "common_name": "alice",
        "serial": "0102",
        "fingerprint_sha256": fp,
        "thumbprint_sha1": thumb,
        "not_before": "2026-05-02T00:00:00Z",
        "not_after": "2027-06-01T00:00:00Z",
        "spiffe_id": "spiffe://example.org/ns/prod/sa/alice",
        "dns": ["alice.svc.example"],
        "uris": ["spiffe://example.org/ns/prod/sa/alice"],
        "emails": ["alice@example.com"],
        "upns": ["alice@corp.example"],
        "ips": ["10.1.2.3", "2001:db8::1", "192.0.2.7"],
        "chain": [
            {"subject": subject, "issuer": issuing, "fingerprint_sha256": fp},
            {"subject": issuing, "issuer": root, "fingerprint_sha256": hex_of(&pki.issuing_ca().fingerprint())},
            {"subject": root, "issuer": root, "fingerprint_sha256": hex_of(&pki.root().fingerprint())},
        ],
        "claims": [
            c(ct::NAME_IDENTIFIER, subject, STR),
            c(ct::NAME, subject, STR),
            c(ct::X500_DISTINGUISHED_NAME, subject, STR),
            c(ct::THUMBPRINT, &thumb, vt::BASE64_BINARY),
            c(ct::SERIAL_NUMBER, "0102", STR),
            c(ct::ISSUER, issuing, STR),
            c(ct::DNS, "alice.svc.example", STR),
            c(ct::EMAIL, "alice@example.com", STR),
            c(ct::UPN, "alice@corp.example", STR),
            c(ct::URI, "spiffe://example.org/ns/prod/sa/alice", STR),
            c(ct::ROLE, "admin", STR),
        ],
    });
    let got = p.to_json();
    assert_eq!(got, expected);
    // `serde_json::to_value` of the Principal is the same document.
    assert_eq!(serde_json::to_value(&p).unwrap(), expected);

    // Key order and formats, checked on their own so a diff is readable.
    let keys: Vec<&str> = got
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let want = vec![
        "authentication_type",
        "source",
        "subject",
        "issuer",
        "common_name",
        "serial",
        "fingerprint_sha256",
        "thumbprint_sha1",
        "not_before",
        "not_after",
        "spiffe_id",
        "dns",
        "uris",
        "emails",
        "upns",
        "ips",
        "chain",
        "claims",
    ];
    // Declaration order (serde_json's `preserve_order`): the CLI, the adapters and the npm
    // package print the same document byte for byte.
    assert_eq!(keys, want);
    assert_eq!(fp.len(), 64);
    assert!(fp
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));

    // Typed accessors.
    assert_eq!(p.authentication_type(), "Certificate");
    assert_eq!(p.common_name(), Some("alice"));
    assert_eq!(
        p.not_before().as_secs(),
        certclaims::test_kit::NOW.as_secs() - 30 * certclaims::test_kit::DAY
    );
    assert_eq!(
        p.not_after().as_secs(),
        certclaims::test_kit::NOW.as_secs() + 365 * certclaims::test_kit::DAY
    );
    assert_eq!(p.ips(), ["10.1.2.3", "2001:db8::1", "192.0.2.7"]);
    assert_eq!(
        p.chain()[1].fingerprint_sha256(),
        hex_of(&pki.issuing_ca().fingerprint())
    );
}

fn spiffe_of(pki: &Pki, uris: &[&str]) -> Value {
    let mut b = pki.client("w");
    for u in uris {
        b = b.uri(u);
    }
    let p = accept(&validator(pki, json!({})), &b.issue());
    p.to_json()["spiffe_id"].clone()
}

#[test]
fn spiffe_id_needs_exactly_one_spiffe_uri() {
    let pki = Pki::new();
    assert_eq!(spiffe_of(&pki, &[]), Value::Null);
    assert_eq!(spiffe_of(&pki, &["https://example.org/a"]), Value::Null);
    assert_eq!(
        spiffe_of(&pki, &["https://example.org/a", "spiffe://example.org/a"]),
        json!("spiffe://example.org/a")
    );
    assert_eq!(
        spiffe_of(&pki, &["spiffe://example.org/a", "spiffe://example.org/b"]),
        Value::Null
    );
}

#[test]
fn minimal_leaf_json_has_empty_lists_and_nulls() {
    let pki = Pki::new();
    let p = accept(&validator(&pki, json!({})), &pki.client("bare").issue());
    let j = p.to_json();
    for key in ["dns", "uris", "emails", "upns", "ips"] {
        assert_eq!(j[key], json!([]), "{key}");
    }
    assert_eq!(j["spiffe_id"], Value::Null);
    assert_eq!(j["common_name"], json!("bare"));
    assert_eq!(j["claims"].as_array().unwrap().len(), 6);
}

/// `Principal::as_json_values` writes its text by hand: it must be exactly serde_json's text
/// of the `Serialize` form's values in their order, for every string a principal can carry —
/// every ASCII byte (the control characters, `"` and `\` escaped), non-ASCII text, empty and
/// absent values.
#[test]
fn as_json_values_is_serde_jsons_text_of_the_serialize_forms_values() {
    let pki = Pki::new();
    let every_ascii: String = (0u8..0x80).map(char::from).collect();
    let policy = json!({"claims": {
        "issuer": "urn:\"quoted\"\\back\u{1}slash",
        "add": [{"when": {"issuer": {"cn": "Test Issuing CA"}}, "claims": {
            "ascii": every_ascii,
            "unicode": ["é ü 中文 🦀 \u{2028}\u{2029} \u{7f}", "", "\\\\\"\"\n\r\t\u{8}\u{c}\u{1f}"],
            "role": ["a\"b", "tail\\"],
        }}],
    }});
    let v = validator(&pki, policy);
    let leaves = [
        rich(&pki),
        pki.client("bare").issue(),
        pki.client("q\"uo\\te, \"é\" 中文 + = < > # ; 🦀")
            .org("Org, with \"quotes\"")
            .ou("\\back\\slash")
            .dns("x.example")
            .ip("127.0.0.1".parse().unwrap())
            .ip("::1".parse().unwrap())
            .email("e@example.com")
            .issue(),
    ];
    for leaf in &leaves {
        let p = accept(&v, leaf);
        let values = common::json_values(&p);
        assert_eq!(p.as_json_values(), serde_json::to_string(&values).unwrap());
        // And it is JSON that reads back as the same values.
        assert_eq!(
            serde_json::from_str::<Value>(p.as_json_values()).unwrap(),
            values
        );
    }
    // The escapes were exercised: the claim of every ASCII byte is in the text, escaped.
    let p = accept(&v, &leaves[0]);
    assert!(p.as_json_values().contains(
        r#""ascii","\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e"#
    ));
    assert!(p.as_json_values().contains(r##" !\"#$%&'()*+,-./0123"##));
    assert!(p.as_json_values().contains(r#"Z[\\]^_`a"#));
}
