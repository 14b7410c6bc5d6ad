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
                let what = match r {
                    Requirement::Claim { claim_type, values } => {
                        format!("claim `{claim_type}` in {values:?}")
                    }
                    Requirement::Rule(m) => format!("rule {m:?}"),
                };
                return Err(Rejection::new(
                    Code::PolicyDenied,
                    Step::Policy,
                    format!("this route requires {what}"),
                ));
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
