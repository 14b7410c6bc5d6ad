//! Black-box tests of the `certclaims` binary: exit codes, stdout/stderr contracts.

use std::path::PathBuf;
use std::process::{Command, Output};

use certclaims::test_kit::{KeyType, Pki};
use certclaims_test_support::process::CERTCLAIMS_TIMEOUT;
use certclaims_test_support::{json, run_with_timeout, s, text};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");

/// RFC 3339 of the test kit's pinned instant.
const AT: &str = "2026-06-01T00:00:00Z";

fn run(args: &[&str]) -> Output {
    certclaims_test_support::certclaims(BIN, args)
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).expect("write");
        p
    }
}

#[test]
fn verify_prints_principal_and_exits_0() {
    let pki = Pki::new();
    let alice = pki
        .client("alice")
        .org("Example Corp")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .dns("alice.svc.example")
        .issue();
    let f = Fixture::new();
    let policy = f.write(
        "policy.json",
        &serde_json::json!({
            "version": 1,
            "trust": {"anchors": [pki.root_pem()]},
            "identity": {"allow": [{"spiffe_id": "spiffe://example.org/ns/*/sa/alice"}]},
            "claims": {"add": [{"when": {"dns": "*.svc.example"}, "claims": {"role": ["payments"]}}]}
        })
        .to_string(),
    );
    let chain = f.write("alice.pem", &alice.chain_pem());
    let out = run(&["verify", "--policy", s(&policy), "--at", AT, s(&chain)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = json(&out);
    assert_eq!(p["authentication_type"], "Certificate");
    assert_eq!(p["subject"], "CN=alice,O=Example Corp");
    assert_eq!(p["issuer"], "CN=Test Issuing CA,O=certclaims test kit");
    assert_eq!(p["common_name"], "alice");
    assert_eq!(p["spiffe_id"], "spiffe://example.org/ns/prod/sa/alice");
    assert_eq!(p["dns"], serde_json::json!(["alice.svc.example"]));
    assert_eq!(
        p["fingerprint_sha256"],
        alice.fingerprint().trim_start_matches("sha256:")
    );
    assert_eq!(p["chain"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        p["chain"][2]["subject"],
        "CN=Test Root CA,O=certclaims test kit"
    );
    let roles: Vec<&Value> = p["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .filter(|c| c["type"] == certclaims::claim_types::ROLE)
        .map(|c| &c["value"])
        .collect();
    assert_eq!(roles, [&Value::from("payments")]);
    assert!(out.stderr.is_empty());
}

#[test]
fn rejection_prints_error_json_and_exits_1() {
    let pki = Pki::new();
    let f = Fixture::new();
    let policy = f.write("policy.json", &pki.policy_json());
    let cases = [
        (
            "expired",
            pki.client("old").expired().issue().chain_pem(),
            "validation",
        ),
        (
            "unknown_issuer",
            Pki::with_key_type("Other", KeyType::P256)
                .client("stranger")
                .issue()
                .chain_pem(),
            "validation",
        ),
        (
            "malformed",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string(),
            "input",
        ),
        ("no_certificate", "nothing here\n".to_string(), "input"),
    ];
    for (code, pem, step) in cases {
        let chain = f.write(&format!("{code}.pem"), &pem);
        let out = run(&["verify", "--policy", s(&policy), "--at", AT, s(&chain)]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let e = json(&out);
        assert_eq!(e["error"]["code"], code);
        assert_eq!(e["error"]["step"], step);
        assert!(e["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn policy_denied_and_anchor_flag() {
    let pki = Pki::new();
    let bob = pki.client("bob").dns("bob.other.example").issue();
    let f = Fixture::new();
    // The anchor comes from --anchor, not from the policy file.
    let policy = f.write(
        "policy.json",
        r#"{"version":1,"identity":{"allow":[{"dns":"*.svc.example"}]},"trust":{"allowed_types":"chained"}}"#,
    );
    let root = f.write("root.pem", &pki.root_pem());
    let chain = f.write("bob.pem", &bob.chain_pem());
    let out = run(&[
        "verify",
        "--policy",
        s(&policy),
        "--anchor",
        s(&root),
        "--at",
        AT,
        s(&chain),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "policy_denied");
    assert_eq!(json(&out)["error"]["step"], "policy");
}

#[test]
fn at_is_honoured() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let f = Fixture::new();
    let policy = f.write("policy.json", &pki.policy_json());
    let chain = f.write("alice.pem", &alice.chain_pem());
    // The client certificate is valid from NOW-30d to NOW+365d.
    let later = "2027-06-02T00:00:00Z";
    let out = run(&["verify", "--policy", s(&policy), "--at", later, s(&chain)]);
    assert_eq!(json(&out)["error"]["code"], "expired");
    let earlier = "2026-04-01T00:00:00Z";
    let out = run(&["verify", "--policy", s(&policy), "--at", earlier, s(&chain)]);
    assert_eq!(json(&out)["error"]["code"], "not_yet_valid");
    // Without seconds, or a date alone (midnight UTC).
    for (at, code) in [
        ("2027-06-02", Some("expired")),
        ("2026-04-01", Some("not_yet_valid")),
        ("2026-06-01T12:30Z", None),
        ("2026-06-01T12:30+02:00", None),
        ("2026-06-01t12:30:00z", None),
    ] {
        let out = run(&["verify", "--policy", s(&policy), "--at", at, s(&chain)]);
        match code {
            Some(code) => assert_eq!(json(&out)["error"]["code"], code, "{at}"),
            None => assert_eq!(out.status.code(), Some(0), "{at}: {}", text(&out.stderr)),
        }
    }
    // Not a time: exit 2, and the message shows what to write.
    for at in [
        "yesterday",
        "2026-13-01",
        "2026-06-01T25:00Z",
        "2026-06-01 12:30",
    ] {
        let out = run(&["verify", "--policy", s(&policy), "--at", at, s(&chain)]);
        assert_eq!(out.status.code(), Some(2), "{at}");
        let err = text(&out.stderr);
        assert!(err.contains("2026-12-01T10:30:00Z"), "{at}: {err}");
    }
}

#[test]
fn a_policy_with_a_utf8_bom_loads() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let f = Fixture::new();
    let policy = f.write("policy.json", &format!("\u{feff}{}", pki.policy_json()));
    let chain = f.write("alice.pem", &alice.chain_pem());
    let out = run(&["verify", "--policy", s(&policy), "--at", AT, s(&chain)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn usage_and_io_errors_exit_2_on_stderr() {
    let pki = Pki::new();
    let f = Fixture::new();
    let good_policy = f.write("policy.json", &pki.policy_json());
    let chain = f.write("c.pem", &pki.client("a").issue().chain_pem());
    let bad_field = f.write("bad.json", r#"{"version":1,"trust":{"anchorz":[]}}"#);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["verify", "--policy", "/nonexistent/policy.json", s(&chain)],
            "/nonexistent/policy.json",
        ),
        (
            vec![
                "verify",
                "--policy",
                s(&good_policy),
                "/nonexistent/chain.pem",
            ],
            "/nonexistent/chain.pem",
        ),
        (
            vec!["verify", "--policy", s(&bad_field), s(&chain)],
            "anchorz",
        ),
        (
            vec![
                "verify",
                "--policy",
                s(&good_policy),
                "--at",
                "yesterday",
                s(&chain),
            ],
            "RFC 3339",
        ),
        (vec!["verify", s(&chain)], "--policy"),
        (vec!["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout must stay empty");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(needle),
            "{args:?}: stderr {err:?} should mention {needle:?}"
        );
    }
}

#[test]
fn inspect_is_labelled_unverified() {
    let pki = Pki::new();
    let c = pki
        .client("carol")
        .email("carol@example.com")
        .upn("carol@corp.example")
        .ip("10.1.2.3".parse().expect("ip"))
        .ip("2001:db8::1".parse().expect("ip"))
        .issue();
    let f = Fixture::new();
    let chain = f.write("carol.pem", &c.chain_pem());
    let out = run(&["inspect", s(&chain)]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["verified"], false);
    assert!(v["warning"]
        .as_str()
        .expect("warning")
        .starts_with("UNVERIFIED"));
    let certs = v["certificates"].as_array().expect("certificates");
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0]["verified"], false);
    assert_eq!(certs[0]["subject"], "CN=carol");
    assert_eq!(certs[0]["emails"], serde_json::json!(["carol@example.com"]));
    assert_eq!(certs[0]["upns"], serde_json::json!(["carol@corp.example"]));
    assert_eq!(
        certs[0]["ips"],
        serde_json::json!(["10.1.2.3", "2001:db8::1"])
    );
    assert_eq!(certs[1]["is_ca"], true);

    // Inspect reads expired or untrusted certificates too: it validates nothing.
    let stranger = f.write(
        "s.pem",
        &Pki::new().client("x").expired().issue().chain_pem(),
    );
    assert_eq!(run(&["inspect", s(&stranger)]).status.code(), Some(0));
}

/// `openssl`'s view of a certificate file: (SHA-256 of the SPKI DER, SHA-1 thumbprint).
fn openssl_digests(f: &Fixture, pem: &std::path::Path) -> (String, String) {
    use certclaims_test_support::openssl;
    let spki = f.dir.path().join("spki.der");
    let pubkey = f.dir.path().join("pub.pem");
    let out = openssl(&[
        "x509",
        "-in",
        s(pem),
        "-pubkey",
        "-noout",
        "-out",
        s(&pubkey),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = openssl(&[
        "pkey",
        "-pubin",
        "-in",
        s(&pubkey),
        "-outform",
        "der",
        "-out",
        s(&spki),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = openssl(&["dgst", "-sha256", "-r", s(&spki)]);
    let spki_hex = text(&out.stdout)
        .split(' ')
        .next()
        .unwrap_or("")
        .to_string();
    let out = openssl(&["x509", "-in", s(pem), "-noout", "-fingerprint", "-sha1"]);
    let sha1 = text(&out.stdout)
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or("")
        .replace(':', "");
    (format!("sha256:{spki_hex}"), sha1)
}

#[test]
fn inspect_shows_key_usages_spiffe_id_and_key_digests() {
    use certclaims::test_kit::Eku;
    use rcgen::KeyUsagePurpose;
    let f = Fixture::new();
    let pki = Pki::new();
    let svid = pki
        .client("workload")
        .spiffe("spiffe://example.org/ns/prod/sa/api")
        .issue();
    let leaf = f.write("svid.pem", &svid.leaf_pem());
    let out = run(&["inspect", s(&leaf)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let c = &json(&out)["certificates"][0];
    assert_eq!(c["spiffe_id"], "spiffe://example.org/ns/prod/sa/api");
    assert_eq!(c["public_key"], "ECDSA P-256");
    assert_eq!(c["key_usage"], serde_json::json!(["digitalSignature"]));
    assert_eq!(c["extended_key_usage"], serde_json::json!(["client_auth"]));
    let (spki, sha1) = openssl_digests(&f, &leaf);
    assert_eq!(c["spki_sha256"], spki);
    assert_eq!(c["thumbprint_sha1"], sha1);

    // RSA, several usages and purposes, no SPIFFE ID; the root: no EKU at all.
    let rsa = Pki::with_key_type("Rsa", KeyType::Rsa3072);
    let both = rsa
        .client("both")
        .eku(Eku::Both)
        .key_usage(Some(vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ]))
        .issue();
    let chain = f.write(
        "both.pem",
        &format!("{}{}", both.chain_pem(), rsa.root_pem()),
    );
    let out = run(&["inspect", s(&chain)]);
    let v = json(&out);
    let c = &v["certificates"][0];
    assert_eq!(c["public_key"], "RSA 3072");
    assert_eq!(
        c["key_usage"],
        serde_json::json!(["digitalSignature", "keyEncipherment"])
    );
    assert_eq!(
        c["extended_key_usage"],
        serde_json::json!(["server_auth", "client_auth"])
    );
    assert_eq!(c["spiffe_id"], Value::Null);
    let root = &v["certificates"][2];
    assert_eq!(root["extended_key_usage"], Value::Null);
    assert_eq!(
        root["key_usage"],
        serde_json::json!(["digitalSignature", "keyCertSign", "cRLSign"])
    );
    let root_pem = f.write("root.pem", &rsa.root_pem());
    assert_eq!(root["spki_sha256"], openssl_digests(&f, &root_pem).0);
}

#[test]
fn chain_from_stdin() {
    let pki = Pki::new();
    let f = Fixture::new();
    let policy = f.write("policy.json", &pki.policy_json());
    let chain = pki.client("dave").issue().chain_pem();
    let out = run_with_timeout(
        Command::new(BIN).args(["verify", "--policy", s(&policy), "--at", AT, "-"]),
        chain.as_bytes(),
        CERTCLAIMS_TIMEOUT,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["common_name"], "dave");
}

/// A key, a CRL, a CSR or a PKCS#12 file where a chain is expected is a usage error (exit 2)
/// that says what the file is and what to do; one DER certificate is accepted as a chain.
#[test]
fn the_wrong_kind_of_file_says_what_it_is() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let f = Fixture::new();
    let policy = f.write("policy.json", &pki.policy_json());
    let crl = pki.crl(&[]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "key.pem",
            alice.key_pem().as_bytes().to_vec(),
            "is a private key",
        ),
        (
            "key.der",
            alice.key_der().to_vec(),
            "is a private key (DER)",
        ),
        ("crl.pem", Pki::crl_pem(&crl).into_bytes(), "is a CRL"),
        ("crl.der", crl.to_vec(), "is a CRL (DER)"),
        (
            "csr.pem",
            b"-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"
                .to_vec(),
            "is a certificate request (CSR)",
        ),
    ];
    for (name, bytes, says) in cases {
        let path = f.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let out = run(&["verify", "--policy", s(&policy), "--at", AT, s(&path)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(
            err.contains(says) && err.contains("not a certificate chain"),
            "{name}: {err}"
        );
    }
    // A PKCS#12 file from mint: verified with --password; without one, or with a wrong one,
    // a usage error that says so.
    let minted = f.dir.path().join("pki");
    let mint = run(&[
        "mint",
        "--out",
        s(&minted),
        "--client",
        "bob",
        "--dns",
        "bob.example",
    ]);
    assert_eq!(mint.status.code(), Some(0), "{}", text(&mint.stderr));
    let p12 = minted.join("bob.p12");
    let mpolicy = minted.join("policy.json");
    let out = run(&["verify", "--policy", s(&mpolicy), s(&p12)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "certclaims: {} is a PKCS#12 file (.p12/.pfx) that needs a password: pass \
             --password PW (`certclaims mint` writes them with `changeit`)\n",
            s(&p12)
        )
    );
    let out = run(&[
        "verify",
        "--policy",
        s(&mpolicy),
        "--password",
        "wrong",
        s(&p12),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "certclaims: {}: the PKCS#12 file does not open with this --password",
            s(&p12)
        )),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[
        "verify",
        "--policy",
        s(&mpolicy),
        "--password",
        "changeit",
        s(&p12),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let p = json(&out);
    assert_eq!(p["subject"], "CN=bob,O=certclaims");
    assert_eq!(p["dns"], serde_json::json!(["bob.example"]));
    assert_eq!(p["chain"].as_array().map(Vec::len), Some(2));
    // The same chain as bob.pem gives.
    let pem_out = run(&[
        "verify",
        "--policy",
        s(&mpolicy),
        s(&minted.join("bob.pem")),
    ]);
    assert_eq!(json(&pem_out), p);
    let out = run(&["inspect", "--password", "changeit", s(&p12)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        json(&out)["certificates"][0]["subject"],
        "CN=bob,O=certclaims"
    );
    // A PEM-armoured PKCS#12 is named, with how to pass it.
    let armoured = f.write(
        "bob.p12.pem",
        "-----BEGIN PKCS12-----\nAAAA\n-----END PKCS12-----\n",
    );
    let out = run(&["verify", "--policy", s(&mpolicy), s(&armoured)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("a PKCS#12 file in PEM"),
        "{}",
        text(&out.stderr)
    );

    // One DER certificate: verified like its PEM (the leaf alone, issued by the root here).
    let direct = pki.client("direct").issued_by(pki.root()).issue();
    let der = f.dir.path().join("direct.der");
    std::fs::write(&der, direct.leaf().as_ref()).expect("write");
    let out = run(&["verify", "--policy", s(&policy), "--at", AT, s(&der)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(json(&out)["subject"], "CN=direct");
}

#[test]
fn version_prints_the_crate_version() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!("certclaims {}\n", env!("CARGO_PKG_VERSION"))
    );
}
