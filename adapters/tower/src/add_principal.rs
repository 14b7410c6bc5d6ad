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
