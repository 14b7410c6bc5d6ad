//! Forwarded-certificate mode: behind a TLS-terminating proxy, the client's principal comes
//! from the header the proxy sets, believed only when the TCP peer is a trusted proxy.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use certclaims::forwarded::{Forwarder, Headers, Untrusted};
use certclaims::pki_types::UnixTime;
use certclaims::{Rejection, Validator};
use certclaims_rustls::Reloadable;
use http::{HeaderMap, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::{rejection_response, ClientIdentity};

/// The TCP peer of the connection a request arrived on. [`serve`](crate::serve) and
/// [`serve_plain`](crate::serve_plain) insert it into every request; it comes from the
/// accepted socket, never from a header such as `X-Forwarded-For`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Where a layer finds the validator of the current policy generation.
pub trait ValidatorSource: Send + Sync + 'static {
    /// The validator to use for the next request.
    fn current(&self) -> Arc<Validator>;
}

impl ValidatorSource for Arc<Validator> {
    fn current(&self) -> Arc<Validator> {
        self.clone()
    }
}

impl ValidatorSource for Reloadable {
    fn current(&self) -> Arc<Validator> {
        Reloadable::current(self).verifier.validator().clone()
    }
}

/// A validator that can be replaced while requests are served (policy reload without TLS).
#[derive(Debug)]
pub struct SharedValidator {
    current: RwLock<(Arc<Validator>, u64)>,
}

impl SharedValidator {
    /// Starts at generation 1 with `validator`.
    pub fn new(validator: Validator) -> Self {
        Self {
            current: RwLock::new((Arc::new(validator), 1)),
        }
    }

    /// Replaces the validator; requests that start afterwards use it. Returns the new
    /// generation number.
    pub fn replace(&self, validator: Validator) -> u64 {
        let mut guard = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.1 += 1;
        guard.0 = Arc::new(validator);
        guard.1
    }
}

impl ValidatorSource for SharedValidator {
    fn current(&self) -> Arc<Validator> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .clone()
    }
}

/// [`Layer`] for [`Forwarded`].
#[derive(Clone)]
pub struct ForwardedLayer {
    forwarder: Arc<Forwarder>,
    validators: Arc<dyn ValidatorSource>,
}

impl std::fmt::Debug for ForwardedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardedLayer")
            .field("forwarder", &self.forwarder)
            .finish_non_exhaustive()
    }
}

impl ForwardedLayer {
    /// A layer that reads certificates forwarded by `forwarder` and validates them with the
    /// current validator of `validators`.
    pub fn new(forwarder: Forwarder, validators: Arc<dyn ValidatorSource>) -> Self {
        Self {
            forwarder: Arc::new(forwarder),
            validators,
        }
    }
}

impl<S> Layer<S> for ForwardedLayer {
    type Service = Forwarded<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Forwarded {
            inner,
            forwarder: self.forwarder.clone(),
            validators: self.validators.clone(),
        }
    }
}

/// Puts the principal of a forwarded certificate into each request as a [`ClientIdentity`]
/// (replacing any identity an outer layer inserted), and removes the forwarder's headers
/// before the inner service sees the request.
///
/// - From a [`PeerAddr`] in the forwarder's `trusted_proxies`: the header is decoded and the
///   chain validated ([`Forwarder::authenticate`]); the outcome, principal or rejection, is
///   the request's identity, exactly as with direct TLS.
/// - From anyone else (or without a [`PeerAddr`]): a request that carries any of the
///   forwarder's headers is answered at once with `untrusted_forwarder` (403), or with
///   `"untrusted": "strip"` passed on without them and without identity (`no_certificate`).
#[derive(Clone)]
pub struct Forwarded<S> {
    inner: S,
    forwarder: Arc<Forwarder>,
    validators: Arc<dyn ValidatorSource>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Forwarded<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarded")
            .field("inner", &self.inner)
            .field("forwarder", &self.forwarder)
            .finish_non_exhaustive()
    }
}

impl<S> Forwarded<S> {
    /// A [`Layer`] for this service.
    pub fn layer(forwarder: Forwarder, validators: Arc<dyn ValidatorSource>) -> ForwardedLayer {
        ForwardedLayer::new(forwarder, validators)
    }

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

/// `http::HeaderMap` as the core's [`Headers`].
struct HttpHeaders<'a>(&'a HeaderMap);

impl Headers for HttpHeaders<'_> {
    fn get_all(&self, name: &str) -> Vec<&[u8]> {
        self.0
            .get_all(name)
            .iter()
            .map(http::HeaderValue::as_bytes)
            .collect()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> Service<Request<B>> for Forwarded<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: From<Bytes> + Send + 'static,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<RB>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let identity = match self.decide(&mut req) {
            Ok(identity) => identity,
            Err(refusal) => {
                let res = rejection_response::<RB>(&refusal);
                return Box::pin(async move { Ok(res) });
            }
        };
        req.extensions_mut().insert(identity);
        Box::pin(self.inner.call(req))
    }
}

impl<S> Forwarded<S> {
    /// The request's identity, or a rejection that refuses the request outright.
    fn decide<B>(&self, req: &mut Request<B>) -> Result<ClientIdentity, Rejection> {
        let f = &self.forwarder;
        let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.ip());
        let trusted = peer.is_some_and(|p| f.trusts(p));
        let result = if trusted {
            let now = UnixTime::now();
            let validator = self.validators.current();
            let peer = peer.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
            f.authenticate(&validator, peer, &HttpHeaders(req.headers()), now)
                .map(Arc::new)
        } else if f.carries_forwarded_headers(&HttpHeaders(req.headers())) {
            match f.untrusted {
                Untrusted::Strip => Err(Rejection::no_certificate()),
                _ => return Err(f.untrusted_rejection()),
            }
        } else {
            Err(Rejection::no_certificate())
        };
        strip(f, req.headers_mut());
        Ok(ClientIdentity::new(result))
    }
}

/// Removes every header the forwarder reads, so the application never sees them (nor the
/// proxy's shared secret).
fn strip(f: &Forwarder, headers: &mut HeaderMap) {
    let names: Vec<http::HeaderName> = headers
        .keys()
        .filter(|n| f.reads_header(n.as_str()))
        .cloned()
        .collect();
    for n in names {
        headers.remove(&n);
    }
}
