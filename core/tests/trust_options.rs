//! Trust options: self-signed pins, EKU, validity and skew, depth, deny-lists, CRL policy,
//! and the same options set through the builder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use certclaims::policy::{
    AllowedTypes, DenyEntry, ExpiredCrl, Revocation, RevocationDepth, Rule, UnknownStatus,
};
use certclaims::test_kit::{Eku, Issued, Pki, DAY, NOW};
use certclaims::{Code, PolicyError, Step, Validator};
use serde_json::json;

use common::{accept, crl_pem, reject, validator};

fn now() -> u64 {
    NOW.as_secs()
}

#[test]
fn pinned_self_signed_is_accepted() {
    let pki = Pki::new();
    let selfie = pki
        .client("selfie")
        .dns("selfie.example")
        .self_signed()
        .issue();
    let alice = pki.client("alice").issue();
    let pin = selfie.fingerprint();

    // Only self-signed, no anchors at all.
    let only_self = validator(
        &pki,
        json!({"trust": {"anchors": [], "allowed_types": "self_signed", "pinned": [pin]}}),
    );
    let p = accept(&only_self, &selfie);
    assert_eq!(p.subject(), "CN=selfie");
    assert_eq!(p.issuer(), "CN=selfie");
    assert_eq!(p.dns(), ["selfie.example"]);
    // The chain of a self-signed principal is the certificate alone.
    assert_eq!(p.chain().len(), 1);
    assert_eq!(p.chain()[0].fingerprint_sha256(), common::hex_of(&pin));
    assert_eq!(p.chain()[0].issuer(), "CN=selfie");

    // `all`: pinned self-signed and chained clients both enter.
    let both = validator(
        &pki,
        json!({"trust": {"allowed_types": "all", "pinned": [pin]}}),
    );
    accept(&both, &selfie);
    assert_eq!(accept(&both, &alice).chain().len(), 3);
    // Another self-signed certificate is not pinned.
    let other = pki.client("other").self_signed().issue();
    let r = reject(&both, &other, Code::SelfSignedNotAllowed, Step::Validation);
    assert_eq!(
        r.detail(),
        format!(
            "self-signed certificate {} is not pinned",
            other.fingerprint()
        )
    );

    // Validation still applies to pinned self-signed certificates.
    let old = pki.client("old-selfie").self_signed().expired().issue();
    let server = pki
        .client("srv-selfie")
        .self_signed()
        .eku(Eku::ServerAuth)
        .issue();
    let pins = json!({"trust": {"allowed_types": "all", "pinned": [old.fingerprint(), server.fingerprint()]}});
    let v = validator(&pki, pins);
    reject(&v, &old, Code::Expired, Step::Validation);
    reject(&v, &server, Code::WrongUsage, Step::Validation);
}

#[test]
fn unpinned_self_signed_needs_the_opt_in() {
    let pki = Pki::new();
    let selfie = pki.client("selfie").self_signed().issue();

    // Chained policy: never.
    reject(
        &validator(&pki, json!({})),
        &selfie,
        Code::SelfSignedNotAllowed,
        Step::Validation,
    );
    reject(
        &validator(&pki, json!({"trust": {"allow_unpinned_self_signed": true}})),
        &selfie,
        Code::SelfSignedNotAllowed,
        Step::Validation,
    );
    // `all` with an unrelated pin: not pinned.
    let unrelated = pki.client("unrelated").self_signed().issue().fingerprint();
    reject(
        &validator(
            &pki,
            json!({"trust": {"allowed_types": "all", "pinned": [unrelated]}}),
        ),
        &selfie,
        Code::SelfSignedNotAllowed,
        Step::Validation,
    );
    // The opt-in admits any self-signed certificate, pinned or not.
    for allowed in ["all", "self_signed"] {
        let v = validator(
            &pki,
            json!({"trust": {"allowed_types": allowed, "allow_unpinned_self_signed": true}}),
        );
        assert_eq!(accept(&v, &selfie).chain().len(), 1, "{allowed}");
        let v = validator(
            &pki,
            json!({"trust": {"allowed_types": allowed, "allow_unpinned_self_signed": true, "pinned": [unrelated]}}),
        );
        assert_eq!(
            accept(&v, &selfie).chain().len(),
            1,
            "{allowed} with an unrelated pin"
        );
    }
    // ... but not a broken one: its signature is still checked.
    let mut der = selfie.leaf().to_vec();
    let n = der.len();
    der[n - 1] ^= 1;
    let v = validator(
        &pki,
        json!({"trust": {"allowed_types": "all", "allow_unpinned_self_signed": true}}),
    );
    assert_eq!(
        v.verify(&der.into(), &[], NOW).unwrap_err().code(),
        Code::BadSignature
    );
}

#[test]
fn self_signed_leaf_listed_as_an_anchor_is_still_self_signed() {
    let pki = Pki::new();
    let selfie = pki.client("selfie").self_signed().issue();
    let as_anchor = json!({"trust": {"anchors": [selfie.leaf_pem()]}});
    reject(
        &validator(&pki, as_anchor),
        &selfie,
        Code::SelfSignedNotAllowed,
        Step::Validation,
    );
    let pinned = json!({"trust": {"anchors": [selfie.leaf_pem()], "allowed_types": "all", "pinned": [selfie.fingerprint()]}});
    assert_eq!(accept(&validator(&pki, pinned), &selfie).chain().len(), 1);
}

#[test]
fn client_auth_eku_requirement() {
    let pki = Pki::new();
    let server = pki.client("server").eku(Eku::ServerAuth).issue();
    let none = pki.client("none").eku(Eku::None).issue();
    let both = pki.client("both").eku(Eku::Both).issue();
    let strict = validator(&pki, json!({}));
    reject(&strict, &server, Code::WrongUsage, Step::Validation);
    accept(&strict, &none); // no EKU extension: any usage
    accept(&strict, &both);
    let lax = validator(&pki, json!({"trust": {"require_client_auth_eku": false}}));
    accept(&lax, &server);
    accept(&lax, &none);
    accept(&lax, &both);
}

#[test]
fn extended_key_usage_in_the_policy_document() {
    use certclaims::policy::ExtendedKeyUsage;
    let pki = Pki::new();
    let server = pki.client("server").eku(Eku::ServerAuth).issue();
    let client = pki.client("client").eku(Eku::ClientAuth).issue();
    let none = pki.client("none").eku(Eku::None).issue();

    let server_mode = validator(
        &pki,
        json!({"trust": {"extended_key_usage": "server_auth"}}),
    );
    let p = accept(&server_mode, &server);
    assert_eq!(p.subject(), "CN=server");
    let r = reject(&server_mode, &client, Code::WrongUsage, Step::Validation);
    assert_eq!(
        r.detail(),
        "the leaf's extendedKeyUsage does not list serverAuth"
    );
    let r = reject(&server_mode, &none, Code::WrongUsage, Step::Validation);
    assert_eq!(
        r.detail(),
        "the leaf has no extendedKeyUsage extension; a server certificate must list \
         serverAuth (CA/Browser Forum BR 7.1.2.7.6)"
    );

    // Each mode named in the document, alone or with an agreeing `require_client_auth_eku`,
    // gives the builder's verdicts.
    let documents = [
        (
            json!({"extended_key_usage": "client_auth"}),
            ExtendedKeyUsage::ClientAuth,
        ),
        (
            json!({"extended_key_usage": "client_auth", "require_client_auth_eku": true}),
            ExtendedKeyUsage::ClientAuth,
        ),
        (
            json!({"extended_key_usage": "server_auth"}),
            ExtendedKeyUsage::ServerAuth,
        ),
        (json!({"extended_key_usage": "any"}), ExtendedKeyUsage::Any),
        (
            json!({"extended_key_usage": "any", "require_client_auth_eku": false}),
            ExtendedKeyUsage::Any,
        ),
        (
            json!({"require_client_auth_eku": false}),
            ExtendedKeyUsage::Any,
        ),
        (json!({}), ExtendedKeyUsage::ClientAuth),
    ];
    for (trust, eku) in documents {
        let from_json = validator(&pki, json!({ "trust": trust }));
        let built = Validator::builder(certclaims::crypto::ALL)
            .with_anchors([pki.root_der()])
            .with_required_eku(eku)
            .build()
            .unwrap();
        for leaf in [&server, &client, &none] {
            assert_eq!(
                common::verify(&from_json, leaf),
                common::verify(&built, leaf),
                "{trust} vs {eku:?}"
            );
        }
    }
}

#[test]
fn a_contradicting_require_client_auth_eku_is_a_policy_error() {
    let pki = Pki::new();
    let table = [
        (true, "server_auth", "client_auth"),
        (true, "any", "client_auth"),
        (false, "client_auth", "any"),
        (false, "server_auth", "any"),
    ];
    for (require, eku, legacy) in table {
        let json = common::policy(
            &pki,
            json!({"trust": {"require_client_auth_eku": require, "extended_key_usage": eku}}),
        )
        .to_string();
        let e = Validator::from_policy_json(&json, certclaims::crypto::ALL).unwrap_err();
        let reason = format!(
            "`{eku}` contradicts `require_client_auth_eku: {require}` (which means `{legacy}`); \
             give only `extended_key_usage`"
        );
        assert_eq!(
            e,
            PolicyError::Invalid {
                field: "trust.extended_key_usage".into(),
                reason: reason.clone(),
            }
        );
        assert_eq!(
            e.to_string(),
            format!("invalid policy field `trust.extended_key_usage`: {reason}")
        );
    }

    // A mode the schema does not know is a JSON error naming the accepted values.
    let json = common::policy(&pki, json!({"trust": {"extended_key_usage": "serverAuth"}}));
    let e = Validator::from_policy_json(&json.to_string(), certclaims::crypto::ALL).unwrap_err();
    let PolicyError::Json(msg) = e else {
        panic!("expected a JSON error, got {e:?}")
    };
    assert!(
        msg.starts_with(
            "unknown variant `serverAuth`, expected one of `client_auth`, `server_auth`, `any`"
        ),
        "{msg}"
    );
}

#[test]
fn validity_check_can_be_turned_off() {
    let pki = Pki::new();
    let old = pki.client("old").expired().issue();
    let early = pki.client("early").not_yet_valid().issue();
    let ancient = pki
        .client("ancient")
        .validity(now() - 900 * DAY, now() - 800 * DAY)
        .issue();
    let off = validator(&pki, json!({"trust": {"check_validity": false}}));
    let p = accept(&off, &old);
    assert_eq!(p.not_after().as_secs(), now() - DAY);
    assert_eq!(p.to_json()["not_after"], json!("2026-05-31T00:00:00Z"));
    accept(&off, &early);
    // Issuers are checked at the leaf's own time: the CAs were minted a year before NOW.
    reject(&off, &ancient, Code::NotYetValid, Step::Validation);
}

#[test]
fn clock_skew_tolerates_small_differences_only() {
    let pki = Pki::new();
    let early = pki
        .client("early")
        .validity(now() + 60, now() + 30 * DAY)
        .issue();
    let late = pki
        .client("late")
        .validity(now() - 30 * DAY, now() - 60)
        .issue();
    let skew = |s: u64| validator(&pki, json!({"trust": {"clock_skew_seconds": s}}));
    let table: [(u64, &Issued, Option<Code>); 8] = [
        (0, &early, Some(Code::NotYetValid)),
        (59, &early, Some(Code::NotYetValid)),
        (60, &early, None),
        (300, &early, None),
        (0, &late, Some(Code::Expired)),
        (59, &late, Some(Code::Expired)),
        (60, &late, None),
        (300, &late, None),
    ];
    for (seconds, leaf, want) in table {
        let got = common::verify(&skew(seconds), leaf).err().map(|r| r.code());
        assert_eq!(got, want, "skew {seconds}");
    }
}

#[test]
fn max_depth_counts_intermediates() {
    let pki = Pki::new();
    let one = pki.client("one").issue(); // leaf <- issuing <- root
    let direct = pki.client("direct").issued_by(pki.root()).issue(); // leaf <- root
    let sub = pki.sub_ca(pki.issuing_ca(), "Sub CA");
    let two = pki.client("two").issued_by(&sub).issue(); // leaf <- sub <- issuing <- root
    assert_eq!(two.intermediates().len(), 2);
    let depth = |n: usize| validator(&pki, json!({"trust": {"max_depth": n}}));
    let table: [(usize, &Issued, bool); 7] = [
        (0, &direct, true),
        (0, &one, false),
        (1, &one, true),
        (1, &two, false),
        (2, &two, true),
        (2, &one, true),
        (10, &two, true),
    ];
    for (n, leaf, ok) in table {
        match common::verify(&depth(n), leaf) {
            Ok(p) => {
                assert!(ok, "max_depth {n}: {} admitted", p.subject());
                assert_eq!(p.chain().len(), leaf.intermediates().len() + 2);
            }
            Err(r) => {
                assert!(!ok, "max_depth {n}: {r}");
                assert_eq!((r.code(), r.step()), (Code::ChainTooDeep, Step::Validation));
            }
        }
    }
    // A self-issued intermediate (subject equal to issuer: a CA's key rollover certificate)
    // does not count, as in RFC 5280 path length processing.
    let rollover = pki.sub_ca(pki.issuing_ca(), "Test Issuing CA");
    let rolled = pki.client("rolled").issued_by(&rollover).issue(); // leaf <- issuing' <- issuing <- root
    assert_eq!(rolled.intermediates().len(), 2);
    let p = accept(&depth(1), &rolled);
    assert_eq!(p.chain().len(), 4);
    assert_eq!(p.chain()[1].subject(), p.chain()[2].subject());
    // (Reported as bad_signature: webpki ranks the failed signature of the other candidate
    // named "Test Issuing CA" above the depth error of the real path.)
    assert!(common::verify(&depth(0), &rolled).is_err());
    let root_rollover = pki.sub_ca(pki.root(), "Test Root CA");
    let under_root = pki.client("under-root").issued_by(&root_rollover).issue(); // leaf <- root' <- root
    assert_eq!(under_root.intermediates().len(), 1);
    assert_eq!(accept(&depth(0), &under_root).chain().len(), 3);
    // Without max_depth, webpki's own limit (6 sub-CAs below the anchor's child) applies.
    let mut ca = pki.sub_ca(pki.issuing_ca(), "Sub 1");
    let mut cas = Vec::new();
    for i in 2..=6 {
        let next = pki.sub_ca(&ca, &format!("Sub {i}"));
        cas.push(ca);
        ca = next;
    }
    let deep = pki.client("deep").issued_by(&ca).issue();
    assert_eq!(deep.intermediates().len(), 7);
    reject(
        &validator(&pki, json!({})),
        &deep,
        Code::ChainTooDeep,
        Step::Validation,
    );
}

#[test]
fn policy_intermediates_complete_the_path() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let v = validator(
        &pki,
        json!({"trust": {"intermediates": [pki.issuing_ca().pem()]}}),
    );
    let p = v.verify(alice.leaf(), &[], NOW).unwrap();
    assert_eq!(p.chain().len(), 3);
}

fn root_crl(pki: &Pki, serials: &[Vec<u8>]) -> String {
    crl_pem(&Pki::crl_from(
        pki.root(),
        serials,
        now() - DAY,
        now() + 7 * DAY,
    ))
}

#[test]
fn revocation_depth_chain_checks_the_intermediate() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    // The issuing CA has serial 2 in the test kit.
    let crls = json!([crl_pem(&pki.crl(&[])), root_crl(&pki, &[vec![2]])]);
    let chain = validator(&pki, json!({"trust": {"crls": crls}}));
    let r = reject(&chain, &alice, Code::Revoked, Step::Validation);
    assert_eq!(
        r.detail(),
        "the intermediate `CN=Test Issuing CA,O=certclaims test kit` (serial 02) is revoked by \
         the CRL of `CN=Test Root CA,O=certclaims test kit`"
    );
    let explicit = validator(
        &pki,
        json!({"trust": {"crls": crls, "revocation": {"depth": "chain"}}}),
    );
    reject(&explicit, &alice, Code::Revoked, Step::Validation);
    let ee = validator(
        &pki,
        json!({"trust": {"crls": crls, "revocation": {"depth": "end_entity"}}}),
    );
    accept(&ee, &alice);

    // Nothing revoked: accepted at both depths.
    let clean = json!([crl_pem(&pki.crl(&[])), root_crl(&pki, &[])]);
    accept(&validator(&pki, json!({"trust": {"crls": clean}})), &alice);
    // A revoked leaf is revoked at both depths.
    let bob = pki.client("bob").issue();
    let bob_revoked = json!([crl_pem(&pki.crl(&[&bob])), root_crl(&pki, &[])]);
    for depth in ["chain", "end_entity"] {
        let v = validator(
            &pki,
            json!({"trust": {"crls": bob_revoked, "revocation": {"depth": depth}}}),
        );
        reject(&v, &bob, Code::Revoked, Step::Validation);
        accept(&v, &alice);
    }
}

#[test]
fn unknown_revocation_status_policy() {
    let pki = Pki::new();
    let other = Pki::with_key_type("Other", certclaims::test_kit::KeyType::P256);
    let alice = pki.client("alice").issue();
    let foreign = json!([crl_pem(&other.crl(&[]))]);
    let deny = validator(&pki, json!({"trust": {"crls": foreign}}));
    reject(
        &deny,
        &alice,
        Code::UnknownRevocationStatus,
        Step::Validation,
    );
    let deny_explicit = validator(
        &pki,
        json!({"trust": {"crls": foreign, "revocation": {"unknown_status": "deny"}}}),
    );
    reject(
        &deny_explicit,
        &alice,
        Code::UnknownRevocationStatus,
        Step::Validation,
    );
    let allow = validator(
        &pki,
        json!({"trust": {"crls": foreign, "revocation": {"unknown_status": "allow"}}}),
    );
    accept(&allow, &alice);

    // `allow` does not hide a known revocation: the leaf's CRL is present, the root's is not.
    let revoked = pki.client("revoked").issue();
    let issuing_only = json!([crl_pem(&pki.crl(&[&revoked]))]);
    let v = validator(
        &pki,
        json!({"trust": {"crls": issuing_only, "revocation": {"unknown_status": "allow"}}}),
    );
    reject(&v, &revoked, Code::Revoked, Step::Validation);
    accept(&v, &alice);
}

#[test]
fn expired_crl_policy() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let revoked = pki.client("revoked").issue();
    let stale = |who: &[&Issued]| {
        let serials: Vec<Vec<u8>> = who.iter().map(|i| i.serial().to_vec()).collect();
        json!([crl_pem(&Pki::crl_from(
            pki.issuing_ca(),
            &serials,
            now() - 10 * DAY,
            now() - DAY
        ))])
    };
    let ee = |crls: serde_json::Value, expired: &str| {
        validator(
            &pki,
            json!({"trust": {"crls": crls, "revocation": {"depth": "end_entity", "expired_crl": expired}}}),
        )
    };
    reject(
        &ee(stale(&[]), "deny"),
        &alice,
        Code::UnknownRevocationStatus,
        Step::Validation,
    );
    accept(&ee(stale(&[]), "ignore"), &alice);
    // Default is `deny` (nginx and OpenSSL refuse an expired CRL too), with or without
    // revocation options.
    for doc in [
        json!({"trust": {"crls": stale(&[]), "revocation": {"depth": "end_entity"}}}),
        json!({"trust": {"crls": stale(&[])}}),
    ] {
        reject(
            &validator(&pki, doc),
            &alice,
            Code::UnknownRevocationStatus,
            Step::Validation,
        );
    }
    // An ignored stale CRL still revokes.
    reject(
        &ee(stale(&[&revoked]), "ignore"),
        &revoked,
        Code::Revoked,
        Step::Validation,
    );
}

#[test]
fn deny_list_by_issuer_and_serial_is_exact() {
    let pki = Pki::new();
    let alice = pki.client("alice").serial(0x80).issue();
    let bob = pki.client("bob").serial(0x81).issue();
    let issuing = pki.issuing_ca().fingerprint();
    for serial in ["80", "0080", "00:80", "0000000080"] {
        let v = validator(
            &pki,
            json!({"trust": {"deny": [{"issuer": issuing, "serial": serial}]}}),
        );
        let r = reject(&v, &alice, Code::Denied, Step::Validation);
        assert_eq!(
            r.detail(),
            format!(
                "the client certificate `CN=alice` (sha256:{}) is deny-listed by issuer and serial",
                common::hex_of(&alice.fingerprint())
            )
        );
        accept(&v, &bob);
    }
    // The same serial under another issuer is not denied.
    let v = validator(
        &pki,
        json!({"trust": {"deny": [{"issuer": pki.root().fingerprint(), "serial": "80"}]}}),
    );
    accept(&v, &alice);
    // Leaf fingerprint: the detail names it.
    let v = validator(&pki, json!({"trust": {"deny": [alice.fingerprint()]}}));
    let r = reject(&v, &alice, Code::Denied, Step::Validation);
    assert_eq!(
        r.detail(),
        format!("certificate {} is deny-listed", alice.fingerprint())
    );
    accept(&v, &bob);
}

#[test]
fn builder_matches_the_json_options() {
    let pki = Pki::new();
    let algs = certclaims::crypto::ALL;
    let alice = pki.client("alice").dns("alice.svc.example").issue();
    let server = pki.client("server").eku(Eku::ServerAuth).issue();
    let old = pki
        .client("old")
        .validity(now() - 30 * DAY, now() - 60)
        .issue();
    let selfie = pki.client("selfie").self_signed().issue();
    let base = || Validator::builder(algs).with_anchors([pki.root_der()]);

    let v = base().build().unwrap();
    assert_eq!(v.anchors(), [pki.root_der()]);
    assert_eq!(v.anchor_subjects().count(), 1);
    reject(&v, &server, Code::WrongUsage, Step::Validation);
    reject(&v, &old, Code::Expired, Step::Validation);
    accept(&base().without_client_auth_eku().build().unwrap(), &server);
    accept(&base().without_validity_check().build().unwrap(), &old);
    accept(
        &base()
            .with_clock_skew(Duration::from_secs(300))
            .build()
            .unwrap(),
        &old,
    );
    reject(
        &base().with_max_depth(0).build().unwrap(),
        &alice,
        Code::ChainTooDeep,
        Step::Validation,
    );
    reject(
        &base()
            .with_deny(DenyEntry::Fingerprint(alice.fingerprint()))
            .build()
            .unwrap(),
        &alice,
        Code::Denied,
        Step::Validation,
    );

    let mut sha = [0u8; 32];
    hex::decode_to_slice(common::hex_of(&selfie.fingerprint()), &mut sha).unwrap();
    let pinned = base()
        .with_allowed_types(AllowedTypes::All)
        .with_pinned(sha)
        .build()
        .unwrap();
    accept(&pinned, &selfie);
    accept(&pinned, &alice);
    let only_self = Validator::builder(algs)
        .with_allowed_types(AllowedTypes::SelfSigned)
        .allow_unpinned_self_signed()
        .build()
        .unwrap();
    accept(&only_self, &selfie);

    let revoked = pki.client("revoked").issue();
    let mut rev = Revocation::default();
    rev.depth = RevocationDepth::EndEntity;
    rev.unknown_status = UnknownStatus::Deny;
    rev.expired_crl = ExpiredCrl::Ignore;
    let with_crl = base()
        .with_crls([pki.crl(&[&revoked])])
        .with_revocation(rev)
        .build()
        .unwrap();
    reject(&with_crl, &revoked, Code::Revoked, Step::Validation);
    accept(&with_crl, &alice);

    let mut rule = Rule::default();
    rule.dns = Some("*.svc.example".into());
    let grant = serde_json::from_value(
        json!({"when": {"dns": "*.svc.example"}, "claims": {"role": "svc"}}),
    )
    .unwrap();
    let v = base()
        .allow(rule)
        .with_grant(grant)
        .with_claims_issuer("me")
        .build()
        .unwrap();
    let p = accept(&v, &alice);
    assert!(p.has_claim("role", "svc"));
    assert!(p.claims().iter().all(|c| c.issuer() == "me"));
    reject(&v, &server, Code::WrongUsage, Step::Validation);
    reject(
        &v,
        &pki.client("nodns").issue(),
        Code::PolicyDenied,
        Step::Policy,
    );

    // Intermediates given to the builder complete a leaf-only presentation.
    let v = base()
        .with_intermediates([pki.issuing_ca().der()])
        .build()
        .unwrap();
    v.verify(alice.leaf(), &[], NOW).unwrap();
    assert!(format!("{v:?}").starts_with("Validator"));
}

#[test]
fn name_constraints_admit_names_inside_the_subtree() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let constrained = pki.constrained_ca(pki.issuing_ca(), "Constrained CA", &["svc.example"]);
    let inside = pki
        .client("api")
        .dns("api.svc.example")
        .issued_by(&constrained)
        .issue();
    let p = accept(&v, &inside);
    assert_eq!(p.chain().len(), 4);
    assert_eq!(
        p.chain()[1].subject(),
        "CN=Constrained CA,O=certclaims test kit"
    );
    let mixed = pki
        .client("mixed")
        .dns("api.svc.example")
        .dns("api.evil.example")
        .issued_by(&constrained)
        .issue();
    reject(&v, &mixed, Code::NameConstraintViolation, Step::Validation);
}

#[test]
fn builder_required_eku() {
    use certclaims::policy::ExtendedKeyUsage;
    let pki = Pki::new();
    let server = pki.client("server").eku(Eku::ServerAuth).issue();
    let client = pki.client("client").eku(Eku::ClientAuth).issue();
    let none = pki.client("none").eku(Eku::None).issue();
    let with = |eku| {
        Validator::builder(certclaims::crypto::ALL)
            .with_anchors([pki.root_der()])
            .with_required_eku(eku)
            .build()
            .unwrap()
    };
    let table = [
        (ExtendedKeyUsage::ClientAuth, &server, false),
        (ExtendedKeyUsage::ClientAuth, &client, true),
        (ExtendedKeyUsage::ClientAuth, &none, true),
        (ExtendedKeyUsage::ServerAuth, &server, true),
        (ExtendedKeyUsage::ServerAuth, &client, false),
        // The server certificate profile requires an EKU (CA/Browser Forum BR 7.1.2.7.6).
        (ExtendedKeyUsage::ServerAuth, &none, false),
        (ExtendedKeyUsage::Any, &server, true),
        (ExtendedKeyUsage::Any, &client, true),
    ];
    for (eku, leaf, ok) in table {
        match common::verify(&with(eku), leaf) {
            Ok(_) => assert!(ok, "{eku:?}: accepted"),
            Err(r) => {
                assert!(!ok, "{eku:?}: {r}");
                assert_eq!(r.code(), Code::WrongUsage);
            }
        }
    }
}

#[test]
fn server_auth_applies_the_server_certificate_profile() {
    use certclaims::policy::ExtendedKeyUsage;
    let pki = Pki::new();
    let with = |eku| {
        Validator::builder(certclaims::crypto::ALL)
            .with_anchors([pki.root_der()])
            .with_required_eku(eku)
            .build()
            .unwrap()
    };
    let server = with(ExtendedKeyUsage::ServerAuth);
    let client = with(ExtendedKeyUsage::ClientAuth);
    // subjectAltName: SEQUENCE { dNSName "example.com" }
    let mut san = vec![0x30, 13, 0x82, 11];
    san.extend_from_slice(b"example.com");
    let ip = std::net::IpAddr::from([192, 168, 1, 1]);
    let table = [
        (
            pki.client("example.com").dns("example.com").eku(Eku::None),
            Code::WrongUsage,
            "the leaf has no extendedKeyUsage extension; a server certificate must list \
             serverAuth (CA/Browser Forum BR 7.1.2.7.6)",
        ),
        (
            pki.client("example.com")
                .extension(&[2, 5, 29, 17], san, true)
                .eku(Eku::Both),
            Code::InvalidCertificate,
            "the leaf certificate: subjectAltName is critical although the subject is not \
             empty (CA/Browser Forum BR 7.1.2.7.12: critical only when the subject is empty)",
        ),
        (
            pki.client("Example.COM").dns("example.com").eku(Eku::Both),
            Code::InvalidCertificate,
            "the leaf certificate: the subject commonName `Example.COM` differs in case from \
             the subjectAltName dNSName `example.com` (CA/Browser Forum BR 7.1.4.3: a \
             character-for-character copy)",
        ),
        (
            pki.client("0xC0A80101").ip(ip).eku(Eku::Both),
            Code::InvalidCertificate,
            "the leaf certificate: the subject commonName `0xC0A80101` spells the \
             subjectAltName IP address 192.168.1.1 another way (CA/Browser Forum BR 7.1.4.3: \
             dotted-decimal IPv4, RFC 5952 IPv6)",
        ),
        (
            pki.client("bücher.example")
                .dns("xn--bcher-kva.example")
                .eku(Eku::Both),
            Code::InvalidCertificate,
            "the leaf certificate: the subject commonName `bücher.example` is not ASCII, so it \
             is no copy of a subjectAltName (CA/Browser Forum BR 7.1.4.3: P-labels are not \
             converted to Unicode)",
        ),
    ];
    for (leaf, code, detail) in table {
        let leaf = leaf.issue();
        let r = common::verify(&server, &leaf).unwrap_err();
        assert_eq!(
            (r.code(), r.step(), r.detail()),
            (code, Step::Validation, detail)
        );
        // Client-certificate mode stays RFC 5280-lenient.
        accept(&client, &leaf);
    }

    // Conforming server certificates; a commonName that is no SAN at all is not checked
    // (certclaims never matches names against the commonName).
    for leaf in [
        pki.client("example.com").dns("example.com"),
        pki.client("192.168.1.1").ip(ip),
        pki.client("EE").dns("example.com"),
    ] {
        accept(&server, &leaf.eku(Eku::ServerAuth).issue());
    }

    // A pinned self-signed server certificate may omit authorityKeyIdentifier (RFC 5280
    // 4.2.1.1); the kit mints self-signed certificates without one.
    let selfie = pki
        .client("selfie.example")
        .dns("selfie.example")
        .eku(Eku::ServerAuth)
        .self_signed()
        .issue();
    let pin: [u8; 32] = hex::decode(common::hex_of(&selfie.fingerprint()))
        .unwrap()
        .try_into()
        .unwrap();
    let pinned = Validator::builder(certclaims::crypto::ALL)
        .with_allowed_types(AllowedTypes::SelfSigned)
        .with_pinned(pin)
        .with_required_eku(ExtendedKeyUsage::ServerAuth)
        .build()
        .unwrap();
    assert_eq!(accept(&pinned, &selfie).chain().len(), 1);
}
