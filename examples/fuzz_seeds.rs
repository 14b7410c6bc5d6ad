//! Regenerates the committed seed corpora of `fuzz/` from the test kit:
//! `cargo run -p certclaims-examples --example fuzz_seeds -- fuzz/seeds`.

use std::path::Path;

use certclaims::forwarded::Format;
use certclaims::test_kit::{Eku, KeyType, Pki};

fn record(out: &mut Vec<u8>, der: &[u8]) {
    let n = u16::try_from(der.len()).expect("seed certificates are small");
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(der);
}

fn main() -> std::io::Result<()> {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/seeds".into());
    let root = Path::new(&root);
    for t in ["chain", "policy", "pem", "forwarded", "differential"] {
        std::fs::create_dir_all(root.join(t))?;
    }
    for (name, key) in [
        ("p256", KeyType::P256),
        ("ed25519", KeyType::Ed25519),
        ("rsa2048", KeyType::Rsa2048),
    ] {
        let pki = Pki::with_key_type("Seed", key);
        let cases = [
            (
                "valid",
                pki.client("alice")
                    .spiffe("spiffe://example.org/ns/prod/sa/alice")
                    .dns("a.svc.example")
                    .issue(),
            ),
            ("expired", pki.client("old").expired().issue()),
            ("server", pki.client("srv").eku(Eku::ServerAuth).issue()),
            ("self", pki.client("self").self_signed().issue()),
        ];
        // Name constraints of the forms certclaims and rustls-webpki treat differently.
        let td = pki.uri_constrained_ca(pki.issuing_ca(), "Seed SPIFFE CA", &["example.org"]);
        let dns = pki.constrained_ca(pki.issuing_ca(), "Seed DNS CA", &["svc.example"]);
        let cases = cases.into_iter().chain([
            (
                "uri-constrained",
                pki.client("w")
                    .spiffe("spiffe://example.org/ns/a/sa/w")
                    .issued_by(&td)
                    .issue(),
            ),
            (
                "dns-constrained",
                pki.client("d")
                    .dns("api.svc.example")
                    .issued_by(&dns)
                    .issue(),
            ),
        ]);
        for (case, issued) in cases {
            let mut chain = Vec::new();
            record(&mut chain, pki.root_der().as_ref());
            record(&mut chain, issued.leaf().as_ref());
            for i in issued.intermediates() {
                record(&mut chain, i.as_ref());
            }
            std::fs::write(root.join("chain").join(format!("{name}-{case}")), &chain)?;
            // The differential target reads the same records.
            std::fs::write(
                root.join("differential").join(format!("{name}-{case}")),
                chain,
            )?;
            if case == "valid" {
                // forwarded: [format index][options] then header values split by `\n`.
                let chain: Vec<_> = std::iter::once(issued.leaf().clone())
                    .chain(issued.intermediates().iter().cloned())
                    .collect();
                for (i, format) in Format::ALL.iter().enumerate() {
                    let headers = certclaims::test_kit::forwarded_headers(*format, &chain);
                    let mut seed = vec![u8::try_from(i).expect("few formats"), 0x70];
                    let values: Vec<&str> = headers.iter().map(|(_, v)| v.as_str()).collect();
                    seed.extend_from_slice(values.join("\n").as_bytes());
                    std::fs::write(
                        root.join("forwarded").join(format!("{name}-{format}")),
                        seed,
                    )?;
                }
                std::fs::write(
                    root.join("pem").join(format!("{name}-chain.pem")),
                    issued.chain_pem(),
                )?;
                let policy = serde_json::json!({
                    "version": 1,
                    "trust": {"anchors": [pki.root_pem()], "deny": [issued.fingerprint()],
                              "allowed_types": "all", "max_depth": 2, "clock_skew_seconds": 60,
                              "revocation": {"depth": "end_entity", "unknown_status": "allow", "expired_crl": "deny"}},
                    "identity": {"allow": [{"spiffe_id": "spiffe://example.org/ns/*/sa/alice"}, {"dns": "*.svc.example"},
                                           {"email": "*@example.com"}, {"subject": {"cn": "alice", "o": "*"}},
                                           {"fingerprint": issued.fingerprint()}]},
                    "claims": {"issuer": "seed", "add": [{"when": {"uri": "spiffe://example.org/*/*/sa/*"}, "claims": {"role": ["a", "b"]}}]}
                });
                std::fs::write(
                    root.join("policy").join(format!("{name}.json")),
                    policy.to_string(),
                )?;
            }
        }
    }
    std::fs::write(root.join("policy").join("minimal.json"), r#"{"version":1}"#)?;
    std::fs::write(
        root.join("pem").join("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )?;
    Ok(())
}
