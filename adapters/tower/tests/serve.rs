//! `certclaims_tower::serve` with an axum `Router`, driven by real TLS clients on 127.0.0.1
//! (HTTP/1.1 and HTTP/2, ALPN), checking the principal every request carries, the axum
//! extractors, the `Require` layer, refusals in the handshake, reloads and shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::{Json, Router};
use certclaims::test_kit::Issued;
use certclaims::{Code, Rejection};
use certclaims_tower::certclaims_rustls::{to_rustls_error, Mode};
use certclaims_tower::{Authenticated, MaybeAuthenticated, Require, ServeOptions};
use common::{spiffe, tls_connect, Http, Running, World};
use http::{StatusCode, Version};
use rustls::AlertDescription;
use serde_json::{json, Value};

async fn whoami(Authenticated(p): Authenticated, version: Version) -> Json<Value> {
    // `at`: where the principal lives, to show requests share the connection's one.
    Json(json!({
        "version": format!("{version:?}"),
        "principal": p.to_json(),
        "at": format!("{:p}", Arc::as_ptr(&p)),
    }))
}

async fn maybe(MaybeAuthenticated(p): MaybeAuthenticated) -> Json<Value> {
    Json(json!({"principal": p.map(|p| p.to_json())}))
}

async fn ok(Authenticated(p): Authenticated) -> Json<Value> {
    Json(json!({"ok": p.spiffe_id()}))
}

fn app() -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/maybe", get(maybe))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/payments",
            get(ok).layer(Require::claim("role", "payments").layer()),
        )
        .route(
            "/upload",
            axum::routing::post(ok).layer(Require::claim("role", "payments").layer()),
        )
        .route(
            "/prod",
            get(ok).layer(
                Require::spiffe_id("spiffe://example.org/ns/prod/sa/*")
                    .unwrap()
                    .layer(),
            ),
        )
}

/// alice (prod, role payments), bob (prod, no role), carol (staging), and the policy that
/// admits anyone under `spiffe://example.org/ns/*/sa/*` and gives alice the role.
struct Cast {
    w: World,
    alice: Issued,
    bob: Issued,
    carol: Issued,
    stranger: Issued,
}

impl Cast {
    fn new() -> Self {
        let w = World::new();
        let alice = w
            .pki
            .client("alice")
            .spiffe(&spiffe("prod", "alice"))
            .issue();
        let bob = w.pki.client("bob").spiffe(&spiffe("prod", "bob")).issue();
        let carol = w
            .pki
            .client("carol")
            .spiffe(&spiffe("staging", "carol"))
            .issue();
        let stranger = w
            .pki
            .client("stranger")
            .spiffe("spiffe://elsewhere.example/sa/x")
            .issue();
        Self {
            w,
            alice,
            bob,
            carol,
            stranger,
        }
    }

    fn policy(&self) -> certclaims::Policy {
        self.w.policy(
            json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/*/sa/*"}]}),
            json!({"add": [{"when": {"spiffe_id": spiffe("prod", "alice")}, "claims": {"role": ["payments", "audit"]}}]}),
        )
    }

    /// The core's principal JSON for `client`.
    fn core(&self, client: &Issued) -> Value {
        self.w
            .validator(&self.policy())
            .verify(
                client.leaf(),
                client.intermediates(),
                certclaims::pki_types::UnixTime::now(),
            )
            .unwrap()
            .to_json()
    }

    async fn serve(&self, mode: Mode, options: ServeOptions) -> Running {
        Running::start(self.w.reloadable(mode, &self.policy()), app(), options).await
    }
}

fn rejection_body(code: &str, step: &str) -> impl Fn(&Value) {
    let (code, step) = (code.to_string(), step.to_string());
    move |body: &Value| {
        assert_eq!(body["error"]["code"], code.as_str(), "{body}");
        assert_eq!(body["error"]["step"], step.as_str(), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert_eq!(body.as_object().unwrap().len(), 1, "only `error`: {body}");
    }
}

#[tokio::test]
async fn http1_and_http2_requests_carry_the_cores_principal() {
    let cast = Cast::new();
    let server = cast.serve(Mode::Require, ServeOptions::default()).await;
    let core = cast.core(&cast.alice);
    assert_eq!(
        core["claims"].as_array().unwrap().last().unwrap()["value"],
        "audit"
    );

    for (alpn, expect_alpn, version) in [
        (
            &[b"h2".as_slice(), b"http/1.1"][..],
            Some(&b"h2"[..]),
            Version::HTTP_2,
        ),
        (
            &[b"http/1.1".as_slice()][..],
            Some(&b"http/1.1"[..]),
            Version::HTTP_11,
        ),
        // No ALPN at all: hyper-util's auto builder tells HTTP/1.1 by the absent h2 preface.
        (&[][..], None, Version::HTTP_11),
    ] {
        let config = cast.w.client(Some(&cast.alice), alpn);
        let tls = tls_connect(server.addr, &config).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), expect_alpn);
        let (mut http, conn) = Http::over(tls, version == Version::HTTP_2).await;
        // Several requests on one connection: all carry the same principal (the very same
        // object, made once in the handshake).
        let mut at = std::collections::HashSet::new();
        for path in ["/whoami", "/whoami", "/payments", "/prod", "/whoami"] {
            let a = http.get(path).await.unwrap();
            assert_eq!(a.status, StatusCode::OK, "{path} {version:?}: {a:?}");
            assert_eq!(a.version, version);
            if path == "/whoami" {
                assert_eq!(a.body["principal"], core, "{version:?}");
                assert_eq!(a.body["version"], format!("{version:?}"));
                at.insert(a.body["at"].as_str().unwrap().to_string());
            } else {
                assert_eq!(a.body, json!({"ok": spiffe("prod", "alice")}));
            }
        }
        assert_eq!(at.len(), 1, "{at:?}");
        drop(http);
        conn.await.unwrap();
    }
}

#[tokio::test]
async fn http2_concurrent_streams_share_the_connections_principal() {
    let cast = Cast::new();
    let server = cast.serve(Mode::Require, ServeOptions::default()).await;
    let core = cast.core(&cast.bob);
    let config = cast.w.client(Some(&cast.bob), &[b"h2"]);
    let (http, _conn) = Http::connect(server.addr, &config).await.unwrap();
    let Http::H2(send) = http else {
        panic!("h2 expected")
    };
    let mut streams = Vec::new();
    let mut at = std::collections::HashSet::new();
    for _ in 0..16 {
        let mut http = Http::H2(send.clone());
        streams.push(tokio::spawn(
            async move { http.get("/whoami").await.unwrap() },
        ));
    }
    for s in streams {
        let a = s.await.unwrap();
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.version, Version::HTTP_2);
        assert_eq!(a.body["principal"], core);
        at.insert(a.body["at"].as_str().unwrap().to_string());
    }
    assert_eq!(at.len(), 1, "{at:?}");
}

#[tokio::test]
async fn require_claim_and_spiffe_routes() {
    let cast = Cast::new();
    let server = cast.serve(Mode::Require, ServeOptions::default()).await;
    let forbidden = rejection_body("policy_denied", "policy");

    let cases: [(&Issued, &str, StatusCode); 6] = [
        (&cast.alice, "/payments", StatusCode::OK),
        (&cast.bob, "/payments", StatusCode::FORBIDDEN),
        (&cast.carol, "/payments", StatusCode::FORBIDDEN),
        (&cast.alice, "/prod", StatusCode::OK),
        (&cast.bob, "/prod", StatusCode::OK),
        (&cast.carol, "/prod", StatusCode::FORBIDDEN),
    ];
    for (client, path, status) in cases {
        for alpn in [&b"h2"[..], b"http/1.1"] {
            let config = cast.w.client(Some(client), &[alpn]);
            let (mut http, _conn) = Http::connect(server.addr, &config).await.unwrap();
            let a = http.get(path).await.unwrap();
            assert_eq!(a.status, status, "{path}: {a:?}");
            if status == StatusCode::OK {
                let cn = cast.core(client)["spiffe_id"].clone();
                assert_eq!(a.body, json!({"ok": cn}));
            } else {
                forbidden(&a.body);
                assert_eq!(a.content_type.as_deref(), Some("application/json"));
            }
            // The principal is still there for routes without requirements.
            let me = http.get("/whoami").await.unwrap();
            assert_eq!(me.status, StatusCode::OK);
            assert_eq!(me.body["principal"], cast.core(client));
        }
    }
    // The messages say what failed, not what the route is configured to require.
    let config = cast.w.client(Some(&cast.bob), &[b"h2"]);
    let (mut http, _conn) = Http::connect(server.addr, &config).await.unwrap();
    let a = http.get("/payments").await.unwrap();
    assert_eq!(
        a.body["error"]["message"],
        "the client's certificate lacks a claim this route requires"
    );
}

#[tokio::test]
async fn allow_mode_anonymous_requests() {
    let cast = Cast::new();
    let server = cast.serve(Mode::Allow, ServeOptions::default()).await;
    let no_certificate = rejection_body("no_certificate", "input");

    for alpn in [&b"h2"[..], b"http/1.1"] {
        let anon = cast.w.client(None, &[alpn]);
        let (mut http, _conn) = Http::connect(server.addr, &anon).await.unwrap();

        let a = http.get("/whoami").await.unwrap();
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.content_type.as_deref(), Some("application/json"));
        no_certificate(&a.body);
        assert_eq!(a.body, Rejection::no_certificate().to_json());

        let a = http.get("/maybe").await.unwrap();
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body, json!({"principal": null}));

        let a = http.get("/payments").await.unwrap();
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        no_certificate(&a.body);

        let a = http.get("/healthz").await.unwrap();
        assert_eq!((a.status, a.body), (StatusCode::OK, json!("ok")));

        // With a certificate, in the same server.
        let alice = cast.w.client(Some(&cast.alice), &[alpn]);
        let (mut http, _conn) = Http::connect(server.addr, &alice).await.unwrap();
        let a = http.get("/maybe").await.unwrap();
        assert_eq!(a.body, json!({"principal": cast.core(&cast.alice)}));
        assert_eq!(http.get("/payments").await.unwrap().status, StatusCode::OK);
    }
}

#[tokio::test]
async fn refused_handshakes_reach_the_client_and_the_hook() {
    let cast = Cast::new();
    let seen: Arc<Mutex<Vec<rustls::Error>>> = Arc::default();
    let log = seen.clone();
    let mut options = ServeOptions::default();
    options.on_handshake_error = Some(Arc::new(move |peer, e| {
        assert!(peer.ip().is_loopback());
        log.lock().unwrap().push(common::rustls_error(e));
    }));
    let server = cast.serve(Mode::Require, options).await;
    let expired = cast
        .w
        .pki
        .client("old")
        .spiffe(&spiffe("prod", "old"))
        .expired()
        .issue();

    for (client, alert) in [
        (Some(&cast.stranger), AlertDescription::AccessDenied),
        (Some(&expired), AlertDescription::CertificateExpired),
        (None, AlertDescription::CertificateRequired),
    ] {
        let config = cast.w.client(client, &[b"h2", b"http/1.1"]);
        let tls = tls_connect(server.addr, &config).await.unwrap();
        assert_eq!(
            common::first_read(tls).await,
            Err(rustls::Error::AlertReceived(alert))
        );
    }
    let seen = seen.lock().unwrap().clone();
    let policy_denied = Rejection::new(Code::PolicyDenied, certclaims::Step::Policy, "x");
    let expired = Rejection::new(Code::Expired, certclaims::Step::Validation, "x");
    assert_eq!(
        seen,
        [
            to_rustls_error(&policy_denied),
            to_rustls_error(&expired),
            rustls::Error::NoCertificatesPresented,
        ]
    );
}

#[tokio::test]
async fn reload_applies_to_new_connections_only() {
    let cast = Cast::new();
    let tls = cast.w.reloadable(Mode::Require, &cast.policy());
    let server = Running::start(tls.clone(), app(), ServeOptions::default()).await;
    let alice_core = cast.core(&cast.alice);
    let config = cast.w.client(Some(&cast.alice), &[b"h2"]);
    let (mut before, _conn) = Http::connect(server.addr, &config).await.unwrap();
    assert_eq!(
        before.get("/whoami").await.unwrap().body["principal"],
        alice_core
    );

    // Generation 2 admits bob only.
    let only_bob = cast.w.policy(
        json!({"allow": [{"spiffe_id": spiffe("prod", "bob")}]}),
        json!({}),
    );
    assert_eq!(tls.reload(cast.w.validator(&only_bob)).unwrap(), 2);

    let refused = tls_connect(server.addr, &config).await.unwrap();
    assert_eq!(
        common::first_read(refused).await,
        Err(rustls::Error::AlertReceived(AlertDescription::AccessDenied))
    );
    let bob = cast.w.client(Some(&cast.bob), &[b"h2"]);
    let (mut http, _c) = Http::connect(server.addr, &bob).await.unwrap();
    let a = http.get("/whoami").await.unwrap();
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["principal"]["spiffe_id"], spiffe("prod", "bob"));
    // Generation 2 grants no claims: bob never had the role anyway, alice's old connection
    // keeps everything it was admitted with, role included.
    let a = before.get("/whoami").await.unwrap();
    assert_eq!(a.body["principal"], alice_core);
    assert_eq!(
        before.get("/payments").await.unwrap().status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let cast = Cast::new();
    let server = cast.serve(Mode::Require, ServeOptions::default()).await;
    let addr = server.addr;
    let config = cast.w.client(Some(&cast.alice), &[b"http/1.1"]);
    let (mut http, _conn) = Http::connect(addr, &config).await.unwrap();
    assert_eq!(http.get("/healthz").await.unwrap().status, StatusCode::OK);
    server.stop().await.unwrap();
    // The listener is gone with serve.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// The extractors and `Require` without TLS: the router behind `AddPrincipal`, driven with
/// `oneshot`, for each kind of connection identity.
#[tokio::test]
async fn extractors_for_each_connection_identity() {
    use certclaims::test_kit::{Pki, NOW};
    use certclaims_tower::{AddPrincipal, ClientIdentity};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let pki = Pki::new();
    let alice = pki.client("alice").spiffe(&spiffe("prod", "alice")).issue();
    let mut policy = pki.policy();
    policy.claims.add.push(
        serde_json::from_value(
            json!({"when": {"spiffe_id": spiffe("prod", "alice")}, "claims": {"role": "payments"}}),
        )
        .unwrap(),
    );
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let validator = certclaims_tower::certclaims_rustls::validator_for(&policy, &provider).unwrap();
    let principal = Arc::new(
        validator
            .verify(alice.leaf(), alice.intermediates(), NOW)
            .unwrap(),
    );
    let expired = Rejection::new(Code::Expired, certclaims::Step::Validation, "expired since");

    let get = |identity: Option<ClientIdentity>, path: &'static str| {
        let app = app();
        async move {
            let req = http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let res = match identity {
                Some(id) => AddPrincipal::new(app, id).oneshot(req).await.unwrap(),
                None => app.oneshot(req).await.unwrap(),
            };
            let status = res.status();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let ok = || Some(ClientIdentity::new(Ok(principal.clone())));
    let anon = || Some(ClientIdentity::new(Err(Rejection::no_certificate())));
    let failed = || Some(ClientIdentity::new(Err(expired.clone())));

    let (s, body) = get(ok(), "/whoami").await;
    assert_eq!(
        (s, &body["principal"]),
        (StatusCode::OK, &principal.to_json())
    );
    assert_eq!(body["version"], "HTTP/1.1");
    assert_eq!(
        get(ok(), "/maybe").await,
        (StatusCode::OK, json!({"principal": principal.to_json()}))
    );
    assert_eq!(
        get(ok(), "/payments").await,
        (StatusCode::OK, json!({"ok": spiffe("prod", "alice")}))
    );

    let no_cert = Rejection::no_certificate().to_json();
    assert_eq!(
        get(anon(), "/whoami").await,
        (StatusCode::UNAUTHORIZED, no_cert.clone())
    );
    assert_eq!(
        get(anon(), "/maybe").await,
        (StatusCode::OK, json!({"principal": null}))
    );
    // No identity at all (not behind AddPrincipal) is the same as anonymous.
    assert_eq!(
        get(None, "/whoami").await,
        (StatusCode::UNAUTHORIZED, no_cert.clone())
    );
    assert_eq!(
        get(None, "/maybe").await,
        (StatusCode::OK, json!({"principal": null}))
    );

    // A connection whose certificate failed: both extractors and Require reject with 403.
    for path in ["/whoami", "/maybe", "/payments", "/prod"] {
        assert_eq!(
            get(failed(), path).await,
            (StatusCode::FORBIDDEN, expired.to_json()),
            "{path}"
        );
    }
}

/// A request body of `chunks` chunks of 64 KiB that counts what hyper took from it; after
/// `stall_after` chunks (if set) it never yields again, like a client that stops sending.
struct Upload {
    left: usize,
    stall_after: Option<usize>,
    taken: Arc<std::sync::atomic::AtomicUsize>,
}

const CHUNK: usize = 64 * 1024;

impl hyper::body::Body for Upload {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use std::sync::atomic::Ordering;
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        if self
            .stall_after
            .is_some_and(|n| self.taken.load(Ordering::SeqCst) >= n)
        {
            return std::task::Poll::Pending;
        }
        self.left -= 1;
        self.taken.fetch_add(1, Ordering::SeqCst);
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(bytes::Bytes::from(
            vec![b'x'; CHUNK],
        )))))
    }
}

/// POSTs `chunks` × 64 KiB to `path` over HTTP/2 as `client`; the answer's status, its
/// JSON (or null), how many chunks the client had handed to hyper when the answer came,
/// and how long the answer took.
async fn upload(
    cast: &Cast,
    server: &Running,
    client: &Issued,
    path: &str,
    chunks: usize,
    stall_after: Option<usize>,
) -> (StatusCode, Value, usize, std::time::Duration) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let config = cast.w.client(Some(client), &[b"h2"]);
    let tls = tls_connect(server.addr, &config).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let taken = Arc::new(AtomicUsize::new(0));
    let body = Upload {
        left: chunks,
        stall_after,
        taken: taken.clone(),
    };
    let req = http::Request::post(format!("https://localhost{path}"))
        .body(body)
        .unwrap();
    let started = std::time::Instant::now();
    let res = tokio::time::timeout(std::time::Duration::from_secs(20), send.send_request(req))
        .await
        .expect("an answer within 20 s")
        .unwrap();
    let elapsed = started.elapsed();
    let at_answer = taken.load(Ordering::SeqCst);
    let status = res.status();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json, at_answer, elapsed)
}

#[tokio::test]
async fn a_refused_upload_is_read_to_its_end_before_the_answer() {
    let cast = Cast::new();
    let server = cast.serve(Mode::Require, ServeOptions::default()).await;
    // 4 MiB, four times the stream's flow-control window: without draining, the answer
    // would come while most of the body was still unsent (and end the stream under it).
    let chunks = 64;
    // 403 from the Require layer, before the handler.
    let (status, body, taken, _) = upload(&cast, &server, &cast.bob, "/upload", chunks, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    rejection_body("policy_denied", "policy")(&body);
    assert_eq!(taken, chunks, "the whole body was sent before the answer");
    // 405 from axum's router (POST to a GET route), which never sees the layers.
    let (status, _, taken, _) =
        upload(&cast, &server, &cast.alice, "/payments", chunks, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(taken, chunks);
    // Admitted: the handler answers without reading; the body is drained all the same.
    let (status, body, taken, _) =
        upload(&cast, &server, &cast.alice, "/upload", chunks, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"ok": spiffe("prod", "alice")}));
    assert_eq!(taken, chunks);
}

#[tokio::test]
async fn draining_a_dropped_body_is_bounded_in_bytes_and_time() {
    let cast = Cast::new();
    let mut options = ServeOptions::default();
    options.drain_body_bytes = 256 * 1024;
    options.drain_body_timeout = std::time::Duration::from_millis(300);
    let server = cast.serve(Mode::Require, options).await;
    // 8 MiB against a 256 KiB bound: the server stops reading and answers; the client has
    // handed over at most the bound plus the flow-control window (1 MiB) and a chunk.
    let (status, body, taken, _) = upload(&cast, &server, &cast.bob, "/upload", 128, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    rejection_body("policy_denied", "policy")(&body);
    assert!(
        taken * CHUNK <= 256 * 1024 + 1024 * 1024 + CHUNK,
        "{taken} chunks taken"
    );
    // A client that stops sending after 2 chunks: the answer comes after the drain timeout.
    let (status, body, taken, elapsed) =
        upload(&cast, &server, &cast.bob, "/upload", 64, Some(2)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    rejection_body("policy_denied", "policy")(&body);
    assert_eq!(taken, 2);
    assert!(
        elapsed >= std::time::Duration::from_millis(300)
            && elapsed < std::time::Duration::from_secs(10),
        "{elapsed:?}"
    );
}

/// GET `path` as `client` with `accept`: status, content type, `Vary`, body.
async fn get_accepting(
    cast: &Cast,
    server: &Running,
    client: &Issued,
    path: &str,
    accept: &str,
) -> (StatusCode, String, String, String) {
    let config = cast.w.client(Some(client), &[b"http/1.1"]);
    let tls = tls_connect(server.addr, &config).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(format!("https://localhost{path}"))
        .header(http::header::ACCEPT, accept)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    let header = |name| {
        res.headers()
            .get(name)
            .map(|v: &http::HeaderValue| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, vary) = (
        header(http::header::CONTENT_TYPE),
        header(http::header::VARY),
    );
    let status = res.status();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        content_type,
        vary,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn browser_pages_replace_rejections_for_browsers_only() {
    let cast = Cast::new();
    let app = app().layer(certclaims_tower::BrowserPagesLayer::new());
    let server = Running::start(
        cast.w.reloadable(Mode::Require, &cast.policy()),
        app,
        ServeOptions::default(),
    )
    .await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    // Require refuses bob on /payments: the refusal page, same status, with the reason.
    let (status, content_type, vary, body) =
        get_accepting(&cast, &server, &cast.bob, "/payments", browser).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert_eq!(vary, "accept");
    assert!(
        body.contains("<title>Client certificate refused</title>"),
        "{body}"
    );
    assert!(body.contains("<code>policy_denied</code>"), "{body}");
    // A program gets the JSON, with Vary too (the answer depends on Accept).
    let (status, content_type, vary, body) =
        get_accepting(&cast, &server, &cast.bob, "/payments", "*/*").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(content_type, "application/json");
    assert_eq!(vary, "accept");
    rejection_body("policy_denied", "policy")(&serde_json::from_str(&body).unwrap());
    // What is not a rejection passes through untouched, for browsers too.
    let (status, content_type, vary, body) =
        get_accepting(&cast, &server, &cast.alice, "/payments", browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert_eq!(vary, "");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"ok": spiffe("prod", "alice")})
    );
}
