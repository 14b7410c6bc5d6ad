//! The native side of the npm package's benchmark (`wasm/bench/verify.mjs`): writes a
//! 3-certificate chain (leaf, issuing CA, root; P-256 or RSA-2048) with its policy into a
//! folder, then
//! times `Validator::verify` on it with the pure-Rust algorithms (what the wasm module runs)
//! and with aws-lc-rs (what a native rustls server runs), and prints the figures as JSON.
//!
//! `cargo run --release -p certclaims-examples --example bench_chain -- DIR [ITERATIONS]
//! [p256|rsa2048]`

use std::time::Instant;

use certclaims::test_kit::{KeyType, Pki, NOW};
use certclaims::Validator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: bench_chain DIR [ITERATIONS]")?);
    let iterations: u32 = args.next().map_or(Ok(500), |s| s.parse())?;
    let key_type = match args.next().as_deref() {
        None | Some("p256") => KeyType::P256,
        Some("rsa2048") => KeyType::Rsa2048,
        Some(other) => return Err(format!("unknown key type `{other}`: p256 or rsa2048").into()),
    };
    std::fs::create_dir_all(&dir)?;
    let pki = Pki::with_key_type("Bench", key_type);
    let alice = pki
        .client("alice")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .issue();
    let chain = format!("{}{}", alice.chain_pem(), pki.root_pem());
    std::fs::write(dir.join("chain.pem"), &chain)?;
    std::fs::write(dir.join("policy.json"), pki.policy_json())?;
    let time = |v: &Validator| -> Result<f64, Box<dyn std::error::Error>> {
        for _ in 0..iterations / 10 {
            v.verify(alice.leaf(), alice.intermediates(), NOW)?;
        }
        let start = Instant::now();
        for _ in 0..iterations {
            v.verify(alice.leaf(), alice.intermediates(), NOW)?;
        }
        Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations))
    };
    let policy = pki.policy();
    // Misses: the cache off, so every call verifies.
    let rustcrypto = Validator::from_policy(&policy, certclaims::crypto::ALL)?
        .with_cache(certclaims::CacheOptions::OFF);
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let awslc = certclaims_rustls::validator_for(&policy, &provider)?
        .with_cache(certclaims::CacheOptions::OFF);
    let out = serde_json::json!({
        "at": NOW.as_secs(),
        "iterations": iterations,
        "native_rustcrypto_us": time(&rustcrypto)?,
        "native_aws_lc_rs_us": time(&awslc)?,
    });
    println!("{out}");
    Ok(())
}
