//! Signatures answered by the host in rounds (`certclaims::host`): every outcome is the one
//! the synchronous path gives, the rounds and requests are the expected ones, and a host that
//! lacks an algorithm or never answers is handled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certclaims::host::{
    DeferredVerification, HostAlgorithm, HostAnswer, HostKey, Progress, SignatureRequest,
    MAX_ROUNDS,
};
use certclaims::test_kit::{Issued, KeyType, Pki, NOW};
use certclaims::{CacheOptions, Code, Principal, Rejection, Source, Validator};
use serde_json::json;

use common::{crl_pem, policy};

/// A host with P-256 and P-384 (the curves' own crates, over the `r ‖ s` form WebCrypto
/// takes), lacking RSA.
fn curves(r: &SignatureRequest) -> HostAnswer {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use sha2::Digest;
    let digest = match r.algorithm.hash() {
        "SHA-256" => sha2::Sha256::digest(&r.message).to_vec(),
        "SHA-384" => sha2::Sha384::digest(&r.message).to_vec(),
        _ => sha2::Sha512::digest(&r.message).to_vec(),
    };
    let ok = match r.algorithm.key() {
        HostKey::P256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&r.spki[r.spki.len() - 65..]);
            let sig = p256::ecdsa::Signature::from_slice(&r.signature);
            matches!((key, sig), (Ok(k), Ok(s)) if k.verify_prehash(&digest, &s).is_ok())
        }
        HostKey::P384 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&r.spki[r.spki.len() - 97..]);
            let sig = p384::ecdsa::Signature::from_slice(&r.signature);
            matches!((key, sig), (Ok(k), Ok(s)) if k.verify_prehash(&digest, &s).is_ok())
        }
        _ => return HostAnswer::Unsupported,
    };
    if ok {
        HostAnswer::Valid
    } else {
        HostAnswer::Invalid
    }
}

/// Steps `d` to its outcome with `host`; the outcome, the rounds and the requests answered.
fn drive(
    v: &Validator,
    mut d: DeferredVerification,
    host: impl Fn(&SignatureRequest) -> HostAnswer,
) -> (Result<Principal, Rejection>, usize, usize) {
    let (mut rounds, mut requests) = (0, 0);
    loop {
        rounds += 1;
        match d.step(v) {
            Progress::Done(outcome) => return (outcome, rounds, requests),
            _ => {
                let answers: Vec<HostAnswer> = d.pending().iter().map(&host).collect();
                requests += answers.len();
                for (i, a) in answers.into_iter().enumerate() {
                    d.answer(i, a);
                }
            }
        }
    }
}

fn uncached(pki: &Pki, extra: serde_json::Value) -> Validator {
    Validator::from_policy_json(&policy(pki, extra).to_string(), certclaims::crypto::ALL)
        .unwrap()
        .with_cache(CacheOptions::OFF)
}

fn deferred(v: &Validator, c: &Issued) -> DeferredVerification {
    v.verify_deferred(
        c.leaf(),
        c.intermediates(),
        NOW,
        Source::Direct,
        HostAlgorithm::ALL,
        None,
    )
}

/// `c`'s leaf with the last byte of its signature changed (still DER).
fn tampered_leaf(c: &Issued) -> certclaims::pki_types::CertificateDer<'static> {
    let mut der = c.leaf().to_vec();
    let n = der.len();
    der[n - 1] ^= 0x01;
    der.into()
}

/// The outcome as text (principal JSON, or code + message), for exact comparison.
fn text(r: &Result<Principal, Rejection>) -> String {
    match r {
        Ok(p) => p.to_json().to_string(),
        Err(e) => format!("{}: {}", e.code().as_str(), e.detail()),
    }
}

#[test]
fn a_chain_takes_two_rounds_and_gives_the_synchronous_principal() {
    for key_type in [KeyType::P256, KeyType::P384] {
        let pki = Pki::with_key_type(&format!("{key_type:?}"), key_type);
        let v = uncached(&pki, json!({}));
        let alice = pki.client("alice").issue();
        let (outcome, rounds, requests) = drive(&v, deferred(&v, &alice), curves);
        let sync = v.verify(alice.leaf(), alice.intermediates(), NOW);
        assert!(sync.is_ok(), "{key_type:?}: {}", text(&sync));
        assert_eq!(text(&outcome), text(&sync), "{key_type:?}");
        // Round 1 asks for leaf → issuing CA and issuing CA → root; round 2 is final.
        assert_eq!((rounds, requests), (2, 2), "{key_type:?}");
    }
}

#[test]
fn a_tampered_signature_is_bad_signature_as_in_rust() {
    let pki = Pki::new();
    let v = uncached(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let der = tampered_leaf(&alice);
    let d = v.verify_deferred(
        &der,
        alice.intermediates(),
        NOW,
        Source::Direct,
        HostAlgorithm::ALL,
        None,
    );
    let (outcome, _, _) = drive(&v, d, curves);
    let sync = v.verify(&der, alice.intermediates(), NOW);
    assert_eq!(sync.as_ref().unwrap_err().code(), Code::BadSignature);
    assert_eq!(text(&outcome), text(&sync));
}

#[test]
fn ed25519_and_rsa_stay_in_rust_or_fall_back_to_it() {
    // Ed25519 is never delegated: no request at all.
    let pki = Pki::with_key_type("Ed", KeyType::Ed25519);
    let v = uncached(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let (outcome, rounds, requests) = drive(&v, deferred(&v, &alice), curves);
    assert_eq!((rounds, requests), (1, 0));
    assert_eq!(
        text(&outcome),
        text(&v.verify(alice.leaf(), alice.intermediates(), NOW))
    );
    // RSA is asked for; this host lacks it, so the validator's own RSA answers.
    let pki = Pki::with_key_type("Rsa", KeyType::Rsa2048);
    let v = uncached(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let (outcome, _, requests) = drive(&v, deferred(&v, &alice), curves);
    assert_eq!(requests, 2);
    assert!(outcome.is_ok(), "{}", text(&outcome));
    assert_eq!(
        text(&outcome),
        text(&v.verify(alice.leaf(), alice.intermediates(), NOW))
    );
}

#[test]
fn without_the_algorithm_anywhere_it_is_unsupported_algorithm() {
    let pki = Pki::new();
    let json = policy(&pki, json!({})).to_string();
    let none = Validator::from_policy_json(&json, &[])
        .unwrap()
        .with_cache(CacheOptions::OFF);
    let alice = pki.client("alice").issue();
    let (outcome, _, _) = drive(&none, deferred(&none, &alice), |_| HostAnswer::Unsupported);
    let sync = none.verify(alice.leaf(), alice.intermediates(), NOW);
    assert_eq!(
        sync.as_ref().unwrap_err().code(),
        Code::UnsupportedAlgorithm
    );
    assert_eq!(text(&outcome), text(&sync));
    // The host alone can verify: a validator without algorithms accepts through it.
    let (outcome, _, _) = drive(&none, deferred(&none, &alice), curves);
    assert!(outcome.is_ok(), "{}", text(&outcome));
}

#[test]
fn crl_signatures_go_through_the_host_too() {
    let pki = Pki::new();
    let revoked = pki.client("revoked").issue();
    let crls = json!({"trust": {"crls": [
        crl_pem(&pki.crl(&[&revoked])),
        crl_pem(&Pki::crl_from(pki.root(), &[], NOW.as_secs() - 86_400, NOW.as_secs() + 7 * 86_400)),
    ]}});
    let v = uncached(&pki, crls);
    let (outcome, _, requests) = drive(&v, deferred(&v, &revoked), curves);
    let sync = v.verify(revoked.leaf(), revoked.intermediates(), NOW);
    assert_eq!(sync.as_ref().unwrap_err().code(), Code::Revoked);
    assert_eq!(text(&outcome), text(&sync));
    // Two certificate signatures and the two CRLs'.
    assert_eq!(requests, 4);
}

#[test]
fn a_cached_outcome_needs_no_host() {
    let pki = Pki::new();
    let json = policy(&pki, json!({})).to_string();
    let v = Validator::from_policy_json(&json, certclaims::crypto::ALL).unwrap();
    let alice = pki.client("alice").issue();
    let (first, _, _) = drive(&v, deferred(&v, &alice), curves);
    let (again, rounds, requests) = drive(&v, deferred(&v, &alice), |_| panic!("asked the host"));
    assert_eq!((rounds, requests), (1, 0));
    assert_eq!(text(&first), text(&again));
    assert_eq!(v.cache_stats().hits, 1);
}

#[test]
fn the_hosts_sha256_gives_the_fingerprints_and_the_cache_key() {
    use sha2::Digest;
    use std::cell::RefCell;
    let pki = Pki::new();
    let json = policy(&pki, json!({})).to_string();
    let alice = pki.client("alice").issue();
    let leaf_sha256: [u8; 32] = sha2::Sha256::digest(alice.leaf()).into();
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();

    // A host that computes SHA-256: the outcome is the one certclaims gives alone, each
    // presented certificate is hashed once on a miss (for the key and the fingerprint), a
    // hit hashes the leaf alone (the intermediates kept parsed have theirs) and asks for no
    // signature.
    let v = Validator::from_policy_json(&json, certclaims::crypto::ALL).unwrap();
    let hashed = RefCell::new(Vec::new());
    let host = |der: &[u8]| {
        hashed.borrow_mut().push(der.to_vec());
        Some(<[u8; 32]>::from(sha2::Sha256::digest(der)))
    };
    let start = || {
        v.verify_deferred(
            alice.leaf(),
            alice.intermediates(),
            NOW,
            Source::Direct,
            HostAlgorithm::ALL,
            Some(&host),
        )
    };
    let (first, _, _) = drive(&v, start(), curves);
    let presented: Vec<Vec<u8>> = std::iter::once(alice.leaf())
        .chain(alice.intermediates())
        .map(|c| c.to_vec())
        .collect();
    assert_eq!(*hashed.borrow(), presented);
    let (again, rounds, requests) = drive(&v, start(), |_| panic!("asked the host"));
    assert_eq!((rounds, requests), (1, 0));
    let mut twice = presented.clone();
    twice.push(alice.leaf().to_vec());
    assert_eq!(*hashed.borrow(), twice);
    let alone = Validator::from_policy_json(&json, certclaims::crypto::ALL).unwrap();
    let (own, _, _) = drive(&alone, deferred(&alone, &alice), curves);
    assert_eq!(text(&first), text(&own));
    assert_eq!(text(&again), text(&own));
    assert_eq!(first.unwrap().fingerprint_sha256(), hex(&leaf_sha256));

    // The host's digest is the one used (here a wrong one, to show it), and a host that
    // cannot hash leaves it to certclaims.
    let v = uncached(&pki, json!({}));
    let zeros = |_: &[u8]| Some([0u8; 32]);
    let d = v.verify_deferred(
        alice.leaf(),
        alice.intermediates(),
        NOW,
        Source::Direct,
        HostAlgorithm::ALL,
        Some(&zeros),
    );
    let (outcome, _, _) = drive(&v, d, curves);
    assert_eq!(outcome.unwrap().fingerprint_sha256(), "0".repeat(64));
    let unable = |_: &[u8]| None;
    let d = v.verify_deferred(
        alice.leaf(),
        alice.intermediates(),
        NOW,
        Source::Direct,
        HostAlgorithm::ALL,
        Some(&unable),
    );
    let (outcome, _, _) = drive(&v, d, curves);
    assert_eq!(outcome.unwrap().fingerprint_sha256(), hex(&leaf_sha256));
}

#[test]
fn unanswered_requests_are_asked_again_and_the_rounds_are_bounded() {
    let pki = Pki::new();
    let v = uncached(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let mut d = deferred(&v, &alice);
    assert!(matches!(d.step(&v), Progress::Pending));
    let first = d.pending().to_vec();
    assert_eq!(first.len(), 2);
    // An answer leaves the list as it was until the next step.
    d.answer(7, HostAnswer::Valid);
    d.answer(0, HostAnswer::Invalid);
    assert_eq!(d.pending(), &first[..]);
    assert!(matches!(d.step(&v), Progress::Pending));
    assert_eq!(
        d.pending(),
        &first[1..],
        "the answered request is not asked again"
    );
    let first = d.pending().to_vec();
    // Nothing answered: the same requests come back, until the round limit.
    for _ in 2..MAX_ROUNDS {
        assert!(matches!(d.step(&v), Progress::Pending));
        assert_eq!(d.pending(), &first[..]);
    }
    match d.step(&v) {
        Progress::Done(Err(r)) => assert_eq!(r.code(), Code::ChainTooDeep, "{r}"),
        other => panic!("expected the round limit, got {other:?}"),
    }
    // A finished verification says so instead of starting over.
    match d.step(&v) {
        Progress::Done(Err(r)) => assert_eq!(r.code(), Code::Malformed),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_host_that_says_invalid_is_believed() {
    let pki = Pki::new();
    let v = uncached(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let (outcome, _, _) = drive(&v, deferred(&v, &alice), |_| HostAnswer::Invalid);
    assert_eq!(outcome.unwrap_err().code(), Code::BadSignature);
}

/// A host that answers inside the round (`step_answering`): one step, the same outcome as the
/// synchronous path and as the rounds, with each signature asked once.
#[test]
fn a_synchronous_host_finishes_in_one_step_with_the_same_outcome() {
    for key_type in [KeyType::P256, KeyType::P384] {
        let pki = Pki::with_key_type(&format!("{key_type:?}"), key_type);
        let v = uncached(&pki, json!({}));
        let alice = pki.client("alice").issue();
        let mut asked = Vec::new();
        let mut d = deferred(&v, &alice);
        let Progress::Done(outcome) = d.step_answering(&v, &mut |r| {
            asked.push(r.clone());
            Some(curves(r))
        }) else {
            panic!("{key_type:?}: not finished in one step");
        };
        let sync = v.verify(alice.leaf(), alice.intermediates(), NOW);
        assert!(sync.is_ok(), "{key_type:?}: {}", text(&sync));
        assert_eq!(text(&outcome), text(&sync), "{key_type:?}");
        assert_eq!(
            asked.len(),
            2,
            "{key_type:?}: leaf → issuing CA, issuing CA → root"
        );
        assert_ne!(asked[0], asked[1]);
    }
    // A tampered leaf: bad_signature, as natively.
    let pki = Pki::new();
    let v = uncached(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let der = tampered_leaf(&alice);
    let mut d = v.verify_deferred(
        &der,
        alice.intermediates(),
        NOW,
        Source::Direct,
        HostAlgorithm::ALL,
        None,
    );
    let Progress::Done(outcome) = d.step_answering(&v, &mut |r| Some(curves(r))) else {
        panic!("not finished in one step");
    };
    assert_eq!(
        text(&outcome),
        text(&v.verify(&der, alice.intermediates(), NOW))
    );
    assert_eq!(outcome.unwrap_err().code(), Code::BadSignature);
}

/// A request the synchronous answerer declines (`None`) is left pending and answered in the
/// next round as usual; the outcome does not change.
#[test]
fn requests_a_synchronous_host_declines_go_to_the_next_round() {
    let pki = Pki::new();
    let v = uncached(&pki, json!({}));
    let alice = pki.client("alice").issue();
    let mut d = deferred(&v, &alice);
    // Answers the first request it is asked, declines the rest.
    let mut answered = 0;
    let progress = d.step_answering(&v, &mut |r| {
        answered += 1;
        (answered == 1).then(|| curves(r))
    });
    assert!(matches!(progress, Progress::Pending));
    assert_eq!(d.pending().len(), 1, "only the declined request is pending");
    let a = curves(&d.pending()[0]);
    d.answer(0, a);
    let Progress::Done(outcome) = d.step(&v) else {
        panic!("not finished after the declined request was answered");
    };
    assert_eq!(
        text(&outcome),
        text(&v.verify(alice.leaf(), alice.intermediates(), NOW))
    );
}
