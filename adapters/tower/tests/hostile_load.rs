//! Issue 12, "Hostile load, measured": 2,000 valid mutual-TLS handshakes (one HTTP/1.1
//! request each) from 32 clients while, at the same time,
//!
//! - 200 idle connections (100 TCP connections that never send a ClientHello, 100 that
//!   finish the TLS handshake and then send nothing), each reconnecting when closed,
//! - 50 slowloris clients (TLS, then a request header one byte per second),
//! - 20 clients presenting a leaf with 64 look-alike intermediates (genuine CA certificates
//!   named like the issuing CA: the most expensive chain the validator accepts to look at),
//!   reconnecting as soon as they are refused.
//!
//! A baseline round of the same valid load without the hostile clients runs first in the same
//! test, then a warm-up hostile round, then the measured one. Asserts: no error for valid
//! clients, every hostile connection closed within its bound (plus `SLACK`), the live heap
//! (the bytes allocated and not freed, counted by the test's global allocator) after the
//! measured round within 10% (plus `HEAP_NOISE`) of the one after the warm-up rounds, which
//! fill the caches and buffers that stay. The resident set is printed beside it and only
//! bounded loosely (`RSS_GROWTH`): glibc's per-thread arenas keep what the heavy lane's
//! threads freed, which moved the settled RSS by up to 12 MiB between equal rounds with no
//! trend, while a leak grows the live heap whatever the allocator keeps. A probe task that sleeps 10 ms
//! in a loop measures how late the runtime wakes it (worker starvation). Figures are printed
//! with `eprintln!` (`-- --nocapture`). Bounded: the whole test must finish within `LIMIT`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certclaims::pki_types::CertificateDer;
use certclaims::test_kit::Ca;
use certclaims_test_support::tls::roots;
use certclaims_tower::certclaims_rustls::Mode;
use certclaims_tower::ServeOptions;
use common::{key_of, mib, provider, rss_bytes, tls_connect, until_closed, Http, Running, World};
use http::StatusCode;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CLIENTS: usize = 32;
const VALID: usize = 2_000;
const BASELINE: usize = 1_000;
const WARMUP: usize = 2_000;
const IDLE_TCP: usize = 100;
const IDLE_TLS: usize = 100;
const SLOWLORIS: usize = 50;
const DEEP: usize = 20;
const LIMIT: Duration = Duration::from_secs(90);
/// Scheduling slack on a loaded 2-core debug build, on top of each bound.
const SLACK: Duration = Duration::from_millis(2_000);

/// What the live heap may differ by between two settled moments without a leak, on top of
/// 10%: buffers of the server's tasks that are still winding down.
const HEAP_NOISE: u64 = 1024 * 1024;
/// The resident set after the measured round at most this multiple of the warm-up's: a
/// gross bound (threads or mappings that pile up), not the leak check (see the module docs).
const RSS_GROWTH: f64 = 1.5;

/// Counts the live heap (every allocation of the test binary goes through it).
#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// The live heap: bytes allocated and not yet freed.
fn heap_bytes() -> u64 {
    HEAP.allocated() as u64
}

const HANDSHAKE: Duration = Duration::from_secs(2);
const FIRST_REQUEST: Duration = Duration::from_secs(2);

/// The smallest resident set and live heap over 2 s of quiet (sampled every 200 ms): what
/// stays, without the short-lived swings of connections still closing.
async fn settled() -> Memory {
    let mut m = Memory {
        rss: u64::MAX,
        heap: u64::MAX,
    };
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        m.rss = m.rss.min(rss_bytes());
        m.heap = m.heap.min(heap_bytes());
    }
    m
}

#[derive(Clone, Copy, Default)]
struct Memory {
    rss: u64,
    heap: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn one(addr: SocketAddr, config: &Arc<ClientConfig>, cn: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let tls = tls_connect(addr, config)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let (mut http, conn) = Http::over(tls, false).await;
    let a = http.get("/").await.map_err(|e| format!("HTTP: {e}"))?;
    let took = start.elapsed();
    if a.status != StatusCode::OK || a.body["common_name"] != json!(cn) {
        return Err(format!("unexpected answer for {cn}: {a:?}"));
    }
    drop(http);
    conn.await.map_err(|e| format!("connection task: {e}"))?;
    Ok(took)
}

/// `total` connections from `CLIENTS` concurrent tasks: latencies and errors.
async fn round(
    addr: SocketAddr,
    clients: &[(Arc<ClientConfig>, String)],
    total: usize,
) -> (Vec<Duration>, Vec<String>) {
    let mut tasks = Vec::new();
    for (i, (config, cn)) in clients.iter().cloned().enumerate() {
        let count = total / CLIENTS + usize::from(i < total % CLIENTS);
        tasks.push(tokio::spawn(async move {
            let mut out = (Vec::new(), Vec::new());
            for _ in 0..count {
                match one(addr, &config, &cn).await {
                    Ok(d) => out.0.push(d),
                    Err(e) => out.1.push(e),
                }
            }
            out
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), Vec::new());
    for t in tasks {
        let (l, e) = t.await.unwrap();
        lat.extend(l);
        errors.extend(e);
    }
    lat.sort();
    (lat, errors)
}

/// Worst lateness of a 10 ms sleep while `running`.
fn probe(running: Arc<AtomicBool>) -> tokio::task::JoinHandle<Duration> {
    tokio::spawn(async move {
        let mut worst = Duration::ZERO;
        while running.load(Ordering::Relaxed) {
            let t = Instant::now();
            tokio::time::sleep(Duration::from_millis(10)).await;
            worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(10)));
        }
        worst
    })
}

/// Closure times of one kind of hostile connection, and the worst over its bound.
#[derive(Default)]
struct Closures {
    count: AtomicUsize,
    worst_ms: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Closures {
    fn record(&self, took: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.worst_ms
            .fetch_max(took.as_millis() as u64, Ordering::Relaxed);
    }
    /// Waits (at most 15 s) for the server to close `conn` and records how long it took;
    /// `false`, with a failure recorded, when it stayed open.
    async fn await_close<R: tokio::io::AsyncRead + Unpin>(&self, conn: &mut R) -> bool {
        match tokio::time::timeout(
            Duration::from_secs(15),
            until_closed(conn, Duration::from_secs(60)),
        )
        .await
        {
            Ok(d) => {
                self.record(d);
                true
            }
            Err(_) => {
                self.fail("still open after 15 s".into());
                false
            }
        }
    }
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }
    fn report(&self, what: &str, bound: Duration) {
        self.print(what, bound);
        let worst = Duration::from_millis(self.worst_ms.load(Ordering::Relaxed));
        let failures = self.failures.lock().unwrap();
        assert!(failures.is_empty(), "{what}: {failures:?}");
        assert!(self.count.load(Ordering::Relaxed) > 0, "{what}: none ran");
        assert!(worst < bound + SLACK, "{what}: worst closure {worst:?}");
    }
    fn print(&self, what: &str, bound: Duration) {
        let worst = Duration::from_millis(self.worst_ms.load(Ordering::Relaxed));
        eprintln!(
            "hostile_load: {what}: {} closed, worst {worst:?} (bound {bound:?})",
            self.count.load(Ordering::Relaxed)
        );
        let failures = self.failures.lock().unwrap();
        if !failures.is_empty() {
            eprintln!(
                "hostile_load: {what}: {} failures, first {:?}",
                failures.len(),
                failures.first()
            );
        }
    }
}

/// One round of valid clients while the hostile clients run.
struct Run {
    loaded: Vec<Duration>,
    errors: Vec<String>,
    loaded_time: Duration,
    loaded_probe: Duration,
    idle_tcp: Arc<Closures>,
    idle_tls: Arc<Closures>,
    slowloris: Arc<Closures>,
    deep: Arc<Closures>,
}

async fn hostile_run(
    addr: SocketAddr,
    clients: &[(Arc<ClientConfig>, String)],
    idle_config: &Arc<ClientConfig>,
    deep_config: &Arc<ClientConfig>,
    valid: usize,
) -> Run {
    let probing = Arc::new(AtomicBool::new(false));
    // Hostile clients.
    let stop = Arc::new(AtomicBool::new(false));
    let idle_tcp = Arc::new(Closures::default());
    let idle_tls = Arc::new(Closures::default());
    let slowloris = Arc::new(Closures::default());
    let deep = Arc::new(Closures::default());
    let connected = Arc::new(AtomicUsize::new(0));
    let mut hostile = Vec::new();
    for _ in 0..IDLE_TCP {
        let (stop, c, connected) = (stop.clone(), idle_tcp.clone(), connected.clone());
        hostile.push(tokio::spawn(async move {
            let mut first = true;
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut tcp) = TcpStream::connect(addr).await else {
                    c.fail("connect".into());
                    return;
                };
                if std::mem::take(&mut first) {
                    connected.fetch_add(1, Ordering::Relaxed);
                }
                if !c.await_close(&mut tcp).await {
                    return;
                }
            }
        }));
    }
    for _ in 0..IDLE_TLS {
        let (stop, c, connected) = (stop.clone(), idle_tls.clone(), connected.clone());
        let config = idle_config.clone();
        hostile.push(tokio::spawn(async move {
            let mut first = true;
            while !stop.load(Ordering::Relaxed) {
                let mut tls = match tls_connect(addr, &config).await {
                    Ok(t) => t,
                    Err(e) => return c.fail(format!("TLS: {e}")),
                };
                if std::mem::take(&mut first) {
                    connected.fetch_add(1, Ordering::Relaxed);
                }
                if !c.await_close(&mut tls).await {
                    return;
                }
            }
        }));
    }
    for _ in 0..SLOWLORIS {
        let (stop, c) = (stop.clone(), slowloris.clone());
        let config = idle_config.clone();
        hostile.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let tls = match tls_connect(addr, &config).await {
                    Ok(t) => t,
                    Err(e) => return c.fail(format!("TLS: {e}")),
                };
                let t = Instant::now();
                let (mut rd, mut wr) = tokio::io::split(tls);
                let writer = async {
                    let mut bytes = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
                        .iter()
                        .cycle();
                    let _ = wr.write_all(b"G").await;
                    loop {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let b = *bytes.next().unwrap_or(&b'a');
                        if wr.write_all(&[b]).await.is_err() || wr.flush().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                };
                tokio::select! {
                    _ = until_closed(&mut rd, Duration::from_secs(60)) => c.record(t.elapsed()),
                    () = writer => {}
                    () = tokio::time::sleep(Duration::from_secs(15)) => return c.fail("still open after 15 s".into()),
                }
            }
        }));
    }
    for _ in 0..DEEP {
        let (stop, c) = (stop.clone(), deep.clone());
        let config = deep_config.clone();
        hostile.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let attempt = async {
                    let tcp = TcpStream::connect(addr).await?;
                    let name = ServerName::try_from("localhost").unwrap();
                    let mut tls = tokio_rustls::TlsConnector::from(config.clone())
                        .connect(name, tcp)
                        .await?;
                    // TLS 1.3: the refusal arrives as the server's alert on the first read.
                    use tokio::io::AsyncReadExt;
                    let mut buf = [0u8; 1];
                    tls.read(&mut buf).await.map(|_| ())
                };
                match tokio::time::timeout(Duration::from_secs(20), attempt).await {
                    Ok(Err(_)) => c.record(t.elapsed()),
                    Ok(Ok(())) => return c.fail("a 64-intermediate chain was admitted".into()),
                    Err(_) => return c.fail("no answer in 20 s".into()),
                }
            }
        }));
    }
    let wait = Instant::now();
    while connected.load(Ordering::Relaxed) < IDLE_TCP + IDLE_TLS {
        assert!(
            wait.elapsed() < Duration::from_secs(20),
            "idle clients connect"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Valid clients under hostile load.
    probing.store(true, Ordering::Relaxed);
    let p = probe(probing.clone());
    let t = Instant::now();
    let (loaded, errors) = tokio::time::timeout(LIMIT, round(addr, clients, valid))
        .await
        .expect("the valid round finishes");
    let loaded_time = t.elapsed();
    probing.store(false, Ordering::Relaxed);
    let loaded_probe = p.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    for h in hostile {
        tokio::time::timeout(Duration::from_secs(20), h)
            .await
            .expect("hostile clients end after their connection is closed")
            .unwrap();
    }
    // Let closing connections and idle blocking threads wind down before measuring memory.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    Run {
        loaded,
        errors,
        loaded_time,
        loaded_probe,
        idle_tcp,
        idle_tls,
        slowloris,
        deep,
    }
}

/// The runtime of `#[tokio::test(flavor = "multi_thread")]`, except that idle blocking
/// threads (from `block_in_place` in the heavy handshake lane) exit after 500 ms instead of
/// 10 s, so that their stacks do not count in the memory compared after the run.
#[test]
fn valid_clients_are_served_under_hostile_load() {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_keep_alive(Duration::from_millis(500))
        .build()
        .unwrap()
        .block_on(hostile_load());
}

async fn hostile_load() {
    let started = Instant::now();
    let w = World::new();
    let (policy, clients) = w.load_clients(CLIENTS);
    // A valid leaf of the issuing CA (not presented), padded with 64 look-alike CAs.
    let lookalikes: Vec<Ca> = (0..64)
        .map(|_| w.pki.sub_ca(w.pki.issuing_ca(), "Test Issuing CA"))
        .collect();
    let deep_leaf = w
        .pki
        .client("deep")
        .spiffe("spiffe://example.org/ns/load/sa/deep")
        .issue();
    let deep_chain: Vec<CertificateDer<'static>> = std::iter::once(deep_leaf.leaf().clone())
        .chain(lookalikes.iter().map(Ca::der))
        .collect();
    let deep_config = {
        let mut c = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots(&w.pki))
            .with_client_auth_cert(deep_chain, key_of(&deep_leaf))
            .unwrap();
        c.resumption = rustls::client::Resumption::disabled();
        Arc::new(c)
    };
    let idle_config = clients[0].0.clone();
    {
        // What one look-alike chain costs the validator in this build.
        let v = w.validator(&policy);
        let t = Instant::now();
        let r = v.verify(
            deep_leaf.leaf(),
            &lookalikes.iter().map(Ca::der).collect::<Vec<_>>(),
            certclaims::pki_types::UnixTime::now(),
        );
        eprintln!(
            "hostile_load: one 64-intermediate chain: {:?} to refuse ({})",
            t.elapsed(),
            r.map(|_| ()).unwrap_err().code()
        );
    }

    let mut options = ServeOptions::default();
    options.handshake_timeout = HANDSHAKE;
    options.first_request_timeout = FIRST_REQUEST;
    options.header_read_timeout = FIRST_REQUEST;
    options.idle_timeout = Duration::from_secs(2);
    options.shutdown_grace = Duration::from_secs(1);
    options.watch_interval = Duration::from_millis(100);
    let server = Running::start(
        w.reloadable(Mode::Require, &policy),
        common::whoami_service(),
        options,
    )
    .await;
    let addr = server.addr;

    // Baseline: valid clients alone.
    let probing = Arc::new(AtomicBool::new(true));
    let p = probe(probing.clone());
    let t = Instant::now();
    let (base, base_errors) = round(addr, &clients, BASELINE).await;
    let base_time = t.elapsed();
    probing.store(false, Ordering::Relaxed);
    let base_probe = p.await.unwrap();
    assert!(base_errors.is_empty(), "baseline: {base_errors:?}");
    assert!(base_errors.is_empty(), "baseline: {base_errors:?}");
    let rss_before = rss_bytes();
    let heap_before = heap_bytes();

    // Two hostile rounds warm up allocator arenas and buffers (as in tests/load.rs; one was
    // not always enough: glibc kept growing arenas into the next round); memory is compared
    // across the third, against the larger of the two warm-up figures.
    let mut warm = Memory::default();
    for _ in 0..2 {
        let run = hostile_run(addr, &clients, &idle_config, &deep_config, WARMUP).await;
        assert!(run.errors.is_empty(), "warm-up: {:?}", run.errors.first());
        let m = settled().await;
        warm.rss = warm.rss.max(m.rss);
        warm.heap = warm.heap.max(m.heap);
    }
    let Run {
        loaded,
        errors,
        loaded_time,
        loaded_probe,
        idle_tcp,
        idle_tls,
        slowloris,
        deep,
    } = hostile_run(addr, &clients, &idle_config, &deep_config, VALID).await;
    let after = settled().await;

    let (b50, b99) = (percentile(&base, 0.5), percentile(&base, 0.99));
    let (l50, l99) = (percentile(&loaded, 0.5), percentile(&loaded, 0.99));
    eprintln!(
        "hostile_load: baseline {} valid in {:.2} s: p50 {b50:?}, p99 {b99:?}, max {:?}; runtime \
         probe worst lateness {base_probe:?}",
        base.len(),
        base_time.as_secs_f64(),
        base.last().unwrap()
    );
    eprintln!(
        "hostile_load: under hostile load {} valid in {:.2} s: p50 {l50:?}, p99 {l99:?}, max \
         {:?}; runtime probe worst lateness {loaded_probe:?}",
        loaded.len(),
        loaded_time.as_secs_f64(),
        loaded.last().unwrap()
    );
    eprintln!(
        "hostile_load: ratio loaded/baseline: p50 {:.2}, p99 {:.2}",
        l50.as_secs_f64() / b50.as_secs_f64(),
        l99.as_secs_f64() / b99.as_secs_f64()
    );
    eprintln!(
        "hostile_load: live heap after the baseline {:.1} MiB, after the warm-up hostile rounds \
         {:.1} MiB, after the measured hostile round {:.1} MiB ({:+.1}% over the warm-up); RSS \
         {:.1}, {:.1}, {:.1} MiB ({:+.1}%); total {:.1} s",
        mib(heap_before),
        mib(warm.heap),
        mib(after.heap),
        (after.heap as f64 / warm.heap as f64 - 1.0) * 100.0,
        mib(rss_before),
        mib(warm.rss),
        mib(after.rss),
        (after.rss as f64 / warm.rss as f64 - 1.0) * 100.0,
        started.elapsed().as_secs_f64()
    );
    idle_tcp.print("idle TCP (no ClientHello)", HANDSHAKE);
    idle_tls.print("idle after the TLS handshake", FIRST_REQUEST);
    slowloris.print("slowloris", FIRST_REQUEST);
    deep.print("64 look-alike intermediates (refused)", HANDSHAKE);
    idle_tcp.report("idle TCP (no ClientHello)", HANDSHAKE);
    idle_tls.report("idle after the TLS handshake", FIRST_REQUEST);
    slowloris.report("slowloris", FIRST_REQUEST);
    deep.report("64 look-alike intermediates (refused)", HANDSHAKE);

    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(loaded.len(), VALID);
    // 10% as the issue asks, of what the program holds (see the module docs for why not of
    // the resident set).
    assert!(
        after.heap <= warm.heap + warm.heap / 10 + HEAP_NOISE,
        "the live heap grew from {} to {} bytes over an equal hostile round",
        warm.heap,
        after.heap
    );
    assert!(
        (after.rss as f64) <= warm.rss as f64 * RSS_GROWTH,
        "the resident set grew from {} to {} bytes over an equal hostile round",
        warm.rss,
        after.rss
    );
    server.stop().await.unwrap();
}

/// The heavy lane only orders handshakes: a valid client whose chain is padded past
/// `heavy_handshake_bytes` (40 unrelated CA certificates after its issuer) is admitted.
#[tokio::test(flavor = "multi_thread")]
async fn a_valid_client_with_a_long_chain_is_admitted_through_the_heavy_lane() {
    let w = World::new();
    let other = certclaims::test_kit::Pki::with_key_type_at(
        "Other",
        certclaims::test_kit::KeyType::P256,
        certclaims::pki_types::UnixTime::now(),
    );
    let policy = w.policy(
        json!({"allow": [{"spiffe_id": "spiffe://example.org/ns/load/sa/*"}]}),
        json!({}),
    );
    let leaf = w
        .pki
        .client("padded")
        .spiffe("spiffe://example.org/ns/load/sa/padded")
        .issue();
    let padding: Vec<Ca> = (0..40)
        .map(|i| other.sub_ca(other.issuing_ca(), &format!("Padding CA {i}")))
        .collect();
    let chain: Vec<CertificateDer<'static>> = std::iter::once(leaf.leaf().clone())
        .chain(leaf.intermediates().iter().cloned())
        .chain(padding.iter().map(Ca::der))
        .collect();
    let bytes: usize = chain.iter().map(|c| c.len()).sum();
    assert!(bytes > 16 * 1024, "{bytes} bytes");
    let mut c = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots(&w.pki))
        .with_client_auth_cert(chain, key_of(&leaf))
        .unwrap();
    c.resumption = rustls::client::Resumption::disabled();
    let config = Arc::new(c);
    let server = Running::start(
        w.reloadable(Mode::Require, &policy),
        common::whoami_service(),
        ServeOptions::default(),
    )
    .await;
    one(server.addr, &config, "padded").await.unwrap();
    eprintln!("hostile_load: a {bytes}-byte valid chain was admitted");
    server.stop().await.unwrap();
}
