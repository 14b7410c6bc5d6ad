//! The accept loop: TCP → TLS (certclaims verifier) → HTTP/1.1 or HTTP/2 with the principal.

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims_rustls::Reloadable;
use http::{Request, Response};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::{AddPrincipal, ClientIdentity, PeerAddr};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Called when a connection fails before HTTP (TCP accept or TLS handshake).
pub type ConnectionErrorHook = Arc<dyn Fn(SocketAddr, &std::io::Error) + Send + Sync>;

/// A hook called with each completed handshake's peer and identity.
pub type HandshakeHook =
    Arc<dyn Fn(SocketAddr, Result<&certclaims::Principal, &certclaims::Rejection>) + Send + Sync>;

/// Options of [`serve`] and [`serve_plain`].
///
/// Every phase of a connection has a bound, so that a client can hold a connection only
/// while it makes progress:
///
/// | phase | bound | on expiry |
/// |---|---|---|
/// | waiting for a connection slot | [`max_connections`](Self::max_connections) | the accept loop stops accepting; new connections wait in the kernel's backlog |
/// | TLS handshake | [`handshake_timeout`](Self::handshake_timeout) | closed |
/// | protocol detection and the first request's headers | [`first_request_timeout`](Self::first_request_timeout) | closed |
/// | each later HTTP/1 request's headers | [`header_read_timeout`](Self::header_read_timeout) | closed (hyper) |
/// | idle between requests (HTTP/1 keep-alive, HTTP/2 without streams) | [`idle_timeout`](Self::idle_timeout) | graceful shutdown |
/// | HTTP/2 peer liveness | [`http2_keep_alive_interval`](Self::http2_keep_alive_interval) + [`http2_keep_alive_timeout`](Self::http2_keep_alive_timeout) | closed (hyper) |
/// | whole connection | [`max_connection_age`](Self::max_connection_age) | graceful shutdown |
/// | after a graceful shutdown | [`shutdown_grace`](Self::shutdown_grace) | closed |
/// | a request body the application did not read | [`drain_body_bytes`](Self::drain_body_bytes) and [`drain_body_timeout`](Self::drain_body_timeout) | the rest is not read: HTTP/2 resets the stream (`NO_ERROR`) after the answer; HTTP/1 is left to hyper |
///
/// A graceful shutdown lets requests in flight finish (HTTP/1 closes after the current
/// response, HTTP/2 sends GOAWAY); after `shutdown_grace` the connection is closed anyway.
/// A request is in flight from its complete headers to the end of its response body.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Longest a TLS handshake may take, from the accepted TCP connection (default 10 s).
    pub handshake_timeout: Duration,
    /// Longest a client may take, once connected (after the TLS handshake for [`serve`]),
    /// to send the complete headers of its first request: this bounds protocol detection
    /// (the HTTP/2 preface or the first HTTP/1 bytes), which has no timer of its own in
    /// hyper-util (default 10 s).
    pub first_request_timeout: Duration,
    /// Longest a client may take to send the headers of an HTTP/1 request (default 30 s).
    pub header_read_timeout: Duration,
    /// Longest a connection may stay without a request in flight after its last response
    /// (default 60 s); then it is shut down gracefully.
    pub idle_timeout: Duration,
    /// HTTP/2 keep-alive ping interval (default 30 s; `None`: no pings).
    pub http2_keep_alive_interval: Option<Duration>,
    /// How long an HTTP/2 ping may go unanswered before the connection is closed (default
    /// 20 s).
    pub http2_keep_alive_timeout: Duration,
    /// Longest a connection may live (default 24 h; `None`: unbounded); then it is shut down
    /// gracefully and the client reconnects (and is verified again).
    pub max_connection_age: Option<Duration>,
    /// How long a graceful shutdown may take before the connection is closed (default 10 s).
    pub shutdown_grace: Duration,
    /// Most connections open at once, handshaking ones included (default 4096). When all
    /// are taken the accept loop waits for one to close before it accepts again (new
    /// connections wait in the listen backlog; none is refused). Idle and stalled
    /// connections give their slot back at their bound above, so a flood of them delays
    /// valid clients by at most those bounds.
    pub max_connections: usize,
    /// Most TLS handshake steps computing at once (default 64). The rustls work of a
    /// handshake, the client chain's verification included, runs synchronously when the
    /// handshake is polled; each such poll first takes one of these permits. The permit is
    /// held only while computing, never while waiting for the client, so slow handshakes do
    /// not hold it. Expensive handshakes are recognised by their size and take the heavy
    /// lane instead ([`heavy_handshake_bytes`](Self::heavy_handshake_bytes)).
    pub max_concurrent_handshakes: usize,
    /// A handshake whose client has sent more than this many bytes (default 16 KiB: a
    /// ClientHello and a client chain of a few certificates take 1–8 KiB; 64 look-alike
    /// intermediates take 30 KiB or more) is heavy: from then on its polls take a permit of
    /// [`max_concurrent_heavy_handshakes`](Self::max_concurrent_heavy_handshakes) instead,
    /// so that clients presenting long chains share a small part of the CPU among
    /// themselves and cannot delay ordinary handshakes.
    pub heavy_handshake_bytes: usize,
    /// Most heavy handshake steps computing at once (default 1). Heavy handshakes wait for
    /// one of these within their [`handshake_timeout`](Self::handshake_timeout); on a
    /// multi-threaded tokio runtime each heavy step runs in `tokio::task::block_in_place`, so
    /// that a 64-intermediate chain (75 ms of verification in a release build) does not stall
    /// an async worker thread.
    pub max_concurrent_heavy_handshakes: usize,
    /// After a [`Reloadable::reload`], shut down (gracefully) each open connection whose
    /// client chain the new generation refuses, checked every
    /// [`watch_interval`](Self::watch_interval). Default false: the documented contract of
    /// [`Reloadable`] is that existing connections keep the principal they were admitted
    /// with (until its certificate's validity ends); set it to revoke access on reload
    /// (`certclaims serve` does, unless `--keep-refused-on-reload`).
    pub close_refused_on_reload: bool,
    /// How often each connection checks its bounds and the reload generation (default
    /// 250 ms). The bounds above are enforced with at most this much delay.
    pub watch_interval: Duration,
    /// Most bytes of a request body read and discarded after the application dropped it
    /// unread (default 8 MiB). An application that answers before reading the body (a 401,
    /// 403, 404 or 405 to an upload) leaves the client still sending; reading the rest lets
    /// the client finish the upload and read the answer, where an HTTP/2 stream reset in
    /// mid-upload makes clients such as curl report a stream error instead of the response.
    /// A longer body is cut off at this bound (HTTP/2: `RST_STREAM(NO_ERROR)` after the
    /// response; HTTP/1: what hyper does with an unread body). 0 turns draining off.
    pub drain_body_bytes: u64,
    /// Longest a dropped request body is drained (default 5 s), whatever its size.
    pub drain_body_timeout: Duration,
    /// Called for each failed handshake.
    pub on_handshake_error: Option<ConnectionErrorHook>,
    /// Called for each completed handshake, with the connection's identity (a rejection in
    /// allow or http mode when the client's certificate was missing or refused).
    ///
    /// Both hooks run on the connection's task right after the handshake ends, in the same
    /// poll and so on the same thread as the verifier's last call: what a verifier observer
    /// left in a thread-local for that handshake is still there.
    pub on_handshake: Option<HandshakeHook>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            first_request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            http2_keep_alive_interval: Some(Duration::from_secs(30)),
            http2_keep_alive_timeout: Duration::from_secs(20),
            max_connection_age: Some(Duration::from_secs(24 * 60 * 60)),
            shutdown_grace: Duration::from_secs(10),
            max_connections: 4096,
            max_concurrent_handshakes: 64,
            heavy_handshake_bytes: 16 * 1024,
            max_concurrent_heavy_handshakes: 1,
            close_refused_on_reload: false,
            watch_interval: Duration::from_millis(250),
            drain_body_bytes: 8 * 1024 * 1024,
            drain_body_timeout: Duration::from_secs(5),
            on_handshake_error: None,
            on_handshake: None,
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("first_request_timeout", &self.first_request_timeout)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("http2_keep_alive_interval", &self.http2_keep_alive_interval)
            .field("http2_keep_alive_timeout", &self.http2_keep_alive_timeout)
            .field("max_connection_age", &self.max_connection_age)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("max_connections", &self.max_connections)
            .field("max_concurrent_handshakes", &self.max_concurrent_handshakes)
            .field("heavy_handshake_bytes", &self.heavy_handshake_bytes)
            .field(
                "max_concurrent_heavy_handshakes",
                &self.max_concurrent_heavy_handshakes,
            )
            .field("close_refused_on_reload", &self.close_refused_on_reload)
            .field("watch_interval", &self.watch_interval)
            .field("drain_body_bytes", &self.drain_body_bytes)
            .field("drain_body_timeout", &self.drain_body_timeout)
            .finish_non_exhaustive()
    }
}

/// Accepts the next connection once a connection slot is free; `None` on shutdown.
async fn accept_with_slot(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
    shutdown: Pin<&mut impl Future<Output = ()>>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let mut shutdown = shutdown;
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.ok()?,
            () = shutdown.as_mut() => return None,
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => return Some((tcp, peer, permit)),
                // Out of file descriptors and similar: back off instead of spinning.
                Err(_) => {
                    drop(permit);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = shutdown.as_mut() => return None,
        }
    }
}

/// Serves `service` over mutual TLS until `shutdown` completes.
///
/// Each connection is accepted with the [`Reloadable`]'s current generation; after the
/// handshake the connection's principal is taken from that generation's verifier (no second
/// verification) and every request of the connection carries it as a [`ClientIdentity`].
/// Every phase of a connection is bounded (see [`ServeOptions`]); with
/// [`ServeOptions::close_refused_on_reload`], a connection whose chain a reloaded policy
/// refuses is shut down.
pub async fn serve<S, B>(
    listener: TcpListener,
    tls: Arc<Reloadable>,
    service: S,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    tokio::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let lanes = Lanes {
        light: Arc::new(Semaphore::new(options.max_concurrent_handshakes.max(1))),
        heavy: Arc::new(Semaphore::new(
            options.max_concurrent_heavy_handshakes.max(1),
        )),
    };
    while let Some((tcp, peer, slot)) = accept_with_slot(&listener, &slots, shutdown.as_mut()).await
    {
        let generation = tls.current();
        let service = service.clone();
        let options = options.clone();
        let lanes = lanes.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let acceptor = TlsAcceptor::from(generation.config.clone());
            let meter = Arc::new(Meter::new(options.heavy_handshake_bytes));
            let tcp = Metered {
                inner: tcp,
                meter: meter.clone(),
            };
            let accept = Gated::new(acceptor.accept(tcp).into_fallible(), lanes, meter.clone());
            let stream = match tokio::time::timeout(options.handshake_timeout, accept).await {
                Ok(Ok(stream)) => stream,
                Ok(Err((e, mut tcp))) => {
                    if let Some(hook) = &options.on_handshake_error {
                        hook(peer, &e);
                    }
                    // The alert is written; close gracefully so that the client reads it
                    // (unread client data at close() would make the kernel send a reset).
                    linger_close(&mut tcp.inner).await;
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
            meter.done.store(true, Ordering::Release);
            let peer_certificates = stream.get_ref().1.peer_certificates();
            let result = generation.verifier.principal(peer_certificates);
            if let Some(hook) = &options.on_handshake {
                hook(peer, result.as_deref());
            }
            let recheck = match (&result, peer_certificates) {
                (Ok(_), Some(chain)) if options.close_refused_on_reload => Some(Recheck {
                    tls,
                    number: generation.number,
                    chain: chain.iter().map(|c| c.clone().into_owned()).collect(),
                }),
                _ => None,
            };
            drop(generation);
            let svc = AddPrincipal::new(WithPeer::new(service, peer), ClientIdentity::new(result));
            drive(TokioIo::new(stream), svc, &options, recheck).await;
        });
    }
    Ok(())
}

/// Serves `service` over plain HTTP (HTTP/1.1 and HTTP/2 prior knowledge) until `shutdown`
/// completes: the mode behind a TLS-terminating proxy, where [`Forwarded`](crate::Forwarded)
/// reads the client certificate from the proxy's header. Every request carries the
/// connection's [`PeerAddr`] (from the accepted socket); no [`ClientIdentity`] is added here.
/// The connection bounds of [`ServeOptions`] apply as for [`serve`] (without the TLS ones).
pub async fn serve_plain<S, B>(
    listener: TcpListener,
    service: S,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    tokio::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    while let Some((tcp, peer, slot)) = accept_with_slot(&listener, &slots, shutdown.as_mut()).await
    {
        let svc = WithPeer::new(service.clone(), peer);
        let options = options.clone();
        tokio::spawn(async move {
            let _slot = slot;
            drive(TokioIo::new(tcp), svc, &options, None).await;
        });
    }
    Ok(())
}

/// What a TLS connection needs to ask a reloaded policy about its client again.
struct Recheck {
    tls: Arc<Reloadable>,
    number: u64,
    chain: Vec<CertificateDer<'static>>,
}

impl Recheck {
    /// Whether a generation newer than the last one seen refuses the chain.
    fn refused_now(&mut self) -> bool {
        let current = self.tls.current();
        if current.number == self.number {
            return false;
        }
        self.number = current.number;
        let Some((leaf, intermediates)) = self.chain.split_first() else {
            return false;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        current
            .verifier
            .validator()
            .verify(leaf, intermediates, UnixTime::since_unix_epoch(now))
            .is_err()
    }
}

/// HTTP/1.1 or HTTP/2 over an accepted (and, for `serve`, TLS-wrapped) connection, with the
/// bounds of [`ServeOptions`] enforced around hyper's own timers.
async fn drive<I, S, B>(
    io: TokioIo<I>,
    svc: S,
    options: &ServeOptions,
    mut recheck: Option<Recheck>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let started = Instant::now();
    let activity = Arc::new(Activity::new(started));
    let svc = TowerToHyperService::new(Tracked {
        inner: svc,
        activity: activity.clone(),
        drain: Drain {
            max_bytes: options.drain_body_bytes,
            timeout: options.drain_body_timeout,
        },
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(options.http2_keep_alive_interval)
        .keep_alive_timeout(options.http2_keep_alive_timeout);
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    let mut tick = tokio::time::interval(options.watch_interval.max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Set once a graceful shutdown started: the time by which the connection is closed.
    let mut closing: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        if let Some(deadline) = closing {
            if now >= deadline {
                return;
            }
            continue;
        }
        let in_flight = activity.in_flight.load(Ordering::Acquire);
        if activity.requests.load(Ordering::Acquire) == 0 {
            // Still detecting the protocol or reading the first request's headers.
            if now.duration_since(started) >= options.first_request_timeout {
                return;
            }
            continue;
        }
        let idle =
            in_flight == 0 && now.duration_since(activity.last_done()) >= options.idle_timeout;
        let old = options
            .max_connection_age
            .is_some_and(|age| now.duration_since(started) >= age);
        let refused = recheck.as_mut().is_some_and(Recheck::refused_now);
        if idle || old || refused {
            conn.as_mut().graceful_shutdown();
            closing = Some(now + options.shutdown_grace);
        }
    }
}

/// Requests of one connection: how many started, how many are in flight, when the last
/// one ended.
struct Activity {
    started: Instant,
    requests: AtomicU64,
    in_flight: AtomicUsize,
    /// Milliseconds from `started` to the end of the last response.
    last_done_ms: AtomicU64,
}

impl Activity {
    fn new(started: Instant) -> Self {
        Self {
            started,
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            last_done_ms: AtomicU64::new(0),
        }
    }

    fn last_done(&self) -> Instant {
        self.started + Duration::from_millis(self.last_done_ms.load(Ordering::Acquire))
    }
}

/// Marks a request in flight until dropped (with the end of its response body).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.requests.fetch_add(1, Ordering::AcqRel);
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let ms = u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_done_ms.fetch_max(ms, Ordering::AcqRel);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts requests in flight for [`drive`]'s idle bound.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    drain: Drain,
}

type TrackedFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<TrackedBody<B>>, E>> + Send>>;

impl<S, B> Service<Request<Incoming>> for Tracked<S>
where
    S: Service<Request<RequestBody>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
{
    type Response = Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future = TrackedFuture<B, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let guard = InFlight::new(self.activity.clone());
        // A client that waits for `100 Continue` sends nothing unless the body is read:
        // draining would ask it for the body only to discard it.
        let expects_continue = req
            .headers()
            .get(http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let drain = if expects_continue {
            Drain {
                max_bytes: 0,
                ..self.drain
            }
        } else {
            self.drain
        };
        let unread = Unread::default();
        let fut = self.inner.call(req.map(|body| RequestBody {
            inner: Some(body),
            drain,
            unread: unread.clone(),
        }));
        Box::pin(async move {
            let res = fut.await?;
            // The application answered without reading the whole body: read the rest
            // before the answer goes out, so that the client finishes its upload and then
            // reads the answer whole.
            let unread = unread.lock().ok().and_then(|mut slot| slot.take());
            if let Some(body) = unread {
                drain_body(body, drain).await;
            }
            Ok(res.map(|body| TrackedBody {
                inner: Box::pin(body),
                _guard: guard,
            }))
        })
    }
}

/// How much of a dropped, unread request body is read and discarded.
#[derive(Clone, Copy, Debug)]
struct Drain {
    max_bytes: u64,
    timeout: Duration,
}

/// Where a request body the application dropped unread waits for its response to drain it.
type Unread = Arc<std::sync::Mutex<Option<Incoming>>>;

/// The body of a request served by [`serve`] or [`serve_plain`]: hyper's [`Incoming`].
///
/// When the application answers without reading it to its end (a 401, 403, 404 or 405
/// answered to an upload) and has dropped it, the rest is read and discarded before the
/// answer is sent, within [`ServeOptions::drain_body_bytes`] and
/// [`ServeOptions::drain_body_timeout`]: the client finishes its upload and then reads the
/// whole answer, where an HTTP/2 answer that ends the stream in mid-upload makes clients
/// such as curl report a stream error (or wait forever) instead of showing the response.
///
/// It is an ordinary [`http_body::Body`](Body) of [`Bytes`](bytes::Bytes): axum routers,
/// `http-body-util` and tower services generic over the body take it as they take
/// `Incoming`.
pub struct RequestBody {
    inner: Option<Incoming>,
    drain: Drain,
    unread: Unread,
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody").finish_non_exhaustive()
    }
}

impl Body for RequestBody {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.inner.as_mut() {
            Some(body) => {
                let frame = Pin::new(body).poll_frame(cx);
                if matches!(frame, Poll::Ready(None | Some(Err(_)))) {
                    // Ended: nothing is left to drain.
                    self.inner = None;
                }
                frame
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        let declared_too_long = body
            .size_hint()
            .exact()
            .is_some_and(|n| n > self.drain.max_bytes);
        if body.is_end_stream() || self.drain.max_bytes == 0 || declared_too_long {
            // Nothing left, draining off, or longer than the bound: cut off now rather
            // than read part of it.
            return;
        }
        if let Ok(mut slot) = self.unread.lock() {
            *slot = Some(body);
        }
    }
}

/// Reads and discards `body` until it ends, fails, passes `drain.max_bytes` or
/// `drain.timeout` passes; then drops it (an HTTP/2 stream still open is reset with
/// `NO_ERROR` once its response is sent).
async fn drain_body(mut body: Incoming, drain: Drain) {
    let mut read = 0u64;
    let _ = tokio::time::timeout(drain.timeout, async {
        while let Some(Ok(frame)) = http_body_util::BodyExt::frame(&mut body).await {
            if let Some(data) = frame.data_ref() {
                read = read.saturating_add(data.len() as u64);
                if read > drain.max_bytes {
                    return;
                }
            }
        }
    })
    .await;
}

/// A response body that keeps its request in flight until it is dropped.
struct TrackedBody<B> {
    inner: Pin<Box<B>>,
    _guard: InFlight,
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.inner.as_mut().poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The two handshake lanes: light (ordinary handshakes) and heavy (clients that sent more
/// than [`ServeOptions::heavy_handshake_bytes`]).
#[derive(Clone)]
struct Lanes {
    light: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
}

/// What the client of a handshake has sent, and whether the current poll may read past the
/// heavy threshold.
struct Meter {
    threshold: usize,
    received: AtomicUsize,
    /// The handshake crossed the threshold: its polls take the heavy lane.
    heavy: AtomicBool,
    /// The current poll holds a heavy permit.
    heavy_permit: AtomicBool,
    /// The handshake is over: reads are no longer metered.
    done: AtomicBool,
}

impl Meter {
    fn new(threshold: usize) -> Self {
        Self {
            threshold,
            received: AtomicUsize::new(0),
            heavy: AtomicBool::new(false),
            heavy_permit: AtomicBool::new(false),
            done: AtomicBool::new(false),
        }
    }
}

/// The TCP stream of a handshake: once the client has sent more than the threshold, reads
/// wait until the handshake's poll holds a heavy permit (see [`Gated`]).
struct Metered<T> {
    inner: T,
    meter: Arc<Meter>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Metered<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let meter = self.meter.clone();
        if meter.done.load(Ordering::Acquire) {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        if meter.received.load(Ordering::Acquire) > meter.threshold
            && !meter.heavy_permit.load(Ordering::Acquire)
        {
            // Nothing is read: the handshake is polled again, in the heavy lane.
            meter.heavy.store(true, Ordering::Release);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let before = buf.filled().len();
        let out = Pin::new(&mut self.inner).poll_read(cx, buf);
        meter
            .received
            .fetch_add(buf.filled().len() - before, Ordering::AcqRel);
        out
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Metered<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

type Acquiring = Pin<Box<dyn Future<Output = Option<OwnedSemaphorePermit>> + Send>>;

/// A TLS handshake whose every poll (the rustls work, client chain verification included,
/// runs inside poll) first takes a permit of its lane. Polls in the heavy lane run in
/// `block_in_place` on a multi-threaded runtime, off the async worker that polled them
/// (ordinary handshakes cost too little to pay for the thread hand-off).
struct Gated<F> {
    inner: F,
    lanes: Lanes,
    meter: Arc<Meter>,
    /// The permit being acquired, and whether it is a heavy one.
    waiting: Option<(bool, Acquiring)>,
}

impl<F> Gated<F> {
    fn new(inner: F, lanes: Lanes, meter: Arc<Meter>) -> Self {
        Self {
            inner,
            lanes,
            meter,
            waiting: None,
        }
    }
}

impl<F: Future + Unpin> Future for Gated<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let heavy = this.meter.heavy.load(Ordering::Acquire);
        if this.waiting.as_ref().is_some_and(|(h, _)| *h != heavy) {
            this.waiting = None;
        }
        let (_, waiting) = this.waiting.get_or_insert_with(|| {
            let gate = if heavy {
                this.lanes.heavy.clone()
            } else {
                this.lanes.light.clone()
            };
            (
                heavy,
                Box::pin(async move { gate.acquire_owned().await.ok() }),
            )
        });
        let permit = match waiting.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(permit) => permit,
        };
        this.waiting = None;
        this.meter.heavy_permit.store(heavy, Ordering::Release);
        let inner = &mut this.inner;
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let out = if heavy && multi_thread {
            tokio::task::block_in_place(|| Pin::new(inner).poll(cx))
        } else {
            Pin::new(inner).poll(cx)
        };
        this.meter.heavy_permit.store(false, Ordering::Release);
        drop(permit);
        out
    }
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
