//! Policies that point at files, `--anchor`/`--intermediate`, and the messages that name the
//! file (or the flag) a bad certificate came from.

use std::path::{Path, PathBuf};
use std::process::Output;

use certclaims::test_kit::Pki;
use certclaims_test_support::{json, s, text};

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");
const AT: &str = "2026-06-01T00:00:00Z";

/// Runs the binary from `cwd`, so that a path that resolves relative to the working
/// directory instead of the policy file is caught.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(args).current_dir(cwd);
    certclaims_test_support::run_with_timeout(
        &mut cmd,
        b"",
        certclaims_test_support::process::CERTCLAIMS_TIMEOUT,
    )
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, contents).expect("write");
    p
}

fn policy(trust: serde_json::Value) -> String {
    serde_json::json!({ "version": 1, "trust": trust }).to_string()
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

#[test]
fn anchors_intermediates_and_crls_from_files_relative_to_the_policy() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let bob = pki.client("bob").issue();
    let crl = pki.crl(&[&bob]);
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("conf");
    // DER root, PEM intermediate in a subfolder, DER CRL.
    write(&conf, "pki/root.der", pki.root_der().as_ref());
    write(&conf, "pki/sub/issuing.pem", pki.issuing_ca().pem());
    write(&conf, "pki/revoked.crl", crl.as_ref());
    let p = write(
        &conf,
        "policy.json",
        policy(serde_json::json!({
            "anchors": ["pki/root.der"],
            "intermediates": ["pki/sub/issuing.pem"],
            "crls": ["pki/revoked.crl"],
            "revocation": {"depth": "end_entity"},
        })),
    );
    let alice_leaf = write(dir.path(), "alice.pem", alice.leaf_pem());
    let bob_leaf = write(dir.path(), "bob.pem", bob.leaf_pem());
    // The working directory is not the policy's folder.
    let elsewhere = dir.path();
    let out = run_in(
        elsewhere,
        &["verify", "--policy", s(&p), "--at", AT, s(&alice_leaf)],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} {}",
        stderr(&out),
        text(&out.stdout)
    );
    assert_eq!(json(&out)["subject"], "CN=alice");
    let out = run_in(
        elsewhere,
        &["verify", "--policy", s(&p), "--at", AT, s(&bob_leaf)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["error"]["code"], "revoked");

    // The same PKI, PEM bundle with two certificates in one file and a PEM CRL.
    write(
        &conf,
        "bundle.pem",
        format!("{}{}", pki.root_pem(), pki.issuing_ca().pem()),
    );
    write(&conf, "revoked.pem", Pki::crl_pem(&crl));
    let p2 = write(
        &conf,
        "bundle.json",
        policy(serde_json::json!({
            "anchors": ["bundle.pem"],
            "crls": ["revoked.pem"],
            "revocation": {"depth": "end_entity"},
        })),
    );
    let out = run_in(
        elsewhere,
        &["verify", "--policy", s(&p2), "--at", AT, s(&alice_leaf)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run_in(
        elsewhere,
        &["verify", "--policy", s(&p2), "--at", AT, s(&bob_leaf)],
    );
    assert_eq!(json(&out)["error"]["code"], "revoked");
}

#[test]
fn a_bad_referenced_file_is_named_with_its_policy_entry() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let chain = write(d, "alice.pem", alice.chain_pem());
    write(d, "alice.key", alice.key_pem());
    write(
        d,
        "half-bad.pem",
        format!(
            "{}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            pki.root_pem()
        ),
    );
    let cases: [(&str, serde_json::Value, &[&str]); 5] = [
        (
            "missing",
            serde_json::json!({"anchors": [pki.root_pem(), "nope.pem"]}),
            &[
                "missing.json: invalid policy field `trust.anchors[1]`: ",
                "nope.pem",
                "relative to the policy file",
            ],
        ),
        (
            "key",
            serde_json::json!({"anchors": ["alice.key"]}),
            &[
                "key.json: invalid policy field `trust.anchors[0]`: ",
                "alice.key holds no certificate",
            ],
        ),
        (
            "bundle",
            serde_json::json!({"anchors": ["half-bad.pem"]}),
            &[
                "bundle.json: invalid policy field `trust.anchors[0]` (",
                "half-bad.pem, certificate 2 of 2): not a usable trust anchor",
            ],
        ),
        (
            "crl",
            serde_json::json!({"anchors": [pki.root_pem()], "crls": ["alice.pem"]}),
            &[
                "crl.json: invalid policy field `trust.crls[0]`: ",
                "alice.pem holds no CRL",
            ],
        ),
        (
            "empty",
            serde_json::json!({"anchors": ["  "]}),
            &["empty.json: invalid policy field `trust.anchors[0]`: empty"],
        ),
    ];
    for (name, trust, parts) in cases {
        let p = write(d, &format!("{name}.json"), policy(trust));
        let out = run_in(d, &["verify", "--policy", s(&p), "--at", AT, s(&chain)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        for part in parts {
            assert!(err.contains(part), "{name}: {part:?} not in {err:?}");
        }
        assert!(out.stdout.is_empty(), "{name}");
    }
}

#[test]
fn anchor_and_intermediate_flags_are_blamed_for_their_files() {
    let pki = Pki::new();
    let alice = pki.client("alice").issue();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let p = write(
        d,
        "policy.json",
        r#"{"version":1,"trust":{"allowed_types":"chained"}}"#,
    );
    let root = write(d, "root.pem", pki.root_pem());
    let issuing_der = write(d, "issuing.der", pki.issuing_ca().der().as_ref());
    let leaf = write(d, "alice.pem", alice.leaf_pem());
    let key = write(d, "alice.key", alice.key_pem());
    let bad = write(
        d,
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );

    // The leaf alone needs the intermediate; --intermediate supplies it (DER).
    let base = ["verify", "--policy", s(&p), "--at", AT];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        a.push(s(&leaf));
        run_in(d, &a)
    };
    let out = with(&["--anchor", s(&root)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "unknown_issuer");
    let out = with(&["--anchor", s(&root), "--intermediate", s(&issuing_der)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["subject"], "CN=alice");

    let out = with(&["--anchor", s(&key)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "certclaims: --anchor: {} holds no certificate",
            s(&key)
        )),
        "{err}"
    );
    let out = with(&["--anchor", s(&root), "--anchor", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "certclaims: --anchor {}: not a usable trust anchor: expected a Certificate",
            s(&bad)
        )),
        "{err}"
    );
    assert!(!err.contains("policy.json"), "{err}");
    assert!(!err.contains("trust.anchors["), "{err}");
    let out = with(&["--anchor", s(&root), "--intermediate", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!("certclaims: --intermediate {}: ", s(&bad))),
        "{}",
        stderr(&out)
    );
}

#[test]
fn serve_names_a_wrong_server_certificate_or_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let pki = d.join("pki");
    let out = run_in(d, &["mint", "--out", s(&pki), "--client", "alice"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let f = |n: &str| pki.join(n);
    let (cert, key, alice_key, ca) = (
        f("server.pem"),
        f("server.key"),
        f("alice.key"),
        f("ca.pem"),
    );
    let reversed = write(
        d,
        "reversed.pem",
        format!(
            "{}{}",
            std::fs::read_to_string(&ca).expect("ca"),
            std::fs::read_to_string(&cert).expect("cert")
        ),
    );
    let serve = |c: &Path, k: &Path| {
        run_in(
            d,
            &[
                "serve",
                "--policy",
                s(&f("policy.json")),
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                s(c),
                "--tls-key",
                s(k),
            ],
        )
    };
    let cases: [(&Path, &Path, String); 5] = [
        (
            &key,
            &cert,
            format!(
                "--tls-cert {} holds a private key and --tls-key {} a certificate: the two are \
                 swapped",
                s(&key),
                s(&cert)
            ),
        ),
        (
            &key,
            &key,
            format!(
                "--tls-cert {} holds a private key, not a certificate",
                s(&key)
            ),
        ),
        (
            &cert,
            &cert,
            format!(
                "--tls-key {} holds a certificate, not a private key",
                s(&cert)
            ),
        ),
        (
            &cert,
            &alice_key,
            format!(
                "the private key in --tls-key {} does not belong to the certificate in \
                 --tls-cert {} (their public keys differ)",
                s(&alice_key),
                s(&cert)
            ),
        ),
        (
            &reversed,
            &key,
            format!(
                "--tls-cert {}: the private key in --tls-key {} belongs to certificate 2 of the \
                 file, not the first: put the server certificate first",
                s(&reversed),
                s(&key)
            ),
        ),
    ];
    for (c, k, expected) in cases {
        let out = serve(c, k);
        assert_eq!(out.status.code(), Some(2), "{expected}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("certclaims: {expected}")),
            "expected {expected:?}, got {err:?}"
        );
        assert!(!err.contains("no certificates"), "{err}");
    }
}

#[test]
fn mode_help_and_error_list_the_same_values() {
    let out = run_in(Path::new("."), &["serve", "--help"]);
    let help = text(&out.stdout);
    let out = run_in(
        Path::new("."),
        &["serve", "--policy", "p.json", "--mode", "optional"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`optional` is not a mode: write one of require, allow, http, none"),
        "{err}"
    );
    for mode in ["require", "allow", "http", "none"] {
        assert!(
            help.contains(&format!("{mode} (")),
            "{mode} missing from {help}"
        );
    }
}

#[test]
fn policy_check_prints_what_the_policy_trusts_and_admits() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "pki/root.pem", pki.root_pem());
    write(d, "pki/issuing.der", pki.issuing_ca().der().as_ref());
    write(d, "pki/crl.pem", Pki::crl_pem(&pki.crl(&[])));
    let allow = serde_json::json!([{"spiffe_id": "spiffe://example.org/ns/prod/sa/*"}]);
    let p = write(
        d,
        "policy.json",
        serde_json::json!({
            "version": 1,
            "trust": {
                "anchors": ["pki/root.pem"],
                "intermediates": ["pki/issuing.der"],
                "crls": ["pki/crl.pem"],
                "revocation": {"depth": "end_entity"},
            },
            "identity": {"allow": allow},
        })
        .to_string(),
    );
    let out = run_in(d, &["policy", "check", s(&p), "--at", AT]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["valid"], true);
    let anchors = v["trust"]["anchors"].as_array().expect("anchors");
    assert_eq!(anchors.len(), 1);
    assert_eq!(
        anchors[0]["subject"],
        "CN=Test Root CA,O=certclaims test kit"
    );
    assert_eq!(
        anchors[0]["fingerprint_sha256"],
        pki.root().fingerprint().trim_start_matches("sha256:")
    );
    assert_eq!(
        anchors[0]["source"],
        format!("trust.anchors[0] ({})", s(&d.join("pki/root.pem")))
    );
    assert_eq!(
        v["trust"]["intermediates"][0]["subject"],
        "CN=Test Issuing CA,O=certclaims test kit"
    );
    assert_eq!(
        v["trust"]["crls"][0]["source"],
        format!("trust.crls[0] ({})", s(&d.join("pki/crl.pem")))
    );
    assert_eq!(v["admits"], allow);
    assert_eq!(v["warnings"], serde_json::json!([]));

    // Far in the future the anchors have expired; an empty allow-list is said to admit all.
    let open = write(
        d,
        "open.json",
        policy(serde_json::json!({"anchors": ["pki/root.pem"]})),
    );
    let out = run_in(d, &["policy", "check", s(&open), "--at", "2200-01-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings = json(&out)["warnings"].clone();
    let warnings: Vec<&str> = warnings
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0]
            .starts_with("trust anchor CN=Test Root CA,O=certclaims test kit (trust.anchors[0] (")
            && warnings[0].contains(") expired at "),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with("identity.allow is empty"),
        "{warnings:?}"
    );

    // A bad policy: exit 2 with the message verify gives.
    let bad = write(
        d,
        "bad.json",
        policy(serde_json::json!({"anchors": ["pki/none.pem"]})),
    );
    let out = run_in(d, &["policy", "check", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("bad.json: invalid policy field `trust.anchors[0]`: "),
        "{}",
        stderr(&out)
    );
}
