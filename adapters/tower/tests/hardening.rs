//! Regression tests for issue 12: a connection's principal stays usable exactly as long as the
//! validator's own notion of validity (clock skew, `check_validity: false`) says (defect 4),
//! and `Require` answers in words meant for the client, never with its configuration
//! (defect 7).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use certclaims::pki_types::UnixTime;
use certclaims::policy::Matcher;
use certclaims::test_kit::{Issued, Pki, DAY};
use certclaims::{Code, Policy, Principal, Rejection, Step, Validator};
use certclaims_tower::{ClientIdentity, Require};
use http::{Request, Response, StatusCode};
use serde_json::{json, Value};
use tower::{service_fn, Layer, ServiceExt};

fn now() -> u64 {
    UnixTime::now().as_secs()
}

fn validator(pki: &Pki, trust: Value) -> Validator {
    let mut doc = json!({"version": 1, "trust": {"anchors": [pki.root_pem()]}});
    for (k, v) in trust.as_object().unwrap() {
        doc["trust"][k] = v.clone();
    }
    Validator::from_policy(
        &Policy::from_json(&doc.to_string()).unwrap(),
        certclaims::crypto::ALL,
    )
    .unwrap()
}

/// The principal `v` makes of `leaf` now, as the handshake would, put in request extensions.
fn connection(v: &Validator, leaf: &Issued) -> http::Extensions {
    let p = v
        .verify(leaf.leaf(), leaf.intermediates(), UnixTime::now())
        .unwrap_or_else(|r| panic!("the handshake would refuse it: {r}"));
    let mut ext = http::Extensions::new();
    ext.insert(ClientIdentity::new(Ok(Arc::new(p))));
    ext
}

#[test]
fn clock_skew_admits_requests_as_it_admits_the_handshake() {
    let pki = Pki::at(UnixTime::now());
    let late = pki
        .client("late")
        .validity(now() - 30 * DAY, now() - 60)
        .issue();
    let v = validator(&pki, json!({"clock_skew_seconds": 3600}));
    let ext = connection(&v, &late);
    let p = ClientIdentity::from_extensions(&ext).expect("within the clock skew");
    assert_eq!(p.subject(), "CN=late");
    assert_eq!(
        p.usable_until().map(|t| t.as_secs()),
        Some(p.not_after().as_secs() + 3600)
    );
}

#[test]
fn without_validity_checking_requests_are_never_expired() {
    let pki = Pki::at(UnixTime::now());
    let old = pki.client("old").expired().issue();
    let v = validator(&pki, json!({"check_validity": false}));
    let ext = connection(&v, &old);
    let p = ClientIdentity::from_extensions(&ext).expect("validity is not checked");
    assert_eq!(p.usable_until(), None);
}

#[test]
fn past_the_policy_validity_requests_are_expired() {
    // Verified in 2020 against a policy without skew: the connection's principal is past its
    // validity now.
    let then = UnixTime::since_unix_epoch(Duration::from_secs(1_590_000_000));
    let pki = Pki::at(then);
    let alice = pki.client("alice").issue();
    let v = validator(&pki, json!({"clock_skew_seconds": 60}));
    let p = v.verify(alice.leaf(), alice.intermediates(), then).unwrap();
    let until = p.usable_until().unwrap().as_secs();
    assert_eq!(until, p.not_after().as_secs() + 60);
    let mut ext = http::Extensions::new();
    ext.insert(ClientIdentity::new(Ok(Arc::new(p))));
    let r = ClientIdentity::from_extensions(&ext).unwrap_err();
    assert_eq!(
        r,
        Rejection::new(
            Code::Expired,
            Step::Validation,
            format!(
                "the client certificate of this connection is no longer valid: it was accepted \
                 until {until} (seconds since the epoch)"
            ),
        )
    );
    assert_eq!(r.http_status(), 403);
}

/// The status and JSON body `require` answers for `principal`.
async fn answer(require: Require, principal: Arc<Principal>) -> (StatusCode, Value) {
    let inner = service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Bytes::from_static(b"{}")))
    });
    let mut req = Request::new(());
    req.extensions_mut()
        .insert(ClientIdentity::new(Ok(principal)));
    let res = require.layer().layer(inner).oneshot(req).await.unwrap();
    (res.status(), serde_json::from_slice(res.body()).unwrap())
}

#[tokio::test]
async fn require_rejections_do_not_print_the_requirement() {
    let pki = Pki::at(UnixTime::now());
    let v = validator(&pki, json!({}));
    let admin = pki.client("admin").issue();
    let bob = pki
        .client("bob")
        .spiffe("spiffe://example.org/ns/prod/sa/bob")
        .issue();
    let bob = Arc::new(
        v.verify(bob.leaf(), bob.intermediates(), UnixTime::now())
            .unwrap(),
    );
    let pinned = admin.fingerprint();
    let pinned_hex = pinned.trim_start_matches("sha256:").to_string();

    let cases = [
        (
            Require::default()
                .and_rule(Matcher::from_json(&json!({"fingerprint": pinned}).to_string()).unwrap()),
            "the client's certificate does not match the identity this route requires",
        ),
        (
            Require::spiffe_id("spiffe://example.org/ns/secret-ns/sa/*").unwrap(),
            "the client's certificate does not match the identity this route requires",
        ),
        (
            Require::claim("role", "break-glass-admin"),
            "the client's certificate lacks a claim this route requires",
        ),
    ];
    for (require, message) in cases {
        let (status, body) = answer(require, bob.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            json!({"error": {"code": "policy_denied", "message": message, "step": "policy"}})
        );
        let text = body.to_string();
        for secret in [
            &pinned_hex[..],
            "secret-ns",
            "break-glass-admin",
            "role",
            "Matcher",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
