//! The proxy runners against the real programs: for each of nginx, Apache httpd, HAProxy and
//! Caddy, a client certificate presented to the proxy arrives at a plain-HTTP upstream in the
//! configured header (decodable to the client's leaf DER), a forged header of the same name
//! sent by the client does not, the upstream sees the configured source address where the
//! proxy supports one, and a client without a certificate is refused in require mode.
//!
//! A missing proxy binary fails the test (./scripts/test.sh installs them) unless
//! `CERTCLAIMS_SKIP_PROXIES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use certclaims::test_kit::{Issued, Pki};
use certclaims_test_support::proxy::{CertEncoding, SKIP_ENV};
use certclaims_test_support::tls::localhost_pki;
use certclaims_test_support::{
    curl, s, text, wait_for_port, Proxy, ProxyConfig, ProxyKind, VerifyClient,
};

const HEADER: &str = "ssl-client-cert";
const SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// How long to wait for the upstream to record a request.
const UPSTREAM_WAIT: Duration = Duration::from_secs(10);

/// What the upstream saw of one request.
#[derive(Debug)]
struct Seen {
    peer: SocketAddr,
    request_line: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A plain-HTTP/1.1 upstream on 127.0.0.1 that records each request and answers 200 "ok".
fn upstream() -> (SocketAddr, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let peer = conn.peer_addr().unwrap();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                // One request per connection is all the proxies send here.
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    return;
                }
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end_matches(['\r', '\n']);
                    if line.is_empty() {
                        break;
                    }
                    if let Some((n, v)) = line.split_once(':') {
                        headers.push((n.trim().to_string(), v.trim().to_string()));
                    }
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
                let _ = tx.send(Seen {
                    peer,
                    request_line: request_line.trim_end().to_string(),
                    headers,
                });
            });
        }
    });
    (addr, rx)
}

/// A PKI around the real clock (the proxies check validity at the real time), PEM files.
struct Files {
    _tmp: tempfile::TempDir,
    pki: Pki,
    alice: Issued,
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    alice_cert: PathBuf,
    alice_key: PathBuf,
}

impl Files {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (pki, server) = localhost_pki();
        let alice = pki.client("alice").issue();
        let write = |name: &str, body: &str| -> PathBuf {
            let p = tmp.path().join(name);
            std::fs::write(&p, body).unwrap();
            p
        };
        Self {
            ca: write("ca.pem", &pki.root_pem()),
            server_cert: write("server.pem", &server.chain_pem()),
            server_key: write("server.key", server.key_pem()),
            alice_cert: write("alice.pem", &alice.chain_pem()),
            alice_key: write("alice.key", alice.key_pem()),
            pki,
            alice,
            _tmp: tmp,
        }
    }
}

/// `curl https://localhost:PORT/path` through the proxy: (HTTP status or None, stderr).
fn get(proxy: &Proxy, files: &Files, extra: &[&str]) -> (Option<u16>, String) {
    let resolve = format!(
        "localhost:{}:{}",
        proxy.listen().port(),
        proxy.listen().ip()
    );
    let url = format!("{}/whoami", proxy.url());
    let mut args = vec!["--resolve", &resolve, "--cacert", s(&files.ca)];
    args.extend_from_slice(&["-o", "/dev/null", "-w", "%{http_code}"]);
    args.extend_from_slice(extra);
    args.push(&url);
    let out = curl(&args);
    let status = text(&out.stdout).trim().parse().ok().filter(|c| *c != 0);
    (status, text(&out.stderr))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Ok(byte) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The DER of the certificate a header value carries, in the proxy's encoding.
fn decode(value: &str, encoding: CertEncoding) -> Vec<u8> {
    let b64 = |t: &str| -> Vec<u8> {
        let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap_or_else(|e| panic!("base64 ({e}): {value:?}"))
    };
    let pem_body = |pem: &str| -> Vec<u8> {
        let begin = "-----BEGIN CERTIFICATE-----";
        let end = "-----END CERTIFICATE-----";
        let start = pem.find(begin).unwrap_or_else(|| panic!("no PEM: {pem:?}")) + begin.len();
        let stop = pem[start..].find(end).expect("PEM end") + start;
        b64(&pem[start..stop])
    };
    match encoding {
        CertEncoding::UrlEncodedPem => pem_body(&percent_decode(value)),
        CertEncoding::Pem => pem_body(value),
        CertEncoding::Base64Der => b64(value),
        _ => panic!("unknown encoding {encoding:?}"),
    }
}

/// Skips (returns false) only when asked to; a missing binary otherwise fails the test.
fn available(kind: ProxyKind) -> bool {
    if Proxy::binary_available(kind) {
        return true;
    }
    assert!(
        Proxy::skip_requested(),
        "{kind}: `{}` is not installed (./scripts/test.sh installs it; {SKIP_ENV}=1 skips)",
        kind.binary()
    );
    eprintln!("{kind}: not installed, skipped ({SKIP_ENV}=1)");
    false
}

fn forwards_the_client_certificate_and_drops_a_forged_header(kind: ProxyKind) {
    if !available(kind) {
        return;
    }
    let files = Files::new();
    let (up, seen) = upstream();
    let (expression, encoding) = kind.client_cert_expression();
    let config = ProxyConfig::new(kind, &files.server_cert, &files.server_key, &files.ca, up)
        .with_header(HEADER, expression)
        .with_source_addr(SOURCE);
    let proxy = Proxy::start(config).unwrap_or_else(|e| panic!("{kind}: {e}"));
    let ctx = || {
        format!(
            "{kind} config:\n{}\nlogs:\n{}",
            proxy.config_text(),
            proxy.logs()
        )
    };

    // A client with a certificate and a forged header of the same name.
    let forged = format!("{HEADER}: forged");
    let (status, stderr) = get(
        &proxy,
        &files,
        &[
            "--cert",
            s(&files.alice_cert),
            "--key",
            s(&files.alice_key),
            "-H",
            &forged,
        ],
    );
    assert_eq!(status, Some(200), "{kind}: curl: {stderr}\n{}", ctx());
    let req = seen
        .recv_timeout(UPSTREAM_WAIT)
        .unwrap_or_else(|_| panic!("{kind}: nothing reached the upstream\n{}", ctx()));
    assert!(
        req.request_line.starts_with("GET /whoami HTTP/1.1"),
        "{req:?}"
    );
    let values = req.all(HEADER);
    assert_eq!(values.len(), 1, "{kind}: exactly one {HEADER}: {req:#?}");
    assert_ne!(
        values[0], "forged",
        "{kind}: the client's header got through"
    );
    assert_eq!(
        decode(values[0], encoding),
        files.alice.leaf().as_ref(),
        "{kind}: {HEADER} is alice's leaf: {:?}",
        values[0]
    );
    assert_eq!(req.peer.ip(), proxy.source_addr(), "{kind}: {req:?}");
    if kind.supports_source_addr() {
        assert_eq!(req.peer.ip(), SOURCE, "{kind}: connects from {SOURCE}");
    }

    // No certificate: refused in the handshake, or (nginx) with an HTTP error, and nothing
    // is forwarded.
    let (status, stderr) = get(&proxy, &files, &["-H", &forged]);
    assert!(
        status.is_none() || status.is_some_and(|s| s >= 400),
        "{kind}: anonymous client got {status:?}: {stderr}"
    );
    assert!(
        seen.recv_timeout(Duration::from_millis(500)).is_err(),
        "{kind}: an anonymous request reached the upstream"
    );

    // A certificate from another CA: refused too.
    let other = Pki::with_key_type_at(
        "Other",
        certclaims::test_kit::KeyType::P256,
        files.pki.base(),
    )
    .client("mallory")
    .issue();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(dir.path(), &other);
    let (status, stderr) = get(&proxy, &files, &["--cert", s(&cert), "--key", s(&key)]);
    assert!(
        status.is_none() || status.is_some_and(|s| s >= 400),
        "{kind}: foreign client got {status:?}: {stderr}"
    );
    assert!(seen.recv_timeout(Duration::from_millis(500)).is_err());
}

fn write_pair(dir: &Path, i: &Issued) -> (PathBuf, PathBuf) {
    let cert = dir.join("c.pem");
    let key = dir.join("c.key");
    std::fs::write(&cert, i.chain_pem()).unwrap();
    std::fs::write(&key, i.key_pem()).unwrap();
    (cert, key)
}

fn optional_mode_lets_anonymous_clients_through_without_the_header(kind: ProxyKind) {
    if !available(kind) {
        return;
    }
    let files = Files::new();
    let (up, seen) = upstream();
    let (expression, _) = kind.client_cert_expression();
    let config = ProxyConfig::new(kind, &files.server_cert, &files.server_key, &files.ca, up)
        .with_header(HEADER, expression)
        .with_verify_client(VerifyClient::Optional);
    let proxy = Proxy::start(config).unwrap_or_else(|e| panic!("{kind}: {e}"));
    let forged = format!("{HEADER}: forged");
    let (status, stderr) = get(&proxy, &files, &["-H", &forged]);
    assert_eq!(status, Some(200), "{kind}: {stderr}\n{}", proxy.logs());
    let req = seen.recv_timeout(UPSTREAM_WAIT).expect("forwarded");
    // Absent, or present and empty: never the client's value. Apache's mod_headers writes an
    // unset variable as "(null)"; Caddy 2.6 leaves an unknown placeholder as its own text.
    let no_cert = |v: &str| match kind {
        ProxyKind::Apache => v == "(null)",
        ProxyKind::Caddy => v == expression,
        _ => v.is_empty(),
    };
    assert!(
        req.all(HEADER).iter().all(|v| v.is_empty() || no_cert(v)),
        "{kind}: {req:#?}"
    );
    assert_eq!(req.peer.ip(), proxy.source_addr());
}

#[test]
fn nginx_forwards_the_client_certificate() {
    forwards_the_client_certificate_and_drops_a_forged_header(ProxyKind::Nginx);
}

#[test]
fn apache_forwards_the_client_certificate() {
    forwards_the_client_certificate_and_drops_a_forged_header(ProxyKind::Apache);
}

#[test]
fn haproxy_forwards_the_client_certificate() {
    forwards_the_client_certificate_and_drops_a_forged_header(ProxyKind::Haproxy);
}

#[test]
fn caddy_forwards_the_client_certificate() {
    forwards_the_client_certificate_and_drops_a_forged_header(ProxyKind::Caddy);
}

#[test]
fn optional_mode_for_every_proxy() {
    for kind in ProxyKind::ALL {
        optional_mode_lets_anonymous_clients_through_without_the_header(kind);
    }
}

#[test]
fn a_proxy_that_cannot_start_reports_its_log() {
    if !available(ProxyKind::Nginx) {
        return;
    }
    let files = Files::new();
    let config = ProxyConfig::new(
        ProxyKind::Nginx,
        &files.server_cert,
        // Not a key: nginx refuses the configuration.
        &files.ca,
        &files.ca,
        "127.0.0.1:9".parse().unwrap(),
    );
    let err = Proxy::start(config).expect_err("a certificate is not a key");
    assert!(err.contains("nginx exited before listening"), "{err}");
    assert!(
        err.contains("ssl_certificate_key") || err.contains("PEM"),
        "{err}"
    );
}

#[test]
fn a_dropped_proxy_stops_listening_and_bad_addresses_are_refused() {
    if !available(ProxyKind::Haproxy) {
        return;
    }
    let files = Files::new();
    let (up, _seen) = upstream();
    let config = ProxyConfig::new(
        ProxyKind::Haproxy,
        &files.server_cert,
        &files.server_key,
        &files.ca,
        up,
    );
    for bad in [
        config.clone().with_listen("127.0.0.1:443".parse().unwrap()),
        config.clone().with_listen("0.0.0.0:8443".parse().unwrap()),
        config
            .clone()
            .with_source_addr("192.0.2.1".parse().unwrap()),
    ] {
        assert!(Proxy::start(bad).is_err());
    }
    let proxy = Proxy::start(config).unwrap_or_else(|e| panic!("{e}"));
    let addr = proxy.listen();
    drop(proxy);
    assert!(wait_for_port(addr, Duration::from_millis(300)).is_err());
}
