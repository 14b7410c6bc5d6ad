//! `certclaims serve --forwarded` behind real proxies: nginx, Apache httpd, HAProxy and Caddy
//! terminate mTLS on 127.0.0.1 and forward the client certificate to certclaims over plain
//! HTTP, connecting from 127.0.0.2 where the proxy can choose its source address.
//!
//! For each proxy: the principal equals the one direct TLS gives for the same certificate
//! (but for `source`); a header the client forges is overwritten by the proxy; the same
//! header sent straight to certclaims from an untrusted address is `untrusted_forwarder`; a
//! certificate of a CA the proxy accepts but the policy does not is `unknown_issuer`. And a
//! client's own XFCC element through an appending proxy cannot make it someone else.
//!
//! The proxies come from Debian (./scripts/test.sh installs them); a missing binary fails the
//! test unless CERTCLAIMS_SKIP_PROXIES=1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use certclaims::pki_types::UnixTime;
use certclaims::test_kit::{Issued, Pki};
use certclaims_test_support::net::free_addr;
use certclaims_test_support::tls::localhost_server;
use certclaims_test_support::{curl, s, text, wait_for_port, Proxy, ProxyConfig, ProxyKind};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");
const PROXY_SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// A direct client that is not the proxy.
const STRANGER: &str = "127.0.0.3";

/// `certclaims serve`, killed on drop; its stderr goes to a file for the failure message.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let addr = free_addr(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let log = dir.join(format!("serve-{}.log", addr.port()));
        let child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .args(["--listen", &addr.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Self { child, addr, log };
        if let Err(e) = wait_for_port(addr, Duration::from_secs(20)) {
            panic!("certclaims serve did not listen: {e}\n{}", server.log());
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct World {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    bob: Issued,
    policy: PathBuf,
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

impl World {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let pki = Pki::at(UnixTime::now());
        let foreign = Pki::with_key_type_at(
            "Foreign",
            certclaims::test_kit::KeyType::P256,
            UnixTime::now(),
        );
        let server = localhost_server(&pki);
        let alice = pki
            .client("alice")
            .spiffe("spiffe://example.org/ns/prod/sa/alice")
            .issue();
        let bob = pki
            .client("bob")
            .spiffe("spiffe://example.org/ns/prod/sa/bob")
            .issue();
        let eve = foreign.client("eve").issue();
        write(&dir, "server.pem", &server.chain_pem());
        write(&dir, "server.key", server.key_pem());
        for (name, who) in [("alice", &alice), ("bob", &bob), ("eve", &eve)] {
            write(&dir, &format!("{name}.pem"), &who.chain_pem());
            write(&dir, &format!("{name}.key"), who.key_pem());
        }
        write(&dir, "ca.pem", &pki.root_pem());
        // The proxies accept both CAs; the policy trusts only ours.
        write(
            &dir,
            "proxy-ca.pem",
            &format!("{}{}", pki.root_pem(), foreign.root_pem()),
        );
        // Leaf-only formats need the issuing CA from the policy.
        let mut policy = pki.policy();
        policy.trust.intermediates.push(pki.issuing_ca().pem());
        let policy_json = serde_json::json!({
            "version": 1,
            "trust": {"anchors": policy.trust.anchors, "intermediates": policy.trust.intermediates},
        });
        let policy = write(&dir, "policy.json", &policy_json.to_string());
        Self {
            _dir: tmp,
            dir,
            bob,
            policy,
        }
    }

    fn path(&self, name: &str) -> String {
        s(&self.dir.join(name)).to_string()
    }

    /// The principal of `who` over direct mutual TLS to `certclaims serve`.
    fn direct_principal(&self, who: &str) -> Value {
        let server = Server::start(
            &self.dir,
            &[
                "--policy",
                s(&self.policy),
                "--tls-cert",
                &self.path("server.pem"),
                "--tls-key",
                &self.path("server.key"),
            ],
        );
        let url = format!("https://localhost:{}/", server.addr.port());
        let (status, body) = call(&self.tls_args(who, &url, &server.addr));
        assert_eq!(status, 200, "direct TLS: {body}\n{}", server.log());
        serde_json::from_str(&body).unwrap()
    }

    fn tls_args(&self, who: &str, url: &str, addr: &SocketAddr) -> Vec<String> {
        vec![
            "--cacert".into(),
            self.path("ca.pem"),
            "--cert".into(),
            self.path(&format!("{who}.pem")),
            "--key".into(),
            self.path(&format!("{who}.key")),
            "--resolve".into(),
            format!("localhost:{}:{}", addr.port(), addr.ip()),
            url.into(),
        ]
    }
}

/// curl with `args`; the status and body.
fn call(args: &[String]) -> (u16, String) {
    let mut all: Vec<&str> = vec!["-sS", "--max-time", "15", "-w", "\n%{http_code}"];
    all.extend(args.iter().map(String::as_str));
    let out = curl(&all);
    let t = text(&out.stdout);
    let (body, code) = t.rsplit_once('\n').unwrap_or(("", "000"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn code_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .map(|v| v["error"]["code"].as_str().unwrap_or("").to_string())
        .unwrap_or_else(|_| format!("<not JSON: {body}>"))
}

/// `--forwarded` format and header of each proxy's native certificate expression.
fn forwarding(kind: ProxyKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        ProxyKind::Nginx => ("nginx", "ssl-client-cert", "$ssl_client_escaped_cert"),
        ProxyKind::Apache => ("apache", "x-ssl-client-cert", "%{SSL_CLIENT_CERT}s"),
        ProxyKind::Haproxy => ("haproxy", "x-ssl-client-cert", "%[ssl_c_der,base64]"),
        ProxyKind::Caddy => (
            "caddy",
            "x-client-cert",
            "{http.request.tls.client.certificate_der_base64}",
        ),
        other => panic!("no forwarding for {other}"),
    }
}

fn start_proxy(
    w: &World,
    kind: ProxyKind,
    upstream: SocketAddr,
    headers: &[(&str, &str)],
) -> Proxy {
    let server = w.dir.join("server.pem");
    let mut cfg = ProxyConfig::new(
        kind,
        &server,
        w.dir.join("server.key"),
        w.dir.join("proxy-ca.pem"),
        upstream,
    );
    if kind.supports_source_addr() {
        cfg = cfg.with_source_addr(PROXY_SOURCE);
    }
    for (n, v) in headers {
        cfg = cfg.with_header(n, v);
    }
    Proxy::start(cfg).unwrap_or_else(|e| panic!("{kind} did not start: {e}"))
}

#[test]
fn every_proxy_forwards_the_principal_direct_tls_gives() {
    if Proxy::skip_requested() {
        eprintln!("CERTCLAIMS_SKIP_PROXIES is set: skipped");
        return;
    }
    let w = World::new();
    let mut want = w.direct_principal("alice");
    assert_eq!(want["source"], "direct");
    want["source"] = "forwarded".into();
    // A forged header with bob's certificate, in each proxy's own encoding.
    let bob_leaf = std::slice::from_ref(w.bob.leaf());
    let mut failures = Vec::new();
    for kind in ProxyKind::ALL {
        let (format, header, expression) = forwarding(kind);
        let trusted = if kind.supports_source_addr() {
            PROXY_SOURCE.to_string()
        } else {
            "127.0.0.1".to_string()
        };
        let server = Server::start(
            &w.dir,
            &[
                "--policy",
                s(&w.policy),
                "--forwarded",
                format,
                "--trusted-proxy",
                &trusted,
            ],
        );
        let proxy = start_proxy(&w, kind, server.addr, &[(header, expression)]);
        let url = format!("https://localhost:{}/", proxy.listen().port());
        let forged = certclaims::test_kit::forwarded_headers(format.parse().unwrap(), bob_leaf)
            .remove(0)
            .1;
        let forged_header = format!("{header}: {forged}");

        // Through the proxy, with a forged header: alice, exactly as over direct TLS.
        let mut args = vec!["-H".to_string(), forged_header.clone()];
        args.extend(w.tls_args("alice", &url, &proxy.listen()));
        let (status, body) = call(&args);
        match serde_json::from_str::<Value>(&body) {
            Ok(p) if status == 200 && p == want => {}
            _ => failures.push(format!(
                "{kind}: through the proxy: {status} {body}\n--- certclaims log:\n{}\n--- proxy log:\n{}",
                server.log(),
                proxy.logs()
            )),
        }

        // Straight to certclaims from an address that is not the proxy: refused.
        let direct = format!("http://{}/", server.addr);
        let (status, body) = call(&[
            "--interface".into(),
            STRANGER.into(),
            "-H".into(),
            forged_header,
            direct.clone(),
        ]);
        if (status, code_of(&body).as_str()) != (403, "untrusted_forwarder") {
            failures.push(format!("{kind}: direct forged header: {status} {body}"));
        }

        // A certificate the proxy accepts (its CA file has the foreign root) but the policy
        // does not trust.
        let (status, body) = call(&w.tls_args("eve", &url, &proxy.listen()));
        if (status, code_of(&body).as_str()) != (403, "unknown_issuer") {
            failures.push(format!("{kind}: foreign CA: {status} {body}"));
        }
        let log = server.log();
        if !log.contains("GET / 403 untrusted_forwarder from 127.0.0.3") {
            failures.push(format!(
                "{kind}: no log line for the refused request:\n{log}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// nginx as an appending XFCC proxy (Envoy's APPEND_FORWARD): it appends its own element to
/// whatever the client sent. The client's element names bob; only the last counts.
#[test]
fn a_client_element_through_an_appending_proxy_does_not_make_it_someone_else() {
    if Proxy::skip_requested() {
        eprintln!("CERTCLAIMS_SKIP_PROXIES is set: skipped");
        return;
    }
    let w = World::new();
    let server = Server::start(
        &w.dir,
        &[
            "--policy",
            s(&w.policy),
            "--forwarded",
            "xfcc",
            "--trusted-proxy",
            &PROXY_SOURCE.to_string(),
        ],
    );
    let proxy = start_proxy(
        &w,
        ProxyKind::Nginx,
        server.addr,
        &[(
            "x-forwarded-client-cert",
            "$http_x_forwarded_client_cert,Cert=\"$ssl_client_escaped_cert\"",
        )],
    );
    let bob_element = certclaims::test_kit::forwarded_headers(
        certclaims::forwarded::Format::Xfcc,
        &[w.bob.leaf().clone()],
    )
    .remove(0)
    .1;
    let url = format!("https://localhost:{}/", proxy.listen().port());
    let mut args = vec![
        "-H".to_string(),
        format!("x-forwarded-client-cert: {bob_element}"),
    ];
    args.extend(w.tls_args("alice", &url, &proxy.listen()));
    let (status, body) = call(&args);
    assert_eq!(status, 200, "{body}\n{}\n{}", server.log(), proxy.logs());
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["common_name"], "alice");
    assert_eq!(p["spiffe_id"], "spiffe://example.org/ns/prod/sa/alice");
    assert_eq!(p["source"], "forwarded");
}
