//! Signature checks: the one narrow interface between path validation and cryptography.
//!
//! The engine never calls a verification algorithm itself. Each signature it needs — a
//! certificate under a candidate issuer's key, a CRL under its signer's — is a
//! [`SignatureCheck`] handed to a [`SignatureOracle`]. The native oracle ([`Native`]) answers
//! at once with the configured rustls-pki-types algorithms (a rustls `CryptoProvider`'s, or
//! [`crate::crypto::ALL`]) and remembers each answer, so a pair is never verified twice
//! while paths are explored. An asynchronous host (WebCrypto) can answer the same requests
//! out of band: [`SignatureOracle::prefetch`] receives, before the engine tries them, every
//! check a step of path building may need.

use alloc::vec::Vec;

use crate::pki_types::SignatureVerificationAlgorithm;

/// One signature to verify.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignatureCheck<'a> {
    /// The signer's SubjectPublicKeyInfo algorithm (the AlgorithmIdentifier's contents).
    pub(crate) key_alg: &'a [u8],
    /// The signer's public key (the subjectPublicKey bits).
    pub(crate) key: &'a [u8],
    /// The signature algorithm (the AlgorithmIdentifier's contents).
    pub(crate) sig_alg: &'a [u8],
    /// The signed bytes.
    pub(crate) message: &'a [u8],
    /// The signature.
    pub(crate) signature: &'a [u8],
}

/// What an oracle says of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Valid,
    Invalid,
    /// No configured algorithm has this signature algorithm.
    UnsupportedAlgorithm,
    /// The signature algorithm is known, but not for this kind of key.
    WrongKeyType,
}

/// Answers signature checks (see the module docs).
pub(crate) trait SignatureOracle {
    /// Verifies one signature.
    fn verify(&mut self, check: &SignatureCheck<'_>) -> Verdict;
    /// Announces checks the engine is about to ask for (the default does nothing).
    fn prefetch(&mut self, _checks: &[SignatureCheck<'_>]) {}
}

/// The native oracle: rustls-pki-types algorithms, answers remembered by the checked bytes'
/// identity.
pub(crate) struct Native {
    algs: &'static [&'static dyn SignatureVerificationAlgorithm],
    seen: Vec<(usize, usize, usize, Verdict)>,
    /// Signatures actually verified (not answered from memory).
    pub(crate) verified: usize,
}

impl Native {
    pub(crate) fn new(algs: &'static [&'static dyn SignatureVerificationAlgorithm]) -> Self {
        Self {
            algs,
            seen: Vec::new(),
            verified: 0,
        }
    }
}

impl SignatureOracle for Native {
    fn verify(&mut self, c: &SignatureCheck<'_>) -> Verdict {
        // The same key bytes, message and signature (by address: the engine's inputs live as
        // long as the oracle) give the same answer.
        let id = (
            c.key.as_ptr() as usize,
            c.message.as_ptr() as usize,
            c.signature.as_ptr() as usize,
        );
        if let Some((_, _, _, v)) = self.seen.iter().find(|(k, m, s, _)| (*k, *m, *s) == id) {
            return *v;
        }
        self.verified += 1;
        let v = verify_with(self.algs, c);
        self.seen.push((id.0, id.1, id.2, v));
        v
    }
}

/// Picks the algorithm for the signature and key algorithm identifiers and verifies.
pub(crate) fn verify_with(
    algs: &[&dyn SignatureVerificationAlgorithm],
    c: &SignatureCheck<'_>,
) -> Verdict {
    let mut known = false;
    for alg in algs
        .iter()
        .filter(|a| a.signature_alg_id().as_ref() == c.sig_alg)
    {
        known = true;
        if alg.public_key_alg_id().as_ref() != c.key_alg {
            continue;
        }
        return match alg.verify_signature(c.key, c.message, c.signature) {
            Ok(()) => Verdict::Valid,
            Err(_) => Verdict::Invalid,
        };
    }
    if known {
        Verdict::WrongKeyType
    } else {
        Verdict::UnsupportedAlgorithm
    }
}
