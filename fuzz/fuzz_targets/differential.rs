//! Differential fuzzing: the same chains through certclaims' path engine and rustls-webpki.
//!
//! Input: the `chain` target's records (`[u16 big-endian length][DER]`): trust anchor, leaf,
//! presented intermediates. Both engines get the same anchor, intermediates, time, usage
//! (clientAuth) and signature algorithms (certclaims' pure-Rust set). The target crashes
//! when certclaims accepts a chain that rustls-webpki rejects for a reason that is not one of
//! the listed differences (tests/limbo/differential.json explains each): name-constraint
//! forms webpki refuses, RFC 5280 name comparison, the self-issued pathLen exemption, and
//! version 1 trust anchors. certclaims rejecting what webpki accepts is expected (its RFC 5280
//! and key profile is stricter) and is not a crash.
#![no_main]

use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::Validator;
use libfuzzer_sys::fuzz_target;
use webpki::{EndEntityCert, KeyUsage};

#[path = "records.rs"]
mod records;

fuzz_target!(|data: &[u8]| {
    let recs = records::records(data, 16);
    let [anchor, leaf, inters @ ..] = recs.as_slice() else { return };
    // 2026-06-01T00:00:00Z, the test kit's instant (the seeds are minted around it).
    let now = UnixTime::since_unix_epoch(core::time::Duration::from_secs(1_780_272_000));
    let anchor = CertificateDer::from(anchor.to_vec());
    let leaf = CertificateDer::from(leaf.to_vec());
    let inters: Vec<CertificateDer<'static>> =
        inters.iter().map(|c| CertificateDer::from(c.to_vec())).collect();

    let ours = Validator::builder(certclaims::crypto::ALL)
        .with_anchors([anchor.clone()])
        .build()
        .ok()
        .map(|v| v.verify(&leaf, &inters, now));
    let Some(Ok(principal)) = ours else { return };

    let theirs = (|| {
        let anchors = [webpki::anchor_from_trusted_cert(&anchor)?];
        let ee = EndEntityCert::try_from(&leaf)?;
        ee.verify_for_usage(
            certclaims::crypto::ALL,
            &anchors,
            &inters,
            now,
            KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
    })();
    #[allow(deprecated)]
    match theirs {
        Ok(()) => {}
        // The listed differences (see the module docs).
        Err(
            webpki::Error::NameConstraintViolation
            | webpki::Error::UnsupportedNameType
            | webpki::Error::MalformedNameConstraint
            | webpki::Error::PathLenConstraintViolated
            | webpki::Error::UnknownIssuer
            | webpki::Error::UnsupportedCertVersion,
        ) => {}
        Err(e) => panic!(
            "certclaims accepted `{}` but rustls-webpki rejects it: {e:?}",
            principal.subject()
        ),
    }
});
