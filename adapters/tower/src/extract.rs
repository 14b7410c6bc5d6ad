//! axum extractors (feature `axum`).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use certclaims::{Code, Principal, Rejection};
use http::request::Parts;

use crate::{rejection_response, ClientIdentity};

/// The verified client of this request. Rejects with 401 (no certificate) or 403.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<Principal>);

/// The client, if it presented a certificate (for routes open to anonymous clients in allow
/// mode). A presented certificate that failed verification still rejects.
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Arc<Principal>>);

/// The rejection of the extractors: [`rejection_response`] of the inner rejection.
#[derive(Debug, Clone)]
pub struct AuthRejection(pub Rejection);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        rejection_response(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        ClientIdentity::from_extensions(&parts.extensions)
            .map(Authenticated)
            .map_err(AuthRejection)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuthenticated {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match ClientIdentity::from_extensions(&parts.extensions) {
            Ok(p) => Ok(Self(Some(p))),
            Err(r) if r.code() == Code::NoCertificate => Ok(Self(None)),
            Err(r) => Err(AuthRejection(r)),
        }
    }
}
