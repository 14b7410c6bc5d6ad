//! An axum server over mutual TLS in require mode (Kestrel `RequireCertificate` +
//! `AddCertificate()` + an authorization policy, the Rust way).
//!
//! ```sh
//! cargo run -p certclaims-cli -- mint --out pki --client alice --spiffe spiffe://example.org/ns/prod/sa/alice
//! cargo run -p certclaims-examples --example mtls_server -- pki 127.0.0.1:8443
//! ```
//!
//! Routes: `GET /whoami` (any admitted client) and `GET /payments` (needs the claim
//! `role=payments`, which this example's policy grants to SPIFFE IDs under `ns/prod`).
//! Browsers (an `Accept` preferring `text/html`) get HTML pages: the principal from
//! `/whoami`, and the refusal page for every rejection (`BrowserPagesLayer`).

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use certclaims::pki_types::pem::PemObject;
use certclaims::pki_types::{CertificateDer, PrivateKeyDer};
use certclaims::Policy;
use certclaims_rustls::{Mode, Reloadable, TlsSettings};
use certclaims_tower::{
    principal_response, Authenticated, BrowserPagesLayer, Require, ServeOptions,
};

/// JSON for programs, an HTML page for browsers (content negotiation on `Accept`).
async fn whoami(Authenticated(principal): Authenticated, headers: HeaderMap) -> Response {
    principal_response(&headers, &principal)
}

async fn payments(Authenticated(principal): Authenticated) -> String {
    format!(
        "payments for {}\n",
        principal.spiffe_id().unwrap_or(principal.subject())
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: mtls_server DIR [ADDR]")?);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8443".into());

    // The minted policy trusts the CA; grant a role by SPIFFE ID on top of it.
    let mut policy = Policy::from_json(&std::fs::read_to_string(dir.join("policy.json"))?)?;
    policy
        .claims
        .add
        .push(serde_json::from_value(serde_json::json!({
            "when": {"spiffe_id": "spiffe://example.org/ns/prod/sa/*"},
            "claims": {"role": "payments"}
        }))?);

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain =
        CertificateDer::pem_file_iter(dir.join("server.pem"))?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key"))?;
    let settings = TlsSettings::new(provider, chain, key, Mode::Require);
    let validator = settings.validator(&policy)?;
    let tls = Arc::new(Reloadable::new(settings, validator)?);

    let app = Router::new().route("/whoami", get(whoami)).route(
        "/payments",
        get(payments).route_layer(Require::claim("role", "payments").layer()),
    );

    let app = app.layer(BrowserPagesLayer::new());

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!(
        "mtls_server listening on https://{}",
        listener.local_addr()?
    );
    certclaims_tower::serve(listener, tls, app, ServeOptions::default(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
