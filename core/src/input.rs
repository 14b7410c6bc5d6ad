//! Presented input: a leaf plus intermediates, decoded from PEM or DER, with hard limits.

use alloc::format;
use alloc::vec::Vec;

use crate::error::{Code, Rejection, Step};
use crate::forwarded::decode::{pem_document, Bounds};
use crate::pki_types::CertificateDer;

/// Hard limits on what a client (or a proxy acting for one) can make certclaims process.
///
/// Each overflow is a typed rejection, checked before any parsing or signature work. These
/// limits bound the input; the work done on it is bounded by the path engine's budget, which
/// applies whatever the input: at most 100 signature checks, 200,000 candidate issuers
/// considered and 250,000 name-constraint comparisons per verification, and paths of at most 6
/// intermediates. Exhausting the budget is `chain_too_deep` (name_constraint_violation for the
/// comparisons).
pub mod limits {
    /// Largest accepted certificate, in DER bytes (`malformed` beyond).
    pub const MAX_CERT_BYTES: usize = 64 * 1024;
    /// Most intermediates a client may present (`chain_too_deep` beyond). This caps the
    /// input only (64 × [`MAX_CERT_BYTES`] at most); path building over the presented
    /// candidates stops at the engine's budget (100 signature checks, 200,000 candidates, 6
    /// intermediates deep), and a candidate whose key does not verify the certificate below
    /// it is dropped before anything is built on it, so many candidates with one subject cost
    /// at most 100 signature checks. Ordinary chains carry one to three intermediates; the
    /// limit leaves room for bundles of cross-signed alternatives (the bettertls path-building
    /// suite presents 35).
    pub const MAX_PRESENTED_INTERMEDIATES: usize = 64;
    /// Largest PEM document accepted by [`Chain::from_pem`](super::Chain::from_pem).
    pub const MAX_PEM_BYTES: usize = 1024 * 1024;
    /// Largest CRL accepted in a policy, in DER bytes.
    pub const MAX_CRL_BYTES: usize = 16 * 1024 * 1024;
}

/// A presented chain: the leaf first, then the intermediates the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain<'a> {
    certs: Vec<CertificateDer<'a>>,
}

impl<'a> Chain<'a> {
    /// A chain from DER certificates, leaf first. An empty list is `no_certificate`.
    pub fn from_der(certs: Vec<CertificateDer<'a>>) -> Result<Self, Rejection> {
        if certs.is_empty() {
            return Err(Rejection::no_certificate());
        }
        check_limits(&certs[0], &certs[1..])?;
        Ok(Self { certs })
    }

    /// The leaf.
    pub fn leaf(&self) -> &CertificateDer<'a> {
        &self.certs[0]
    }

    /// The intermediates, in the order presented.
    pub fn intermediates(&self) -> &[CertificateDer<'a>] {
        &self.certs[1..]
    }

    /// Every certificate, leaf first.
    pub fn certs(&self) -> &[CertificateDer<'a>] {
        &self.certs
    }
}

impl Chain<'static> {
    /// Decodes the `CERTIFICATE` blocks of a PEM document, leaf first (RFC 7468, lax): text
    /// outside the blocks is ignored and other blocks (keys, CRLs) are skipped whole. No
    /// certificate is `no_certificate`; a broken block is `malformed`, naming its byte. The
    /// same block reader decodes PEM from forwarded headers.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Rejection> {
        if pem.len() > limits::MAX_PEM_BYTES {
            return Err(Rejection::malformed(format!(
                "PEM input of {} bytes exceeds the limit of {} bytes",
                pem.len(),
                limits::MAX_PEM_BYTES
            )));
        }
        let bounds = Bounds {
            max_certificates: limits::MAX_PRESENTED_INTERMEDIATES + 1,
        };
        let certs = pem_document(pem, bounds).map_err(|f| {
            if f.too_many {
                too_many()
            } else {
                Rejection::malformed(format!(
                    "PEM, byte {}: {}; present the chain as PEM CERTIFICATE blocks (RFC 7468), leaf first",
                    f.offset, f.what
                ))
            }
        })?;
        Self::from_der(certs)
    }
}

/// The same rejection however the chain arrived (a PEM document is read only up to the
/// first certificate over the limit, a DER list is counted whole).
fn too_many() -> Rejection {
    Rejection::new(
        Code::ChainTooDeep,
        Step::Input,
        format!(
            "more than {0} intermediates presented; at most {0} are considered: present only \
             the chain from the leaf to the trust anchor",
            limits::MAX_PRESENTED_INTERMEDIATES
        ),
    )
}

/// Checks the presented chain against [`limits`].
pub(crate) fn check_limits(
    leaf: &[u8],
    intermediates: &[CertificateDer<'_>],
) -> Result<(), Rejection> {
    if leaf.is_empty() {
        return Err(Rejection::no_certificate());
    }
    if intermediates.len() > limits::MAX_PRESENTED_INTERMEDIATES {
        return Err(too_many());
    }
    for (i, der) in core::iter::once(leaf)
        .chain(intermediates.iter().map(|c| c.as_ref()))
        .enumerate()
    {
        if der.len() > limits::MAX_CERT_BYTES {
            return Err(Rejection::malformed(format!(
                "certificate #{i} is {} bytes; the limit is {} bytes",
                der.len(),
                limits::MAX_CERT_BYTES
            )));
        }
    }
    Ok(())
}

/// What a binary (not PEM) input is, judged from its first elements: for telling an
/// operator who passed the wrong file what it is. Nothing is validated; [`DerKind::Other`]
/// is for the certificate parser to judge.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerKind {
    /// Not a DER SEQUENCE at all (perhaps PEM or text).
    NotDer,
    /// A PKCS#12 (`.p12`/`.pfx`) PFX: version 3, then a ContentInfo.
    Pkcs12,
    /// A private key: PKCS#8 (version 0 or 1, then an AlgorithmIdentifier), PKCS#1 RSA
    /// (version 0, then the modulus) or SEC1 EC (version 1, then the key OCTET STRING).
    PrivateKey,
    /// A CRL: a tbsCertList holds thisUpdate (a time) where a tbsCertificate holds its
    /// validity (a SEQUENCE).
    Crl,
    /// Anything else that is a SEQUENCE: a certificate, or for the certificate parser to
    /// reject.
    Other,
}

/// Classifies a binary input (see [`DerKind`]).
pub fn der_kind(input: &[u8]) -> DerKind {
    use crate::path::der::{Reader, GENERALIZED_TIME, INTEGER, OCTET_STRING, SEQUENCE, UTC_TIME};
    let mut top = Reader::new(input);
    let Ok(outer) = top.expect(SEQUENCE, "a SEQUENCE") else {
        return DerKind::NotDer;
    };
    let mut body = Reader::inside(input, &outer);
    let Ok(first) = body.any() else {
        return DerKind::Other;
    };
    let next = body.peek_tag();
    if first.tag == INTEGER {
        return match &input[first.contents()] {
            [3] if next == Some(SEQUENCE) => DerKind::Pkcs12,
            [0] | [1] if matches!(next, Some(SEQUENCE | INTEGER | OCTET_STRING)) => {
                DerKind::PrivateKey
            }
            _ => DerKind::Other,
        };
    }
    if first.tag != SEQUENCE {
        return DerKind::Other;
    }
    // tbs: [version INTEGER] signature issuer thisUpdate … for a CRL.
    let mut tbs = Reader::inside(input, &first);
    let mut tags = Vec::new();
    while tags.len() < 4 {
        match tbs.any() {
            Ok(t) => tags.push(t.tag),
            Err(_) => break,
        }
    }
    let time = |t: Option<&u8>| matches!(t, Some(&UTC_TIME | &GENERALIZED_TIME));
    let crl = match tags.first() {
        Some(&INTEGER) => {
            tags.get(1) == Some(&SEQUENCE) && tags.get(2) == Some(&SEQUENCE) && time(tags.get(3))
        }
        Some(&SEQUENCE) => tags.get(1) == Some(&SEQUENCE) && time(tags.get(2)),
        _ => false,
    };
    if crl {
        DerKind::Crl
    } else {
        DerKind::Other
    }
}
