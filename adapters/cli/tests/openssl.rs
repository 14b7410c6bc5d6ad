//! Chains made by the `openssl` command (not rcgen), verified through the CLI.
//!
//! Covers what rcgen does not mint: an RSA root signing with RSA-PSS, a P-384 intermediate
//! signing with ECDSA-SHA384, an OpenSSL-encoded UPN otherName and IP SANs. Certificates are
//! made at test time with `-days`, so the validation times passed with `--at` are computed
//! from the certificates' own notBefore (read back by `certclaims inspect`).

use std::path::Path;
use std::process::Command;

use certclaims_test_support::process::CERTCLAIMS_TIMEOUT;
use certclaims_test_support::{openssl_in, run_with_timeout, text};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

/// `certclaims ARGS...` in `dir`: exit code and the JSON on stdout (null if none).
fn certclaims(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = run_with_timeout(
        Command::new(BIN).current_dir(dir).args(args),
        b"",
        CERTCLAIMS_TIMEOUT,
    );
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

/// Makes root (RSA 2048, signs with RSA-PSS SHA-256) → intermediate (P-384, ECDSA-SHA384)
/// → leaf (P-256), and a second leaf with serverAuth only.
fn make_chain(dir: &Path) {
    write(dir, "ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n");
    write(
        dir,
        "leaf.ext",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n\
         subjectAltName=URI:spiffe://example.org/ns/prod/sa/openssl,DNS:openssl.svc.example,\
         email:ops@example.com,IP:10.0.0.1,IP:::1,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:ops@corp.example\n",
    );
    write(dir, "server.ext", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
    openssl_in(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-subj",
            "/O=OpenSSL Test/CN=OpenSSL Root",
            "-days",
            "3650",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl_in(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            "-subj",
            "/O=OpenSSL Test/CN=OpenSSL Issuing CA",
        ],
    );
    openssl_in(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-set_serial",
            "2",
            "-days",
            "1825",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
            "-extfile",
            "ca.ext",
            "-out",
            "int.pem",
        ],
    );
    for (name, ext, serial) in [
        ("leaf", "leaf.ext", "0x00ABCDEF"),
        ("server", "server.ext", "4096"),
    ] {
        openssl_in(
            dir,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/O=Example Corp/OU=ops/CN={name}"),
            ],
        );
        openssl_in(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "int.pem",
                "-CAkey",
                "int.key",
                "-set_serial",
                serial,
                "-days",
                "30",
                "-sha384",
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
        let chain = std::fs::read_to_string(dir.join(format!("{name}.pem"))).expect("leaf")
            + &std::fs::read_to_string(dir.join("int.pem")).expect("int");
        write(dir, &format!("{name}-chain.pem"), &chain);
    }
    let root = std::fs::read_to_string(dir.join("root.pem")).expect("root");
    let policy = serde_json::json!({
        "version": 1,
        "trust": {"anchors": [root]},
        "identity": {"allow": [{"spiffe_id": "spiffe://example.org/ns/*/sa/openssl", "subject": {"o": "Example Corp"}}]},
    });
    write(dir, "policy.json", &policy.to_string());
}

/// An RFC 3339 time `offset_days` after the leaf's notBefore.
fn at(dir: &Path, offset_days: i64) -> String {
    let (code, v) = certclaims(dir, &["inspect", "leaf.pem"]);
    assert_eq!(code, 0);
    let nb = v["certificates"][0]["not_before"]
        .as_str()
        .expect("not_before");
    let t = time::OffsetDateTime::parse(nb, &time::format_description::well_known::Rfc3339)
        .expect("rfc3339")
        + time::Duration::days(offset_days);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

#[test]
fn openssl_made_chain_verifies_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    make_chain(d);
    let when = at(d, 1);

    let (code, p) = certclaims(
        d,
        &[
            "verify",
            "--policy",
            "policy.json",
            "--at",
            &when,
            "leaf-chain.pem",
        ],
    );
    assert_eq!(code, 0, "{p}");
    assert_eq!(p["subject"], "CN=leaf,OU=ops,O=Example Corp");
    assert_eq!(p["issuer"], "CN=OpenSSL Issuing CA,O=OpenSSL Test");
    assert_eq!(p["serial"], "ABCDEF");
    assert_eq!(p["spiffe_id"], "spiffe://example.org/ns/prod/sa/openssl");
    assert_eq!(p["dns"], serde_json::json!(["openssl.svc.example"]));
    assert_eq!(p["emails"], serde_json::json!(["ops@example.com"]));
    assert_eq!(p["upns"], serde_json::json!(["ops@corp.example"]));
    assert_eq!(p["ips"], serde_json::json!(["10.0.0.1", "::1"]));
    assert_eq!(p["chain"][2]["subject"], "CN=OpenSSL Root,O=OpenSSL Test");

    // The fingerprint matches OpenSSL's own SHA-256 fingerprint of the leaf.
    let out = openssl_in(
        d,
        &[
            "x509",
            "-in",
            "leaf.pem",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    );
    let fp = text(&out.stdout);
    let fp = fp
        .trim()
        .rsplit('=')
        .next()
        .expect("fingerprint")
        .replace(':', "")
        .to_lowercase();
    assert_eq!(p["fingerprint_sha256"], fp.as_str());

    // Time, usage and trust failures on the same OpenSSL PKI.
    let (later, earlier) = (at(d, 40), at(d, -1));
    let cases = [
        (later.as_str(), "leaf-chain.pem", "expired"),
        (earlier.as_str(), "leaf-chain.pem", "not_yet_valid"),
        (when.as_str(), "server-chain.pem", "wrong_usage"),
        (when.as_str(), "leaf.pem", "unknown_issuer"),
    ];
    for (time, chain, want) in cases {
        let (code, e) = certclaims(
            d,
            &["verify", "--policy", "policy.json", "--at", time, chain],
        );
        assert_eq!(
            (code, e["error"]["code"].as_str()),
            (1, Some(want)),
            "{chain} at {time}"
        );
    }
}
