//! # certclaims-tower
//!
//! Puts the mTLS client's [`Principal`] into every HTTP request of its connection.
//!
//! - [`serve`]: an accept loop over tokio-rustls + hyper-util (HTTP/1.1 and HTTP/2) that
//!   verifies client certificates in the handshake ([`certclaims_rustls::Reloadable`]) and
//!   wraps the service of each connection in [`AddPrincipal`]. Every phase of a connection
//!   is bounded (handshake, protocol detection and first request, headers, idle keep-alive,
//!   HTTP/2 pings, lifetime), open connections and concurrent handshake work are capped,
//!   handshakes presenting long chains are verified in their own lane off the async workers,
//!   and a reload closes connections whose client the new policy refuses: [`ServeOptions`].
//! - [`AddPrincipal`] / [`AddPrincipalLayer`]: inserts a [`ClientIdentity`] into request
//!   extensions (the tower-http `AddExtension` shape).
//! - [`Require`] / [`RequireLayer`]: per-route authorization on claims or SPIFFE ID patterns.
//! - feature `axum`: the [`Authenticated`] and [`MaybeAuthenticated`] extractors.
//! - [`serve_plain`] + [`Forwarded`] / [`ForwardedLayer`]: behind a TLS-terminating proxy,
//!   the principal from the certificate the proxy forwards in a header
//!   ([`certclaims::forwarded`]), believed only from the proxy's address ([`PeerAddr`]).
//!
//! - [`browser`]: HTML pages for people in browsers, negotiated on `Accept`:
//!   [`principal_response`] and [`BrowserPagesLayer`] (every rejection inside it).
//!
//! Rejections become HTTP responses in exactly one place, [`rejection_response`]: 401 when no
//! certificate was presented, 403 otherwise, with body `{"error":{"code","message","step"}}`
//! (an HTML page instead for browsers, under [`BrowserPagesLayer`]).

use std::sync::Arc;

use bytes::Bytes;
use certclaims::{Principal, Rejection};
use http::{header, Response, StatusCode};

mod add_principal;
pub mod browser;
#[cfg(feature = "axum")]
mod extract;
mod forwarded;
mod require;
mod serve;

pub use add_principal::{AddPrincipal, AddPrincipalLayer};
pub use browser::{principal_response, BrowserPagesLayer};
#[cfg(feature = "axum")]
pub use extract::{AuthRejection, Authenticated, MaybeAuthenticated};
pub use forwarded::{
    Forwarded, ForwardedLayer, PeerAddr, RefusalHook, SharedValidator, ValidatorSource,
};
pub use require::{Require, RequireLayer, RequireService};
pub use serve::{
    serve, serve_plain, ConnectionErrorHook, HandshakeHook, RequestBody, ServeOptions,
};

pub use certclaims;
pub use certclaims_rustls;

/// What the server knows about the client of a connection: its principal, or why there is
/// none (in allow mode, `no_certificate`). Inserted into every request's extensions.
#[derive(Debug, Clone)]
pub struct ClientIdentity(Result<Arc<Principal>, Rejection>);

impl ClientIdentity {
    /// Wraps a verification outcome.
    pub fn new(result: Result<Arc<Principal>, Rejection>) -> Self {
        Self(result)
    }

    /// The principal, if the client presented a valid certificate.
    pub fn principal(&self) -> Option<&Arc<Principal>> {
        self.0.as_ref().ok()
    }

    /// The outcome.
    pub fn result(&self) -> Result<&Arc<Principal>, &Rejection> {
        self.0.as_ref()
    }

    /// Finds the identity in a request's extensions; a missing one is `no_certificate`.
    ///
    /// A connection keeps the principal it was admitted with, but only while the validator
    /// that admitted it would still accept its chain's validity
    /// ([`Principal::is_usable_at`]: notAfter plus the policy's clock skew, never when the
    /// policy does not check validity, and no later than an issuer's notAfter). On a
    /// long-lived connection (HTTP keep-alive, HTTP/2), requests after that are rejected with
    /// `expired`.
    pub fn from_extensions(ext: &http::Extensions) -> Result<Arc<Principal>, Rejection> {
        let principal = match ext.get::<ClientIdentity>() {
            Some(ClientIdentity(r)) => r.clone()?,
            None => return Err(Rejection::no_certificate()),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .unwrap_or(std::time::Duration::MAX);
        if !principal.is_usable_at(certclaims::pki_types::UnixTime::since_unix_epoch(now)) {
            let until = principal.usable_until().map_or(u64::MAX, |t| t.as_secs());
            return Err(Rejection::new(
                certclaims::Code::Expired,
                certclaims::Step::Validation,
                format!(
                    "the client certificate of this connection is no longer valid: it was \
                     accepted until {until} (seconds since the epoch)"
                ),
            ));
        }
        Ok(principal)
    }
}

/// The one mapping from a rejection to an HTTP response. The response carries the
/// [`Rejection`] in its extensions, for [`BrowserPagesLayer`] and for logging layers.
pub fn rejection_response<B: From<Bytes>>(rejection: &Rejection) -> Response<B> {
    let status = StatusCode::from_u16(rejection.http_status()).unwrap_or(StatusCode::FORBIDDEN);
    let body = Bytes::from(rejection.to_json().to_string());
    let mut res = Response::new(B::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    res.extensions_mut().insert(rejection.clone());
    res
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use certclaims::pki_types::UnixTime;
    use certclaims::test_kit::Pki;
    use certclaims::{Code, Validator};

    fn principal_minted_at(base: UnixTime) -> Arc<Principal> {
        let pki = Pki::at(base);
        let leaf = pki.client("alice").issue();
        let v = Validator::from_policy(&pki.policy(), certclaims::crypto::ALL).unwrap();
        Arc::new(v.verify(leaf.leaf(), leaf.intermediates(), base).unwrap())
    }

    #[test]
    fn a_connection_principal_expires_with_its_certificate() {
        // Minted in 2020: valid then, its notAfter (a year later) long past now.
        let old = principal_minted_at(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            1_590_000_000,
        )));
        let mut ext = http::Extensions::new();
        ext.insert(ClientIdentity::new(Ok(old)));
        let r = ClientIdentity::from_extensions(&ext).unwrap_err();
        assert_eq!(r.code(), Code::Expired);
        assert_eq!(r.http_status(), 403);

        let now = UnixTime::since_unix_epoch(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap(),
        );
        let fresh = principal_minted_at(now);
        ext.insert(ClientIdentity::new(Ok(fresh.clone())));
        assert!(Arc::ptr_eq(
            &ClientIdentity::from_extensions(&ext).unwrap(),
            &fresh
        ));
    }
}
