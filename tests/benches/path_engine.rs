//! certclaims' path engine against rustls-webpki (the engine it replaced) on the same
//! 3-certificate P-256 chain (leaf, issuing CA, root anchor), with the same aws-lc-rs
//! algorithms, in one run: `cargo bench -p certclaims-tests --bench path_engine`. The
//! certclaims figure is the whole `Validator::verify` (parse, path, profile, principal); the
//! webpki figure is `verify_for_usage` alone, so the ratio is an upper bound on the engine's
//! own cost.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use certclaims::test_kit::{Pki, NOW};
use certclaims::Validator;
use criterion::{criterion_group, criterion_main, Criterion};
use webpki::{EndEntityCert, KeyUsage};

static ALGS: &[&dyn certclaims::pki_types::SignatureVerificationAlgorithm] = &[
    webpki::aws_lc_rs::ECDSA_P256_SHA256,
    webpki::aws_lc_rs::ECDSA_P384_SHA384,
];

fn bench(c: &mut Criterion) {
    let pki = Pki::new();
    let alice = pki
        .client("alice")
        .spiffe("spiffe://example.org/ns/prod/sa/alice")
        .issue();
    let validator = Validator::builder(ALGS)
        .with_anchors([pki.root_der()])
        .build()
        .expect("validator");
    let root = pki.root_der();
    let anchors = [webpki::anchor_from_trusted_cert(&root).expect("anchor")];
    let mut g = c.benchmark_group("verify 3-certificate P-256 chain");
    g.bench_function("certclaims Validator::verify", |b| {
        b.iter(|| {
            validator
                .verify(alice.leaf(), alice.intermediates(), NOW)
                .expect("valid")
        })
    });
    g.bench_function("rustls-webpki verify_for_usage", |b| {
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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
