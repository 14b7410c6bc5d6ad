//! Load: full mutual-TLS handshakes (no session resumption) from 32 concurrent clients against
//! `serve` on 127.0.0.1, one HTTP/1.1 request each, in two rounds of 2,000. Every request
//! must come back 200 with its own client's principal, no handshake may fail, the whole test
//! must finish within 120 s, and the resident set must not grow from round 1 to round 2 by
//! more than 10 MiB (round 1 warms up allocator arenas, the session cache and the principal
//! validator's cache, which are bounded).
//!
//! Runs in the normal `cargo test` (CI); the figures are printed with `eprintln!`
//! (`cargo test -p certclaims-tower --test load -- --nocapture` to see them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use certclaims_tower::certclaims_rustls::Mode;
use certclaims_tower::ServeOptions;
use common::{mib, rss_bytes, tls_connect, Http, Running, World};
use http::StatusCode;
use rustls::ClientConfig;
use serde_json::json;

const CLIENTS: usize = 32;
const PER_ROUND: usize = 2_000;
const LIMIT: Duration = Duration::from_secs(120);
const MAX_GROWTH: u64 = 10 * 1024 * 1024;

/// Resident set size of this process (`/proc/self/statm`, 4 KiB pages on Linux x86-64 and
/// aarch64 with the default page size).
async fn one(addr: SocketAddr, config: &Arc<ClientConfig>, cn: &str) -> Result<(), String> {
    let tls = tls_connect(addr, config)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut http, conn) = Http::over(tls, false).await;
    let a = http.get("/").await.map_err(|e| format!("HTTP: {e}"))?;
    if a.status != StatusCode::OK || a.body["common_name"] != json!(cn) {
        return Err(format!("unexpected answer for {cn}: {a:?}"));
    }
    drop(http);
    conn.await.map_err(|e| format!("connection task: {e}"))?;
    Ok(())
}

/// `PER_ROUND` connections from `CLIENTS` concurrent tasks; returns the errors.
async fn round(addr: SocketAddr, clients: &[(Arc<ClientConfig>, String)]) -> Vec<String> {
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (i, (config, cn)) in clients.iter().cloned().enumerate() {
        let done = done.clone();
        // 2,000 = 32 x 62 + 16: the first 16 clients connect once more.
        let count = PER_ROUND / CLIENTS + usize::from(i < PER_ROUND % CLIENTS);
        tasks.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            for _ in 0..count {
                if let Err(e) = one(addr, &config, &cn).await {
                    errors.push(e);
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            errors
        }));
    }
    let mut errors = Vec::new();
    for t in tasks {
        match t.await {
            Ok(e) => errors.extend(e),
            Err(e) => errors.push(format!("client task: {e}")),
        }
    }
    assert_eq!(done.load(Ordering::Relaxed), PER_ROUND, "every attempt ran");
    errors
}

#[tokio::test(flavor = "multi_thread")]
async fn two_rounds_of_2000_handshakes_from_32_clients() {
    let started = Instant::now();
    let w = World::new();
    let (policy, clients) = w.load_clients(CLIENTS);
    let handshake_errors = Arc::new(AtomicUsize::new(0));
    let counter = handshake_errors.clone();
    let mut options = ServeOptions::default();
    options.on_handshake_error = Some(Arc::new(move |_, _| {
        counter.fetch_add(1, Ordering::Relaxed);
    }));
    let server = Running::start(
        w.reloadable(Mode::Require, &policy),
        common::whoami_service(),
        options,
    )
    .await;
    let addr = server.addr;
    let rss_start = rss_bytes();

    let work = async {
        let t1 = Instant::now();
        let e1 = round(addr, &clients).await;
        let d1 = t1.elapsed();
        let rss1 = rss_bytes();
        let t2 = Instant::now();
        let e2 = round(addr, &clients).await;
        let d2 = t2.elapsed();
        let rss2 = rss_bytes();
        (e1, d1, rss1, e2, d2, rss2)
    };
    let (e1, d1, rss1, e2, d2, rss2) = tokio::time::timeout(LIMIT, work)
        .await
        .expect("2 x 2,000 handshakes within 120 s");

    eprintln!(
        "load: {CLIENTS} clients, round 1: {PER_ROUND} handshakes in {:.2} s ({:.0}/s), \
         round 2: {PER_ROUND} in {:.2} s ({:.0}/s)",
        d1.as_secs_f64(),
        PER_ROUND as f64 / d1.as_secs_f64(),
        d2.as_secs_f64(),
        PER_ROUND as f64 / d2.as_secs_f64(),
    );
    eprintln!(
        "load: RSS before: {:.1} MiB, after round 1: {:.1} MiB ({} bytes), after round 2: \
         {:.1} MiB ({} bytes), growth round 1 -> 2: {:.2} MiB; total test time {:.2} s",
        mib(rss_start),
        mib(rss1),
        rss1,
        mib(rss2),
        rss2,
        mib(rss2.saturating_sub(rss1)),
        started.elapsed().as_secs_f64(),
    );

    assert!(
        e1.is_empty(),
        "round 1: {} errors, first: {:?}",
        e1.len(),
        e1.first()
    );
    assert!(
        e2.is_empty(),
        "round 2: {} errors, first: {:?}",
        e2.len(),
        e2.first()
    );
    assert_eq!(handshake_errors.load(Ordering::Relaxed), 0);
    assert!(
        rss2.saturating_sub(rss1) < MAX_GROWTH,
        "RSS grew from {rss1} to {rss2} bytes between rounds"
    );
    server.stop().await.unwrap();
}
