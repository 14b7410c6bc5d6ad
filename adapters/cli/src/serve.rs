//! `certclaims serve`: an HTTPS whoami server over mutual TLS.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use certclaims::forwarded::{Format, Forwarder};
use certclaims::pki_types::pem::PemObject;
use certclaims::pki_types::{CertificateDer, PrivateKeyDer};
use certclaims_rustls::{Mode, RejectionObserver, Reloadable, TlsSettings};
use certclaims_tower::{
    principal_response, rejection_response, BrowserPagesLayer, ClientIdentity, ForwardedLayer,
    ServeOptions, SharedValidator,
};
use tokio::net::TcpListener;
use tower_layer::Layer;

use crate::policy_file::PolicyFile;
use crate::CliError;

/// Loads the server identity and the policy into a reloadable TLS configuration; with it,
/// every file read (what a reload watches).
pub(crate) fn tls(
    policy_path: &Path,
    cert_path: &Path,
    key_path: &Path,
    mode: Mode,
    observer: Option<RejectionObserver>,
) -> Result<(Arc<Reloadable>, Vec<PathBuf>), CliError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (chain, key) = server_identity(cert_path, key_path, &provider)?;
    let mut settings = TlsSettings::new(provider, chain, key, mode);
    if let Some(o) = observer {
        settings = settings.with_observer(o);
    }
    let (validator, files) = identity_files(
        load_policy(policy_path, |p| settings.validator(p))?,
        cert_path,
        key_path,
    );
    let tls = Reloadable::new(settings, validator)
        .map(Arc::new)
        .map_err(|e| CliError(format!("TLS configuration: {e}")))?;
    Ok((tls, files))
}

/// Reloads `tls` from the same files: the policy and what it names, and the server
/// certificate and key, all read and checked before anything changes. The new generation's
/// number, and every file read.
fn reload_tls(
    tls: &Reloadable,
    policy_path: &Path,
    cert_path: &Path,
    key_path: &Path,
) -> Result<(u64, Vec<PathBuf>), CliError> {
    let mut settings = (*tls.settings()).clone();
    let (chain, key) = server_identity(cert_path, key_path, &settings.provider)?;
    settings.cert_chain = chain;
    settings.key = Arc::new(key);
    let (validator, files) = identity_files(
        load_policy(policy_path, |p| settings.validator(p))?,
        cert_path,
        key_path,
    );
    let n = tls
        .replace(settings, validator)
        .map_err(|e| CliError(format!("TLS configuration: {e}")))?;
    Ok((n, files))
}

/// The files of a loaded policy, and the server's certificate and key files after them.
fn identity_files(
    (validator, mut files): (certclaims::Validator, Vec<PathBuf>),
    cert_path: &Path,
    key_path: &Path,
) -> (certclaims::Validator, Vec<PathBuf>) {
    files.extend([cert_path.to_path_buf(), key_path.to_path_buf()]);
    (validator, files)
}

/// The policy at `path` and the files it names, as a validator made by `build`; with it,
/// every file read.
fn load_policy(
    path: &Path,
    build: impl FnOnce(&certclaims::Policy) -> Result<certclaims::Validator, certclaims::PolicyError>,
) -> Result<(certclaims::Validator, Vec<PathBuf>), CliError> {
    let file = PolicyFile::load(path)?;
    let validator = file.build(build)?;
    Ok((validator, file.files))
}

/// The most bytes of a server certificate chain or key file read.
const MAX_IDENTITY_BYTES: u64 = 1024 * 1024;

/// Reads the server's certificate chain and private key, and checks that they belong
/// together before rustls sees them: a swapped pair, a key where the chain belongs (or the
/// reverse), a chain whose first certificate is not the key's, and a key of another
/// certificate are each named with both files and what to do.
pub(crate) fn server_identity(
    cert_path: &Path,
    key_path: &Path,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), CliError> {
    use rustls::sign::CertifiedKey;
    let cert_file = cert_path.display();
    let key_file = key_path.display();
    let cert_pem = crate::read_limited(cert_path, MAX_IDENTITY_BYTES)?;
    let key_pem = crate::read_limited(key_path, MAX_IDENTITY_BYTES)?;
    let certs_in = |pem: &[u8]| -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(pem)
            .map_while(Result::ok)
            .collect()
    };
    let key_in = |pem: &[u8]| PrivateKeyDer::from_pem_slice(pem).ok();
    let chain = certs_in(&cert_pem);
    let key = key_in(&key_pem);
    let (chain, key) = match (chain.is_empty(), key) {
        (false, Some(key)) => (chain, key),
        (true, None) if key_in(&cert_pem).is_some() && !certs_in(&key_pem).is_empty() => {
            return Err(CliError(format!(
                "--tls-cert {cert_file} holds a private key and --tls-key {key_file} a \
                 certificate: the two are swapped; pass --tls-cert {key_file} --tls-key \
                 {cert_file}"
            )))
        }
        (true, _) if key_in(&cert_pem).is_some() => {
            return Err(CliError(format!(
                "--tls-cert {cert_file} holds a private key, not a certificate: pass the \
                 server's certificate chain (PEM, server certificate first) there and the key \
                 in --tls-key"
            )))
        }
        (true, _) => {
            return Err(CliError(format!(
                "--tls-cert {cert_file} holds no PEM certificate (-----BEGIN CERTIFICATE-----): \
                 pass the server's certificate chain, server certificate first; convert DER \
                 with `openssl x509 -inform der -in FILE -out server.pem`"
            )))
        }
        (false, None) if !certs_in(&key_pem).is_empty() => {
            return Err(CliError(format!(
                "--tls-key {key_file} holds a certificate, not a private key: pass the key that \
                 was generated with the certificate in --tls-cert {cert_file}"
            )))
        }
        (false, None) => {
            return Err(CliError(format!(
                "--tls-key {key_file} holds no PEM private key (PKCS#8, PKCS#1 or SEC1; an \
                 encrypted key must be decrypted first: `openssl pkey -in FILE -out server.key`)"
            )))
        }
    };
    let belongs = |cert: &CertificateDer<'static>| {
        CertifiedKey::from_der(vec![cert.clone()], key.clone_key(), provider).map(|_| ())
    };
    match belongs(&chain[0]) {
        Ok(()) => Ok((chain, key)),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            if let Some(n) = chain.iter().skip(1).position(|c| belongs(c).is_ok()) {
                return Err(CliError(format!(
                    "--tls-cert {cert_file}: the private key in --tls-key {key_file} belongs to \
                     certificate {} of the file, not the first: put the server certificate \
                     first, then its intermediates",
                    n + 2
                )));
            }
            Err(CliError(format!(
                "the private key in --tls-key {key_file} does not belong to the certificate in \
                 --tls-cert {cert_file} (their public keys differ): pass the key that was \
                 generated with this certificate, or the certificate issued for this key"
            )))
        }
        Err(e) => Err(CliError(format!(
            "--tls-key {key_file}: this key cannot serve the certificate in --tls-cert \
             {cert_file}: {e}"
        ))),
    }
}

/// The whoami application: `GET /healthz` (and `HEAD`) answers 200 to anyone; every other
/// request, whatever its method or path (`POST /healthz` included), answers the principal
/// JSON or the rejection JSON — or, to a browser (`Accept` preferring `text/html`), the
/// principal's page or the refusal page (`BrowserPagesLayer` around the whole service).
/// One log line per request on stderr, whatever the answer.
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

/// The client's address, from the connection (tower's `PeerAddr`).
fn peer_of(req: &Request) -> String {
    req.extensions()
        .get::<certclaims_tower::PeerAddr>()
        .map_or_else(|| "?".to_string(), |p| p.0.to_string())
}

/// `GET /healthz`: 200 `ok`, no certificate needed.
fn healthz(req: &Request) -> Response {
    tracing::info!(
        peer = %peer_of(req),
        method = %req.method(),
        path = req.uri().path(),
        status = 200,
        outcome = "healthz",
        "{} {} 200 healthz",
        req.method(),
        req.uri().path()
    );
    crate::metrics::metrics().request(200, "healthz", std::time::Duration::ZERO);
    text_response("ok\n", "text/plain; charset=utf-8")
}

fn text_response(body: impl Into<Body>, content_type: &'static str) -> Response {
    let mut res = Response::new(body.into());
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    res
}

/// The health listener's application (`--health-listen`): `GET /healthz` (200 `ok`) and
/// `GET /metrics` (Prometheus text), plain HTTP, no certificate in any mode; 404 otherwise.
fn health_app() -> Router {
    Router::new().fallback(|req: Request| async move {
        let get =
            req.method() == axum::http::Method::GET || req.method() == axum::http::Method::HEAD;
        match req.uri().path() {
            "/healthz" if get => text_response("ok\n", "text/plain; charset=utf-8"),
            "/metrics" if get => text_response(
                crate::metrics::metrics().render(),
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            _ => {
                let mut res = text_response(
                    "not found: GET /healthz or /metrics\n",
                    "text/plain; charset=utf-8",
                );
                *res.status_mut() = axum::http::StatusCode::NOT_FOUND;
                res
            }
        }
    })
}

async fn whoami(req: Request) -> Response {
    let started = std::time::Instant::now();
    let result = ClientIdentity::from_extensions(req.extensions());
    let res = match &result {
        Ok(p) => principal_response::<Body>(req.headers(), p),
        Err(r) => rejection_response::<Body>(r),
    };
    let status = res.status().as_u16();
    let latency = started.elapsed();
    let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    let outcome = match &result {
        Ok(_) => "ok".to_string(),
        Err(r) => r.code().to_string(),
    };
    crate::metrics::metrics().request(status, &outcome, latency);
    let (method, path, peer) = (req.method(), req.uri().path(), peer_of(&req));
    match &result {
        Ok(p) => tracing::info!(
            peer = %peer,
            method = %method,
            path,
            status,
            outcome = "ok",
            subject = p.subject(),
            fingerprint_sha256 = p.fingerprint_sha256(),
            source = p.source().as_str(),
            latency_us,
            "{method} {path} {status} {}",
            p.subject()
        ),
        Err(r) => tracing::info!(
            peer = %peer,
            method = %method,
            path,
            status,
            outcome = %r.code(),
            latency_us,
            "{method} {path} {status} {}",
            r.code()
        ),
    }
    res
}

/// `certclaims serve` arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// The policy JSON file.
    #[arg(long)]
    policy: PathBuf,
    /// The server certificate chain (PEM). Without it (forwarded mode only) the server speaks
    /// plain HTTP, for a proxy on the same host or network.
    #[arg(long = "tls-cert", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The server private key (PEM).
    #[arg(long = "tls-key", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Address to listen on: IP:PORT, [IPv6]:PORT, or HOST:PORT (e.g. localhost:8443; the
    /// first of the host's addresses that binds)
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: String,
    /// Client certificate mode of the TLS handshake: require (a valid certificate or no
    /// handshake), allow (optional; one that is presented must be valid), http (optional;
    /// the handshake takes any certificate whose key the client holds and every request is
    /// answered with the verdict: 401/403 rejection JSON the client can read, like nginx's
    /// optional_no_ca) or none (not asked for: with --forwarded, where the proxy is the TLS
    /// client). Default: require, or none with --forwarded.
    #[arg(long, value_parser = parse_mode, value_name = "MODE")]
    mode: Option<Mode>,
    /// Read the client certificate from a trusted proxy's header in this format: rfc9440,
    /// xfcc, nginx, apache, haproxy, caddy, aws-alb, azure, cloudflare, traefik, gcp, pem,
    /// base64-der.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format, requires = "trusted_proxies")]
    forwarded: Option<Format>,
    /// The header the proxy sets (default: the format's usual header, e.g. ssl-client-cert
    /// for nginx, x-forwarded-client-cert for xfcc, client-cert for rfc9440).
    #[arg(long = "forwarded-header", value_name = "NAME", requires = "forwarded")]
    forwarded_header: Option<String>,
    /// An address or CIDR the proxy connects from (repeatable; IPv4 or IPv6). Requests from
    /// anyone else that carry the header are refused with untrusted_forwarder.
    #[arg(long = "trusted-proxy", value_name = "CIDR", requires = "forwarded")]
    trusted_proxies: Vec<String>,
    /// A forwarder document (JSON, see docs/forwarded.md) instead of --forwarded,
    /// --forwarded-header and --trusted-proxy: companion headers, a shared secret, strip mode.
    #[arg(long, value_name = "FILE.json", conflicts_with_all = ["forwarded", "trusted_proxies"])]
    forwarder: Option<PathBuf>,
    /// Seconds a TLS handshake may take.
    #[arg(long = "handshake-timeout", value_name = "SECS", default_value_t = 10)]
    handshake_timeout: u64,
    /// Seconds from the connection (after the handshake) to the first request's complete
    /// headers: bounds protocol detection too.
    #[arg(
        long = "first-request-timeout",
        value_name = "SECS",
        default_value_t = 10
    )]
    first_request_timeout: u64,
    /// Seconds an HTTP/1 client may take to send a request's headers.
    #[arg(
        long = "header-read-timeout",
        value_name = "SECS",
        default_value_t = 30
    )]
    header_read_timeout: u64,
    /// Seconds a connection may stay without a request in flight before it is shut down.
    #[arg(long = "idle-timeout", value_name = "SECS", default_value_t = 60)]
    idle_timeout: u64,
    /// Seconds a connection may live before it is shut down gracefully (0: unbounded).
    #[arg(
        long = "max-connection-age",
        value_name = "SECS",
        default_value_t = 86_400
    )]
    max_connection_age: u64,
    /// Most connections open at once; the server stops accepting while all are taken.
    #[arg(long = "max-connections", value_name = "N", default_value_t = 4096)]
    max_connections: usize,
    /// Most TLS handshake steps computing at once.
    #[arg(long = "max-handshakes", value_name = "N", default_value_t = 64)]
    max_handshakes: usize,
    /// Also serve `GET /healthz` and `GET /metrics` (Prometheus) over plain HTTP on this
    /// address, with no client certificate in any mode (e.g. 127.0.0.1:9090; keep it off
    /// public interfaces).
    #[arg(long = "health-listen", value_name = "ADDR")]
    health_listen: Option<String>,
    /// Log lines on stderr: text (timestamp, level, message, fields) or json (one object per
    /// line: timestamp, level, message, peer, method, path, status, outcome, subject,
    /// fingerprint_sha256, latency_us).
    #[arg(long = "log-format", value_enum, default_value = "text")]
    log_format: crate::log::LogFormat,
    /// Do not watch the policy, the files it names and the server certificate and key for
    /// changes (by default a change reloads them, as SIGHUP does).
    #[arg(long = "no-watch")]
    no_watch: bool,
    /// Keep open connections whose client a reloaded policy refuses, with the principal
    /// they were admitted with (by default `serve` shuts them down after SIGHUP).
    #[arg(long = "keep-refused-on-reload")]
    keep_refused_on_reload: bool,
}

/// The values of `--mode`, in the order help and errors list them.
pub(crate) const MODES: [&str; 4] = ["require", "allow", "http", "none"];

fn parse_mode(s: &str) -> Result<Mode, String> {
    s.parse::<Mode>()
        .map_err(|_| format!("`{s}` is not a mode: write one of {}", MODES.join(", ")))
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

impl ServeArgs {
    /// The connection bounds of the command line.
    fn options(&self) -> ServeOptions {
        use std::time::Duration;
        let mut o = ServeOptions::default();
        o.handshake_timeout = Duration::from_secs(self.handshake_timeout);
        o.first_request_timeout = Duration::from_secs(self.first_request_timeout);
        o.header_read_timeout = Duration::from_secs(self.header_read_timeout);
        o.idle_timeout = Duration::from_secs(self.idle_timeout);
        o.max_connection_age =
            (self.max_connection_age > 0).then(|| Duration::from_secs(self.max_connection_age));
        o.max_connections = self.max_connections;
        o.max_concurrent_handshakes = self.max_handshakes;
        o.close_refused_on_reload = !self.keep_refused_on_reload;
        o
    }

    fn forwarder(&self) -> Result<Option<Forwarder>, CliError> {
        if let Some(path) = &self.forwarder {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
            return Forwarder::from_json(&text)
                .map(Some)
                .map_err(|e| CliError(format!("{}: {e}", path.display())));
        }
        let Some(format) = self.forwarded else {
            return Ok(None);
        };
        let mut f = Forwarder::new(format, self.trusted_proxies.iter().cloned())
            .map_err(|e| CliError(format!("--trusted-proxy: {}", flag_error(&e))))?;
        if let Some(h) = &self.forwarded_header {
            f.header = Some(h.clone());
            f = f
                .check()
                .map_err(|e| CliError(format!("--forwarded-header: {}", flag_error(&e))))?;
        }
        Ok(Some(f))
    }
}

/// A forwarder error in the words of the command line (no `forwarder.` field path).
fn flag_error(e: &certclaims::PolicyError) -> String {
    match e {
        certclaims::PolicyError::Invalid { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// `certclaims serve`. SIGHUP, and a change of the policy, of a file it names or of the
/// server certificate or key, re-read them all (new connections and, in forwarded mode, new
/// requests use them).
pub(crate) async fn run(args: ServeArgs) -> Result<(), CliError> {
    crate::log::init(args.log_format);
    let forwarder = args.forwarder()?;
    let listener = TcpListener::bind(args.listen.as_str()).await.map_err(|e| {
        CliError(format!(
            "listen on {}: {e} (write IP:PORT, [IPv6]:PORT or HOST:PORT, e.g. 127.0.0.1:8443)",
            args.listen
        ))
    })?;
    let addr = listener.local_addr().map_err(|e| CliError(e.to_string()))?;
    let mut options = args.options();
    options.on_handshake_error = Some(Arc::new(|peer, e| match take_refusal() {
        // The verifier refused the certificate: one line with what it refused and why.
        Some(r) if is_certificate_error(e) => log_refusal_of(peer, &r, "handshake rejected"),
        _ => {
            let code = handshake_error_code(e);
            let no_certificate = code == certclaims::Code::NoCertificate.as_str();
            crate::metrics::metrics().handshake(if no_certificate {
                "no_certificate"
            } else {
                "failed"
            });
            tracing::warn!(
                peer = %peer,
                outcome = %code,
                "handshake failed from {peer}: {code}"
            );
        }
    }));
    options.on_handshake = Some(Arc::new(|peer, identity| {
        // http mode: a refused certificate completes the handshake and is answered in HTTP.
        // The recorded refusal is this handshake's only if it is the identity's rejection (a
        // handshake whose last flight came in a later poll may have ended on another thread).
        let recorded = take_refusal();
        match identity {
            Ok(_) => crate::metrics::metrics().handshake("ok"),
            Err(rejection) if rejection.code() == certclaims::Code::NoCertificate => {
                crate::metrics::metrics().handshake("no_certificate")
            }
            Err(rejection) => {
                let r = recorded
                    .filter(|r| r.code == rejection.code() && r.detail == rejection.detail())
                    .unwrap_or_else(|| HandshakeRefusal {
                        code: rejection.code(),
                        detail: rejection.detail().to_string(),
                        subject: String::new(),
                        fingerprint: String::new(),
                    });
                log_refusal_of(peer, &r, "client certificate refused, answered in HTTP");
            }
        }
    }));
    let mut health_banner = None;
    if let Some(health) = &args.health_listen {
        let listener = TcpListener::bind(health.as_str()).await.map_err(|e| {
            CliError(format!(
                "--health-listen {health}: {e} (write IP:PORT, e.g. 127.0.0.1:9090)"
            ))
        })?;
        let at = listener.local_addr().map_err(|e| CliError(e.to_string()))?;
        health_banner = Some(format!(
            "certclaims serve: health and metrics on http://{at} (/healthz, /metrics)"
        ));
        tokio::spawn(async move {
            let stop = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            if let Err(e) =
                certclaims_tower::serve_plain(listener, health_app(), ServeOptions::default(), stop)
                    .await
            {
                tracing::error!(error = %e, "health listener stopped: {e}");
            }
        });
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let policy = args.policy.clone();

    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        // Plain HTTP: forwarded mode only.
        let Some(forwarder) = forwarder else {
            return Err(CliError(
                "serve needs --tls-cert and --tls-key, or --forwarded FORMAT --trusted-proxy CIDR to \
                 serve plain HTTP behind a TLS-terminating proxy"
                    .into(),
            ));
        };
        if args.mode.is_some() {
            return Err(CliError(
                "--mode applies to the TLS handshake; without --tls-cert the proxy is the TLS \
                 client"
                    .into(),
            ));
        }
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let (validator, files) =
            load_policy(&policy, |p| certclaims_rustls::validator_for(p, &provider))?;
        let validators = Arc::new(SharedValidator::new(validator));
        banner(
            args.log_format,
            &format!(
                "certclaims serve: http://{addr} (forwarded {} from header `{}`, trusted proxies {}, policy {})",
                forwarder.format,
                forwarder.header(),
                forwarder.trusted_proxies.join(", "),
                policy.display()
            ),
        );
        if let Some(b) = &health_banner {
            banner(args.log_format, b);
        }
        let reload = {
            let validators = validators.clone();
            let policy = policy.clone();
            reloader(move || {
                let (validator, files) =
                    load_policy(&policy, |p| certclaims_rustls::validator_for(p, &provider))?;
                Ok((validators.replace(validator), files))
            })
        };
        start_reloads(&args, files, reload);
        let app = BrowserPagesLayer::new().layer(
            ForwardedLayer::new(forwarder, validators)
                .with_refusal_hook(log_refusal())
                .layer(app()),
        );
        return certclaims_tower::serve_plain(listener, app, options, shutdown)
            .await
            .map_err(|e| CliError(e.to_string()));
    };

    let mode = match (args.mode, &forwarder) {
        (Some(m), _) => m,
        (None, Some(_)) => Mode::None,
        (None, None) => Mode::Require,
    };
    // The verifier's refusal is recorded for the handshake hooks above, which log it with
    // the client's address: they run on the thread and in the poll where the handshake
    // ended (certclaims-tower's `serve` calls them right after it, without yielding).
    let observer: RejectionObserver = Arc::new(|r| {
        let presented = certclaims::inspect(r.leaf).ok();
        let refusal = HandshakeRefusal {
            code: r.rejection.code(),
            detail: r.rejection.detail().to_string(),
            subject: presented
                .as_ref()
                .map_or_else(String::new, |c| c.subject().to_string()),
            fingerprint: presented
                .as_ref()
                .map_or_else(String::new, |c| c.fingerprint_sha256().to_string()),
        };
        LAST_REFUSAL.with(|l| *l.borrow_mut() = Some(refusal));
    });
    let (tls, files) = tls(&policy, cert, key, mode, Some(observer))?;
    banner(
        args.log_format,
        &format!(
            "certclaims serve: https://{addr} (mode {mode:?}, policy {})",
            policy.display()
        ),
    );
    if let Some(b) = &health_banner {
        banner(args.log_format, b);
    }
    let reload = {
        let (tls, policy, cert, key) = (tls.clone(), policy.clone(), cert.clone(), key.clone());
        reloader(move || reload_tls(&tls, &policy, &cert, &key))
    };
    start_reloads(&args, files, reload);
    match forwarder {
        Some(forwarder) => {
            let app = BrowserPagesLayer::new().layer(
                ForwardedLayer::new(forwarder, tls.clone())
                    .with_refusal_hook(log_refusal())
                    .layer(app()),
            );
            certclaims_tower::serve(listener, tls, app, options, shutdown).await
        }
        None => {
            let app = BrowserPagesLayer::new().layer(app());
            certclaims_tower::serve(listener, tls, app, options, shutdown).await
        }
    }
    .map_err(|e| CliError(e.to_string()))
}

/// The log line of a request the forwarded layer refused before the application.
fn log_refusal() -> certclaims_tower::RefusalHook {
    Arc::new(|method, path, peer, r| {
        let peer = peer.map_or_else(|| "?".to_string(), |p| p.to_string());
        tracing::info!(
            peer = %peer,
            method = %method,
            path = %path,
            status = r.http_status(),
            outcome = %r.code(),
            "{method} {path} {} {} from {peer}",
            r.http_status(),
            r.code()
        );
    })
}

/// The line that says where the server listens, once the socket is bound: first on stderr
/// and exactly this text in text mode (scripts wait for it), a log event in JSON mode.
fn banner(format: crate::log::LogFormat, text: &str) {
    match format {
        crate::log::LogFormat::Text => eprintln!("{text}"),
        crate::log::LogFormat::Json => tracing::info!(event = "listening", "{text}"),
    }
}

/// A reload of everything `serve` read at start (the policy, the files it names, and with
/// TLS the server certificate and key), with its log line and metric. A reload that fails
/// changes nothing and says why.
fn reloader(
    reload: impl Fn() -> Result<(u64, Vec<PathBuf>), CliError> + Send + Sync + 'static,
) -> crate::watch::Reload {
    Arc::new(move |trigger| {
        let outcome = reload();
        crate::metrics::metrics().reload(outcome.is_ok());
        match outcome {
            Ok((n, files)) => {
                tracing::info!(
                    generation = n,
                    trigger,
                    "reloaded ({trigger}): generation {n}"
                );
                Some(files)
            }
            Err(e) => {
                tracing::error!(
                    error = %e,
                    trigger,
                    "reload ({trigger}) failed, the previous policy and certificate stay: {e}"
                );
                None
            }
        }
    })
}

/// SIGHUP and (unless `--no-watch`) a change of any of `files` run `reload`.
fn start_reloads(args: &ServeArgs, files: Vec<PathBuf>, reload: crate::watch::Reload) {
    #[cfg(unix)]
    {
        let reload = reload.clone();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                let reload = reload.clone();
                // Reading files and building the validator is blocking work.
                let _ = tokio::task::spawn_blocking(move || reload("SIGHUP")).await;
            }
        });
    }
    if !args.no_watch {
        crate::watch::spawn(files, reload);
    }
}

/// What the verifier refused in the handshake that just ended on this thread.
struct HandshakeRefusal {
    code: certclaims::Code,
    detail: String,
    /// What the refused certificate says of itself (unverified).
    subject: String,
    fingerprint: String,
}

std::thread_local! {
    static LAST_REFUSAL: std::cell::RefCell<Option<HandshakeRefusal>> =
        const { std::cell::RefCell::new(None) };
}

fn take_refusal() -> Option<HandshakeRefusal> {
    LAST_REFUSAL.with(|l| l.borrow_mut().take())
}

/// The one log line (and the metric) of a refused client certificate.
fn log_refusal_of(peer: std::net::SocketAddr, r: &HandshakeRefusal, what: &str) {
    crate::metrics::metrics().handshake(r.code.as_str());
    tracing::warn!(
        peer = %peer,
        outcome = r.code.as_str(),
        subject = r.subject.as_str(),
        fingerprint_sha256 = r.fingerprint.as_str(),
        detail = r.detail.as_str(),
        "{what}: {} ({})",
        r.code,
        r.detail
    );
}

/// Whether a failed handshake failed on the client's certificate (rustls
/// `InvalidCertificate`, what the verifier's refusals become).
fn is_certificate_error(e: &std::io::Error) -> bool {
    matches!(
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::InvalidCertificate(_))
    )
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
