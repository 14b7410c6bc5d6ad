//! The validation cache: a hit is exactly the miss; entries expire at the TTL, the
//! principal's usable_until and the next CRL update; rejections sooner; bounded; per validator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use certclaims::pki_types::UnixTime;
use certclaims::test_kit::{Issued, Pki, DAY, NOW};
use certclaims::{CacheOptions, CacheStats, Code, Policy, Source, Validator};
use serde_json::json;

use common::{crl_pem, policy};

fn at(offset: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs((NOW.as_secs() as i64 + offset) as u64))
}

fn with(pki: &Pki, extra: serde_json::Value, options: CacheOptions) -> Validator {
    let policy = Policy::from_json(&policy(pki, extra).to_string()).unwrap();
    // The policy's validator with other cache options: same checks, same principal.
    let plain = Validator::from_policy(&policy, certclaims::crypto::ALL).unwrap();
    assert_eq!(plain.cache_stats(), CacheStats::default());
    let mut b = Validator::builder(certclaims::crypto::ALL)
        .with_anchors([pki.root_der()])
        .with_cache(options);
    for crl in &policy.trust.crls {
        use certclaims::pki_types::pem::PemObject;
        b = b.with_crls([
            certclaims::pki_types::CertificateRevocationListDer::from_pem_slice(crl.as_bytes())
                .unwrap(),
        ]);
    }
    b.build().unwrap()
}

fn verify(
    v: &Validator,
    i: &Issued,
    t: UnixTime,
) -> Result<certclaims::Principal, certclaims::Rejection> {
    v.verify(i.leaf(), i.intermediates(), t)
}

fn counts(v: &Validator) -> (u64, u64) {
    let s = v.cache_stats();
    (s.hits, s.misses)
}

#[test]
fn a_hit_returns_exactly_what_the_miss_returned() {
    let pki = Pki::new();
    let v = with(&pki, json!({}), CacheOptions::DEFAULT);
    let uncached = with(&pki, json!({}), CacheOptions::OFF);
    let alice = pki.client("alice").spiffe("spiffe://example.org/a").issue();
    let eve = Pki::with_key_type("Other", certclaims::test_kit::KeyType::P256)
        .client("eve")
        .issue();
    for i in [&alice, &eve] {
        let miss = verify(&v, i, NOW);
        let hit = verify(&v, i, NOW);
        assert_eq!(hit, miss);
        assert_eq!(verify(&uncached, i, NOW), miss);
        if let Ok(p) = &hit {
            let m = miss.as_ref().unwrap();
            assert_eq!(p.to_json(), m.to_json());
            // The principal's kept JSON text of its values: what serde_json writes, made once
            // by the miss and handed out again by the hit (the same text, not a copy).
            assert_eq!(
                m.as_json_values(),
                serde_json::to_string(&common::json_values(m)).unwrap()
            );
            assert!(core::ptr::eq(p.as_json_values(), m.as_json_values()));
            // Without the cache each verification makes its own principal and text.
            let again = verify(&uncached, i, NOW).unwrap();
            assert!(!core::ptr::eq(again.as_json_values(), m.as_json_values()));
            assert_eq!(again.as_json_values(), m.as_json_values());
        }
    }
    assert_eq!(counts(&v), (2, 2));
    assert_eq!(v.cache_stats().entries, 2);
    assert_eq!(
        verify(&v, &eve, NOW).unwrap_err().code(),
        Code::UnknownIssuer
    );
    assert_eq!(uncached.cache_stats(), CacheStats::default());
    // The source is part of the key: a forwarded chain gets its own principal.
    let fwd = v
        .verify_from(alice.leaf(), alice.intermediates(), NOW, Source::Forwarded)
        .unwrap();
    assert_eq!(fwd.source(), Source::Forwarded);
    assert_eq!(verify(&v, &alice, NOW).unwrap().source(), Source::Direct);
}

#[test]
fn entries_expire_at_the_ttl_and_rejections_sooner() {
    let pki = Pki::new();
    let opts = CacheOptions::new(16, Duration::from_secs(60), Duration::from_secs(10));
    let v = with(&pki, json!({}), opts);
    let alice = pki.client("alice").issue();
    verify(&v, &alice, NOW).unwrap();
    verify(&v, &alice, at(59)).unwrap();
    assert_eq!(counts(&v), (1, 1));
    verify(&v, &alice, at(60)).unwrap();
    assert_eq!(counts(&v), (1, 2), "past the TTL it verifies again");

    let early = pki
        .client("early")
        .validity(NOW.as_secs() + 5, NOW.as_secs() + DAY)
        .issue();
    assert_eq!(
        verify(&v, &early, NOW).unwrap_err().code(),
        Code::NotYetValid
    );
    assert_eq!(
        verify(&v, &early, at(4)).unwrap_err().code(),
        Code::NotYetValid
    );
    assert_eq!(counts(&v), (2, 3));
    // At 10 s the rejection is no longer reused: by then the certificate is valid.
    verify(&v, &early, at(10)).unwrap();
    assert_eq!(counts(&v), (2, 4));
}

#[test]
fn a_principal_is_not_reused_past_its_usable_until_or_before_it_was_computed() {
    let pki = Pki::new();
    let v = with(
        &pki,
        json!({}),
        CacheOptions::new(16, Duration::from_secs(3600), Duration::from_secs(10)),
    );
    let brief = pki
        .client("brief")
        .validity(NOW.as_secs() - DAY, NOW.as_secs() + 30)
        .issue();
    let p = verify(&v, &brief, NOW).unwrap();
    assert_eq!(p.usable_until(), Some(at(30)));
    verify(&v, &brief, at(30)).unwrap();
    assert_eq!(counts(&v), (1, 1));
    assert_eq!(
        verify(&v, &brief, at(31)).unwrap_err().code(),
        Code::Expired
    );
    assert_eq!(counts(&v), (1, 2));
    // An earlier instant than the entry's is evaluated afresh (a caller replaying the past).
    let alice = pki.client("alice").issue();
    verify(&v, &alice, NOW).unwrap();
    verify(&v, &alice, at(-1)).unwrap();
    assert_eq!(counts(&v), (1, 4));
}

#[test]
fn a_principal_is_not_reused_past_the_next_crl_update() {
    let pki = Pki::new();
    // The issuing CA's CRL is next updated a week after NOW, the root's after three days.
    let now = NOW.as_secs();
    let root_crl = Pki::crl_from(pki.root(), &[], now - DAY, now + 3 * DAY);
    let v = with(
        &pki,
        json!({"trust": {"crls": [crl_pem(&pki.crl(&[])), crl_pem(&root_crl)]}}),
        CacheOptions::new(16, Duration::from_secs(30 * DAY), Duration::from_secs(10)),
    );
    let alice = pki.client("alice").issue();
    verify(&v, &alice, NOW).unwrap();
    verify(&v, &alice, at((3 * DAY) as i64 - 1)).unwrap();
    assert_eq!(counts(&v), (1, 1));
    verify(&v, &alice, at((3 * DAY) as i64)).unwrap();
    assert_eq!(counts(&v), (1, 2));
}

#[test]
fn the_cache_is_bounded_and_can_be_off() {
    let pki = Pki::new();
    let v = with(
        &pki,
        json!({}),
        CacheOptions::new(2, Duration::from_secs(60), Duration::from_secs(10)),
    );
    let [a, b, c] = ["a", "b", "c"].map(|cn| pki.client(cn).issue());
    for i in [&a, &b, &c] {
        verify(&v, i, NOW).unwrap();
    }
    assert_eq!(v.cache_stats().entries, 2);
    verify(&v, &c, NOW).unwrap(); // hit
    verify(&v, &a, NOW).unwrap(); // evicted: a miss
    assert_eq!(counts(&v), (1, 4));

    let off = with(&pki, json!({}), CacheOptions::OFF);
    verify(&off, &a, NOW).unwrap();
    verify(&off, &a, NOW).unwrap();
    assert_eq!(off.cache_stats(), CacheStats::default());
}

#[test]
fn threads_share_one_cache() {
    let pki = Pki::new();
    let v = with(&pki, json!({}), CacheOptions::DEFAULT);
    let chains: Vec<Issued> = (0..4)
        .map(|i| pki.client(&format!("c{i}")).issue())
        .collect();
    let want: Vec<_> = chains
        .iter()
        .map(|c| verify(&with(&pki, json!({}), CacheOptions::OFF), c, NOW))
        .collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..25 {
                    for (c, w) in chains.iter().zip(&want) {
                        assert_eq!(&verify(&v, c, NOW), w);
                    }
                }
            });
        }
    });
    let s = v.cache_stats();
    assert_eq!(s.hits + s.misses, 400);
    assert!(s.misses >= 4 && s.misses <= 16, "{s:?}");
    assert_eq!(s.entries, 4);
}
