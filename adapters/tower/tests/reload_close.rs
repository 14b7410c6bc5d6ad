//! Issue 12, defect 10: after a reload, a client the new policy refuses keeps no live
//! connection when `ServeOptions::close_refused_on_reload` is set (off by default: existing
//! connections keep their principal, the `Reloadable` contract). Each connection of `serve` checks the reload generation every
//! `watch_interval`; when its chain is refused by the new generation the connection is shut
//! down gracefully (HTTP/2 GOAWAY), and closed after `shutdown_grace`. A client the new
//! policy still admits keeps its connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use certclaims_tower::certclaims_rustls::Mode;
use certclaims_tower::ServeOptions;
use common::{spiffe, Http, Running, World};
use http::StatusCode;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_that_refuses_a_client_closes_its_http2_connection() {
    let w = World::new();
    let both = w.policy(
        json!({"allow": [{"spiffe_id": spiffe("prod", "alice")}, {"spiffe_id": spiffe("prod", "bob")}]}),
        json!({}),
    );
    let bob_only = w.policy(
        json!({"allow": [{"spiffe_id": spiffe("prod", "bob")}]}),
        json!({}),
    );
    let alice = w
        .pki
        .client("alice")
        .spiffe(&spiffe("prod", "alice"))
        .issue();
    let bob = w.pki.client("bob").spiffe(&spiffe("prod", "bob")).issue();
    let tls = w.reloadable(Mode::Require, &both);
    let mut o = ServeOptions::default();
    o.watch_interval = Duration::from_millis(50);
    o.shutdown_grace = Duration::from_millis(300);
    o.close_refused_on_reload = true;
    let server = Running::start(tls.clone(), common::whoami_service(), o).await;

    let (mut a, a_conn) = Http::connect(server.addr, &w.client(Some(&alice), &[b"h2"]))
        .await
        .unwrap();
    let (mut b, b_conn) = Http::connect(server.addr, &w.client(Some(&bob), &[b"h2"]))
        .await
        .unwrap();
    assert!(matches!(a, Http::H2(_)));
    assert_eq!(a.get("/").await.unwrap().status, StatusCode::OK);
    assert_eq!(b.get("/").await.unwrap().status, StatusCode::OK);

    let reloaded = Instant::now();
    assert_eq!(tls.reload(w.validator(&bob_only)).unwrap(), 2);
    tokio::time::timeout(LIMIT, a_conn)
        .await
        .expect("alice's connection is closed after the reload")
        .unwrap();
    let took = reloaded.elapsed();
    eprintln!("reload_close: alice's HTTP/2 connection closed {took:?} after the reload");
    assert!(a.get("/").await.is_err(), "no request after the close");

    // Bob is still admitted: same connection, still served.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!b_conn.is_finished());
    let answer = b.get("/").await.unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["spiffe_id"], json!(spiffe("prod", "bob")));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn without_close_refused_on_reload_the_connection_keeps_its_principal() {
    let w = World::new();
    let allow = w.policy(
        json!({"allow": [{"spiffe_id": spiffe("prod", "alice")}]}),
        json!({}),
    );
    let deny = w.policy(
        json!({"allow": [{"spiffe_id": spiffe("prod", "bob")}]}),
        json!({}),
    );
    let alice = w
        .pki
        .client("alice")
        .spiffe(&spiffe("prod", "alice"))
        .issue();
    let tls = w.reloadable(Mode::Require, &allow);
    let mut o = ServeOptions::default();
    o.watch_interval = Duration::from_millis(50);
    o.close_refused_on_reload = false;
    let server = Running::start(tls.clone(), common::whoami_service(), o).await;
    let (mut a, a_conn) = Http::connect(server.addr, &w.client(Some(&alice), &[b"h2"]))
        .await
        .unwrap();
    assert_eq!(a.get("/").await.unwrap().status, StatusCode::OK);
    tls.reload(w.validator(&deny)).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!a_conn.is_finished());
    assert_eq!(a.get("/").await.unwrap().status, StatusCode::OK);
    server.stop().await.unwrap();
}
