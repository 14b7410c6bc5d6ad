//! End to end: `certclaims serve` on 127.0.0.1 against real TLS clients this project did not
//! write: `curl` and `openssl s_client`.
//!
//! The PKI is minted by `certclaims mint`; a second `mint` folder is the foreign CA. The
//! expired client certificate is made by `openssl ca` (OpenSSL 3.0's `x509 -req` cannot
//! backdate) with `-startdate 20200101000000Z -enddate 20200201000000Z`, signed by the minted
//! CA's own key. The policy-denied client is bob, in front of a policy whose `identity.allow`
//! admits only alice's SPIFFE ID.
//!
//! Every server listens on `127.0.0.1:0`; its address is read from its first stderr line, so
//! there is no port race. A guard kills it when the test ends, passes or panics.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certclaims_test_support::{openssl_in, run, s, text, wait_for_port};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");

const ALICE_SPIFFE: &str = "spiffe://example.org/ns/prod/sa/alice";
const BOB_SPIFFE: &str = "spiffe://example.org/ns/prod/sa/bob";

fn certclaims(args: &[&str]) -> Output {
    certclaims_test_support::certclaims(BIN, args)
}

/// A PKI minted by `certclaims mint`, a foreign one, an expired client made by `openssl ca`,
/// and a policy that admits only alice.
struct Pki {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    foreign: PathBuf,
    expired: (PathBuf, PathBuf),
    alice_only: PathBuf,
}

impl Pki {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("pki");
        let foreign = tmp.path().join("foreign");
        for (d, args) in [
            (
                &dir,
                [
                    "--client",
                    "alice",
                    "--spiffe",
                    ALICE_SPIFFE,
                    "--client",
                    "bob",
                    "--spiffe",
                    BOB_SPIFFE,
                ],
            ),
            // Same name and SPIFFE ID as the real alice, another CA.
            (
                &foreign,
                [
                    "--client",
                    "alice",
                    "--spiffe",
                    ALICE_SPIFFE,
                    "--dns",
                    "alice.svc.example",
                    "--p12-password",
                    "x",
                ],
            ),
        ] {
            let mut all = vec!["mint", "--out", s(d)];
            all.extend_from_slice(&args);
            let out = certclaims(&all);
            assert_eq!(out.status.code(), Some(0), "mint: {}", text(&out.stderr));
        }
        let expired = expired_client(&dir, &tmp.path().join("openssl-ca"));

        let mut policy: Value =
            serde_json::from_slice(&std::fs::read(dir.join("policy.json")).expect("policy"))
                .expect("policy JSON");
        policy["identity"]["allow"] = serde_json::json!([{ "spiffe_id": ALICE_SPIFFE }]);
        let alice_only = tmp.path().join("alice-only.json");
        std::fs::write(&alice_only, policy.to_string()).expect("write policy");
        Self {
            _tmp: tmp,
            dir,
            foreign,
            expired,
            alice_only,
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn client(&self, name: &str) -> (PathBuf, PathBuf) {
        (
            self.file(&format!("{name}.pem")),
            self.file(&format!("{name}.key")),
        )
    }

    fn foreign_alice(&self) -> (PathBuf, PathBuf) {
        (
            self.foreign.join("alice.pem"),
            self.foreign.join("alice.key"),
        )
    }
}

/// A client certificate valid from 2020-01-01 to 2020-02-01 (alice's SPIFFE ID, so that only
/// its dates are wrong), signed with `DIR/ca.key` by `openssl ca`: `PEM` is leaf then CA.
fn expired_client(pki: &Path, work: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(work).expect("mkdir");
    std::fs::write(work.join("index.txt"), "").expect("index");
    std::fs::write(work.join("serial"), "1000\n").expect("serial");
    std::fs::write(
        work.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca = dev\n\
             [dev]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\n\
             policy = anything\nunique_subject = no\ncopy_extensions = none\nx509_extensions = client\n\
             [anything]\norganizationName = optional\ncommonName = supplied\n\
             [client]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = clientAuth\nsubjectAltName = URI:{ALICE_SPIFFE}\n\
             authorityKeyIdentifier = keyid\n"
        ),
    )
    .expect("ca.cnf");
    openssl_in(
        work,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "expired.key",
            "-out",
            "expired.csr",
            "-subj",
            "/O=certclaims/CN=expired",
        ],
    );
    openssl_in(
        work,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            s(&pki.join("ca.pem")),
            "-keyfile",
            s(&pki.join("ca.key")),
            "-in",
            "expired.csr",
            "-out",
            "expired.crt",
            "-notext",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200201000000Z",
        ],
    );
    let leaf = std::fs::read_to_string(work.join("expired.crt")).expect("expired.crt");
    let ca = std::fs::read_to_string(pki.join("ca.pem")).expect("ca.pem");
    let pem = work.join("expired.pem");
    std::fs::write(&pem, format!("{leaf}{ca}")).expect("write");

    // The CLI agrees: signed by the minted CA, and expired (nothing else is wrong with it).
    let out = certclaims(&["inspect", s(&pem)]);
    let info: Value = serde_json::from_slice(&out.stdout).expect("inspect JSON");
    assert_eq!(info["certificates"][0]["not_after"], "2020-02-01T00:00:00Z");
    assert_eq!(
        info["certificates"][0]["not_before"],
        "2020-01-01T00:00:00Z"
    );
    let out = certclaims(&["verify", "--policy", s(&pki.join("policy.json")), s(&pem)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let rejection: Value = serde_json::from_slice(&out.stdout).expect("rejection JSON");
    assert_eq!(rejection["error"]["code"], "expired", "{rejection}");
    (pem, work.join("expired.key"))
}

/// A running `certclaims serve`, killed on drop; its stderr lines are collected.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(pki: &Pki, policy: &Path, mode: &str) -> Self {
        Self::start_with(pki, policy, mode, &[])
    }

    fn start_with(pki: &Pki, policy: &Path, mode: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--policy",
                s(policy),
                "--tls-cert",
                s(&pki.file("server.pem")),
                "--tls-key",
                s(&pki.file("server.key")),
                "--listen",
                "127.0.0.1:0",
                "--mode",
                mode,
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn certclaims serve");
        let stderr = child.stderr.take().expect("stderr");
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    log.lock().expect("log").push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let mut server = Self {
            child,
            port: 0,
            log,
        };
        // "certclaims serve: https://127.0.0.1:PORT (mode ..., policy ...)", printed once
        // the socket is bound.
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.port == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    // In JSON mode the banner is the message of a log event.
                    let line = serde_json::from_str::<Value>(&line)
                        .ok()
                        .and_then(|v| v["message"].as_str().map(String::from))
                        .unwrap_or(line);
                    if let Some(rest) = line.strip_prefix("certclaims serve: https://127.0.0.1:") {
                        server.port = rest
                            .split(' ')
                            .next()
                            .and_then(|p| p.parse().ok())
                            .unwrap_or_else(|| panic!("address in {line:?}"));
                    }
                }
                Err(_) => panic!(
                    "certclaims serve did not start; stderr: {:?}; status: {:?}",
                    server.lines(),
                    server.child.try_wait()
                ),
            }
        }
        assert!(
            server.lines()[0].contains(&format!("(mode {}", capitalized(mode))),
            "{:?}",
            server.lines()
        );
        // And it accepts TCP connections (polled, with a deadline).
        wait_for_port(
            ([127, 0, 0, 1], server.port).into(),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| panic!("{e}; stderr: {:?}", server.lines()));
        server
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// Waits (up to 10 s) for a stderr line containing every one of `parts`.
    fn expect_line(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(l) = self
                .lines()
                .into_iter()
                .find(|l| parts.iter().all(|p| l.contains(p)))
            {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "no server log line with {parts:?}; log: {:#?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many stderr lines contain `part`.
    fn count(&self, part: &str) -> usize {
        self.lines().iter().filter(|l| l.contains(part)).count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn capitalized(mode: &str) -> String {
    let mut c = mode.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// What curl did: its exit code, the HTTP status (`None` if no response), body and stderr.
struct Curl {
    code: Option<i32>,
    status: Option<u16>,
    body: String,
    stderr: String,
}

impl Curl {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// `curl https://localhost:PORT{path}` (localhost resolved to 127.0.0.1), trusting the
/// minted CA, with `client` arguments such as `--cert X --key Y`.
fn curl(server: &Server, pki: &Pki, path: &str, client: &[&str]) -> Curl {
    let port = server.port;
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}{path}");
    let ca = pki.file("ca.pem");
    let mut args = vec![
        "--resolve",
        &resolve,
        "--cacert",
        s(&ca),
        "-w",
        "\n%{http_code}",
    ];
    args.extend_from_slice(client);
    args.push(&url);
    let out = certclaims_test_support::curl(&args);
    let stdout = text(&out.stdout);
    let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    Curl {
        code: out.status.code(),
        status: status.trim().parse().ok().filter(|s| *s != 0),
        body: body.to_string(),
        stderr: text(&out.stderr),
    }
}

fn cert_args(client: &(PathBuf, PathBuf)) -> Vec<String> {
    vec![
        "--cert".into(),
        s(&client.0).into(),
        "--key".into(),
        s(&client.1).into(),
    ]
}

fn curl_as(server: &Server, pki: &Pki, client: &(PathBuf, PathBuf)) -> Curl {
    let args = cert_args(client);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(server, pki, "/whoami", &args)
}

/// curl was refused in the handshake with `alert` (OpenSSL's text, e.g. "alert unknown ca").
/// This also holds the server to closing gracefully after a failed handshake: a reset
/// instead would make curl 7.88 fail with `(55) getpeername()` before reading the alert.
fn assert_curl_alert(c: &Curl, alert: &str) {
    assert_eq!(c.status, None, "no HTTP response: {}", c.body);
    if c.code == Some(56) && c.stderr.contains(alert) {
        return;
    }
    panic!(
        "expected curl exit 56 with {alert:?}; got {:?}: {}",
        c.code, c.stderr
    );
}

fn assert_alice(p: &Value, pki: &Pki) {
    assert_eq!(p["authentication_type"], "Certificate");
    assert_eq!(p["subject"], "CN=alice,O=certclaims");
    assert_eq!(p["common_name"], "alice");
    assert_eq!(p["spiffe_id"], ALICE_SPIFFE);
    assert_eq!(p["uris"], serde_json::json!([ALICE_SPIFFE]));
    let ca = certclaims(&["inspect", s(&pki.file("ca.pem"))]);
    let ca: Value = serde_json::from_slice(&ca.stdout).expect("inspect JSON");
    assert_eq!(p["issuer"], ca["certificates"][0]["subject"]);
    let chain = p["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "leaf, then the minted CA");
    assert_eq!(
        chain[1]["fingerprint_sha256"],
        ca["certificates"][0]["fingerprint_sha256"]
    );
    assert!(p["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .any(|c| c["value"] == ALICE_SPIFFE && c["issuer"] == "LOCAL AUTHORITY"));
}

#[test]
fn require_mode_with_curl() {
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.alice_only, "require");

    // Valid: 200 and the principal JSON.
    let c = curl_as(&server, &pki, &pki.client("alice"));
    assert_eq!((c.code, c.status), (Some(0), Some(200)), "{}", c.stderr);
    assert_alice(&c.json(), &pki);
    server.expect_line(&["GET /whoami 200 CN=alice,O=certclaims"]);

    // Any path answers the principal.
    let c = curl(
        &server,
        &pki,
        "/some/where?x=1",
        &cert_args(&pki.client("alice"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(c.status, Some(200), "{}", c.stderr);
    assert_eq!(c.json()["spiffe_id"], ALICE_SPIFFE);
    server.expect_line(&["GET /some/where 200 CN=alice,O=certclaims"]);

    // The PKCS#12 file, read by curl's OpenSSL.
    let p12 = format!("{}:changeit", s(&pki.file("alice.p12")));
    let c = curl(
        &server,
        &pki,
        "/whoami",
        &["--cert-type", "P12", "--cert", &p12],
    );
    assert_eq!((c.code, c.status), (Some(0), Some(200)), "{}", c.stderr);
    assert_alice(&c.json(), &pki);
    assert_eq!(server.count("GET /whoami 200 CN=alice,O=certclaims"), 2);

    // No certificate: certificate_required.
    let c = curl(&server, &pki, "/whoami", &[]);
    assert_curl_alert(&c, "alert certificate required");
    server.expect_line(&["handshake failed from 127.0.0.1:", ": no_certificate"]);

    // Another CA (same subject and SPIFFE ID): unknown_ca.
    let c = curl_as(&server, &pki, &pki.foreign_alice());
    assert_curl_alert(&c, "alert unknown ca");
    server.expect_line(&["handshake rejected: unknown_issuer"]);

    // Expired: certificate_expired.
    let c = curl_as(&server, &pki, &pki.expired);
    assert_curl_alert(&c, "alert certificate expired");
    server.expect_line(&["handshake rejected: expired", "2020-02-01T00:00:00Z"]);

    // Valid, but the policy admits only alice: access_denied.
    let c = curl_as(&server, &pki, &pki.client("bob"));
    assert_curl_alert(&c, "alert access denied");
    server.expect_line(&["handshake rejected: policy_denied"]);

    // One request line per HTTP request; rejected handshakes never reach HTTP.
    assert_eq!(server.count("GET /"), 3, "{:#?}", server.lines());
    assert_eq!(server.count(" 200 CN=bob"), 0);
}

/// `openssl s_client` sending one HTTP/1.1 request: exit status and stdout + stderr.
fn s_client(server: &Server, pki: &Pki, client: Option<&(PathBuf, PathBuf)>) -> (bool, String) {
    let connect = format!("127.0.0.1:{}", server.port);
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &connect, "-servername", "localhost"])
        .args(["-verify_hostname", "localhost", "-verify_return_error"])
        .args(["-CAfile", s(&pki.file("ca.pem")), "-ign_eof"]);
    if let Some((cert, key)) = client {
        cmd.args(["-cert", s(cert), "-key", s(key)]);
    }
    let out = run(
        &mut cmd,
        b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    (
        out.status.success(),
        format!("{}\n{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn assert_s_client_alert(result: &(bool, String), alert: &str) {
    assert!(!result.0, "s_client failed: {}", result.1);
    assert!(result.1.contains(alert), "{alert:?} not in: {}", result.1);
    assert!(!result.1.contains("HTTP/1.1"), "{}", result.1);
    // The server's certificate itself was fine.
    assert!(
        result.1.contains("Verify return code: 0 (ok)"),
        "{}",
        result.1
    );
}

#[test]
fn require_mode_with_openssl_s_client() {
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.alice_only, "require");

    let (ok, out) = s_client(&server, &pki, Some(&pki.client("alice")));
    assert!(ok, "{out}");
    assert!(out.contains("HTTP/1.1 200"), "{out}");
    assert!(
        out.contains(&format!("\"spiffe_id\": \"{ALICE_SPIFFE}\"")),
        "{out}"
    );
    assert!(
        out.contains("\"subject\": \"CN=alice,O=certclaims\""),
        "{out}"
    );
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    server.expect_line(&["GET /whoami 200 CN=alice,O=certclaims"]);

    let r = s_client(&server, &pki, Some(&pki.expired));
    assert_s_client_alert(&r, "alert certificate expired");
    server.expect_line(&["handshake rejected: expired"]);

    let r = s_client(&server, &pki, Some(&pki.foreign_alice()));
    assert_s_client_alert(&r, "alert unknown ca");
    server.expect_line(&["handshake rejected: unknown_issuer"]);

    let r = s_client(&server, &pki, None);
    assert_s_client_alert(&r, "alert certificate required");
    server.expect_line(&[": no_certificate"]);

    let r = s_client(&server, &pki, Some(&pki.client("bob")));
    assert_s_client_alert(&r, "alert access denied");
    server.expect_line(&["handshake rejected: policy_denied"]);

    assert_eq!(server.count("GET /"), 1, "{:#?}", server.lines());
}

#[test]
fn allow_mode_with_curl_and_s_client() {
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.file("policy.json"), "allow");

    // Readiness and health: /healthz answers 200 without a certificate.
    let deadline = Instant::now() + Duration::from_secs(10);
    let health = loop {
        let c = curl(&server, &pki, "/healthz", &[]);
        if c.status.is_some() || Instant::now() > deadline {
            break c;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (health.code, health.status),
        (Some(0), Some(200)),
        "{}",
        health.stderr
    );
    assert_eq!(health.body.trim(), "ok");

    // No certificate: the handshake succeeds, /whoami answers 401 no_certificate.
    let c = curl(&server, &pki, "/whoami", &[]);
    assert_eq!((c.code, c.status), (Some(0), Some(401)), "{}", c.stderr);
    let err = c.json();
    assert_eq!(err["error"]["code"], "no_certificate", "{err}");
    assert_eq!(err["error"]["step"], "input", "{err}");
    server.expect_line(&["GET /whoami 401 no_certificate"]);

    // A valid certificate: 200 (the minted policy admits every client of its CA).
    let c = curl_as(&server, &pki, &pki.client("alice"));
    assert_eq!((c.code, c.status), (Some(0), Some(200)), "{}", c.stderr);
    assert_alice(&c.json(), &pki);
    let c = curl_as(&server, &pki, &pki.client("bob"));
    assert_eq!(c.status, Some(200), "{}", c.stderr);
    assert_eq!(c.json()["spiffe_id"], BOB_SPIFFE);
    server.expect_line(&["GET /whoami 200 CN=bob,O=certclaims"]);

    // A certificate that is presented must still verify.
    let r = s_client(&server, &pki, Some(&pki.expired));
    assert_s_client_alert(&r, "alert certificate expired");
    let r = s_client(&server, &pki, Some(&pki.foreign_alice()));
    assert_s_client_alert(&r, "alert unknown ca");
    // Without one, s_client gets HTTP.
    let (ok, out) = s_client(&server, &pki, None);
    assert!(ok, "{out}");
    assert!(out.contains("HTTP/1.1 401"), "{out}");
    assert!(out.contains("no_certificate"), "{out}");
}

#[test]
fn http_mode_answers_every_refusal_in_json() {
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.file("policy.json"), "http");
    let deadline = Instant::now() + Duration::from_secs(10);
    while curl(&server, &pki, "/healthz", &[]).status.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // A valid certificate: 200, as in the other modes.
    let c = curl_as(&server, &pki, &pki.client("alice"));
    assert_eq!((c.code, c.status), (Some(0), Some(200)), "{}", c.stderr);
    assert_alice(&c.json(), &pki);
    // No certificate: 401 no_certificate.
    let c = curl(&server, &pki, "/whoami", &[]);
    assert_eq!((c.code, c.status), (Some(0), Some(401)), "{}", c.stderr);
    assert_eq!(c.json()["error"]["code"], "no_certificate");
    // Where require and allow end the handshake with an alert, the client reads why.
    for (client, code) in [
        (pki.expired.clone(), "expired"),
        (pki.foreign_alice(), "unknown_issuer"),
    ] {
        let c = curl_as(&server, &pki, &client);
        assert_eq!(
            (c.code, c.status),
            (Some(0), Some(403)),
            "{code}: {}",
            c.stderr
        );
        let e = c.json();
        assert_eq!(e["error"]["code"], code, "{e}");
        assert_eq!(e["error"]["step"], "validation", "{e}");
        server.expect_line(&[&format!("GET /whoami 403 {code}")]);
        server.expect_line(&["client certificate refused, answered in HTTP: ", code]);
    }
    // s_client sees the handshake complete and the 403 over it.
    let (ok, out) = s_client(&server, &pki, Some(&pki.foreign_alice()));
    assert!(ok, "{out}");
    assert!(out.contains("HTTP/1.1 403"), "{out}");
    assert!(out.contains("unknown_issuer"), "{out}");
}

/// curl uploading over HTTP/2 to a server that answers without reading the body (every
/// `serve` answer does): curl 7.88 failed with `(92) Stream error in the HTTP/2 framing
/// layer`, or waited forever, when the stream ended under its upload. The server now reads
/// the rest of the body (up to 8 MiB) before it answers.
#[test]
fn http2_uploads_get_the_answer_whole() {
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.file("policy.json"), "http");
    let deadline = Instant::now() + Duration::from_secs(10);
    while curl(&server, &pki, "/healthz", &[]).status.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let upload = pki.dir.join("upload.bin");
    for size in [200 * 1024, 5_000_000] {
        std::fs::write(&upload, vec![b'x'; size]).expect("write upload");
        let data = format!("@{}", s(&upload));
        let post = ["--http2", "--data-binary", data.as_str()];
        // No certificate: 401.
        let c = curl(&server, &pki, "/upload", &post);
        assert_eq!(
            (c.code, c.status),
            (Some(0), Some(401)),
            "{size}: {}",
            c.stderr
        );
        assert_eq!(c.json()["error"]["code"], "no_certificate");
        // alice: 200 with her principal.
        let alice = pki.client("alice");
        let mut args: Vec<String> = post.iter().map(|a| a.to_string()).collect();
        args.extend(cert_args(&alice));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let c = curl(&server, &pki, "/upload", &args);
        assert_eq!(
            (c.code, c.status),
            (Some(0), Some(200)),
            "{size}: {}",
            c.stderr
        );
        assert_alice(&c.json(), &pki);
        server.expect_line(&["POST /upload 200"]);
    }
}

#[test]
fn json_logs_have_one_object_per_request_and_refused_handshake() {
    let pki = Pki::new();
    let server = Server::start_with(
        &pki,
        &pki.file("policy.json"),
        "require",
        &["--log-format", "json"],
    );
    let c = curl_as(&server, &pki, &pki.client("alice"));
    assert_eq!(c.status, Some(200), "{}", c.stderr);
    let r = s_client(&server, &pki, Some(&pki.foreign_alice()));
    assert_s_client_alert(&r, "alert unknown ca");
    let request = server.expect_line(&["\"GET /whoami 200 CN=alice,O=certclaims\""]);
    let refused = server.expect_line(&["\"handshake rejected: unknown_issuer"]);
    for line in server.lines() {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let ts = v["timestamp"].as_str().unwrap_or_default();
        assert!(ts.len() >= 20 && ts.ends_with('Z'), "{line}");
        assert!(v["level"].is_string(), "{line}");
    }
    let request: Value = serde_json::from_str(&request).expect("JSON");
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["path"], "/whoami");
    assert_eq!(request["status"], 200);
    assert_eq!(request["outcome"], "ok");
    assert_eq!(request["subject"], "CN=alice,O=certclaims");
    assert!(
        request["peer"]
            .as_str()
            .is_some_and(|p| p.starts_with("127.0.0.1:")),
        "{request}"
    );
    assert_eq!(
        request["fingerprint_sha256"].as_str().map(str::len),
        Some(64)
    );
    assert!(request["latency_us"].is_u64(), "{request}");
    let refused: Value = serde_json::from_str(&refused).expect("JSON");
    assert_eq!(refused["level"], "WARN");
    assert_eq!(refused["outcome"], "unknown_issuer");
    assert_eq!(refused["subject"], "CN=alice,O=certclaims");
    assert_eq!(
        refused["fingerprint_sha256"].as_str().map(str::len),
        Some(64)
    );
    assert!(
        refused["peer"]
            .as_str()
            .is_some_and(|p| p.starts_with("127.0.0.1:")),
        "{refused}"
    );
    assert_eq!(request["source"], "direct");
    // One line for the refused handshake, not a second from the failed-handshake hook (the
    // hook's lines are the other failures, such as the readiness probe's bare TCP connect).
    assert!(
        !server
            .lines()
            .iter()
            .any(|l| l.contains("handshake failed") && l.contains("certificate")),
        "{:#?}",
        server.lines()
    );
}

#[test]
fn health_and_metrics_need_no_certificate_in_require_mode() {
    let pki = Pki::new();
    let port = certclaims_test_support::net::free_port();
    let health = format!("127.0.0.1:{port}");
    let server = Server::start_with(
        &pki,
        &pki.file("policy.json"),
        "require",
        &["--health-listen", &health],
    );
    server.expect_line(&[&format!(
        "certclaims serve: health and metrics on http://{health} (/healthz, /metrics)"
    )]);
    let get = |path: &str| {
        let out = certclaims_test_support::curl(&[
            "-sS",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code}",
            &format!("http://{health}{path}"),
        ]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", ""));
        (status.to_string(), body.to_string())
    };
    assert_eq!(get("/healthz"), ("200".into(), "ok\n".into()));
    assert_eq!(get("/nope").0, "404");

    // One verified client, one refused handshake, one without a certificate.
    assert_eq!(
        curl_as(&server, &pki, &pki.client("alice")).status,
        Some(200)
    );
    assert_s_client_alert(
        &s_client(&server, &pki, Some(&pki.foreign_alice())),
        "alert unknown ca",
    );
    let c = curl(&server, &pki, "/whoami", &[]);
    assert_eq!(
        c.status, None,
        "require mode: no HTTP answer without a certificate"
    );
    server.expect_line(&["handshake rejected: unknown_issuer"]);

    let (status, metrics) = get("/metrics");
    assert_eq!(status, "200");
    for line in [
        "certclaims_handshakes_total{outcome=\"ok\"} 1",
        "certclaims_handshakes_total{outcome=\"unknown_issuer\"} 1",
        "certclaims_handshakes_total{outcome=\"no_certificate\"} 1",
        "certclaims_requests_total{status=\"200\",outcome=\"ok\"} 1",
        "certclaims_request_duration_seconds_count 1",
        "# TYPE certclaims_request_duration_seconds histogram",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line:?} not in\n{metrics}"
        );
    }
}

/// `--listen` takes a host name (the first of its addresses that binds); an address that is
/// none of IP:PORT, [IPv6]:PORT or HOST:PORT is a usage error that says what to write.
#[test]
fn listen_accepts_a_host_name() {
    let pki = Pki::new();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--policy",
            s(&pki.file("policy.json")),
            "--tls-cert",
            s(&pki.file("server.pem")),
            "--tls-key",
            s(&pki.file("server.key")),
            "--listen",
            "localhost:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn certclaims serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Some(Ok(line)) = BufReader::new(stderr).lines().next() {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("certclaims serve printed its address");
    assert!(
        line.starts_with("certclaims serve: https://127.0.0.1:")
            || line.starts_with("certclaims serve: https://[::1]:"),
        "{line}"
    );

    let out = run(
        Command::new(BIN).args([
            "serve",
            "--policy",
            s(&pki.file("policy.json")),
            "--tls-cert",
            s(&pki.file("server.pem")),
            "--tls-key",
            s(&pki.file("server.key")),
            "--listen",
            "8443",
        ]),
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("HOST:PORT, e.g. 127.0.0.1:8443"),
        "{}",
        text(&out.stderr)
    );
}

/// The `Accept` of Chrome's and Firefox's page loads.
const BROWSER_ACCEPT: &str =
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A browser's `Accept` gets HTML pages (the principal, or the refusal with the reason or the
/// install steps), with the same status codes; curl's `*/*` keeps getting JSON.
#[test]
fn browsers_get_html_pages() {
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.file("policy.json"), "http");
    let deadline = Instant::now() + Duration::from_secs(10);
    while curl(&server, &pki, "/healthz", &[]).status.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let browser = |client: Option<&(PathBuf, PathBuf)>| {
        let mut args = vec![
            "-H".to_string(),
            BROWSER_ACCEPT.to_string(),
            "-D".into(),
            "-".into(),
        ];
        if let Some(c) = client {
            args.extend(cert_args(c));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&server, &pki, "/whoami", &args)
    };
    let header = |c: &Curl, name: &str| -> String {
        c.body
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let alice = browser(Some(&pki.client("alice")));
    assert_eq!(
        (alice.code, alice.status),
        (Some(0), Some(200)),
        "{}",
        alice.stderr
    );
    assert_eq!(header(&alice, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&alice, "vary"), "accept");
    for part in [
        "<title>Signed in as alice</title>",
        "<tr><th>Subject</th><td class=\"v\">CN=alice,O=certclaims</td></tr>",
        &format!("<tr><th>SPIFFE ID</th><td class=\"v\">{ALICE_SPIFFE}</td></tr>"),
        "<tr><th>Expires</th>",
    ] {
        assert!(alice.body.contains(part), "{part}: {}", alice.body);
    }
    let none = browser(None);
    assert_eq!((none.code, none.status), (Some(0), Some(401)));
    assert_eq!(header(&none, "content-type"), "text/html; charset=utf-8");
    assert!(
        none.body
            .contains("<title>Client certificate required</title>"),
        "{}",
        none.body
    );
    assert!(
        none.body
            .contains("pk12util -d sql:$HOME/.pki/nssdb -i NAME.p12"),
        "{}",
        none.body
    );
    let foreign = browser(Some(&pki.foreign_alice()));
    assert_eq!((foreign.code, foreign.status), (Some(0), Some(403)));
    assert!(
        foreign
            .body
            .contains("<title>Client certificate refused</title>"),
        "{}",
        foreign.body
    );
    assert!(
        foreign.body.contains("<code>unknown_issuer</code>"),
        "{}",
        foreign.body
    );
    // No configuration in the page: not the policy's path, not its anchors.
    assert!(!foreign.body.contains("policy.json"), "{}", foreign.body);
    // Programs keep their JSON.
    let c = curl_as(&server, &pki, &pki.client("alice"));
    assert_eq!((c.code, c.status), (Some(0), Some(200)));
    assert_alice(&c.json(), &pki);
}

/// Real headless Chromium (Debian `chromium`; NSS tools from `libnss3-tools`), both installed
/// by the test command. Each person gets a temporary HOME whose NSS database
/// (`$HOME/.pki/nssdb`, where Chromium on Linux keeps client certificates) trusts the minted
/// CA and holds their `.p12` as imported with `pk12util`; a certificate is chosen without a
/// prompt by the `AutoSelectCertificateForUrls` policy (in a private mount namespace, where
/// the test can write `/etc/chromium/policies/managed` without touching the machine's) or,
/// where that namespace cannot be made (not root), by the same auto-select setting in the
/// profile's preferences. Chromium sends its own `Accept`, so this is content negotiation end
/// to end: alice sees her page, a profile without a certificate the install page, a
/// certificate of another CA the refusal page.
#[test]
fn headless_chromium_over_mtls() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("chromium is not installed: ./scripts/test.sh installs it (apt-get install chromium libnss3-tools)");
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.file("policy.json"), "http");
    // Admits only alice: bob's certificate is valid and refused by the policy. (A browser
    // offers only certificates issued by a CA the server names, so another CA's
    // certificate would never be sent.)
    let alice_only = Server::start(&pki, &pki.alice_only, "http");
    let work = tempfile::tempdir().expect("tempdir");
    let namespaced = Command::new("unshare")
        .args(["-m", "true"])
        .output()
        .is_ok_and(|o| o.status.success());

    let profile = |name: &str, p12: Option<(&Path, &str)>| -> PathBuf {
        let home = work.path().join(name);
        let db = home.join(".pki/nssdb");
        std::fs::create_dir_all(&db).expect("mkdir nssdb");
        let db = format!("sql:{}", s(&db));
        run(
            Command::new("certutil").args(["-N", "--empty-password", "-d", &db]),
            b"",
        );
        let out = run(
            Command::new("certutil")
                .args(["-A", "-d", &db, "-n", "certclaims-ca", "-t", "C,,", "-i"])
                .arg(pki.file("ca.pem")),
            b"",
        );
        assert!(out.status.success(), "certutil -A: {}", text(&out.stderr));
        if let Some((p12, password)) = p12 {
            let out = run(
                Command::new("pk12util")
                    .args(["-d", &db, "-W", password, "-i"])
                    .arg(p12),
                b"",
            );
            assert!(out.status.success(), "pk12util: {}", text(&out.stderr));
        }
        if !namespaced {
            // The content setting the policy feeds, for any port of 127.0.0.1.
            let prefs = home.join("profile/Default");
            std::fs::create_dir_all(&prefs).expect("mkdir profile");
            std::fs::write(
                prefs.join("Preferences"),
                r#"{"profile":{"content_settings":{"exceptions":{"auto_select_certificate":{"https://127.0.0.1:*,*":{"setting":{"filters":[{}]}}}}}}}"#,
            )
            .expect("write Preferences");
        }
        home
    };
    // The managed policy, mounted over /etc/chromium inside the namespace only.
    let etc = work.path().join("etc-chromium");
    std::fs::create_dir_all(etc.join("policies/managed")).expect("mkdir policies");
    let patterns: Vec<String> = [server.port, alice_only.port]
        .iter()
        .map(|port| {
            serde_json::json!({"pattern": format!("https://127.0.0.1:{port}"), "filter": {}})
                .to_string()
        })
        .collect();
    std::fs::write(
        etc.join("policies/managed/certclaims-test.json"),
        serde_json::json!({ "AutoSelectCertificateForUrls": patterns }).to_string(),
    )
    .expect("write policy");

    let load = |home: &Path, server: &Server| -> String {
        let url = format!("https://127.0.0.1:{}/whoami", server.port);
        let browser = format!(
            "{chromium} --headless --no-sandbox --disable-gpu --no-first-run \
             --no-default-browser-check --user-data-dir='{}' --dump-dom '{url}'",
            s(&home.join("profile"))
        );
        let script = if namespaced {
            format!("mount --bind '{}' /etc/chromium && exec {browser}", s(&etc))
        } else {
            format!("exec {browser}")
        };
        let mut cmd = if namespaced {
            let mut c = Command::new("unshare");
            c.args(["-m", "sh", "-c", &script]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        };
        // Without a certificate choice Chromium would wait forever: bounded here.
        let out = certclaims_test_support::run_with_timeout(
            cmd.env("HOME", home).env_remove("XDG_DATA_HOME"),
            b"",
            Duration::from_secs(45),
        );
        let dom = text(&out.stdout);
        assert!(
            !dom.trim().is_empty(),
            "Chromium loaded nothing: {}",
            text(&out.stderr)
        );
        dom
    };

    let alice = profile("alice", Some((&pki.file("alice.p12"), "changeit")));
    let dom = load(&alice, &server);
    assert!(dom.contains("<title>Signed in as alice</title>"), "{dom}");
    assert!(
        dom.contains(&format!("<td class=\"v\">{ALICE_SPIFFE}</td>")),
        "{dom}"
    );
    server.expect_line(&["GET /whoami 200 CN=alice,O=certclaims"]);

    let nobody = profile("nobody", None);
    let dom = load(&nobody, &server);
    assert!(
        dom.contains("<title>Client certificate required</title>"),
        "{dom}"
    );
    assert!(dom.contains("Install your certificate"), "{dom}");
    server.expect_line(&["GET /whoami 401 no_certificate"]);

    let bob = profile("bob", Some((&pki.file("bob.p12"), "changeit")));
    let dom = load(&bob, &alice_only);
    assert!(
        dom.contains("<title>Client certificate refused</title>"),
        "{dom}"
    );
    assert!(dom.contains("<code>policy_denied</code>"), "{dom}");
    alice_only.expect_line(&["GET /whoami 403 policy_denied"]);
}

/// Waits (up to 10 s) until `check` holds, polling every 100 ms.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "not within 10 s: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Without SIGHUP: editing the policy, or a file it names, reloads (debounced); a broken edit
/// keeps the previous state and says why; fixing it reloads again.
#[test]
fn changed_files_reload_without_sighup() {
    let pki = Pki::new();
    let work = tempfile::tempdir().expect("tempdir");
    // A policy that names its anchor by path, next to it.
    let anchor = work.path().join("anchor.pem");
    std::fs::copy(pki.file("ca.pem"), &anchor).expect("copy CA");
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(pki.file("policy.json")).expect("policy"))
            .expect("JSON");
    policy["trust"]["anchors"] = serde_json::json!(["anchor.pem"]);
    let policy_path = work.path().join("policy.json");
    // Written elsewhere and renamed into place, as editors and `kubectl` do.
    let replace = |path: &Path, bytes: &[u8]| {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    };
    replace(&policy_path, policy.to_string().as_bytes());
    let server = Server::start(&pki, &policy_path, "http");
    let status = |client: &(PathBuf, PathBuf)| curl_as(&server, &pki, client).status;
    eventually("alice admitted", || {
        status(&pki.client("alice")) == Some(200)
    });
    assert_eq!(status(&pki.client("bob")), Some(200));

    // The policy now admits only alice.
    policy["identity"]["allow"] = serde_json::json!([{ "spiffe_id": ALICE_SPIFFE }]);
    replace(&policy_path, policy.to_string().as_bytes());
    eventually("bob refused", || status(&pki.client("bob")) == Some(403));
    server.expect_line(&["reloaded (files changed): generation 2"]);
    assert_eq!(status(&pki.client("alice")), Some(200));

    // The anchor file now holds the other CA: our alice is refused, the foreign one admitted.
    replace(
        &anchor,
        &std::fs::read(pki.foreign.join("ca.pem")).expect("foreign CA"),
    );
    eventually("foreign alice admitted", || {
        status(&pki.foreign_alice()) == Some(200)
    });
    server.expect_line(&["reloaded (files changed): generation 3"]);
    assert_eq!(status(&pki.client("alice")), Some(403));

    // A broken policy: the previous state stays, and the log says why.
    replace(&policy_path, b"{\"version\": 1, \"trust\": ");
    server.expect_line(&[
        "reload (files changed) failed, the previous policy and certificate stay: ",
        "invalid policy JSON",
    ]);
    assert_eq!(status(&pki.foreign_alice()), Some(200));
    // A touch without change reloads nothing; the fix does.
    replace(&policy_path, policy.to_string().as_bytes());
    server.expect_line(&["reloaded (files changed): generation 4"]);
    let reloads = server.count("reloaded (files changed)");
    replace(&policy_path, policy.to_string().as_bytes());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        server.count("reloaded (files changed)"),
        reloads,
        "{:#?}",
        server.lines()
    );
}

/// A renewed server certificate and key are served to new connections once both files
/// changed; a key that does not match keeps the old pair and names both files.
#[test]
fn a_renewed_server_certificate_is_served_after_the_files_change() {
    let pki = Pki::new();
    let server = Server::start(&pki, &pki.file("policy.json"), "http");
    let presented = || {
        let (ok, out) = s_client(&server, &pki, Some(&pki.client("alice")));
        assert!(ok, "{out}");
        let begin = out
            .find("-----BEGIN CERTIFICATE-----")
            .expect("server certificate in s_client output");
        let end = out[begin..].find("-----END CERTIFICATE-----").expect("end") + begin;
        out[begin..end].split_whitespace().collect::<String>()
    };
    let pem_of = |path: &Path| {
        let text = std::fs::read_to_string(path).expect("pem");
        let end = text.find("-----END CERTIFICATE-----").expect("end");
        text[..end].split_whitespace().collect::<String>()
    };
    eventually("server up", || {
        s_client(&server, &pki, Some(&pki.client("alice"))).0
    });
    assert_eq!(presented(), pem_of(&pki.file("server.pem")));

    // A new key and certificate for localhost from the same CA, made by openssl.
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path();
    openssl_in(
        w,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec.key",
        ],
    );
    openssl_in(
        w,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "ec.key", "-out", "new.key",
        ],
    );
    openssl_in(
        w,
        &[
            "req",
            "-new",
            "-key",
            "new.key",
            "-subj",
            "/O=certclaims/CN=localhost",
            "-out",
            "new.csr",
        ],
    );
    std::fs::write(
        w.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    openssl_in(
        w,
        &[
            "x509",
            "-req",
            "-in",
            "new.csr",
            "-CA",
            s(&pki.file("ca.pem")),
            "-CAkey",
            s(&pki.file("ca.key")),
            "-set_serial",
            "0x5eed",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-out",
            "new.pem",
        ],
    );
    // The certificate first, alone: it does not match the old key.
    std::fs::copy(w.join("new.pem"), pki.file("server.pem")).expect("copy cert");
    server.expect_line(&[
        "reload (files changed) failed, the previous policy and certificate stay: ",
    ]);
    let failed = server.expect_line(&["reload (files changed) failed"]);
    assert!(
        failed.contains("server.pem") && failed.contains("server.key"),
        "{failed}"
    );
    // Still the old pair (the old certificate is still in memory).
    assert_ne!(presented(), pem_of(&w.join("new.pem")));
    // Then the key: the pair is complete and served.
    std::fs::copy(w.join("new.key"), pki.file("server.key")).expect("copy key");
    eventually("the new certificate served", || {
        presented() == pem_of(&w.join("new.pem"))
    });
    server.expect_line(&["reloaded (files changed): generation 2"]);
    // And clients are still verified.
    let c = curl_as(&server, &pki, &pki.client("alice"));
    assert_eq!((c.code, c.status), (Some(0), Some(200)), "{}", c.stderr);
}

/// With `--no-watch` only SIGHUP reloads, and it reloads everything.
#[test]
fn sighup_reloads_and_no_watch_waits_for_it() {
    let pki = Pki::new();
    let work = tempfile::tempdir().expect("tempdir");
    let policy_path = work.path().join("policy.json");
    std::fs::copy(pki.file("policy.json"), &policy_path).expect("copy policy");
    let server = Server::start_with(&pki, &policy_path, "http", &["--no-watch"]);
    let status = |client: &(PathBuf, PathBuf)| curl_as(&server, &pki, client).status;
    eventually("bob admitted", || status(&pki.client("bob")) == Some(200));
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(&policy_path).expect("policy")).expect("JSON");
    policy["identity"]["allow"] = serde_json::json!([{ "spiffe_id": ALICE_SPIFFE }]);
    std::fs::write(&policy_path, policy.to_string()).expect("write policy");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(status(&pki.client("bob")), Some(200), "not watched");
    let out = run(
        Command::new("kill").args(["-HUP", &server.child.id().to_string()]),
        b"",
    );
    assert!(out.status.success(), "kill -HUP: {}", text(&out.stderr));
    server.expect_line(&["reloaded (SIGHUP): generation 2"]);
    assert_eq!(status(&pki.client("bob")), Some(403));
    assert_eq!(status(&pki.client("alice")), Some(200));
}
