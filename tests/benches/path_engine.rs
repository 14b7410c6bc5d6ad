//! `Validator::verify` against bare rustls-webpki (the engine certclaims replaced), on the same
//! 3-certificate chains (leaf, issuing CA, root anchor) of P-256, Ed25519 and RSA-2048 keys,
//! with the same aws-lc-rs algorithms, in one run; and a cache hit against a miss:
//! `cargo bench -p certclaims-tests --bench path_engine`.
//!
//! The certclaims miss is the whole verification (parse, path, profile, policy, principal)
//! with the cache off; the webpki figure is `verify_for_usage` alone.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use certclaims::test_kit::{KeyType, Pki, NOW};
use certclaims::{CacheOptions, Validator};
use criterion::{criterion_group, criterion_main, Criterion};
use webpki::{EndEntityCert, KeyUsage};

static ALGS: &[&dyn certclaims::pki_types::SignatureVerificationAlgorithm] = &[
    webpki::aws_lc_rs::ECDSA_P256_SHA256,
    webpki::aws_lc_rs::ECDSA_P384_SHA384,
    webpki::aws_lc_rs::ED25519,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
];

fn bench(c: &mut Criterion) {
    for (name, key) in [
        ("P-256", KeyType::P256),
        ("Ed25519", KeyType::Ed25519),
        ("RSA-2048", KeyType::Rsa2048),
    ] {
        let pki = Pki::with_key_type("Bench", key);
        let alice = pki
            .client("alice")
            .spiffe("spiffe://example.org/ns/prod/sa/alice")
            .issue();
        let validator = |cache| {
            Validator::builder(ALGS)
                .with_anchors([pki.root_der()])
                .with_cache(cache)
                .build()
                .expect("validator")
        };
        let (miss, hit) = (
            validator(CacheOptions::OFF),
            validator(CacheOptions::DEFAULT),
        );
        let root = pki.root_der();
        let anchors = [webpki::anchor_from_trusted_cert(&root).expect("anchor")];
        let mut g = c.benchmark_group(format!("verify 3-certificate {name} chain"));
        g.bench_function("certclaims miss", |b| {
            b.iter(|| {
                miss.verify(alice.leaf(), alice.intermediates(), NOW)
                    .expect("valid")
            })
        });
        g.bench_function("rustls-webpki", |b| {
            b.iter(|| {
                let ee = EndEntityCert::try_from(alice.leaf()).expect("leaf");
                ee.verify_for_usage(
                    ALGS,
                    &anchors,
                    alice.intermediates(),
                    NOW,
                    KeyUsage::client_auth(),
                    None,
                    None,
                )
                .map(|_| ())
                .expect("valid")
            })
        });
        // Where the fixed cost goes: reading one certificate (the leaf) into the facts the
        // principal and the engine share, without any validation.
        g.bench_function("certclaims parse of the leaf", |b| {
            b.iter(|| certclaims::inspect(alice.leaf()).expect("parses"))
        });
        g.bench_function("certclaims hit", |b| {
            b.iter(|| {
                hit.verify(alice.leaf(), alice.intermediates(), NOW)
                    .expect("valid")
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
