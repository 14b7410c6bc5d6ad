//! Issue 12, defect 1: every phase of a connection is bounded. A client that connects and
//! then sends nothing, 23 of the 24 bytes of the HTTP/2 preface, half a request header, or
//! nothing after its first response, is disconnected within its bound, over TLS (`serve`)
//! and over plain HTTP (`serve_plain`). Bounds are 300 ms here; each closure must happen
//! within `LIMIT`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use certclaims_tower::certclaims_rustls::Mode;
use certclaims_tower::ServeOptions;
use common::{tls_connect, until_closed, Http, Running, World};
use http::StatusCode;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUND: Duration = Duration::from_millis(300);
/// Every closure must happen well within this (bound + watch interval + scheduling).
const LIMIT: Duration = Duration::from_secs(3);

/// 23 of the 24 bytes of the HTTP/2 connection preface.
const PREFACE_23: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r";
const HALF_HEADER: &[u8] = b"GET / HTTP/1.1\r\nHost: localh";
const FULL_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

fn options() -> ServeOptions {
    let mut o = ServeOptions::default();
    o.handshake_timeout = BOUND;
    o.first_request_timeout = BOUND;
    o.header_read_timeout = BOUND;
    o.idle_timeout = BOUND;
    o.shutdown_grace = BOUND;
    o.watch_interval = Duration::from_millis(50);
    o
}

/// Sends `bytes`, then waits for the server to close; returns how long that took.
async fn stall<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, bytes: &[u8], what: &str) -> Duration {
    s.write_all(bytes).await.unwrap();
    s.flush().await.unwrap();
    let took = until_closed(&mut s, Duration::from_secs(10)).await;
    eprintln!("idle: {what}: closed after {took:?}");
    assert!(took < LIMIT, "{what}: closed only after {took:?}");
    took
}

/// One HTTP/1.1 request answered 200, then nothing: closed after the idle bound.
async fn idle_after_request<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, what: &str) {
    s.write_all(FULL_REQUEST).await.unwrap();
    let mut buf = [0u8; 16];
    s.read_exact(&mut buf[..12]).await.unwrap();
    assert_eq!(&buf[..12], b"HTTP/1.1 200", "{what}");
    let took = until_closed(&mut s, Duration::from_secs(10)).await;
    eprintln!("idle: {what}: closed {took:?} after the response");
    assert!(took < LIMIT, "{what}: closed only after {took:?}");
}

/// HTTP/2 (prior knowledge over `io`): one request answered, then the connection ends
/// within the idle bound (GOAWAY, then close).
async fn h2_idle_after_request<S>(io: S, what: &str)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = http::Request::get("https://localhost/")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{what}");
    drop(res);
    let start = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), conn)
        .await
        .unwrap_or_else(|_| panic!("{what}: the server still holds the connection"))
        .unwrap()
        .ok();
    let took = start.elapsed();
    eprintln!("idle: {what}: closed {took:?} after the response");
    assert!(took < LIMIT, "{what}: closed only after {took:?}");
}

fn tls_world() -> (
    World,
    std::sync::Arc<rustls::ClientConfig>,
    certclaims_tower::certclaims_rustls::certclaims::Policy,
) {
    let w = World::new();
    let policy = w.policy(
        json!({"allow": [{"spiffe_id": common::spiffe("prod", "alice")}]}),
        json!({}),
    );
    let alice = w
        .pki
        .client("alice")
        .spiffe(&common::spiffe("prod", "alice"))
        .issue();
    let client = w.client(Some(&alice), &[b"http/1.1"]);
    (w, client, policy)
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_connections_that_stall_are_closed_within_their_bounds() {
    let (w, client, policy) = tls_world();
    let h2_client = {
        let alice = w
            .pki
            .client("alice")
            .spiffe(&common::spiffe("prod", "alice"))
            .issue();
        w.client(Some(&alice), &[b"h2"])
    };
    let server = Running::start(
        w.reloadable(Mode::Require, &policy),
        common::whoami_service(),
        options(),
    )
    .await;
    let addr = server.addr;

    // All at once: each has its own bound, none waits for another.
    let nothing = async {
        stall(
            tls_connect(addr, &client).await.unwrap(),
            b"",
            "TLS, nothing sent",
        )
        .await
    };
    let preface = async {
        stall(
            tls_connect(addr, &client).await.unwrap(),
            PREFACE_23,
            "TLS, 23 bytes of the h2 preface",
        )
        .await
    };
    let half = async {
        stall(
            tls_connect(addr, &client).await.unwrap(),
            HALF_HEADER,
            "TLS, half a header",
        )
        .await
    };
    let idle1 = async {
        idle_after_request(
            tls_connect(addr, &client).await.unwrap(),
            "TLS, HTTP/1.1 idle",
        )
        .await
    };
    let idle2 = async {
        let tls = tls_connect(addr, &h2_client).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        h2_idle_after_request(tls, "TLS, HTTP/2 idle").await;
    };
    // Before the handshake: a TCP connection that never sends a ClientHello.
    let no_hello = async {
        stall(
            TcpStream::connect(addr).await.unwrap(),
            b"",
            "TCP, no ClientHello",
        )
        .await
    };
    tokio::join!(nothing, preface, half, idle1, idle2, no_hello);

    // The server still serves.
    let (mut http, _conn) = Http::connect(addr, &client).await.unwrap();
    assert_eq!(http.get("/").await.unwrap().status, StatusCode::OK);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_connections_that_stall_are_closed_within_their_bounds() {
    let server = Running::start_plain(common::whoami_service(), options()).await;
    let addr: SocketAddr = server.addr;
    let tcp = || TcpStream::connect(addr);

    let nothing = async { stall(tcp().await.unwrap(), b"", "plain, nothing sent").await };
    let preface = async {
        stall(
            tcp().await.unwrap(),
            PREFACE_23,
            "plain, 23 bytes of the h2 preface",
        )
        .await
    };
    let half = async { stall(tcp().await.unwrap(), HALF_HEADER, "plain, half a header").await };
    let idle1 = async { idle_after_request(tcp().await.unwrap(), "plain, HTTP/1.1 idle").await };
    let idle2 = async { h2_idle_after_request(tcp().await.unwrap(), "plain, HTTP/2 idle").await };
    tokio::join!(nothing, preface, half, idle1, idle2);
    server.stop().await.unwrap();
}

/// A connection that keeps sending requests is not idle; it is closed at its maximum age.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_connection_lives_until_its_maximum_age() {
    let (w, client, policy) = tls_world();
    let mut o = options();
    o.idle_timeout = Duration::from_secs(30);
    o.max_connection_age = Some(Duration::from_millis(800));
    let server = Running::start(
        w.reloadable(Mode::Require, &policy),
        common::whoami_service(),
        o,
    )
    .await;
    let (mut http, conn) = Http::connect(server.addr, &client).await.unwrap();
    let start = std::time::Instant::now();
    let mut served = 0;
    while let Ok(a) = http.get("/").await {
        assert_eq!(a.status, StatusCode::OK);
        served += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            start.elapsed() < LIMIT,
            "still open after {:?}",
            start.elapsed()
        );
    }
    let _ = tokio::time::timeout(LIMIT, conn)
        .await
        .expect("connection ends");
    let took = start.elapsed();
    eprintln!("idle: max age 800 ms: {served} requests, closed after {took:?}");
    assert!(served >= 5, "{served} requests");
    assert!(
        took >= Duration::from_millis(700) && took < LIMIT,
        "{took:?}"
    );
    server.stop().await.unwrap();
}

/// With every connection slot taken by clients that send nothing, a valid client waits (in
/// the listen backlog) only until their bound frees a slot, and is then served.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_connection_cap_frees_up_at_the_idle_bounds() {
    let (w, client, policy) = tls_world();
    let mut o = options();
    o.max_connections = 2;
    let server = Running::start(
        w.reloadable(Mode::Require, &policy),
        common::whoami_service(),
        o,
    )
    .await;
    let addr = server.addr;
    let mut squatters = Vec::new();
    for _ in 0..2 {
        squatters.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = std::time::Instant::now();
    let (mut http, _conn) = Http::connect(addr, &client).await.unwrap();
    assert_eq!(http.get("/").await.unwrap().status, StatusCode::OK);
    let took = start.elapsed();
    eprintln!("idle: max_connections 2, both taken by idle TCP: served after {took:?}");
    assert!(
        took >= Duration::from_millis(200),
        "{took:?}: the cap was not applied"
    );
    assert!(took < LIMIT, "{took:?}");
    for mut s in squatters {
        until_closed(&mut s, LIMIT).await;
    }
    server.stop().await.unwrap();
}
