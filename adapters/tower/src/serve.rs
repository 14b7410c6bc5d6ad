//! The accept loop: TCP → TLS (certclaims verifier) → HTTP/1.1 or HTTP/2 with the principal.

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use certclaims_rustls::Reloadable;
use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::{AddPrincipal, ClientIdentity, PeerAddr};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Called when a connection fails before HTTP (TCP accept or TLS handshake).
pub type ConnectionErrorHook = Arc<dyn Fn(SocketAddr, &std::io::Error) + Send + Sync>;

/// Options of [`serve`].
#[derive(Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Longest a TLS handshake may take (default 10 s).
    pub handshake_timeout: Duration,
    /// Longest a client may take to send request headers after the handshake, and the
    /// HTTP/2 keep-alive ping interval (default 30 s).
    pub header_read_timeout: Duration,
    /// Called for each failed handshake.
    pub on_handshake_error: Option<ConnectionErrorHook>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            on_handshake_error: None,
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .finish_non_exhaustive()
    }
}

/// Serves `service` over mutual TLS until `shutdown` completes.
///
/// Each connection is accepted with the [`Reloadable`]'s current generation; after the
/// handshake the connection's principal is taken from that generation's verifier (no second
/// verification) and every request of the connection carries it as a [`ClientIdentity`].
pub async fn serve<S, B>(
    listener: TcpListener,
    tls: Arc<Reloadable>,
    service: S,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and similar: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let generation = tls.current();
        let service = service.clone();
        let options = options.clone();
        tokio::spawn(async move {
            let acceptor = TlsAcceptor::from(generation.config.clone());
            let accept = acceptor.accept(tcp).into_fallible();
            let stream = match tokio::time::timeout(options.handshake_timeout, accept).await {
                Ok(Ok(stream)) => stream,
                Ok(Err((e, mut tcp))) => {
                    if let Some(hook) = &options.on_handshake_error {
                        hook(peer, &e);
                    }
                    // The alert is written; close gracefully so that the client reads it
                    // (unread client data at close() would make the kernel send a reset).
                    linger_close(&mut tcp).await;
                    return;
                }
                Err(_) => {
                    if let Some(hook) = &options.on_handshake_error {
                        hook(
                            peer,
                            &std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "TLS handshake timed out",
                            ),
                        );
                    }
                    return;
                }
            };
            let identity = ClientIdentity::new(
                generation
                    .verifier
                    .principal(stream.get_ref().1.peer_certificates()),
            );
            let svc = AddPrincipal::new(WithPeer::new(service, peer), identity);
            drive(TokioIo::new(stream), svc, &options).await;
        });
    }
}

/// Serves `service` over plain HTTP (HTTP/1.1 and HTTP/2 prior knowledge) until `shutdown`
/// completes: the mode behind a TLS-terminating proxy, where [`Forwarded`](crate::Forwarded)
/// reads the client certificate from the proxy's header. Every request carries the
/// connection's [`PeerAddr`] (from the accepted socket); no [`ClientIdentity`] is added here.
pub async fn serve_plain<S, B>(
    listener: TcpListener,
    service: S,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let svc = WithPeer::new(service.clone(), peer);
        let options = options.clone();
        tokio::spawn(async move {
            drive(TokioIo::new(tcp), svc, &options).await;
        });
    }
}

/// HTTP/1.1 or HTTP/2 over an accepted (and, for `serve`, TLS-wrapped) connection.
async fn drive<I, S, B>(io: TokioIo<I>, svc: S, options: &ServeOptions)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let svc = TowerToHyperService::new(svc);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client that finished the handshake must still send its request headers in time.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(options.header_read_timeout));
    let _ = builder.serve_connection(io, svc).await;
}

/// Inserts the connection's [`PeerAddr`] into every request.
#[derive(Debug, Clone)]
struct WithPeer<S> {
    inner: S,
    peer: PeerAddr,
}

impl<S> WithPeer<S> {
    fn new(inner: S, peer: SocketAddr) -> Self {
        Self {
            inner,
            peer: PeerAddr(peer),
        }
    }
}

impl<S, B> Service<Request<B>> for WithPeer<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // Replaces anything a client could have put there.
        req.extensions_mut().insert(self.peer);
        self.inner.call(req)
    }
}

/// Sends FIN, then drains what the client still sends for up to a second before closing.
async fn linger_close(tcp: &mut tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tcp.shutdown().await;
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
}
