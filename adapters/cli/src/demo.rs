//! `certclaims demo`: the end-to-end demonstration (the README's main job).
//!
//! In one process and a temporary folder: mint a PKI, serve on 127.0.0.1 (random port) in
//! require mode, and connect as real TLS clients: with a valid certificate, with none, with
//! another CA's, with an expired one and with one the policy denies. Exits 0 only if every
//! case ends as expected.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use certclaims::pki_types::pem::PemObject;
use certclaims::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use certclaims_rustls::{Mode, RejectionObserver};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::mint::{unix_now, ClientSpec, DevCa};
use crate::CliError;

struct Case {
    name: &'static str,
    what: &'static str,
    /// `None`: connect without a client certificate.
    client: Option<(String, String)>,
    expect: Expect,
}

#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Ok,
    Alert(&'static str, &'static str),
}

fn alert_name(d: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    match d {
        A::UnknownCA => "unknown_ca".into(),
        A::CertificateExpired => "certificate_expired".into(),
        A::CertificateRevoked => "certificate_revoked".into(),
        A::CertificateRequired => "certificate_required".into(),
        A::AccessDenied => "access_denied".into(),
        A::BadCertificate => "bad_certificate".into(),
        A::UnsupportedCertificate => "unsupported_certificate".into(),
        A::DecryptError => "decrypt_error".into(),
        A::CertificateUnknown => "certificate_unknown".into(),
        other => format!("{other:?}"),
    }
}

/// What the client saw.
enum Outcome {
    Http(u16, Value),
    Alert(String),
    Other(String),
}

fn alert_in(e: &std::io::Error) -> Option<String> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(d) => Some(alert_name(*d)),
        _ => None,
    }
}

async fn connect(
    port: u16,
    roots: &rustls::RootCertStore,
    client: Option<&(String, String)>,
) -> Outcome {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b.with_root_certificates(roots.clone()),
        Err(e) => return Outcome::Other(e.to_string()),
    };
    let config = match client {
        Some((chain_pem, key_pem)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(chain_pem.as_bytes())
                    .filter_map(Result::ok)
                    .collect();
            let key = match PrivateKeyDer::from_pem_slice(key_pem.as_bytes()) {
                Ok(k) => k,
                Err(e) => return Outcome::Other(e.to_string()),
            };
            match builder.with_client_auth_cert(chain, key) {
                Ok(c) => c,
                Err(e) => return Outcome::Other(e.to_string()),
            }
        }
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let attempt = async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
        let mut tls = connector.connect(name, tcp).await?;
        tls.write_all(b"GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut buf = Vec::new();
        tls.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Err(_) => Outcome::Other("timed out".into()),
        Ok(Err(e)) => alert_in(&e).map_or_else(|| Outcome::Other(e.to_string()), Outcome::Alert),
        Ok(Ok(buf)) => {
            let text = String::from_utf8_lossy(&buf);
            let status = text
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
            Outcome::Http(status, serde_json::from_str(body).unwrap_or(Value::Null))
        }
    }
}

pub(crate) async fn run(as_json: bool) -> Result<bool, CliError> {
    let tmp = tempfile::tempdir().map_err(|e| CliError(format!("temporary folder: {e}")))?;
    let dir = tmp.path().join("pki");
    let ca = DevCa::open_or_create(&dir)?;
    ca.issue_server(&dir)?;
    let now = unix_now();
    let spiffe = |sa: &str| vec![format!("spiffe://demo.example/ns/prod/sa/{sa}")];
    let specs = [
        ClientSpec {
            name: "alice".into(),
            spiffe: spiffe("alice"),
            ..Default::default()
        },
        ClientSpec {
            name: "eve".into(),
            spiffe: spiffe("alice"),
            validity: Some((now - 30 * 86_400, now - 86_400)),
            ..Default::default()
        },
        ClientSpec {
            name: "mallory".into(),
            spiffe: spiffe("mallory"),
            ..Default::default()
        },
    ];
    for s in &specs {
        ca.issue_client(&dir, s, crate::mint::DEFAULT_P12_PASSWORD)?;
    }
    let other_dir = tmp.path().join("other-ca");
    let other = DevCa::open_or_create(&other_dir)?;
    other.issue_client(
        &other_dir,
        &ClientSpec {
            name: "stranger".into(),
            spiffe: spiffe("alice"),
            ..Default::default()
        },
        "x",
    )?;

    let policy = json!({
        "version": 1,
        "trust": {"anchors": [ca.pem()]},
        "identity": {"allow": [{"spiffe_id": "spiffe://demo.example/ns/*/sa/alice"}]},
        "claims": {"add": [{"when": {"spiffe_id": "spiffe://demo.example/ns/prod/sa/alice"}, "claims": {"role": ["payments"]}}]}
    });
    let policy_path = dir.join("demo-policy.json");
    std::fs::write(&policy_path, policy.to_string()).map_err(|e| CliError(e.to_string()))?;

    let server_log: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = server_log.clone();
    let observer: RejectionObserver = Arc::new(move |r| {
        if let Ok(mut l) = log.lock() {
            l.push(r.rejection.code().to_string());
        }
    });
    let (tls, _files) = crate::serve::tls(
        &policy_path,
        &dir.join("server.pem"),
        &dir.join("server.key"),
        Mode::Require,
        Some(observer),
    )?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| CliError(e.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError(e.to_string()))?
        .port();
    let mut options = certclaims_tower::ServeOptions::default();
    let log = server_log.clone();
    options.on_handshake_error = Some(Arc::new(move |_, e| {
        let code = crate::serve::handshake_error_code(e);
        if code == certclaims::Code::NoCertificate.as_str() {
            if let Ok(mut l) = log.lock() {
                l.push(code);
            }
        }
    }));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(certclaims_tower::serve(
        listener,
        tls,
        crate::serve::app(),
        options,
        async {
            let _ = stop_rx.await;
        },
    ));

    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca.pem().as_bytes()).filter_map(Result::ok) {
        roots.add(c).map_err(|e| CliError(e.to_string()))?;
    }
    let read = |d: &std::path::Path, n: &str| -> Result<(String, String), CliError> {
        let f = |ext: &str| {
            std::fs::read_to_string(d.join(format!("{n}.{ext}")))
                .map_err(|e| CliError(e.to_string()))
        };
        Ok((f("pem")?, f("key")?))
    };
    let cases = [
        Case {
            name: "alice",
            what: "valid certificate, SPIFFE ID admitted by the policy",
            client: Some(read(&dir, "alice")?),
            expect: Expect::Ok,
        },
        Case {
            name: "anonymous",
            what: "no client certificate",
            client: None,
            expect: Expect::Alert("certificate_required", "no_certificate"),
        },
        Case {
            name: "stranger",
            what: "certificate from another CA",
            client: Some(read(&other_dir, "stranger")?),
            expect: Expect::Alert("unknown_ca", "unknown_issuer"),
        },
        Case {
            name: "eve",
            what: "expired certificate",
            client: Some(read(&dir, "eve")?),
            expect: Expect::Alert("certificate_expired", "expired"),
        },
        Case {
            name: "mallory",
            what: "valid certificate the policy denies",
            client: Some(read(&dir, "mallory")?),
            expect: Expect::Alert("access_denied", "policy_denied"),
        },
    ];

    let mut all_ok = true;
    let mut results = Vec::new();
    if !as_json {
        println!(
            "certclaims demo: mutual TLS on https://127.0.0.1:{port} (require mode), PKI in {}",
            dir.display()
        );
    }
    for case in &cases {
        let before = server_log.lock().map(|l| l.len()).unwrap_or(0);
        let outcome = connect(port, &roots, case.client.as_ref()).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let server_code = server_log.lock().ok().and_then(|l| l.get(before).cloned());
        let (ok, client_json, principal) = match (&outcome, &case.expect) {
            (Outcome::Http(200, p), Expect::Ok) => (
                p["spiffe_id"].is_string(),
                json!({"status": 200}),
                Some(p.clone()),
            ),
            (Outcome::Alert(a), Expect::Alert(want_alert, want_code)) => (
                a == want_alert && server_code.as_deref() == Some(*want_code),
                json!({"alert": a}),
                None,
            ),
            (Outcome::Http(s, body), _) => (false, json!({"status": s, "body": body}), None),
            (Outcome::Alert(a), _) => (false, json!({"alert": a}), None),
            (Outcome::Other(e), _) => (false, json!({"error": e}), None),
        };
        all_ok &= ok;
        if !as_json {
            let mark = if ok { "ok  " } else { "FAIL" };
            match (&outcome, &principal) {
                (_, Some(p)) => {
                    println!("{mark} {:<10} {} → HTTP 200, principal:", case.name, case.what);
                    println!("       subject     {}", p["subject"].as_str().unwrap_or(""));
                    println!("       issuer      {}", p["issuer"].as_str().unwrap_or(""));
                    println!("       spiffe_id   {}", p["spiffe_id"].as_str().unwrap_or(""));
                    println!("       fingerprint sha256:{}", p["fingerprint_sha256"].as_str().unwrap_or(""));
                    let roles: Vec<&str> = p["claims"]
                        .as_array()
                        .map(|cs| cs.iter().filter(|c| c["type"] == certclaims::claim_types::ROLE).filter_map(|c| c["value"].as_str()).collect())
                        .unwrap_or_default();
                    println!("       roles       {}", roles.join(", "));
                }
                (Outcome::Alert(a), None) => println!(
                    "{mark} {:<10} {} → refused in the TLS handshake: client got alert {a}, server rejected with {}",
                    case.name,
                    case.what,
                    server_code.as_deref().unwrap_or("?")
                ),
                (Outcome::Http(s, body), None) => println!("{mark} {:<10} {} → HTTP {s} {body}", case.name, case.what),
                (Outcome::Other(e), None) => println!("{mark} {:<10} {} → {e}", case.name, case.what),
            }
        }
        results.push(json!({
            "case": case.name,
            "description": case.what,
            "expected": match &case.expect { Expect::Ok => json!({"status": 200}), Expect::Alert(a, c) => json!({"alert": a, "server_code": c}) },
            "client": client_json,
            "server_code": server_code,
            "principal": principal,
            "ok": ok,
        }));
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    if as_json {
        println!(
            "{:#}",
            json!({"server": format!("https://127.0.0.1:{port}"), "ok": all_ok, "results": results})
        );
    } else {
        println!(
            "{}",
            if all_ok {
                "all 5 cases behaved as expected"
            } else {
                "SOME CASES DID NOT BEHAVE AS EXPECTED"
            }
        );
    }
    Ok(all_ok)
}
