//! `certclaims serve`: an HTTPS whoami server over mutual TLS.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use certclaims::pki_types::pem::PemObject;
use certclaims::pki_types::{CertificateDer, PrivateKeyDer};
use certclaims::Policy;
use certclaims_rustls::{Mode, RejectionObserver, Reloadable, TlsSettings};
use certclaims_tower::{rejection_response, ClientIdentity, ServeOptions};
use tokio::net::TcpListener;

use crate::CliError;

/// Loads the server identity and the policy into a reloadable TLS configuration.
pub(crate) fn tls(
    policy_path: &Path,
    cert_path: &Path,
    key_path: &Path,
    mode: Mode,
    observer: Option<RejectionObserver>,
) -> Result<Arc<Reloadable>, CliError> {
    let chain = CertificateDer::pem_file_iter(cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| CliError(format!("{}: {e}", cert_path.display())))?;
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| CliError(format!("{}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut settings = TlsSettings::new(provider, chain, key, mode);
    if let Some(o) = observer {
        settings = settings.with_observer(o);
    }
    let validator = load_validator(policy_path, &settings)?;
    Reloadable::new(settings, validator)
        .map(Arc::new)
        .map_err(|e| CliError(format!("TLS configuration: {e}")))
}

pub(crate) fn load_validator(
    policy_path: &Path,
    settings: &TlsSettings,
) -> Result<certclaims::Validator, CliError> {
    let text = std::fs::read_to_string(policy_path)
        .map_err(|e| CliError(format!("{}: {e}", policy_path.display())))?;
    let policy = Policy::from_json(&text)
        .map_err(|e| CliError(format!("{}: {e}", policy_path.display())))?;
    settings
        .validator(&policy)
        .map_err(|e| CliError(format!("{}: {e}", policy_path.display())))
}

/// The whoami application: `GET /healthz` (and `HEAD`) answers 200 to anyone; every other
/// request, whatever its method or path (`POST /healthz` included), answers the principal
/// JSON or the rejection JSON. One log line per request on stderr, whatever the answer.
///
/// There is no router that could answer on its own (axum's bare 404 or 405, without JSON or a
/// log line): one fallback handler sees every request.
pub(crate) fn app() -> Router {
    Router::new().fallback(|req: Request| async move {
        if req.uri().path() == "/healthz"
            && (req.method() == axum::http::Method::GET || req.method() == axum::http::Method::HEAD)
        {
            healthz(&req)
        } else {
            whoami(req).await
        }
    })
}

/// `GET /healthz`: 200 `ok`, no certificate needed.
fn healthz(req: &Request) -> Response {
    eprintln!("{} {} 200 healthz", req.method(), req.uri().path());
    let mut res = Response::new(Body::from("ok\n"));
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

async fn whoami(req: Request) -> Response {
    let result = ClientIdentity::from_extensions(req.extensions());
    let (res, who) = match &result {
        Ok(p) => {
            let mut res = Response::new(Body::from(format!("{:#}\n", p.to_json())));
            res.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            (res, p.subject().to_string())
        }
        Err(r) => (rejection_response::<Body>(r), r.code().to_string()),
    };
    eprintln!(
        "{} {} {} {}",
        req.method(),
        req.uri().path(),
        res.status().as_u16(),
        who
    );
    res
}

/// `certclaims serve`. SIGHUP re-reads the policy (new connections use it).
pub(crate) async fn run(
    policy: &Path,
    cert: &Path,
    key: &Path,
    listen: SocketAddr,
    mode: Mode,
) -> Result<(), CliError> {
    let observer: RejectionObserver =
        Arc::new(|r| eprintln!("handshake rejected: {} ({})", r.code(), r.detail()));
    let tls = tls(policy, cert, key, mode, Some(observer))?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| CliError(format!("listen on {listen}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| CliError(e.to_string()))?;
    eprintln!(
        "certclaims serve: https://{addr} (mode {mode:?}, policy {})",
        policy.display()
    );

    #[cfg(unix)]
    {
        let tls = tls.clone();
        let policy = policy.to_path_buf();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                match load_validator(&policy, tls.settings()).map(|v| tls.reload(v)) {
                    Ok(Ok(n)) => eprintln!("policy reloaded: generation {n}"),
                    Ok(Err(e)) => eprintln!("policy reload failed: {e}"),
                    Err(e) => eprintln!("policy reload failed: {e}"),
                }
            }
        });
    }

    let mut options = ServeOptions::default();
    options.on_handshake_error = Some(Arc::new(|peer, e| {
        eprintln!("handshake failed from {peer}: {}", handshake_error_code(e))
    }));
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    certclaims_tower::serve(listener, tls, app(), options, shutdown)
        .await
        .map_err(|e| CliError(e.to_string()))
}

/// A short description of a failed handshake: the certclaims code when the client sent no
/// certificate, the rustls error otherwise.
pub(crate) fn handshake_error_code(e: &std::io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::NoCertificatesPresented) => certclaims::Code::NoCertificate.to_string(),
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}
