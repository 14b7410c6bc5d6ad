//! `Validator::verify` against bare rustls-webpki (the engine certclaims replaced), on the same
//! 3-certificate chains (leaf, issuing CA, root anchor) of P-256, Ed25519 and RSA-2048 keys,
//! with the same aws-lc-rs algorithms, in one run; and a cache hit against a miss:
//! `cargo bench -p certclaims-tests --bench path_engine`.
//!
//! The certclaims miss is the whole verification (parse, path, profile, policy, principal)
//! with the cache off; the webpki figure is `verify_for_usage` alone.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use certclaims::test_kit::{Issued, KeyType, Pki, NOW};
use certclaims::{CacheOptions, Validator};
use criterion::{criterion_group, Criterion};
use webpki::{EndEntityCert, KeyUsage};

static ALGS: &[&dyn certclaims::pki_types::SignatureVerificationAlgorithm] = &[
    webpki::aws_lc_rs::ECDSA_P256_SHA256,
    webpki::aws_lc_rs::ECDSA_P384_SHA384,
    webpki::aws_lc_rs::ED25519,
    webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
];

/// The three PKIs (root, issuing CA) and their client with a SPIFFE ID, by key type.
fn chains() -> impl Iterator<Item = (&'static str, Pki, Issued)> {
    [
        ("P-256", KeyType::P256),
        ("Ed25519", KeyType::Ed25519),
        ("RSA-2048", KeyType::Rsa2048),
    ]
    .into_iter()
    .map(|(name, key)| {
        let pki = Pki::with_key_type("Bench", key);
        let alice = pki
            .client("alice")
            .spiffe("spiffe://example.org/ns/prod/sa/alice")
            .issue();
        (name, pki, alice)
    })
}

/// Bare rustls-webpki on `alice`'s chain: what certclaims is compared with. Returns the
/// length of the anchor's subject, so that the path is used.
fn webpki_verify(
    algs: &[&dyn certclaims::pki_types::SignatureVerificationAlgorithm],
    anchors: &[certclaims::pki_types::TrustAnchor<'_>],
    alice: &Issued,
) -> usize {
    let ee = EndEntityCert::try_from(alice.leaf()).expect("leaf");
    ee.verify_for_usage(
        algs,
        anchors,
        alice.intermediates(),
        NOW,
        KeyUsage::client_auth(),
        None,
        None,
    )
    .map(|path| path.anchor().subject.len())
    .expect("valid")
}

fn bench(c: &mut Criterion) {
    for (name, pki, alice) in chains() {
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
            b.iter(|| webpki_verify(ALGS, &anchors, &alice))
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

/// An algorithm that accepts every signature, standing in for one of [`ALGS`]: with it both
/// sides measure what they do besides checking signatures.
#[derive(Debug)]
struct AcceptAll(&'static dyn certclaims::pki_types::SignatureVerificationAlgorithm);

impl certclaims::pki_types::SignatureVerificationAlgorithm for AcceptAll {
    fn verify_signature(
        &self,
        _key: &[u8],
        _message: &[u8],
        _signature: &[u8],
    ) -> Result<(), certclaims::pki_types::InvalidSignature> {
        Ok(())
    }
    fn public_key_alg_id(&self) -> certclaims::pki_types::AlgorithmIdentifier {
        self.0.public_key_alg_id()
    }
    fn signature_alg_id(&self) -> certclaims::pki_types::AlgorithmIdentifier {
        self.0.signature_alg_id()
    }
}

static ACCEPT_ALL: &[&dyn certclaims::pki_types::SignatureVerificationAlgorithm] = &[
    &AcceptAll(webpki::aws_lc_rs::ECDSA_P256_SHA256),
    &AcceptAll(webpki::aws_lc_rs::ECDSA_P384_SHA384),
    &AcceptAll(webpki::aws_lc_rs::ED25519),
    &AcceptAll(webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256),
];

/// The miss against bare webpki again, interleaved: rounds of a few hundred calls of each,
/// alternating, the fastest round of each side kept. Criterion measures one function after
/// the other, so a change of the machine's load between them moves its ratio; here both
/// sides see the same moments.
/// Calls per round and rounds per side of [`interleaved`]: short rounds, many of them, so
/// that each side has rounds in the machine's quiet moments.
const CALLS: u32 = 50;
const ROUNDS: u32 = 150;

fn interleaved(
    algs: &'static [&'static dyn certclaims::pki_types::SignatureVerificationAlgorithm],
) {
    for (name, pki, alice) in chains() {
        let miss = Validator::builder(algs)
            .with_anchors([pki.root_der()])
            .with_cache(CacheOptions::OFF)
            .build()
            .expect("validator");
        let root = pki.root_der();
        let anchors = [webpki::anchor_from_trusted_cert(&root).expect("anchor")];
        let round = |f: &dyn Fn()| {
            let start = std::time::Instant::now();
            for _ in 0..CALLS {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS)
        };
        let certclaims = || {
            std::hint::black_box(
                miss.verify(alice.leaf(), alice.intermediates(), NOW)
                    .expect("valid"),
            );
        };
        let webpki = || {
            std::hint::black_box(webpki_verify(algs, &anchors, &alice));
        };
        let (mut best_c, mut best_w) = (f64::MAX, f64::MAX);
        for _ in 0..ROUNDS {
            best_c = best_c.min(round(&certclaims));
            best_w = best_w.min(round(&webpki));
        }
        println!(
            "  {name}: certclaims miss {best_c:.1} µs, rustls-webpki {best_w:.1} µs, {:.3}×",
            best_c / best_w
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Not under `--profile-time` (a profiler wants the one function it was given).
    if std::env::args().any(|a| a == "--profile-time") {
        return;
    }
    println!("interleaved rounds (best round of {ROUNDS} per side, {CALLS} calls per round):");
    interleaved(ALGS);
    println!(
        "the same with every signature accepted unchecked (what each does besides the signatures):"
    );
    interleaved(ACCEPT_ALL);
}
