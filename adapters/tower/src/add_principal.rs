//! The layer that inserts a connection's [`ClientIdentity`] into each request.

use std::task::{Context, Poll};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use crate::ClientIdentity;

/// [`Layer`] for [`AddPrincipal`].
#[derive(Debug, Clone)]
pub struct AddPrincipalLayer {
    identity: ClientIdentity,
}

impl AddPrincipalLayer {
    /// A layer that adds `identity` to every request.
    pub fn new(identity: ClientIdentity) -> Self {
        Self { identity }
    }
}

impl<S> Layer<S> for AddPrincipalLayer {
    type Service = AddPrincipal<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AddPrincipal::new(inner, self.identity.clone())
    }
}

/// Adds the connection's [`ClientIdentity`] to the extensions of every request.
#[derive(Debug, Clone)]
pub struct AddPrincipal<S> {
    inner: S,
    identity: ClientIdentity,
}

impl<S> AddPrincipal<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, identity: ClientIdentity) -> Self {
        Self { inner, identity }
    }

    /// A [`Layer`] for this service.
    pub fn layer(identity: ClientIdentity) -> AddPrincipalLayer {
        AddPrincipalLayer::new(identity)
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

impl<S, B> Service<Request<B>> for AddPrincipal<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // A client cannot smuggle an identity in: whatever was there is replaced.
        req.extensions_mut().insert(self.identity.clone());
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::convert::Infallible;
    use std::future::{ready, Ready};
    use std::sync::Arc;

    use certclaims::test_kit::{Pki, NOW};
    use certclaims::{Code, Principal, Rejection};
    use tower::{service_fn, ServiceExt};

    use super::*;

    fn principal(pki: &Pki, cn: &str) -> Arc<Principal> {
        let client = pki.client(cn).issue();
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let validator = certclaims_rustls::validator_for(&pki.policy(), &provider).unwrap();
        Arc::new(
            validator
                .verify(client.leaf(), client.intermediates(), NOW)
                .unwrap(),
        )
    }

    /// The inner service answers with the identity it was given.
    fn echo(
    ) -> impl Service<Request<()>, Response = Option<ClientIdentity>, Error = Infallible> + Clone
    {
        service_fn(|req: Request<()>| async move {
            Ok::<_, Infallible>(req.extensions().get::<ClientIdentity>().cloned())
        })
    }

    #[tokio::test]
    async fn inserts_the_identity() {
        let pki = Pki::new();
        let alice = principal(&pki, "alice");
        let svc = AddPrincipal::new(echo(), ClientIdentity::new(Ok(alice.clone())));
        let seen = svc.oneshot(Request::new(())).await.unwrap().unwrap();
        assert!(Arc::ptr_eq(seen.principal().unwrap(), &alice));
        assert!(Arc::ptr_eq(
            &ClientIdentity::from_extensions(&{
                let mut ext = http::Extensions::new();
                ext.insert(seen);
                ext
            })
            .unwrap(),
            &alice
        ));
    }

    #[tokio::test]
    async fn inserts_an_anonymous_identity_as_no_certificate() {
        let svc = AddPrincipal::new(
            echo(),
            ClientIdentity::new(Err(Rejection::no_certificate())),
        );
        let seen = svc.oneshot(Request::new(())).await.unwrap().unwrap();
        assert!(seen.principal().is_none());
        assert_eq!(seen.result().unwrap_err(), &Rejection::no_certificate());
    }

    #[tokio::test]
    async fn replaces_an_identity_already_in_the_request() {
        let pki = Pki::new();
        let alice = principal(&pki, "alice");
        let mallory = principal(&pki, "mallory");
        let smuggled = || {
            let mut req = Request::new(());
            req.extensions_mut()
                .insert(ClientIdentity::new(Ok(mallory.clone())));
            req
        };

        // Replaced by the connection's principal...
        let svc = AddPrincipal::new(echo(), ClientIdentity::new(Ok(alice.clone())));
        let seen = svc.oneshot(smuggled()).await.unwrap().unwrap();
        assert!(Arc::ptr_eq(seen.principal().unwrap(), &alice));
        assert_eq!(seen.principal().unwrap().common_name(), Some("alice"));

        // ...and by the absence of one: an anonymous connection stays anonymous.
        let svc = AddPrincipal::new(
            echo(),
            ClientIdentity::new(Err(Rejection::no_certificate())),
        );
        let seen = svc.oneshot(smuggled()).await.unwrap().unwrap();
        assert_eq!(seen.result().unwrap_err().code(), Code::NoCertificate);
    }

    #[tokio::test]
    async fn every_request_of_the_service_gets_the_same_identity() {
        let pki = Pki::new();
        let alice = principal(&pki, "alice");
        let layer = AddPrincipal::<()>::layer(ClientIdentity::new(Ok(alice.clone())));
        let mut svc = layer.layer(echo());
        for _ in 0..3 {
            let seen = svc
                .ready()
                .await
                .unwrap()
                .call(Request::new(()))
                .await
                .unwrap()
                .unwrap();
            assert!(Arc::ptr_eq(seen.principal().unwrap(), &alice));
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Closed(u32);

    impl Service<Request<()>> for Closed {
        type Response = ();
        type Error = &'static str;
        type Future = Ready<Result<(), &'static str>>;
        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Err("closed"))
        }
        fn call(&mut self, _req: Request<()>) -> Self::Future {
            ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn poll_ready_delegates_and_accessors_reach_the_inner_service() {
        let identity = ClientIdentity::new(Err(Rejection::no_certificate()));
        let mut svc = AddPrincipalLayer::new(identity).layer(Closed(1));
        assert_eq!(svc.ready().await.unwrap_err(), "closed");
        assert_eq!(svc.get_ref(), &Closed(1));
        svc.get_mut().0 = 2;
        assert_eq!(svc.into_inner(), Closed(2));
    }
}
