//! Chain validation from arbitrary bytes.
//!
//! Input: a sequence of `[u16 big-endian length][DER]` records: the first is used as the
//! trust anchor, the second as the leaf, the rest as presented intermediates. The validator
//! accepts chained and (unpinned) self-signed leaves, so both paths are exercised.
#![no_main]

use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::policy::{AllowedTypes, DenyEntry};
use certclaims::Validator;
use libfuzzer_sys::fuzz_target;

#[path = "records.rs"]
mod records;

fuzz_target!(|data: &[u8]| {
    let recs = records::records(data, 32);
    let [anchor, leaf, inters @ ..] = recs.as_slice() else { return };
    // 2026-06-01T00:00:00Z, the test kit's instant (the seed corpus is minted around it).
    let now = UnixTime::since_unix_epoch(core::time::Duration::from_secs(1_780_272_000));
    let validator = match Validator::builder(certclaims::crypto::ALL)
        .with_anchors([CertificateDer::from(anchor.to_vec())])
        .with_allowed_types(AllowedTypes::All)
        .allow_unpinned_self_signed()
        // Deny-lists make the validator compute every presentable fingerprint of each
        // certificate (ECDSA signature twins), so that code is fuzzed too.
        .with_deny(DenyEntry::Fingerprint(format!("sha256:{}", "00".repeat(32))))
        .with_deny(DenyEntry::IssuerSerial {
            issuer: format!("sha256:{}", "11".repeat(32)),
            serial: "01".into(),
        })
        .build()
    {
        Ok(v) => v,
        Err(_) => return,
    };
    let inters: Vec<CertificateDer<'_>> = inters.iter().map(|d| CertificateDer::from(*d)).collect();
    let result = validator.verify(&CertificateDer::from(*leaf), &inters, now);
    match result {
        Ok(p) => {
            // A principal always serializes and its fingerprint is 64 hex digits.
            assert_eq!(p.fingerprint_sha256().len(), 64);
            let _ = p.to_json().to_string();
        }
        // What an HTTP body carries: hostile certificate strings rendered as JSON.
        Err(r) => {
            let _ = r.to_json().to_string();
        }
    }
    if let Ok(info) = certclaims::inspect(&CertificateDer::from(*leaf)) {
        let _ = info.to_json().to_string();
    }
});
