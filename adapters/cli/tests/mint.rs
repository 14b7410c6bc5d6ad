//! Black-box tests of `certclaims mint`: the files it writes, where per-client options go,
//! re-running into the same folder, usage errors, and the PKCS#12 files as read by the
//! `openssl` command (a reader this project did not write).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use certclaims_test_support::{json, openssl, s, text};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certclaims");

const ALICE_SPIFFE: &str = "spiffe://example.org/ns/prod/sa/alice";

fn certclaims(args: &[&str]) -> Output {
    certclaims_test_support::certclaims(BIN, args)
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// `certclaims mint --out DIR ARGS...`, which must succeed.
fn mint(dir: &Path, args: &[&str]) {
    let mut all = vec!["mint", "--out", s(dir)];
    all.extend_from_slice(args);
    let out = certclaims(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "mint {args:?}: {}",
        stderr(&out)
    );
}

/// The folder of the README's quick start, plus bob.
fn mint_alice_and_bob(dir: &Path) {
    mint(
        dir,
        &[
            "--client",
            "alice",
            "--spiffe",
            ALICE_SPIFFE,
            "--dns",
            "alice.svc.example",
            "--client",
            "bob",
            "--email",
            "bob@example.com",
        ],
    );
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|n| (*n).to_string()).collect()
}

/// The PEM blocks of a file, each with its armour, in order.
fn pem_blocks(text: &str) -> Vec<String> {
    const END: &str = "-----END CERTIFICATE-----";
    text.split_inclusive(END)
        .filter_map(|chunk| {
            chunk
                .find("-----BEGIN CERTIFICATE-----")
                .map(|i| chunk[i..].to_string())
        })
        .filter(|b| b.ends_with(END))
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `certclaims inspect FILE`: the JSON of the first certificate, and the whole document.
fn inspect(path: &Path) -> (Value, Value) {
    let out = certclaims(&["inspect", s(path)]);
    assert_eq!(out.status.code(), Some(0), "inspect: {}", stderr(&out));
    let doc = json(&out);
    (doc["certificates"][0].clone(), doc)
}

/// `certclaims verify --policy DIR/policy.json FILE`: exit code and JSON.
fn verify(dir: &Path, chain: &str) -> (Option<i32>, Value) {
    let out = certclaims(&[
        "verify",
        "--policy",
        s(&dir.join("policy.json")),
        s(&dir.join(chain)),
    ]);
    (out.status.code(), json(&out))
}

#[test]
fn mint_writes_exactly_the_documented_files_with_private_keys_0600() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint_alice_and_bob(&dir);
    assert_eq!(
        file_names(&dir),
        names(&[
            "ca.pem",
            "ca.key",
            "server.pem",
            "server.key",
            "alice.pem",
            "alice.key",
            "alice.p12",
            "bob.pem",
            "bob.key",
            "bob.p12",
            "policy.json",
        ])
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |n: &str| {
            std::fs::metadata(dir.join(n))
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        for n in [
            "ca.key",
            "server.key",
            "alice.key",
            "bob.key",
            "alice.p12",
            "bob.p12",
        ] {
            assert_eq!(mode(n), 0o600, "{n} holds a private key");
        }
        for n in ["ca.pem", "server.pem", "alice.pem", "policy.json"] {
            assert_eq!(mode(n) & 0o022, 0, "{n} is not group/world-writable");
        }
    }
    // NAME.pem is the leaf then the CA; server.pem too.
    let ca = pem_blocks(&read(&dir.join("ca.pem")));
    assert_eq!(ca.len(), 1);
    for n in ["alice.pem", "bob.pem", "server.pem"] {
        let blocks = pem_blocks(&read(&dir.join(n)));
        assert_eq!(blocks.len(), 2, "{n}: leaf then CA");
        assert_eq!(blocks[1], ca[0], "{n}: the second certificate is ca.pem");
    }
    // The server certificate names localhost, 127.0.0.1 and ::1.
    let (server, _) = inspect(&dir.join("server.pem"));
    assert_eq!(server["dns"], serde_json::json!(["localhost"]));
    assert_eq!(server["ips"], serde_json::json!(["127.0.0.1", "::1"]));
    // The CA's own name: `certclaims development CA <8 hex>`.
    let (ca_info, _) = inspect(&dir.join("ca.pem"));
    let cn = ca_info["common_name"].as_str().expect("CA CN");
    let tag = cn
        .strip_prefix("certclaims development CA ")
        .unwrap_or_else(|| panic!("CA CN {cn:?}"));
    assert!(
        tag.len() == 8 && tag.bytes().all(|b| b.is_ascii_hexdigit()),
        "{cn:?}"
    );
    assert_eq!(ca_info["is_ca"], true);
    // The policy trusts exactly this CA.
    let policy: Value = serde_json::from_str(&read(&dir.join("policy.json"))).expect("policy");
    assert_eq!(policy["version"], 1);
    assert_eq!(policy["trust"]["anchors"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        pem_blocks(policy["trust"]["anchors"][0].as_str().expect("anchor")),
        ca
    );
}

#[test]
fn per_client_options_go_to_the_preceding_client() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint_alice_and_bob(&dir);

    let (alice, doc) = inspect(&dir.join("alice.pem"));
    assert_eq!(doc["verified"], false);
    assert!(doc["warning"]
        .as_str()
        .is_some_and(|w| w.contains("UNVERIFIED")));
    assert_eq!(alice["subject"], "CN=alice,O=certclaims");
    assert_eq!(alice["uris"], serde_json::json!([ALICE_SPIFFE]));
    assert_eq!(alice["dns"], serde_json::json!(["alice.svc.example"]));
    assert_eq!(alice["emails"], serde_json::json!([]));
    assert_eq!(alice["is_ca"], false);

    let (bob, _) = inspect(&dir.join("bob.pem"));
    assert_eq!(bob["subject"], "CN=bob,O=certclaims");
    assert_eq!(bob["emails"], serde_json::json!(["bob@example.com"]));
    assert_eq!(bob["uris"], serde_json::json!([]), "bob has no SPIFFE ID");
    assert_eq!(bob["dns"], serde_json::json!([]));
    assert_eq!(bob["issuer"], alice["issuer"]);

    // Both verify against the minted policy; only alice has a SPIFFE ID.
    let (code, p) = verify(&dir, "alice.pem");
    assert_eq!(code, Some(0), "{p}");
    assert_eq!(p["spiffe_id"], ALICE_SPIFFE);
    assert_eq!(p["dns"], serde_json::json!(["alice.svc.example"]));
    let (code, p) = verify(&dir, "bob.pem");
    assert_eq!(code, Some(0), "{p}");
    assert_eq!(p["spiffe_id"], Value::Null);
    assert_eq!(p["emails"], serde_json::json!(["bob@example.com"]));
    assert_eq!(p["subject"], "CN=bob,O=certclaims");
}

#[test]
fn rerunning_adds_a_client_issued_by_the_same_ca() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint_alice_and_bob(&dir);
    let kept = [
        "ca.pem",
        "ca.key",
        "server.pem",
        "server.key",
        "policy.json",
        "alice.pem",
        "alice.key",
        "bob.pem",
    ];
    let before: Vec<String> = kept.iter().map(|n| read(&dir.join(n))).collect();

    mint(&dir, &["--client", "carol", "--dns", "carol.svc.example"]);

    for (n, b) in kept.iter().zip(&before) {
        assert_eq!(
            &read(&dir.join(n)),
            b,
            "{n} is unchanged by re-running mint"
        );
    }
    let mut expected = file_names(&dir);
    expected.retain(|n| !n.starts_with("carol."));
    assert_eq!(expected.len(), 11);
    assert!(["carol.pem", "carol.key", "carol.p12"]
        .iter()
        .all(|n| dir.join(n).is_file()));

    let (alice, _) = inspect(&dir.join("alice.pem"));
    let (carol, _) = inspect(&dir.join("carol.pem"));
    assert_eq!(carol["issuer"], alice["issuer"], "same CA name");
    assert_eq!(carol["dns"], serde_json::json!(["carol.svc.example"]));
    assert_eq!(
        pem_blocks(&read(&dir.join("carol.pem")))[1],
        pem_blocks(&before[0])[0],
        "carol.pem ends with the unchanged ca.pem"
    );
    // Verifies with the policy.json of the first run, through the same trust anchor.
    let (code, p) = verify(&dir, "carol.pem");
    assert_eq!(code, Some(0), "{p}");
    let (ca_info, _) = inspect(&dir.join("ca.pem"));
    assert_eq!(
        p["chain"][1]["fingerprint_sha256"],
        ca_info["fingerprint_sha256"]
    );
    assert_eq!(p["issuer"], ca_info["subject"]);
}

#[test]
fn two_folders_get_two_differently_named_cas() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    mint(&one, &["--client", "alice"]);
    mint(&two, &["--client", "alice"]);
    let (a, _) = inspect(&one.join("ca.pem"));
    let (b, _) = inspect(&two.join("ca.pem"));
    assert_ne!(a["subject"], b["subject"]);
    // The other folder's client is not trusted by this folder's policy.
    let out = certclaims(&[
        "verify",
        "--policy",
        s(&one.join("policy.json")),
        s(&two.join("alice.pem")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "unknown_issuer");
}

#[test]
fn a_ca_certificate_without_its_key_is_refused_not_replaced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint(&dir, &["--client", "alice"]);
    let ca_pem = read(&dir.join("ca.pem"));
    std::fs::remove_file(dir.join("ca.key")).expect("remove ca.key");

    let out = certclaims(&["mint", "--out", s(&dir), "--client", "carol"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("ca.key"), "{}", stderr(&out));
    assert_eq!(read(&dir.join("ca.pem")), ca_pem, "ca.pem is not replaced");
    assert!(!dir.join("carol.pem").exists());
}

#[test]
fn without_client_one_client_named_client_is_minted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint(&dir, &[]);
    assert_eq!(
        file_names(&dir),
        names(&[
            "ca.pem",
            "ca.key",
            "server.pem",
            "server.key",
            "client.pem",
            "client.key",
            "client.p12",
            "policy.json",
        ])
    );
    let (code, p) = verify(&dir, "client.pem");
    assert_eq!(code, Some(0), "{p}");
    assert_eq!(p["subject"], "CN=client,O=certclaims");

    // Without any --client, the options belong to that one client.
    let dir2 = tmp.path().join("pki2");
    mint(&dir2, &["--spiffe", ALICE_SPIFFE]);
    let (client, _) = inspect(&dir2.join("client.pem"));
    assert_eq!(client["uris"], serde_json::json!([ALICE_SPIFFE]));
}

#[test]
fn an_option_before_any_client_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    for (flag, value) in [
        ("--spiffe", ALICE_SPIFFE),
        ("--dns", "alice.svc.example"),
        ("--email", "alice@example.com"),
    ] {
        let out = certclaims(&["mint", "--out", s(&dir), flag, value, "--client", "alice"]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(stderr(&out).contains(flag), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(!dir.exists(), "nothing is written on a usage error");
    }
    // Reserved and unsafe names are refused too.
    for name in ["ca", "server", "policy", "../escape", ".hidden", ""] {
        let out = certclaims(&["mint", "--out", s(&dir), "--client", name]);
        assert_eq!(out.status.code(), Some(2), "{name:?}: {}", stderr(&out));
    }
    assert!(!tmp.path().join("escape.pem").exists());
}

#[test]
fn a_spiffe_option_that_is_not_a_spiffe_id_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    for bad in [
        "spiffe://Example.org/ns/prod",
        "spiffe://example.org/ns/../sa",
        "spiffe://example.org/",
        "https://example.org/ns/prod",
        "spiffe://example.org:8443/x",
    ] {
        let out = certclaims(&[
            "mint",
            "--out",
            s(&dir),
            "--client",
            "alice",
            "--spiffe",
            bad,
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("is not a SPIFFE ID")
                && err.contains("spiffe://example.org/ns/prod/sa/alice"),
            "{bad}: {err}"
        );
        assert!(!dir.join("alice.pem").exists(), "{bad}");
    }
}

/// `openssl pkcs12 -in P12 -passin pass:PW -nodes` (no `-legacy`): exit status and output.
fn pkcs12_nodes(p12: &Path, password: &str) -> Output {
    openssl(&[
        "pkcs12",
        "-in",
        s(p12),
        "-passin",
        &format!("pass:{password}"),
        "-nodes",
    ])
}

/// The public key of a PEM certificate or private key, as `openssl` prints it.
fn public_key(path: &Path, is_cert: bool) -> String {
    let out = if is_cert {
        openssl(&["x509", "-in", s(path), "-noout", "-pubkey"])
    } else {
        openssl(&["pkey", "-in", s(path), "-pubout"])
    };
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pkcs12_opens_with_openssl_and_the_default_password() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint_alice_and_bob(&dir);
    let p12 = dir.join("alice.p12");

    // OpenSSL 3's default provider reads it: modern PBES2, no `-legacy` needed.
    let out = pkcs12_nodes(&p12, "changeit");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let certs = pem_blocks(&text);
    let alice = pem_blocks(&read(&dir.join("alice.pem")));
    assert_eq!(certs.len(), 2, "leaf and CA: {text}");
    assert!(certs.contains(&alice[0]), "the leaf of alice.pem");
    assert!(certs.contains(&alice[1]), "the CA");
    assert_eq!(
        text.matches("-----BEGIN PRIVATE KEY-----").count(),
        1,
        "one unencrypted private key"
    );

    // The key in the file is the key of the certificate (and of alice.key).
    let key_pem = &text[text.find("-----BEGIN PRIVATE KEY-----").expect("key")..];
    let key_pem = &key_pem[..key_pem.find("-----END PRIVATE KEY-----").expect("end") + 25];
    let key_path = tmp.path().join("from-p12.key");
    std::fs::write(&key_path, format!("{key_pem}\n")).expect("write");
    let cert_path = tmp.path().join("leaf.pem");
    std::fs::write(&cert_path, &alice[0]).expect("write");
    let pk = public_key(&cert_path, true);
    assert_eq!(public_key(&key_path, false), pk);
    assert_eq!(public_key(&dir.join("alice.key"), false), pk);

    // How it is protected: PBES2 with AES-256 and an HMAC-SHA-256 MAC (not RC2/3DES).
    let info = openssl(&[
        "pkcs12",
        "-in",
        s(&p12),
        "-passin",
        "pass:changeit",
        "-info",
        "-noout",
    ]);
    assert!(info.status.success(), "{}", stderr(&info));
    let info = format!("{}{}", String::from_utf8_lossy(&info.stdout), stderr(&info));
    assert!(info.contains("MAC: sha256"), "{info}");
    assert!(info.contains("PBES2"), "{info}");
    assert!(info.contains("AES-256-CBC"), "{info}");
    assert!(!info.contains("RC2") && !info.contains("3DES"), "{info}");

    // A wrong password fails the MAC check.
    let out = pkcs12_nodes(&p12, "wrong");
    assert!(!out.status.success());
    assert!(
        stderr(&out).to_lowercase().contains("mac verify"),
        "{}",
        stderr(&out)
    );
    assert!(pem_blocks(&String::from_utf8_lossy(&out.stdout)).is_empty());
}

#[test]
fn p12_password_option_is_honoured() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint(&dir, &["--client", "alice", "--p12-password", "s3cret"]);
    let p12 = dir.join("alice.p12");
    let out = pkcs12_nodes(&p12, "s3cret");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(pem_blocks(&String::from_utf8_lossy(&out.stdout)).len(), 2);
    let out = pkcs12_nodes(&p12, "changeit");
    assert!(
        !out.status.success(),
        "the default password no longer opens it"
    );
}

/// `certclaims mint --out DIR ARGS...`, which must fail with exit 2; its stderr.
fn mint_refused(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["mint", "--out", s(dir)];
    all.extend_from_slice(args);
    let out = certclaims(&all);
    assert_eq!(
        out.status.code(),
        Some(2),
        "mint {args:?}: {}",
        stderr(&out)
    );
    stderr(&out)
}

#[test]
fn an_issued_client_is_not_replaced_without_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint_alice_and_bob(&dir);
    let names = ["alice.pem", "alice.key", "alice.p12", "bob.pem"];
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(dir.join(n)).expect("file"))
        .collect();
    // carol is new, alice exists: nothing is written, carol included.
    let err = mint_refused(&dir, &["--client", "carol", "--client", "alice"]);
    assert_eq!(
        err,
        format!(
            "certclaims: {}/alice.pem, alice.key, alice.p12 already exists: client \"alice\" was \
             issued before; choose another --client name, or pass --force to issue a new key and \
             certificate in its place\n",
            s(&dir)
        )
    );
    assert!(!dir.join("carol.pem").exists());
    for (n, b) in names.iter().zip(&before) {
        assert_eq!(&std::fs::read(dir.join(n)).expect("file"), b, "{n}");
    }
    // --force reissues alice (a new key), by the same CA; bob is untouched.
    mint(&dir, &["--client", "alice", "--force"]);
    assert_ne!(
        std::fs::read(dir.join("alice.key")).expect("file"),
        before[1]
    );
    assert_eq!(std::fs::read(dir.join("bob.pem")).expect("file"), before[3]);
    let (code, p) = verify(&dir, "alice.pem");
    assert_eq!(code, Some(0), "{p}");
}

#[test]
fn two_cas_are_not_mixed_in_one_folder_without_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    mint_alice_and_bob(&dir);
    // The CA is gone but its certificates remain: a new CA would issue beside them.
    for n in ["ca.pem", "ca.key"] {
        std::fs::remove_file(dir.join(n)).expect("file");
    }
    let err = mint_refused(&dir, &["--client", "carol"]);
    assert!(
        err.starts_with(&format!(
            "certclaims: {} has no CA (ca.pem, ca.key) but holds alice.key, alice.p12, \
             alice.pem, bob.key, bob.p12, bob.pem, server.key, server.pem, policy.json: a new CA \
             there would mix two CAs in one folder",
            s(&dir)
        )),
        "{err}"
    );
    assert!(!dir.join("ca.pem").exists());

    // A certificate of another folder's CA copied into a folder with its own CA.
    let fresh = tmp.path().join("fresh");
    mint(&fresh, &["--client", "frank"]);
    std::fs::copy(dir.join("alice.pem"), fresh.join("alice.pem")).expect("file");
    let err = mint_refused(&fresh, &["--client", "gina"]);
    assert!(
        err.starts_with(&format!(
            "certclaims: {}: alice.pem issued by another CA than {}/ca.pem (",
            s(&fresh),
            s(&fresh)
        )),
        "{err}"
    );
    assert!(!fresh.join("gina.pem").exists());
    // --force mints anyway.
    mint(&fresh, &["--client", "gina", "--force"]);
    let (code, p) = verify(&fresh, "gina.pem");
    assert_eq!(code, Some(0), "{p}");
}
