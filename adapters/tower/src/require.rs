//! Per-route authorization on the connection's principal, in the spirit of ASP.NET Core
//! authorization policies (`RequireClaim`, plus SPIFFE ID patterns).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use certclaims::policy::Matcher;
use certclaims::{Code, PolicyError, Principal, Rejection, Step};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::{rejection_response, ClientIdentity};

/// The rejection detail when a required claim is missing.
const ROUTE_CLAIM_MISSING: &str = "the client's certificate lacks a claim this route requires";
/// The rejection detail when a required identity rule does not match.
const ROUTE_RULE_UNMATCHED: &str =
    "the client's certificate does not match the identity this route requires";

#[derive(Debug, Clone)]
enum Requirement {
    Claim {
        claim_type: String,
        values: Vec<String>,
    },
    Rule(Box<Matcher>),
}

/// What a route requires of the principal. Requirements added together must all hold.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Require {
    all: Vec<Requirement>,
}

impl Require {
    /// Requires a claim of `claim_type` with `value` (ASP.NET's `RequireClaim(type, value)`).
    pub fn claim(claim_type: impl Into<String>, value: impl Into<String>) -> Self {
        Self::default().and_claim_any(claim_type, [value.into()])
    }

    /// Also requires a claim of `claim_type` with any of `values`.
    pub fn and_claim_any(
        mut self,
        claim_type: impl Into<String>,
        values: impl IntoIterator<Item = String>,
    ) -> Self {
        self.all.push(Requirement::Claim {
            claim_type: claim_type.into(),
            values: values.into_iter().collect(),
        });
        self
    }

    /// Requires a SPIFFE ID matching `pattern` (`*` is one path segment).
    pub fn spiffe_id(pattern: &str) -> Result<Self, PolicyError> {
        Ok(Self::default().and_rule(Matcher::spiffe_id(pattern)?))
    }

    /// Also requires an identity rule (same syntax as a policy's `identity.allow` entries).
    pub fn and_rule(mut self, matcher: Matcher) -> Self {
        self.all.push(Requirement::Rule(Box::new(matcher)));
        self
    }

    /// Checks a principal.
    pub fn check(&self, principal: &Principal) -> Result<(), Rejection> {
        for r in &self.all {
            let ok = match r {
                Requirement::Claim { claim_type, values } => principal
                    .claim_values(claim_type)
                    .any(|v| values.iter().any(|w| w == v)),
                Requirement::Rule(m) => m.matches(principal),
            };
            if !ok {
                // The body reaches the client: it says what failed, never the requirement
                // itself (claim values, patterns, pinned fingerprints are configuration).
                let what = match r {
                    Requirement::Claim { .. } => ROUTE_CLAIM_MISSING,
                    Requirement::Rule(_) => ROUTE_RULE_UNMATCHED,
                };
                return Err(Rejection::new(Code::PolicyDenied, Step::Policy, what));
            }
        }
        Ok(())
    }

    /// A layer enforcing this requirement.
    pub fn layer(self) -> RequireLayer {
        RequireLayer {
            require: Arc::new(self),
        }
    }
}

/// [`Layer`] for [`RequireService`].
#[derive(Debug, Clone)]
pub struct RequireLayer {
    require: Arc<Require>,
}

impl<S> Layer<S> for RequireLayer {
    type Service = RequireService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            require: self.require.clone(),
        }
    }
}

/// Answers with the rejection response unless the request's principal satisfies the
/// requirement.
#[derive(Debug, Clone)]
pub struct RequireService<S> {
    inner: S,
    require: Arc<Require>,
}

impl<S> RequireService<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, ResBody> Service<Request<B>> for RequireService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let verdict =
            ClientIdentity::from_extensions(req.extensions()).and_then(|p| self.require.check(&p));
        match verdict {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(rejection) => {
                let res = rejection_response(&rejection);
                Box::pin(async move { Ok(res) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use certclaims::policy::Matcher;
    use certclaims::test_kit::{Issued, Pki, NOW};
    use certclaims::{claim_types, Validator};
    use http::StatusCode;
    use serde_json::{json, Value};
    use tower::{service_fn, ServiceExt};

    use super::*;

    const ALICE: &str = "spiffe://example.org/ns/prod/sa/alice";
    const BOB: &str = "spiffe://example.org/ns/prod/sa/bob";
    const CAROL: &str = "spiffe://example.org/ns/staging/sa/carol";

    struct Fixture {
        alice: Arc<Principal>,
        bob: Arc<Principal>,
        carol: Arc<Principal>,
    }

    /// alice: role payments + audit, DNS alice.svc.example; bob: role payments; carol: none.
    fn fixture() -> Fixture {
        let pki = Pki::new();
        let mut policy = pki.policy();
        for (id, roles) in [
            (ALICE, json!(["payments", "audit"])),
            (BOB, json!("payments")),
        ] {
            policy.claims.add.push(
                serde_json::from_value(
                    json!({"when": {"spiffe_id": id}, "claims": {"role": roles}}),
                )
                .unwrap(),
            );
        }
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let validator = certclaims_rustls::validator_for(&policy, &provider).unwrap();
        let verify = |v: &Validator, c: Issued| {
            Arc::new(v.verify(c.leaf(), c.intermediates(), NOW).unwrap())
        };
        Fixture {
            alice: verify(
                &validator,
                pki.client("alice")
                    .spiffe(ALICE)
                    .dns("alice.svc.example")
                    .issue(),
            ),
            bob: verify(&validator, pki.client("bob").spiffe(BOB).issue()),
            carol: verify(&validator, pki.client("carol").spiffe(CAROL).issue()),
        }
    }

    fn request(identity: Option<Result<Arc<Principal>, Rejection>>) -> Request<()> {
        let mut req = Request::new(());
        if let Some(identity) = identity {
            req.extensions_mut().insert(ClientIdentity::new(identity));
        }
        req
    }

    /// Runs `require` in front of an inner service that answers 200 "inner"; returns the
    /// status, the body (JSON if it parses) and whether the inner service was called.
    async fn run(require: &Require, req: Request<()>) -> (StatusCode, Value, bool) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let inner = service_fn(move |_req: Request<()>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(Bytes::from_static(b"\"inner\""))) }
        });
        let res = require
            .clone()
            .layer()
            .layer(inner)
            .oneshot(req)
            .await
            .unwrap();
        let status = res.status();
        if status != StatusCode::OK {
            assert_eq!(
                res.headers()[http::header::CONTENT_TYPE],
                "application/json"
            );
        }
        let body: Value = serde_json::from_slice(res.body()).unwrap();
        (status, body, calls.load(Ordering::SeqCst) == 1)
    }

    fn ok() -> (StatusCode, Value, bool) {
        (StatusCode::OK, json!("inner"), true)
    }

    fn refused(status: StatusCode, rejection: &Rejection) -> (StatusCode, Value, bool) {
        (status, rejection.to_json(), false)
    }

    fn denied(message: &str) -> Rejection {
        Rejection::new(Code::PolicyDenied, Step::Policy, message)
    }

    #[tokio::test]
    async fn claim_requirement() {
        let f = fixture();
        let require = Require::claim("role", "payments");
        assert_eq!(
            run(&require, request(Some(Ok(f.alice.clone())))).await,
            ok()
        );
        assert_eq!(run(&require, request(Some(Ok(f.bob.clone())))).await, ok());
        let carol = run(&require, request(Some(Ok(f.carol.clone())))).await;
        assert_eq!(
            carol,
            refused(StatusCode::FORBIDDEN, &denied(ROUTE_CLAIM_MISSING))
        );
        assert_eq!(carol.1["error"]["code"], "policy_denied");
        assert_eq!(carol.1["error"]["step"], "policy");
        // Claim types and values are compared exactly.
        let require = Require::claim("Role", "payments");
        assert_eq!(
            run(&require, request(Some(Ok(f.alice.clone())))).await.0,
            StatusCode::FORBIDDEN
        );
        let require = Require::claim("role", "Payments");
        assert_eq!(
            run(&require, request(Some(Ok(f.alice.clone())))).await.0,
            StatusCode::FORBIDDEN
        );
        // The certificate's own claims (ASP.NET claim types) count too.
        let require = Require::claim(claim_types::NAME, f.carol.subject());
        assert_eq!(
            run(&require, request(Some(Ok(f.carol.clone())))).await,
            ok()
        );
    }

    #[tokio::test]
    async fn requirements_added_together_must_all_hold() {
        let f = fixture();
        let require = Require::claim("role", "payments")
            .and_claim_any("role", ["audit".into(), "admin".into()]);
        assert_eq!(
            run(&require, request(Some(Ok(f.alice.clone())))).await,
            ok()
        );
        assert_eq!(
            run(&require, request(Some(Ok(f.bob.clone())))).await,
            refused(StatusCode::FORBIDDEN, &denied(ROUTE_CLAIM_MISSING))
        );
        // A claim and a rule.
        let require = Require::claim("role", "payments")
            .and_rule(Matcher::from_json(r#"{"dns": "*.svc.example"}"#).unwrap());
        assert_eq!(
            run(&require, request(Some(Ok(f.alice.clone())))).await,
            ok()
        );
        let (status, body, called) = run(&require, request(Some(Ok(f.bob.clone())))).await;
        assert_eq!((status, called), (StatusCode::FORBIDDEN, false));
        assert_eq!(body, denied(ROUTE_RULE_UNMATCHED).to_json());
        // No requirement at all: any principal, but still a principal.
        let require = Require::default();
        assert_eq!(require.check(&f.carol), Ok(()));
        assert_eq!(
            run(&require, request(Some(Ok(f.carol.clone())))).await,
            ok()
        );
        assert_eq!(
            run(&require, request(None)).await,
            refused(StatusCode::UNAUTHORIZED, &Rejection::no_certificate())
        );
    }

    #[tokio::test]
    async fn spiffe_id_requirement() {
        let f = fixture();
        let require = Require::spiffe_id("spiffe://example.org/ns/prod/sa/*").unwrap();
        assert_eq!(require.check(&f.alice), Ok(()));
        assert_eq!(run(&require, request(Some(Ok(f.bob.clone())))).await, ok());
        let (status, body, called) = run(&require, request(Some(Ok(f.carol.clone())))).await;
        assert_eq!((status, called), (StatusCode::FORBIDDEN, false));
        assert_eq!(body["error"]["code"], "policy_denied");
        assert_eq!(
            require.check(&f.carol).unwrap_err().code(),
            Code::PolicyDenied
        );
        // `*` is one whole segment.
        let exact = Require::spiffe_id("spiffe://example.org/ns/*/sa/alice").unwrap();
        assert_eq!(exact.check(&f.alice), Ok(()));
        assert!(exact.check(&f.bob).is_err());
        // Patterns are checked when the requirement is made.
        assert!(Require::spiffe_id("spiffe://example.org/ns/pr*/sa/alice").is_err());
        assert!(Require::spiffe_id("https://example.org/ns/prod").is_err());
    }

    #[tokio::test]
    async fn without_a_principal_the_rejection_is_answered() {
        let require = Require::claim("role", "payments");
        // No identity in the request at all (a service not behind AddPrincipal).
        assert_eq!(
            run(&require, request(None)).await,
            refused(StatusCode::UNAUTHORIZED, &Rejection::no_certificate())
        );
        // An anonymous client in allow mode.
        assert_eq!(
            run(&require, request(Some(Err(Rejection::no_certificate())))).await,
            refused(StatusCode::UNAUTHORIZED, &Rejection::no_certificate())
        );
        // A connection whose principal could not be made (e.g. verified again after expiry).
        let expired = Rejection::new(Code::Expired, Step::Validation, "the certificate expired");
        assert_eq!(
            run(&require, request(Some(Err(expired.clone())))).await,
            refused(StatusCode::FORBIDDEN, &expired)
        );
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Closed(u32);

    impl Service<Request<()>> for Closed {
        type Response = Response<Bytes>;
        type Error = &'static str;
        type Future = std::future::Ready<Result<Response<Bytes>, &'static str>>;
        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Err("closed"))
        }
        fn call(&mut self, _req: Request<()>) -> Self::Future {
            std::future::ready(Ok(Response::new(Bytes::new())))
        }
    }

    #[tokio::test]
    async fn poll_ready_delegates_and_accessors_reach_the_inner_service() {
        let mut svc = Require::claim("role", "x").layer().layer(Closed(1));
        assert_eq!(svc.ready().await.unwrap_err(), "closed");
        assert_eq!(svc.get_ref(), &Closed(1));
        svc.get_mut().0 = 2;
        assert_eq!(svc.into_inner(), Closed(2));
    }
}
