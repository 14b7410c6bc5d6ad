//! Shared by the tower integration tests: a PKI minted around the real clock (rustls checks
//! certificates at the real time), `serve` on 127.0.0.1, and hyper clients over tokio-rustls.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use certclaims::test_kit::{Issued, Pki};
use certclaims::{Policy, Validator};
pub use certclaims_test_support::tls::{
    chain_of, key_of, provider, rustls_error, tls_connect, STEP,
};
use certclaims_test_support::tls::{client_config, localhost_pki};
use certclaims_tower::certclaims_rustls::{Mode, Reloadable, TlsSettings};
use certclaims_tower::{serve, RequestBody, ServeOptions};
use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body, Incoming};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ClientConfig;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;

/// The resident set of this process, in bytes (Linux).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn spiffe(ns: &str, sa: &str) -> String {
    format!("spiffe://example.org/ns/{ns}/sa/{sa}")
}

/// A PKI minted around the real clock, with a server certificate for `localhost`.
pub struct World {
    pub pki: Pki,
    pub server: Issued,
}

impl World {
    pub fn new() -> Self {
        let (pki, server) = localhost_pki();
        Self { pki, server }
    }

    /// A policy trusting this PKI's root, with the given `identity` and `claims` sections.
    pub fn policy(&self, identity: Value, claims: Value) -> Policy {
        let doc = json!({
            "version": 1,
            "trust": {"anchors": [self.pki.root_pem()]},
            "identity": identity,
            "claims": claims,
        });
        Policy::from_json(&doc.to_string()).unwrap()
    }

    pub fn settings(&self, mode: Mode) -> TlsSettings {
        TlsSettings::new(
            provider(),
            chain_of(&self.server),
            key_of(&self.server),
            mode,
        )
    }

    /// The load tests' clients: `n` of them, `client-00` … with SPIFFE IDs under
    /// `ns/load`, each a client config offering HTTP/1.1, and the policy admitting them.
    pub fn load_clients(&self, n: usize) -> (Policy, Vec<(Arc<ClientConfig>, String)>) {
        let policy = self.policy(
            json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/load/sa/*"}]}),
            json!({}),
        );
        let clients = (0..n)
            .map(|i| {
                let cn = format!("client-{i:02}");
                let cert = self
                    .pki
                    .client(&cn)
                    .spiffe(&format!("spiffe://example.org/ns/load/sa/{cn}"))
                    .issue();
                (self.client(Some(&cert), &[b"http/1.1"]), cn)
            })
            .collect();
        (policy, clients)
    }

    pub fn validator(&self, policy: &Policy) -> Validator {
        self.settings(Mode::Require).validator(policy).unwrap()
    }

    pub fn reloadable(&self, mode: Mode, policy: &Policy) -> Arc<Reloadable> {
        let settings = self.settings(mode);
        let validator = settings.validator(policy).unwrap();
        Arc::new(Reloadable::new(settings, validator).unwrap())
    }

    /// A client configuration trusting this PKI's root, offering `alpn`, never resuming
    /// sessions (every connection is a full handshake that verifies the certificate).
    pub fn client(&self, cert: Option<&Issued>, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        client_config(&self.pki).maybe_cert(cert).alpn(alpn).build()
    }
}

/// A running `serve`.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn start<S, B>(tls: Arc<Reloadable>, service: S, options: ServeOptions) -> Self
    where
        S: tower_service::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, tls, service, options, async {
            let _ = rx.await;
        }));
        Self {
            addr,
            shutdown: Some(tx),
            task,
        }
    }

    /// Stops accepting; returns what `serve` returned.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(STEP, &mut self.task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The client's first read after the handshake: in TLS 1.3 a refusal of the client's
/// certificate arrives here, as the server's alert. `Ok(n)`: bytes the server sent first.
pub async fn first_read(mut tls: TlsStream<TcpStream>) -> Result<usize, rustls::Error> {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 64];
    tokio::time::timeout(STEP, tls.read(&mut buf))
        .await
        .expect("read in time")
        .map_err(|e| rustls_error(&e))
}

/// One HTTP connection of a client.
pub enum Http {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

/// An answer: status, HTTP version, content type, body (JSON when it parses, else a string).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub version: Version,
    pub content_type: Option<String>,
    pub body: Value,
}

impl Http {
    /// TLS, then HTTP/2 if ALPN chose `h2`, else HTTP/1.1.
    pub async fn connect(
        addr: SocketAddr,
        config: &Arc<ClientConfig>,
    ) -> Result<(Self, JoinHandle<()>), rustls::Error> {
        let tls = tls_connect(addr, config).await?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        Ok(Self::over(tls, h2).await)
    }

    /// HTTP/1.1 or HTTP/2 (prior knowledge) over an established TLS stream.
    pub async fn over(tls: TlsStream<TcpStream>, h2: bool) -> (Self, JoinHandle<()>) {
        let io = TokioIo::new(tls);
        if h2 {
            let (send, conn) = http2::handshake(TokioExecutor::new(), io).await.unwrap();
            (
                Self::H2(send),
                tokio::spawn(async move {
                    let _ = conn.await;
                }),
            )
        } else {
            let (send, conn) = http1::handshake(io).await.unwrap();
            (
                Self::H1(send),
                tokio::spawn(async move {
                    let _ = conn.await;
                }),
            )
        }
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer, hyper::Error> {
        let req = Request::get(format!("https://localhost{path}"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let fut = async {
            match self {
                Self::H1(s) => {
                    s.ready().await?;
                    s.send_request(req).await
                }
                Self::H2(s) => {
                    s.ready().await?;
                    s.send_request(req).await
                }
            }
        };
        let res = tokio::time::timeout(STEP, fut)
            .await
            .expect("response in time")?;
        Ok(answer(res).await)
    }
}

/// Reads a whole response.
pub async fn answer(res: Response<Incoming>) -> Answer {
    let status = res.status();
    let version = res.version();
    let content_type = res
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        version,
        content_type,
        body,
    }
}

/// A plain tower service answering the request's principal JSON (or rejection JSON).
pub fn whoami_service() -> impl tower_service::Service<
    Request<RequestBody>,
    Response = Response<http_body_util::Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send
       + Sync
       + 'static {
    tower::service_fn(|req: Request<RequestBody>| async move {
        let body = match certclaims_tower::ClientIdentity::from_extensions(req.extensions()) {
            Ok(p) => p.to_json(),
            Err(r) => r.to_json(),
        };
        Ok::<_, Infallible>(Response::new(http_body_util::Full::new(Bytes::from(
            body.to_string(),
        ))))
    })
}

impl Running {
    /// [`serve_plain`](certclaims_tower::serve_plain) on 127.0.0.1 (plain HTTP).
    pub async fn start_plain<S, B>(service: S, options: ServeOptions) -> Self
    where
        S: tower_service::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(certclaims_tower::serve_plain(
            listener,
            service,
            options,
            async {
                let _ = rx.await;
            },
        ));
        Self {
            addr,
            shutdown: Some(tx),
            task,
        }
    }
}

/// Reads (and discards) until the peer closes the connection (EOF or an error such as a
/// reset or a TLS close without close_notify); returns how long that took. Panics after
/// `limit`.
pub async fn until_closed<R: tokio::io::AsyncRead + Unpin>(
    r: &mut R,
    limit: std::time::Duration,
) -> std::time::Duration {
    use tokio::io::AsyncReadExt;
    let start = std::time::Instant::now();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server still holds the connection after {limit:?}"
    );
    start.elapsed()
}
