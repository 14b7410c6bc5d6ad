//! rustls-webpki as the differential oracle of certclaims' path engine.
//!
//! Every x509-limbo testcase goes through both engines with the same inputs — trust anchors,
//! intermediates, CRLs (certclaims' default revocation options: whole chain, unknown status
//! denied, expired CRLs used), validation time and usage (clientAuth for CLIENT testcases,
//! serverAuth for SERVER ones) — and only the chain verdict is compared: peer names and
//! `max_chain_depth`, which are not path validation, are left out on both sides. Both engines
//! use the same signature algorithms (aws-lc-rs through rustls-webpki's set), so a difference
//! is one of validation, not of cryptography.
//!
//! Each difference must be listed, with its reason, in `tests/limbo/differential.json`; the
//! `differential` binary fails on an unlisted difference and on a listed one that no longer
//! occurs.

use std::collections::BTreeMap;

use certclaims::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use certclaims::policy::ExtendedKeyUsage;
use certclaims::Validator;
use serde::{Deserialize, Serialize};
use webpki::{
    CertRevocationList, EndEntityCert, KeyUsage, OwnedCertRevocationList, RevocationOptionsBuilder,
};

use crate::limbo::{prepare, Prepared, Setup, Testcase};

/// The algorithms both engines accept: what rustls's aws-lc-rs provider verifies for
/// certificates (ECDSA P-256/P-384/P-521, RSA PKCS#1 v1.5 and PSS of 2048 to 8192 bits,
/// Ed25519).
static ALGS: &[&dyn certclaims::pki_types::SignatureVerificationAlgorithm] = {
    use webpki::aws_lc_rs as a;
    &[
        a::ECDSA_P256_SHA256,
        a::ECDSA_P256_SHA384,
        a::ECDSA_P384_SHA256,
        a::ECDSA_P384_SHA384,
        a::ECDSA_P521_SHA256,
        a::ECDSA_P521_SHA384,
        a::ECDSA_P521_SHA512,
        a::ED25519,
        a::RSA_PKCS1_2048_8192_SHA256,
        a::RSA_PKCS1_2048_8192_SHA384,
        a::RSA_PKCS1_2048_8192_SHA512,
        a::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        a::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        a::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    ]
};

/// A verdict of one engine: `Ok(what validated)` or `Err(why not)`.
pub type Outcome = Result<String, String>;

/// The two verdicts on one testcase.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The testcase id.
    pub id: String,
    /// certclaims' verdict.
    pub certclaims: Outcome,
    /// rustls-webpki's verdict.
    pub webpki: Outcome,
}

impl Compared {
    /// Whether the verdicts differ (accept versus reject).
    pub fn differs(&self) -> bool {
        self.certclaims.is_ok() != self.webpki.is_ok()
    }
}

/// One listed difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listed {
    /// `SUCCESS` or `FAILURE`: certclaims' verdict.
    pub certclaims: String,
    /// Why the engines differ, and which one follows which rule.
    pub reason: String,
}

/// The committed file of expected differences.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Differences {
    /// Always 1.
    pub version: u64,
    /// By testcase id.
    pub differences: BTreeMap<String, Listed>,
}

struct Inputs {
    leaf: CertificateDer<'static>,
    intermediates: Vec<CertificateDer<'static>>,
    anchors: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    time: UnixTime,
    server: bool,
}

impl From<Setup> for Inputs {
    fn from(s: Setup) -> Self {
        Self {
            leaf: s.leaf,
            intermediates: s.intermediates,
            anchors: s.anchors,
            crls: s.crls,
            time: s.time,
            server: s.eku == ExtendedKeyUsage::ServerAuth,
        }
    }
}

/// certclaims' chain verdict.
fn certclaims(i: &Inputs) -> Outcome {
    let eku = if i.server {
        ExtendedKeyUsage::ServerAuth
    } else {
        ExtendedKeyUsage::ClientAuth
    };
    let validator = Validator::builder(ALGS)
        .with_anchors(i.anchors.iter().cloned())
        .with_crls(i.crls.iter().cloned())
        .with_required_eku(eku)
        .build()
        .map_err(|e| format!("validator not built: {e}"))?;
    validator
        .verify(&i.leaf, &i.intermediates, i.time)
        .map(|p| p.subject().to_string())
        .map_err(|r| r.to_string())
}

/// rustls-webpki's chain verdict.
fn webpki(i: &Inputs) -> Outcome {
    let anchors = i
        .anchors
        .iter()
        .map(|d| webpki::anchor_from_trusted_cert(d).map(|a| a.to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("anchor: {e}"))?;
    let crls = i
        .crls
        .iter()
        .map(|d| OwnedCertRevocationList::from_der(d).map(CertRevocationList::from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("CRL: {e}"))?;
    let refs: Vec<&CertRevocationList<'_>> = crls.iter().collect();
    let revocation = RevocationOptionsBuilder::new(&refs).ok().map(|b| b.build());
    let ee = EndEntityCert::try_from(&i.leaf).map_err(|e| format!("leaf: {e}"))?;
    let usage = if i.server {
        KeyUsage::server_auth()
    } else {
        KeyUsage::client_auth()
    };
    ee.verify_for_usage(
        ALGS,
        &anchors,
        &i.intermediates,
        i.time,
        usage,
        revocation,
        None,
    )
    .map(|_| "verified".to_string())
    .map_err(|e| format!("{e:?}"))
}

/// Both verdicts on one testcase (decoded as the limbo harness decodes it; a testcase the
/// harness skips is not compared, and both sides say why).
pub fn compare(tc: &Testcase, now: UnixTime) -> Compared {
    let (certclaims, webpki) = match prepare(tc, now) {
        Ok(Prepared::Run(setup)) => {
            let i = Inputs::from(*setup);
            (certclaims(&i), webpki(&i))
        }
        Ok(Prepared::Skip(why)) => (
            Err(format!("skipped: {why}")),
            Err(format!("skipped: {why}")),
        ),
        Err(e) => (Err(format!("harness: {e}")), Err(format!("harness: {e}"))),
    };
    Compared {
        id: tc.id.clone(),
        certclaims,
        webpki,
    }
}

/// Both verdicts on chains given as DER (the fuzz target's entry): anchors, intermediates,
/// the leaf, at `time`, for clientAuth.
pub fn compare_der(
    anchors: &[CertificateDer<'static>],
    intermediates: &[CertificateDer<'static>],
    leaf: &CertificateDer<'static>,
    time: UnixTime,
) -> (Outcome, Outcome) {
    let i = Inputs {
        leaf: leaf.clone(),
        intermediates: intermediates.to_vec(),
        anchors: anchors.to_vec(),
        crls: Vec::new(),
        time,
        server: false,
    };
    (certclaims(&i), webpki(&i))
}

/// Checks the comparisons against the listed differences: the errors (unlisted differences,
/// listed ones that no longer occur or changed direction).
pub fn check(compared: &[Compared], listed: &Differences) -> Vec<String> {
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in compared.iter().filter(|c| c.differs()) {
        seen.insert(c.id.as_str());
        let ours = if c.certclaims.is_ok() {
            "SUCCESS"
        } else {
            "FAILURE"
        };
        match listed.differences.get(&c.id) {
            Some(l) if l.certclaims == ours => {}
            Some(l) => errors.push(format!(
                "{}: listed with certclaims {}, now {ours}",
                c.id, l.certclaims
            )),
            None => errors.push(format!(
                "{}: unlisted difference: certclaims {ours} ({}), webpki {} ({})",
                c.id,
                c.certclaims.as_ref().unwrap_or_else(|e| e),
                if c.webpki.is_ok() {
                    "SUCCESS"
                } else {
                    "FAILURE"
                },
                c.webpki.as_ref().unwrap_or_else(|e| e),
            )),
        }
    }
    for id in listed.differences.keys() {
        if !seen.contains(id.as_str()) {
            errors.push(format!(
                "{id}: listed, but the engines now agree; remove it"
            ));
        }
    }
    errors
}
