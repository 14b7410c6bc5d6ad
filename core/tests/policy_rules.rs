//! Identity rules (every matcher kind, AND within a rule, OR across rules) and policy loading.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certclaims::test_kit::{ClientBuilder, Issued, Pki};
use certclaims::{Code, Policy, PolicyError, Step, Validator};
use serde_json::{json, Value};

use common::{policy, reject, validator, verify};

/// Runs `rule` (one `identity.allow` entry) against each `(label, leaf, admitted)` row.
fn check_rule(pki: &Pki, rule: Value, rows: &[(&str, &Issued, bool)]) {
    let v = validator(pki, json!({"identity": {"allow": [rule.clone()]}}));
    let mut failures = Vec::new();
    for (label, leaf, admitted) in rows {
        match (verify(&v, leaf), admitted) {
            (Ok(_), true) => {}
            (Err(r), false) if (r.code(), r.step()) == (Code::PolicyDenied, Step::Policy) => {}
            (got, _) => failures.push(format!(
                "{rule} vs {label}: expected admitted={admitted}, got {got:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn with_uri(pki: &Pki, uri: &str) -> Issued {
    pki.client("w").uri(uri).issue()
}

#[test]
fn spiffe_id_wildcards_are_exactly_one_segment() {
    let pki = Pki::new();
    let exact = with_uri(&pki, "spiffe://example.org/ns/prod/sa/alice");
    let zero = with_uri(&pki, "spiffe://example.org/ns/sa/alice");
    let empty = with_uri(&pki, "spiffe://example.org/ns//sa/alice");
    let two = with_uri(&pki, "spiffe://example.org/ns/prod/eu/sa/alice");
    let other_td = with_uri(&pki, "spiffe://example.com/ns/prod/sa/alice");
    let longer = with_uri(&pki, "spiffe://example.org/ns/prod/sa/alice/extra");
    let no_spiffe = pki
        .client("w")
        .uri("https://example.org/ns/prod/sa/alice")
        .issue();
    let two_ids = pki
        .client("w")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .spiffe("spiffe://example.org/ns/prod/sa/bob")
        .issue();
    check_rule(
        &pki,
        json!({"spiffe_id": "spiffe://example.org/ns/*/sa/alice"}),
        &[
            ("one segment", &exact, true),
            ("zero segments", &zero, false),
            ("an empty segment", &empty, false),
            ("two segments", &two, false),
            ("another trust domain", &other_td, false),
            ("a longer path", &longer, false),
            ("an https URI only", &no_spiffe, false),
            ("two SPIFFE IDs (no SPIFFE ID at all)", &two_ids, false),
        ],
    );
    check_rule(
        &pki,
        json!({"spiffe_id": "spiffe://example.org/ns/prod/sa/alice"}),
        &[
            ("exact", &exact, true),
            ("longer", &longer, false),
            ("two segments", &two, false),
        ],
    );
    check_rule(
        &pki,
        json!({"spiffe_id": "spiffe://example.org/*/*/*/*"}),
        &[("four", &exact, true), ("five", &two, false)],
    );
    // A trust domain alone matches only an ID without a path.
    let bare = with_uri(&pki, "spiffe://example.org");
    check_rule(
        &pki,
        json!({"spiffe_id": "spiffe://example.org"}),
        &[("bare", &bare, true), ("with path", &exact, false)],
    );
}

#[test]
fn spiffe_double_star_is_every_id_below() {
    let pki = Pki::new();
    let id = |u: &str| with_uri(&pki, u);
    let deep = id("spiffe://example.org/ns/prod/sa/alice");
    let one = id("spiffe://example.org/ns");
    let bare = id("spiffe://example.org");
    let other_td = id("spiffe://example.com/ns/prod");
    let suffix_td = id("spiffe://example.org.evil/ns/prod");
    let prefix_path = id("spiffe://example.org/nsx/a");
    let upper_path = id("spiffe://example.org/NS/a");
    check_rule(
        &pki,
        json!({"spiffe_id": "spiffe://example.org/**"}),
        &[
            ("four segments", &deep, true),
            ("one segment", &one, true),
            ("the trust domain's own ID (no path)", &bare, false),
            ("another trust domain", &other_td, false),
            ("a trust domain that extends it", &suffix_td, false),
        ],
    );
    check_rule(
        &pki,
        json!({"spiffe_id": "spiffe://example.org/ns/**"}),
        &[
            ("below ns", &deep, true),
            ("ns itself", &one, false),
            ("a segment that starts with ns", &prefix_path, false),
            ("NS (paths are case-sensitive)", &upper_path, false),
        ],
    );
    check_rule(
        &pki,
        json!({"spiffe_id": "spiffe://example.org/*/prod/**"}),
        &[("ns/prod/sa/alice", &deep, true), ("ns alone", &one, false)],
    );
}

#[test]
fn spiffe_patterns_no_id_could_match_are_refused() {
    let pki = Pki::new();
    let cases: [(&str, &str); 9] = [
        ("spiffe://Example.org/ns/*", "the trust domain `Example.org` is not one a SPIFFE ID can have: lower-case letters, digits, `.`, `-` and `_` only (write `example.org`)"),
        ("spiffe://example.org/ns//sa", "has an empty path segment (`//`)"),
        ("spiffe://example.org/ns/", "ends with `/`, which no SPIFFE ID does: remove it, or end with `/**` for every ID below"),
        ("spiffe://example.org/", "ends with `/`"),
        ("spiffe://example.org/ns/../sa", "has a dot segment (`..`)"),
        ("spiffe://example.org/ns/./sa", "has a dot segment (`.`)"),
        ("spiffe://example.org/ns%2Fprod", "`ns%2Fprod` in `spiffe://example.org/ns%2Fprod` has a character no SPIFFE ID path has"),
        ("spiffe://example.org/**/sa", "`**` must be the last segment of `spiffe://example.org/**/sa`"),
        ("spiffe://example.org/ns/a**", "`*` must be a whole path segment"),
    ];
    for (pattern, reason) in cases {
        let err = load_error(
            &pki,
            json!({"identity": {"allow": [{"spiffe_id": pattern}]}}),
        );
        match &err {
            PolicyError::Invalid { field, reason: r } => {
                assert_eq!(field, "identity.allow[0].spiffe_id", "{pattern}");
                assert!(r.contains(reason), "{pattern}: {r:?} lacks {reason:?}");
            }
            other => panic!("{pattern}: {other:?}"),
        }
    }
}

#[test]
fn dns_wildcard_is_one_label_and_case_insensitive() {
    let pki = Pki::new();
    let one = pki.client("w").dns("a.svc.example").issue();
    let upper = pki.client("w").dns("API.SVC.Example").issue();
    let two = pki.client("w").dns("a.b.svc.example").issue();
    let zero = pki.client("w").dns("svc.example").issue();
    let other = pki.client("w").dns("a.svc.example.org").issue();
    let second_san = pki
        .client("w")
        .dns("unrelated.example")
        .dns("b.svc.example")
        .issue();
    let none = pki.client("w").issue();
    check_rule(
        &pki,
        json!({"dns": "*.svc.example"}),
        &[
            ("one label", &one, true),
            ("upper case", &upper, true),
            ("two labels", &two, false),
            ("zero labels", &zero, false),
            ("a longer suffix", &other, false),
            ("the second SAN", &second_san, true),
            ("no DNS SAN", &none, false),
        ],
    );
    check_rule(
        &pki,
        json!({"dns": "SVC.example"}),
        &[
            ("exact, other case", &zero, true),
            ("subdomain", &one, false),
        ],
    );
    check_rule(
        &pki,
        json!({"dns": "*.*.svc.example"}),
        &[("two labels", &two, true), ("one label", &one, false)],
    );
}

#[test]
fn email_local_part_is_exact_or_star() {
    let pki = Pki::new();
    let alice = pki.client("w").email("alice@example.com").issue();
    let capital = pki.client("w").email("Alice@example.com").issue();
    let domain_case = pki.client("w").email("bob@EXAMPLE.com").issue();
    let sub = pki.client("w").email("alice@mail.example.com").issue();
    let none = pki.client("w").dns("example.com").issue();
    check_rule(
        &pki,
        json!({"email": "*@example.com"}),
        &[
            ("any local part", &alice, true),
            ("capital local part", &capital, true),
            ("domain in other case", &domain_case, true),
            ("subdomain", &sub, false),
            ("no email SAN", &none, false),
        ],
    );
    check_rule(
        &pki,
        json!({"email": "alice@example.com"}),
        &[
            ("exact", &alice, true),
            ("local part case differs", &capital, false),
            ("subdomain", &sub, false),
        ],
    );
    check_rule(
        &pki,
        json!({"email": "alice@*.example.com"}),
        &[("subdomain", &sub, true), ("apex", &alice, false)],
    );
}

#[test]
fn uri_segments() {
    let pki = Pki::new();
    let alice = with_uri(&pki, "https://example.org/users/alice");
    let deeper = with_uri(&pki, "https://example.org/users/alice/keys");
    let empty = with_uri(&pki, "https://example.org/users/");
    let host = with_uri(&pki, "https://EXAMPLE.org/users/alice");
    let spiffe = with_uri(&pki, "spiffe://example.org/users/alice");
    check_rule(
        &pki,
        json!({"uri": "https://example.org/users/*"}),
        &[
            ("one segment", &alice, true),
            ("two segments", &deeper, false),
            ("empty segment", &empty, false),
            ("byte-exact host", &host, false),
            ("other scheme", &spiffe, false),
        ],
    );
    check_rule(
        &pki,
        json!({"uri": "spiffe://example.org/users/alice"}),
        &[("spiffe URI by uri", &spiffe, true)],
    );
}

fn corp<'a>(pki: &'a Pki, cn: &str) -> ClientBuilder<'a> {
    pki.client(cn).org("Example Corp").ou("payments")
}

#[test]
fn subject_and_issuer_attributes() {
    let pki = Pki::new();
    let alice = corp(&pki, "alice").issue();
    let plain = pki.client("alice").issue();
    check_rule(
        &pki,
        json!({"subject": {"cn": "alice"}}),
        &[("cn", &alice, true), ("cn only", &plain, true)],
    );
    check_rule(
        &pki,
        json!({"subject": {"cn": "alice", "o": "Example Corp", "ou": "payments"}}),
        &[("all three", &alice, true), ("missing o/ou", &plain, false)],
    );
    check_rule(
        &pki,
        json!({"subject": {"cn": "Alice"}}),
        &[("case-sensitive", &alice, false)],
    );
    check_rule(
        &pki,
        json!({"subject": {"o": "Other Corp"}}),
        &[("other o", &alice, false)],
    );
    check_rule(
        &pki,
        json!({"subject": {"ou": "*"}}),
        &[("ou present", &alice, true), ("ou absent", &plain, false)],
    );
    check_rule(
        &pki,
        json!({"issuer": {"cn": "Test Issuing CA", "o": "certclaims test kit"}}),
        &[("leaf issuer", &alice, true)],
    );
    check_rule(
        &pki,
        json!({"issuer": {"cn": "Test Root CA"}}),
        &[("not the root", &alice, false)],
    );
    check_rule(
        &pki,
        json!({"issuer": {"cn": "alice"}}),
        &[("issuer, not subject", &alice, false)],
    );
}

#[test]
fn fingerprint_pin() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let bob = pki.client("bob").issue();
    let hex = common::hex_of(&alice.fingerprint()).to_string();
    let colons_upper = format!(
        "SHA256:{}",
        hex.to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":")
    );
    for pattern in [alice.fingerprint(), colons_upper] {
        check_rule(
            &pki,
            json!({"fingerprint": pattern}),
            &[("alice", &alice, true), ("bob", &bob, false)],
        );
    }
}

#[test]
fn and_within_a_rule_or_across_rules() {
    let pki = Pki::new();
    let alice = pki.client("alice").dns("alice.svc.example").issue();
    let bob = pki.client("bob").dns("bob.svc.example").issue();
    let carol = pki.client("carol").dns("carol.other.example").issue();

    // AND: both matchers must hold.
    check_rule(
        &pki,
        json!({"dns": "*.svc.example", "subject": {"cn": "alice"}}),
        &[
            ("alice", &alice, true),
            ("bob: dns only", &bob, false),
            ("carol: neither", &carol, false),
        ],
    );

    // OR: any rule admits.
    let v = validator(
        &pki,
        json!({"identity": {"allow": [{"subject": {"cn": "carol"}}, {"dns": "alice.svc.example"}]}}),
    );
    assert_eq!(verify(&v, &alice).unwrap().subject(), "CN=alice");
    assert_eq!(verify(&v, &carol).unwrap().subject(), "CN=carol");
    let r = reject(&v, &bob, Code::PolicyDenied, Step::Policy);
    assert_eq!(r.detail(), "no identity rule admits `CN=bob`");
}

#[test]
fn empty_allow_admits_every_valid_certificate() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    for extra in [
        json!({}),
        json!({"identity": {}}),
        json!({"identity": {"allow": []}}),
    ] {
        let v = validator(&pki, extra.clone());
        assert_eq!(verify(&v, &alice).unwrap().subject(), "CN=alice", "{extra}");
        // Validation still applies.
        reject(
            &v,
            &pki.client("old").expired().issue(),
            Code::Expired,
            Step::Validation,
        );
    }
}

/// Loads `extra` merged into a valid policy and returns the error.
fn load_error(pki: &Pki, extra: Value) -> PolicyError {
    let json = policy(pki, extra).to_string();
    Validator::from_policy_json(&json, certclaims::crypto::ALL).expect_err(&json)
}

fn invalid(field: &str, reason_contains: &str, err: PolicyError) {
    match &err {
        PolicyError::Invalid { field: f, reason } => {
            assert_eq!(f, field, "{err}");
            assert!(
                reason.contains(reason_contains),
                "reason {reason:?} lacks {reason_contains:?}"
            );
            assert_eq!(
                err.to_string(),
                format!("invalid policy field `{field}`: {reason}")
            );
        }
        other => panic!("expected Invalid {{ field: {field} }}, got {other:?}"),
    }
}

#[test]
fn unknown_fields_are_named() {
    let pki = Pki::new();
    let cases = [
        (json!({"trust": {"anchor": []}}), "anchor"),
        (
            json!({"identity": {"allow": [{"dns_name": "a.example"}]}}),
            "dns_name",
        ),
        (
            json!({"identity": {"allow": [{"subject": {"common_name": "a"}}]}}),
            "common_name",
        ),
        (json!({"claims": {"issuers": "x"}}), "issuers"),
        (json!({"trust": {"revocation": {"mode": "x"}}}), "mode"),
        (json!({"extra": true}), "extra"),
    ];
    for (extra, field) in cases {
        match load_error(&pki, extra.clone()) {
            PolicyError::Json(msg) => {
                assert!(
                    msg.contains(&format!("unknown field `{field}`")),
                    "{extra}: {msg}"
                );
                assert!(PolicyError::Json(msg.clone())
                    .to_string()
                    .starts_with("invalid policy JSON: unknown field"));
            }
            other => panic!("{extra}: expected Json, got {other:?}"),
        }
    }
}

#[test]
fn version_must_be_one() {
    let pki = Pki::new();
    assert_eq!(
        load_error(&pki, json!({"version": 2})),
        PolicyError::UnsupportedVersion(2)
    );
    assert_eq!(
        PolicyError::UnsupportedVersion(2).to_string(),
        "unsupported policy version 2 (this build reads version 1)"
    );
    assert_eq!(
        Policy::from_json(r#"{"version":0}"#),
        Err(PolicyError::UnsupportedVersion(0))
    );
    assert!(
        matches!(Policy::from_json(r#"{"trust":{}}"#), Err(PolicyError::Json(m)) if m.contains("missing field `version`"))
    );
    assert!(matches!(
        Policy::from_json("not json"),
        Err(PolicyError::Json(_))
    ));
    assert_eq!(Policy::from_json(r#"{"version":1}"#).unwrap().version, 1);
}

#[test]
fn bad_patterns_and_fingerprints_name_their_field() {
    let pki = Pki::new();
    let rule = |r: Value| json!({"identity": {"allow": [{"subject": {"cn": "ok"}}, r]}});
    invalid(
        "identity.allow[1].dns",
        "`*` must be a whole DNS label",
        load_error(&pki, rule(json!({"dns": "a*.example"}))),
    );
    invalid(
        "identity.allow[1].dns",
        "empty label",
        load_error(&pki, rule(json!({"dns": "a..example"}))),
    );
    invalid(
        "identity.allow[1].email",
        "`*` must be the whole local part",
        load_error(&pki, rule(json!({"email": "a*@example.com"}))),
    );
    invalid(
        "identity.allow[1].email",
        "`*` must be a whole DNS label",
        load_error(&pki, rule(json!({"email": "*@x*.example"}))),
    );
    invalid(
        "identity.allow[1].email",
        "local@domain",
        load_error(&pki, rule(json!({"email": "example.com"}))),
    );
    invalid(
        "identity.allow[1].uri",
        "`*` must be a whole path segment",
        load_error(&pki, rule(json!({"uri": "https://x/a*"}))),
    );
    invalid(
        "identity.allow[1].spiffe_id",
        "must start with `spiffe://`",
        load_error(&pki, rule(json!({"spiffe_id": "https://x/y"}))),
    );
    invalid(
        "identity.allow[1].spiffe_id",
        "trust domain must be literal",
        load_error(&pki, rule(json!({"spiffe_id": "spiffe://*/y"}))),
    );
    invalid(
        "identity.allow[1].spiffe_id",
        "`*` must be a whole path segment",
        load_error(&pki, rule(json!({"spiffe_id": "spiffe://td/a*"}))),
    );
    invalid(
        "identity.allow[1].fingerprint",
        "expected 64 hex digits",
        load_error(&pki, rule(json!({"fingerprint": "sha256:zz"}))),
    );
    invalid(
        "identity.allow[1].fingerprint",
        "expected `sha256:<64 hex digits>`",
        load_error(&pki, rule(json!({"fingerprint": "md5:00"}))),
    );
    invalid(
        "identity.allow[1].subject",
        "no attribute",
        load_error(&pki, rule(json!({"subject": {}}))),
    );
    invalid(
        "identity.allow[1]",
        "a rule needs at least one matcher",
        load_error(&pki, rule(json!({}))),
    );
    invalid(
        "trust.pinned[0]",
        "expected 64 hex digits",
        load_error(&pki, json!({"trust": {"pinned": ["sha256:abcd"]}})),
    );
    invalid(
        "trust.deny[0]",
        "expected `sha256:",
        load_error(&pki, json!({"trust": {"deny": ["abcd"]}})),
    );
    invalid(
        "trust.deny[0].issuer",
        "expected 64 hex digits",
        load_error(
            &pki,
            json!({"trust": {"deny": [{"issuer": "sha256:1", "serial": "01"}]}}),
        ),
    );
    invalid(
        "trust.deny[0].serial",
        "serial is not hex",
        load_error(
            &pki,
            json!({"trust": {"deny": [{"issuer": pki.root().fingerprint(), "serial": "xyz"}]}}),
        ),
    );
    invalid(
        "trust.anchors[0]",
        "holds no PEM CERTIFICATE block (-----BEGIN CERTIFICATE-----): write the PEM text here",
        load_error(&pki, json!({"trust": {"anchors": ["not pem"]}})),
    );
    invalid(
        "trust.crls[0]",
        "holds no PEM X509 CRL block",
        load_error(&pki, json!({"trust": {"crls": [pki.root_pem()]}})),
    );
    // Broken PEM is named by its entry, the byte and the fault (the reader of presented
    // chains reads a policy's PEM too).
    invalid(
        "trust.anchors[0]",
        "bad PEM, byte 30: `!` inside a CERTIFICATE block",
        load_error(
            &pki,
            json!({"trust": {"anchors": ["-----BEGIN CERTIFICATE-----\nMA!=\n-----END CERTIFICATE-----"]}}),
        ),
    );
    invalid(
        "trust.intermediates[0]",
        "bad PEM, byte 32: invalid base64",
        load_error(
            &pki,
            json!({"trust": {"intermediates": ["text\n-----BEGIN CERTIFICATE-----\nAAAAA\n-----END CERTIFICATE-----"]}}),
        ),
    );
    invalid(
        "trust.crls[0]",
        "bad PEM, byte 0: a X509 CRL block without its `-----END X509 CRL-----` line",
        load_error(
            &pki,
            json!({"trust": {"crls": ["-----BEGIN X509 CRL-----\nMAA=\n"]}}),
        ),
    );
    // An entry may be a bundle: a bad certificate in it is named by the entry and its place
    // in it, not by its place among all certificates.
    let bad = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let bundle = format!("{}{bad}", pki.root_pem());
    let err = load_error(
        &pki,
        json!({"trust": {"anchors": [pki.root_pem(), bundle], "intermediates": [pki.issuing_ca().pem(), bad]}}),
    );
    invalid(
        "trust.anchors[1]",
        "certificate 2 of the entry: not a usable trust anchor",
        err,
    );
    let err = load_error(
        &pki,
        json!({"trust": {"anchors": [format!("{}{}", pki.root_pem(), pki.root_pem())], "intermediates": [pki.issuing_ca().pem(), bad]}}),
    );
    invalid("trust.intermediates[1]", "expected a Certificate", err);
    invalid(
        "claims.add[0].when.dns",
        "`*` must be a whole DNS label",
        load_error(
            &pki,
            json!({"claims": {"add": [{"when": {"dns": "x*.y"}, "claims": {"role": "r"}}]}}),
        ),
    );
    invalid(
        "claims.add[0].when",
        "a rule needs at least one matcher",
        load_error(
            &pki,
            json!({"claims": {"add": [{"when": {}, "claims": {"role": "r"}}]}}),
        ),
    );
}

#[test]
fn a_policy_must_trust_something() {
    let nothing = [
        r#"{"version":1}"#,
        r#"{"version":1,"trust":{"anchors":[]}}"#,
        r#"{"version":1,"trust":{"allowed_types":"self_signed"}}"#,
        r#"{"version":1,"trust":{"allowed_types":"all"}}"#,
        // Pins are ignored when only chained certificates are allowed.
        r#"{"version":1,"trust":{"pinned":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}"#,
        r#"{"version":1,"trust":{"allow_unpinned_self_signed":true}}"#,
    ];
    for json in nothing {
        assert_eq!(
            Validator::from_policy_json(json, certclaims::crypto::ALL).unwrap_err(),
            PolicyError::NoTrust,
            "{json}"
        );
    }
    assert!(PolicyError::NoTrust
        .to_string()
        .starts_with("policy trusts nothing"));
    let some = [
        r#"{"version":1,"trust":{"allowed_types":"self_signed","allow_unpinned_self_signed":true}}"#,
        r#"{"version":1,"trust":{"allowed_types":"all","pinned":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}"#,
    ];
    for json in some {
        assert!(
            Validator::from_policy_json(json, certclaims::crypto::ALL).is_ok(),
            "{json}"
        );
    }
    // The builder applies the same rule.
    assert_eq!(
        certclaims::Validator::builder(certclaims::crypto::ALL)
            .build()
            .unwrap_err(),
        PolicyError::NoTrust
    );
}

/// Revocation options without a CRL would check nothing: the policy is refused, naming
/// `trust.revocation` and what to do.
#[test]
fn revocation_without_crls_is_an_error() {
    let pki = Pki::new();
    for revocation in [
        json!({}),
        json!({"depth": "chain", "unknown_status": "deny"}),
    ] {
        match load_error(&pki, json!({"trust": {"revocation": revocation}})) {
            PolicyError::Json(msg) => {
                assert!(
                    msg.starts_with("trust.revocation is configured but trust.crls is empty")
                        && msg.contains("add the CA's CRLs to trust.crls"),
                    "{msg}"
                );
            }
            other => panic!("{revocation}: expected Json, got {other:?}"),
        }
    }
}

/// The SHA-1 thumbprint of a DER certificate as Windows shows it: upper-case hex in pairs.
fn thumbprint(der: &[u8]) -> String {
    use sha1::Digest;
    let d = sha1::Sha1::digest(der);
    d.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn sha1_thumbprints_allow_and_deny_as_sha256_fingerprints_do() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let bob = pki.client("bob").issue();
    let alice_tp = thumbprint(alice.leaf().as_ref());
    // Allow: the thumbprint as ASP.NET users copy it, with spaces, under `sha1:`.
    check_rule(
        &pki,
        json!({"fingerprint": format!("sha1:{alice_tp}")}),
        &[("alice", &alice, true), ("bob", &bob, false)],
    );
    check_rule(
        &pki,
        json!({"fingerprint": format!("SHA1:{}", alice_tp.replace(' ', "").to_lowercase())}),
        &[("alice", &alice, true), ("bob", &bob, false)],
    );
    // Deny: the leaf, the intermediate, the issuer of a serial.
    let v = validator(
        &pki,
        json!({"trust": {"deny": [format!("sha1:{alice_tp}")]}}),
    );
    let r = reject(&v, &alice, Code::Denied, Step::Validation);
    assert!(r.detail().contains("is deny-listed"), "{r}");
    assert!(verify(&v, &bob).is_ok());
    let issuing_tp = thumbprint(pki.issuing_ca().der().as_ref());
    let v = validator(
        &pki,
        json!({"trust": {"deny": [format!("sha1:{issuing_tp}")]}}),
    );
    let r = reject(&v, &bob, Code::Denied, Step::Validation);
    assert!(
        r.detail()
            .starts_with("the intermediate `CN=Test Issuing CA"),
        "{r}"
    );
    let serial: String = alice.serial().iter().map(|b| format!("{b:02x}")).collect();
    let v = validator(
        &pki,
        json!({"trust": {"deny": [{"issuer": format!("sha1:{issuing_tp}"), "serial": serial}]}}),
    );
    reject(&v, &alice, Code::Denied, Step::Validation);
    assert!(verify(&v, &bob).is_ok());
    // A bare thumbprint or fingerprint says which prefix it needs.
    invalid(
        "trust.deny[0]",
        "(40 hex digits are a SHA-1 thumbprint: write `sha1:` before them)",
        load_error(&pki, json!({"trust": {"deny": [alice_tp.clone()]}})),
    );
    invalid(
        "identity.allow[1].fingerprint",
        "(64 hex digits are a SHA-256 fingerprint: write `sha256:` before them)",
        load_error(
            &pki,
            json!({"identity": {"allow": [{"subject": {"cn": "ok"}}, {"fingerprint": pki.root().fingerprint().trim_start_matches("sha256:")}]}}),
        ),
    );
    invalid(
        "trust.deny[0]",
        "expected 40 hex digits (a SHA-1 thumbprint) after `sha1:`",
        load_error(&pki, json!({"trust": {"deny": ["sha1:abcd"]}})),
    );
}
