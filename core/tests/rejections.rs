//! Every rejection code of `Code::ALL`, produced by a minted chain and asserted exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use certclaims::pki_types::CertificateDer;
use certclaims::test_kit::{Eku, Pki, DAY, NOW};
use certclaims::{Chain, Code, Principal, Rejection, Step, Validator};
use rcgen::KeyUsagePurpose;
use serde_json::json;

use common::{crl_pem, validator, verify};

/// One row of the table: what is presented, and the exact code and step expected.
struct Case {
    name: &'static str,
    code: Code,
    step: Step,
    outcome: Result<Principal, Rejection>,
}

fn case(name: &'static str, code: Code, step: Step, outcome: Result<Principal, Rejection>) -> Case {
    Case {
        name,
        code,
        step,
        outcome,
    }
}

/// The leaf's DER with one byte of its signature changed (the signature BIT STRING is the
/// last element of the certificate, so its last byte is a signature byte).
fn with_flipped_signature(der: &[u8]) -> CertificateDer<'static> {
    let mut bytes = der.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    CertificateDer::from(bytes)
}

fn der_of(bytes: &[u8]) -> Result<Chain<'static>, Rejection> {
    Chain::from_der(vec![CertificateDer::from(bytes.to_vec())])
}

/// Presents `bytes` as the leaf: first through `Chain::from_der`, then the validator.
fn present(v: &Validator, bytes: &[u8]) -> Result<Principal, Rejection> {
    let chain = der_of(bytes)?;
    v.verify_chain(&chain, NOW)
}

fn cases() -> Vec<Case> {
    let pki = Pki::new();
    let base = validator(&pki, json!({}));
    let alice = pki.client("alice").dns("alice.svc.example").issue();
    let leaf = alice.leaf().as_ref();
    let mut out = Vec::new();

    // malformed
    out.push(case(
        "garbage bytes",
        Code::Malformed,
        Step::Input,
        present(&base, b"not a certificate at all"),
    ));
    out.push(case(
        "truncated DER",
        Code::Malformed,
        Step::Input,
        present(&base, &leaf[..leaf.len() / 2]),
    ));
    out.push(case(
        "DER missing its last byte",
        Code::Malformed,
        Step::Input,
        present(&base, &leaf[..leaf.len() - 1]),
    ));
    let mut trailing = leaf.to_vec();
    trailing.extend_from_slice(b"\x00\x00garbage");
    out.push(case(
        "trailing garbage",
        Code::Malformed,
        Step::Input,
        present(&base, &trailing),
    ));
    out.push(case(
        "PEM block with bad base64",
        Code::Malformed,
        Step::Input,
        Chain::from_pem(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
            .and_then(|c| base.verify_chain(&c, NOW)),
    ));
    let mut bad_inter = alice.intermediates().to_vec();
    bad_inter.push(CertificateDer::from(b"junk".to_vec()));
    // Unparseable intermediates are never candidates, so they do not spoil a good path.
    assert!(base.verify(alice.leaf(), &bad_inter, NOW).is_ok());

    // no_certificate
    out.push(case(
        "Chain::from_der(vec![])",
        Code::NoCertificate,
        Step::Input,
        Chain::from_der(vec![]).map(|_| unreachable!()),
    ));
    out.push(case(
        "PEM with only a key",
        Code::NoCertificate,
        Step::Input,
        Chain::from_pem(alice.key_pem().as_bytes()).and_then(|c| base.verify_chain(&c, NOW)),
    ));
    out.push(case(
        "empty PEM",
        Code::NoCertificate,
        Step::Input,
        Chain::from_pem(b"").map(|_| unreachable!()),
    ));
    out.push(case(
        "empty leaf",
        Code::NoCertificate,
        Step::Input,
        base.verify(&CertificateDer::from(Vec::new()), &[], NOW),
    ));

    // unknown_issuer
    let other = Pki::with_key_type("Other", certclaims::test_kit::KeyType::P256);
    let stranger = other.client("mallory").issue();
    out.push(case(
        "client of another PKI",
        Code::UnknownIssuer,
        Step::Validation,
        verify(&base, &stranger),
    ));
    out.push(case(
        "intermediate not presented",
        Code::UnknownIssuer,
        Step::Validation,
        base.verify(alice.leaf(), &[], NOW),
    ));

    // bad_signature
    out.push(case(
        "flipped byte in the leaf signature",
        Code::BadSignature,
        Step::Validation,
        base.verify(&with_flipped_signature(leaf), alice.intermediates(), NOW),
    ));
    // A PKI with the same names but other keys: the names chain, the signatures do not.
    let impostor = Pki::new().client("alice").issue();
    out.push(case(
        "same-named impostor PKI",
        Code::BadSignature,
        Step::Validation,
        verify(&base, &impostor),
    ));

    // expired / not_yet_valid
    out.push(case(
        "expired leaf",
        Code::Expired,
        Step::Validation,
        verify(&base, &pki.client("old").expired().issue()),
    ));
    out.push(case(
        "not yet valid leaf",
        Code::NotYetValid,
        Step::Validation,
        verify(&base, &pki.client("early").not_yet_valid().issue()),
    ));

    // wrong_usage / key_usage / ca_as_leaf
    out.push(case(
        "serverAuth-only EKU",
        Code::WrongUsage,
        Step::Validation,
        verify(&base, &pki.client("server").eku(Eku::ServerAuth).issue()),
    ));
    out.push(case(
        "keyUsage keyEncipherment only",
        Code::KeyUsage,
        Step::Validation,
        verify(
            &base,
            &pki.client("enc")
                .key_usage(Some(vec![KeyUsagePurpose::KeyEncipherment]))
                .issue(),
        ),
    ));
    out.push(case(
        "CA certificate as leaf",
        Code::CaAsLeaf,
        Step::Validation,
        verify(&base, &pki.client("ca").ca().issue()),
    ));

    // revoked: the leaf is on the issuing CA's CRL; the root's (empty) CRL covers the
    // intermediate, which the default depth (`chain`) also checks.
    let revoked = pki.client("revoked").issue();
    let crls = json!({"trust": {"crls": [
        crl_pem(&pki.crl(&[&revoked])),
        crl_pem(&Pki::crl_from(pki.root(), &[], NOW.as_secs() - DAY, NOW.as_secs() + 7 * DAY)),
    ]}});
    let with_crls = validator(&pki, crls);
    out.push(case(
        "leaf on the CRL",
        Code::Revoked,
        Step::Validation,
        verify(&with_crls, &revoked),
    ));

    // unknown_revocation_status: the only CRL is from a CA outside the path.
    let foreign_crl = json!({"trust": {"crls": [crl_pem(&other.crl(&[]))], "revocation": {"unknown_status": "deny"}}});
    out.push(case(
        "CRL from another CA",
        Code::UnknownRevocationStatus,
        Step::Validation,
        verify(&validator(&pki, foreign_crl), &alice),
    ));

    // self_signed_not_allowed / chained_not_allowed
    let selfie = pki.client("selfie").self_signed().issue();
    out.push(case(
        "self-signed under a chained policy",
        Code::SelfSignedNotAllowed,
        Step::Validation,
        verify(&base, &selfie),
    ));
    let only_self = validator(
        &pki,
        json!({"trust": {"allowed_types": "self_signed", "pinned": [selfie.fingerprint()]}}),
    );
    out.push(case(
        "chained leaf under a self-signed policy",
        Code::ChainedNotAllowed,
        Step::Validation,
        verify(&only_self, &alice),
    ));

    // chain_too_deep
    out.push(case(
        "max_depth 0 with one intermediate",
        Code::ChainTooDeep,
        Step::Validation,
        verify(&validator(&pki, json!({"trust": {"max_depth": 0}})), &alice),
    ));
    let too_many = vec![
        alice.intermediates()[0].clone();
        certclaims::input::limits::MAX_PRESENTED_INTERMEDIATES + 1
    ];
    out.push(case(
        "65 presented intermediates",
        Code::ChainTooDeep,
        Step::Input,
        base.verify(alice.leaf(), &too_many, NOW),
    ));

    // name_constraint_violation
    let constrained = pki.constrained_ca(pki.issuing_ca(), "Constrained CA", &["svc.example"]);
    let outside = pki
        .client("evil")
        .dns("evil.example")
        .issued_by(&constrained)
        .issue();
    out.push(case(
        "DNS SAN outside the permitted subtree",
        Code::NameConstraintViolation,
        Step::Validation,
        verify(&base, &outside),
    ));

    // unsupported_algorithm: an Ed25519 chain, only the ECDSA algorithms configured.
    let ed = Pki::with_key_type("Ed", certclaims::test_kit::KeyType::Ed25519);
    let ecdsa_only = Validator::from_policy_json(
        &common::policy(&ed, json!({})).to_string(),
        &certclaims::crypto::ALL[..4],
    )
    .unwrap();
    out.push(case(
        "Ed25519 chain, ECDSA-only algorithms",
        Code::UnsupportedAlgorithm,
        Step::Validation,
        verify(&ecdsa_only, &ed.client("ed").issue()),
    ));

    // denied
    out.push(case(
        "leaf fingerprint deny-listed",
        Code::Denied,
        Step::Validation,
        verify(
            &validator(&pki, json!({"trust": {"deny": [alice.fingerprint()]}})),
            &alice,
        ),
    ));
    out.push(case(
        "intermediate fingerprint deny-listed",
        Code::Denied,
        Step::Validation,
        verify(
            &validator(
                &pki,
                json!({"trust": {"deny": [pki.issuing_ca().fingerprint()]}}),
            ),
            &alice,
        ),
    ));
    out.push(case(
        "root fingerprint deny-listed",
        Code::Denied,
        Step::Validation,
        verify(
            &validator(&pki, json!({"trust": {"deny": [pki.root().fingerprint()]}})),
            &alice,
        ),
    ));
    let by_serial = json!({"trust": {"deny": [{"issuer": pki.issuing_ca().fingerprint(), "serial": hex::encode(alice.serial())}]}});
    out.push(case(
        "issuer + serial deny-listed",
        Code::Denied,
        Step::Validation,
        verify(&validator(&pki, by_serial), &alice),
    ));
    let intermediate_by_serial =
        json!({"trust": {"deny": [{"issuer": pki.root().fingerprint(), "serial": "02"}]}});
    out.push(case(
        "intermediate by root + serial deny-listed",
        Code::Denied,
        Step::Validation,
        verify(&validator(&pki, intermediate_by_serial), &alice),
    ));

    // policy_denied
    let only_bob = validator(
        &pki,
        json!({"identity": {"allow": [{"subject": {"cn": "bob"}}, {"dns": "*.other.example"}]}}),
    );
    out.push(case(
        "no identity rule matches",
        Code::PolicyDenied,
        Step::Policy,
        verify(&only_bob, &alice),
    ));

    // invalid_certificate
    let critical = pki
        .client("critical")
        .extension(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00], true)
        .issue();
    out.push(case(
        "unknown critical extension",
        Code::InvalidCertificate,
        Step::Validation,
        verify(&base, &critical),
    ));
    let inverted = pki
        .client("inverted")
        .validity(NOW.as_secs() + DAY, NOW.as_secs() - DAY)
        .issue();
    out.push(case(
        "notBefore after notAfter",
        Code::InvalidCertificate,
        Step::Validation,
        verify(&base, &inverted),
    ));

    out
}

#[test]
fn every_code_is_produced_by_a_minted_chain() {
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for c in cases() {
        match &c.outcome {
            Ok(p) => failures.push(format!(
                "{}: expected {}, got a principal for {}",
                c.name,
                c.code,
                p.subject()
            )),
            Err(r) if (r.code(), r.step()) != (c.code, c.step) => failures.push(format!(
                "{}: expected {} at {}, got {} at {} ({})",
                c.name,
                c.code,
                c.step,
                r.code(),
                r.step(),
                r.detail()
            )),
            Err(r) => {
                seen.insert(r.code().as_str());
                // Display is `<code> (<step> step): <detail>` for every rejection.
                assert_eq!(
                    r.to_string(),
                    format!("{} ({} step): {}", c.code, c.step, r.detail())
                );
                assert!(!r.detail().is_empty(), "{}: empty detail", c.name);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The forwarded-header codes come from `Forwarder`, not the validator: tests/forwarded.rs
    // produces each of them.
    let forwarded = [
        Code::MalformedHeader,
        Code::UntrustedForwarder,
        Code::ForwarderCheckFailed,
    ];
    let all: BTreeSet<&str> = Code::ALL
        .iter()
        .filter(|c| !forwarded.contains(c))
        .map(|c| c.as_str())
        .collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "codes never produced: {missing:?}");
}

#[test]
fn code_strings_and_http_statuses_are_stable() {
    let expected = [
        (Code::Malformed, "malformed"),
        (Code::NoCertificate, "no_certificate"),
        (Code::UnknownIssuer, "unknown_issuer"),
        (Code::BadSignature, "bad_signature"),
        (Code::Expired, "expired"),
        (Code::NotYetValid, "not_yet_valid"),
        (Code::WrongUsage, "wrong_usage"),
        (Code::KeyUsage, "key_usage"),
        (Code::CaAsLeaf, "ca_as_leaf"),
        (Code::Revoked, "revoked"),
        (Code::UnknownRevocationStatus, "unknown_revocation_status"),
        (Code::SelfSignedNotAllowed, "self_signed_not_allowed"),
        (Code::ChainedNotAllowed, "chained_not_allowed"),
        (Code::ChainTooDeep, "chain_too_deep"),
        (Code::NameConstraintViolation, "name_constraint_violation"),
        (Code::UnsupportedAlgorithm, "unsupported_algorithm"),
        (Code::Denied, "denied"),
        (Code::PolicyDenied, "policy_denied"),
        (Code::InvalidCertificate, "invalid_certificate"),
        (Code::MalformedHeader, "malformed_header"),
        (Code::UntrustedForwarder, "untrusted_forwarder"),
        (Code::ForwarderCheckFailed, "forwarder_check_failed"),
    ];
    assert_eq!(
        Code::ALL,
        expected.map(|(c, _)| c).as_slice(),
        "Code::ALL is in declaration order"
    );
    for (code, s) in expected {
        assert_eq!(code.as_str(), s);
        assert_eq!(code.to_string(), s);
        let status = match code {
            Code::NoCertificate => 401,
            Code::MalformedHeader => 400,
            _ => 403,
        };
        assert_eq!(code.http_status(), status, "{s}");
        assert_eq!(
            Rejection::new(code, Step::Validation, "x").http_status(),
            status,
            "{s}"
        );
    }
    assert_eq!(
        [Step::Input, Step::Validation, Step::Policy].map(Step::as_str),
        ["input", "validation", "policy"]
    );
}

#[test]
fn rejection_json_shape() {
    let r = Rejection::no_certificate();
    assert_eq!(
        r.to_json(),
        json!({"error": {"code": "no_certificate", "message": "no client certificate was presented", "step": "input"}})
    );
    assert_eq!(r.http_status(), 401);

    let pki = Pki::new();
    let old = pki.client("old").expired().issue();
    let r = verify(&validator(&pki, json!({})), &old).unwrap_err();
    assert_eq!(
        r.to_json(),
        json!({"error": {
            "code": "expired",
            "message": "the client certificate `CN=old` expired at 2026-05-31T00:00:00Z (evaluated at 2026-06-01T00:00:00Z)",
            "step": "validation",
        }})
    );
    assert_eq!(r.http_status(), 403);
    assert_eq!(
        r.to_string(),
        "expired (validation step): the client certificate `CN=old` expired at 2026-05-31T00:00:00Z (evaluated at 2026-06-01T00:00:00Z)"
    );

    let early = pki.client("early").not_yet_valid().issue();
    let r = verify(&validator(&pki, json!({})), &early).unwrap_err();
    assert_eq!(
        r.detail(),
        "the client certificate `CN=early` is not valid before 2026-06-02T00:00:00Z (evaluated at 2026-06-01T00:00:00Z)"
    );

    let r = verify(
        &validator(
            &pki,
            json!({"identity": {"allow": [{"subject": {"cn": "bob"}}]}}),
        ),
        &old,
    );
    // The policy is consulted only after validation: an expired certificate is `expired`.
    assert_eq!(r.unwrap_err().code(), Code::Expired);
    let alice = pki.client("alice").issue();
    let r = verify(
        &validator(
            &pki,
            json!({"identity": {"allow": [{"subject": {"cn": "bob"}}]}}),
        ),
        &alice,
    )
    .unwrap_err();
    assert_eq!(
        r.to_json(),
        json!({"error": {"code": "policy_denied", "message": "no identity rule admits `CN=alice`", "step": "policy"}})
    );
}

#[test]
fn revoked_leaf_with_only_its_issuers_crl_depends_on_depth() {
    // With the default depth (`chain`) the intermediate must be covered too, and it is checked
    // first (webpki walks the path from the anchor down): status unknown, not `revoked`.
    let pki = Pki::new();
    let revoked = pki.client("revoked").issue();
    let crl = crl_pem(&pki.crl(&[&revoked]));
    let chain_depth = validator(&pki, json!({"trust": {"crls": [crl]}}));
    common::reject(
        &chain_depth,
        &revoked,
        Code::UnknownRevocationStatus,
        Step::Validation,
    );
    let ee_depth = validator(
        &pki,
        json!({"trust": {"crls": [crl], "revocation": {"depth": "end_entity"}}}),
    );
    common::reject(&ee_depth, &revoked, Code::Revoked, Step::Validation);
    common::accept(&ee_depth, &pki.client("fine").issue());
}

#[test]
fn a_chain_in_the_wrong_order_says_put_the_leaf_first() {
    let pki = Pki::new();
    let v = validator(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let issuing = pki.issuing_ca().der();
    let ca_subject = "CN=Test Issuing CA,O=certclaims test kit";
    // `cat issuing.pem alice.pem`: the CA first.
    let reversed = v.verify(&issuing, std::slice::from_ref(alice.leaf()), NOW);
    let r = reversed.unwrap_err();
    assert_eq!(r.code(), Code::CaAsLeaf);
    assert_eq!(
        r.detail(),
        format!(
            "the chain is out of order: the first certificate ({ca_subject}) is a CA \
             certificate and certificate 2 (CN=alice) is an end-entity certificate: put the \
             leaf first, then its intermediates"
        )
    );
    // The CA alone: no client certificate to put first.
    let r = v.verify(&issuing, &[], NOW).unwrap_err();
    assert_eq!(r.code(), Code::CaAsLeaf);
    assert_eq!(
        r.detail(),
        format!(
            "the first certificate presented ({ca_subject}) is a CA certificate \
             (basicConstraints cA=true), not a client's own: present the end-entity \
             certificate the CA issued, leaf first"
        )
    );
}

#[test]
fn a_broken_pem_chain_names_the_byte_and_the_fix() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let r = Chain::from_pem(b"-----BEGIN CERTIFICATE-----\nMII!\n-----END CERTIFICATE-----\n")
        .unwrap_err();
    assert_eq!((r.code(), r.step()), (Code::Malformed, Step::Input));
    assert_eq!(
        r.detail(),
        "PEM, byte 31: `!` inside a CERTIFICATE block; present the chain as PEM CERTIFICATE \
         blocks (RFC 7468), leaf first"
    );
    // A chain file with explanatory text and the client's key beside the certificates reads
    // as the certificates alone, as a header with the same blocks would.
    let doc = format!(
        "subject=CN=alice\n{}{}{}",
        alice.key_pem(),
        alice.leaf_pem(),
        pki.issuing_ca().pem()
    );
    let chain = Chain::from_pem(doc.as_bytes()).unwrap();
    assert_eq!(chain.certs()[0].as_ref(), alice.leaf().as_ref());
    assert_eq!(chain.certs().len(), 2);
    // A key block that never ends is not silently skipped to the end of the document.
    let cut = format!("{}{}", &alice.key_pem()[..40], alice.leaf_pem());
    let r = Chain::from_pem(cut.as_bytes()).unwrap_err();
    assert_eq!(r.code(), Code::Malformed);
    assert!(
        r.detail()
            .starts_with("PEM, byte 0: a `PRIVATE KEY` block without its END line"),
        "{}",
        r.detail()
    );
}
