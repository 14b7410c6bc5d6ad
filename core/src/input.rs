//! Presented input: a leaf plus intermediates, decoded from PEM or DER, with hard limits.

use alloc::format;
use alloc::vec::Vec;

use crate::error::{Code, Rejection, Step};
use crate::pki_types::pem::PemObject;
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
    /// Decodes the `CERTIFICATE` blocks of a PEM document, leaf first; other blocks (keys,
    /// CRLs) are skipped. No certificate is `no_certificate`; a broken block is `malformed`.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Rejection> {
        if pem.len() > limits::MAX_PEM_BYTES {
            return Err(Rejection::malformed(format!(
                "PEM input of {} bytes exceeds the limit of {} bytes",
                pem.len(),
                limits::MAX_PEM_BYTES
            )));
        }
        let mut certs = Vec::new();
        for item in CertificateDer::pem_slice_iter(pem) {
            let cert = item.map_err(|e| Rejection::malformed(format!("PEM: {e}")))?;
            certs.push(cert);
            if certs.len() > limits::MAX_PRESENTED_INTERMEDIATES + 1 {
                return Err(too_many());
            }
        }
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
