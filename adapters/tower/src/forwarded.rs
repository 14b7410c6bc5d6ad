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

/// Called for each request [`Forwarded`] refuses itself (`untrusted_forwarder`), with the
/// request's method, path and peer: the application never sees such a request, so this is
/// where a host logs it.
pub type RefusalHook =
    Arc<dyn Fn(&http::Method, &str, Option<SocketAddr>, &Rejection) + Send + Sync>;

/// [`Layer`] for [`Forwarded`].
#[derive(Clone)]
pub struct ForwardedLayer {
    forwarder: Arc<Forwarder>,
    validators: Arc<dyn ValidatorSource>,
    on_refusal: Option<RefusalHook>,
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
            on_refusal: None,
        }
    }

    /// Calls `hook` for every request refused before the application.
    #[must_use]
    pub fn with_refusal_hook(mut self, hook: RefusalHook) -> Self {
        self.on_refusal = Some(hook);
        self
    }
}

impl<S> Layer<S> for ForwardedLayer {
    type Service = Forwarded<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Forwarded {
            inner,
            forwarder: self.forwarder.clone(),
            validators: self.validators.clone(),
            on_refusal: self.on_refusal.clone(),
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
    on_refusal: Option<RefusalHook>,
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
                if let Some(hook) = &self.on_refusal {
                    let peer = req.extensions().get::<PeerAddr>().map(|p| p.0);
                    hook(req.method(), req.uri().path(), peer, &refusal);
                }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::convert::Infallible;

    use base64::Engine;
    use certclaims::forwarded::Format;
    use certclaims::test_kit::Pki;
    use certclaims::{Code, Source};
    use http::StatusCode;
    use http_body_util::{BodyExt, Full};
    use tower::{service_fn, ServiceExt};

    use super::*;

    /// What the inner service saw: the identity and whether any forwarder header was left.
    async fn inner(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
        let id = match ClientIdentity::from_extensions(req.extensions()) {
            Ok(p) => format!(
                "ok {} {}",
                p.common_name().unwrap_or("-"),
                p.source().as_str()
            ),
            Err(r) => format!("err {}", r.code()),
        };
        let leaked = req.headers().contains_key("x-ssl-client-cert")
            || req.headers().contains_key("x-proxy-secret");
        Ok(Response::new(Full::from(format!("{id} leaked={leaked}"))))
    }

    struct Setup {
        layer: ForwardedLayer,
        cert: String,
    }

    fn setup(untrusted: &str) -> Setup {
        // Minted around the real clock: the layer validates at the time of the request.
        let pki = Pki::at(UnixTime::now());
        let alice = pki.client("alice").issue();
        let mut policy = pki.policy();
        policy.trust.intermediates.push(pki.issuing_ca().pem());
        let v = Validator::from_policy(&policy, certclaims::crypto::ALL).unwrap();
        let f = Forwarder::from_json(&format!(
            r#"{{"format": "haproxy", "trusted_proxies": ["10.0.0.0/8"], "untrusted": "{untrusted}",
                "shared_secret": {{"header": "x-proxy-secret", "value": "a-long-enough-secret"}}}}"#
        ))
        .unwrap();
        assert_eq!(f.format, Format::Haproxy);
        Setup {
            layer: ForwardedLayer::new(f, Arc::new(Arc::new(v))),
            cert: base64::engine::general_purpose::STANDARD.encode(alice.leaf()),
        }
    }

    async fn send(s: &Setup, peer: Option<&str>, headers: &[(&str, &str)]) -> (StatusCode, String) {
        let mut req = Request::new(Full::<Bytes>::default());
        if let Some(p) = peer {
            req.extensions_mut().insert(PeerAddr(p.parse().unwrap()));
        }
        for (n, v) in headers {
            req.headers_mut().append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let res = s.layer.layer(service_fn(inner)).oneshot(req).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_trusted_proxy_gives_the_principal_and_its_headers_are_removed() {
        let s = setup("reject");
        let h = [
            ("x-ssl-client-cert", s.cert.as_str()),
            ("x-proxy-secret", "a-long-enough-secret"),
        ];
        let (status, body) = send(&s, Some("10.1.2.3:5000"), &h).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "ok alice forwarded leaked=false")
        );
        assert_eq!(Source::Forwarded.as_str(), "forwarded");
        // Without the secret: the identity is the rejection; the request still reaches the
        // app (which decides, as in allow mode), without the headers.
        let (_, body) = send(&s, Some("10.1.2.3:5000"), &h[..1]).await;
        assert_eq!(
            body,
            format!("err {} leaked=false", Code::ForwarderCheckFailed)
        );
    }

    #[tokio::test]
    async fn an_untrusted_peer_with_the_header_is_refused_before_the_app() {
        let s = setup("reject");
        let h = [("x-ssl-client-cert", s.cert.as_str())];
        for peer in [Some("192.168.1.1:4000"), Some("[::1]:4000"), None] {
            let (status, body) = send(&s, peer, &h).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{peer:?}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["error"]["code"], "untrusted_forwarder", "{peer:?}");
            assert!(!body.contains("10.0.0.0"), "configuration leaked: {body}");
        }
        // Without the header: the app answers, anonymous.
        let (status, body) = send(&s, Some("192.168.1.1:4000"), &[]).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "err no_certificate leaked=false")
        );
    }

    #[tokio::test]
    async fn strip_mode_passes_untrusted_requests_on_without_the_headers() {
        let s = setup("strip");
        let h = [
            ("X-SSL-Client-Cert", s.cert.as_str()),
            ("x-proxy-secret", "a-long-enough-secret"),
        ];
        let (status, body) = send(&s, Some("192.168.1.1:4000"), &h).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "err no_certificate leaked=false")
        );
    }
}
