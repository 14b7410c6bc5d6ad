//! Signature checks: the one narrow interface between path validation and cryptography.
//!
//! The engine never calls a verification algorithm itself. Each signature it needs — a
//! certificate under a candidate issuer's key, a CRL under its signer's — is a
//! [`SignatureCheck`] handed to a [`SignatureOracle`]. The native oracle ([`Native`]) answers
//! at once with the configured rustls-pki-types algorithms (a rustls `CryptoProvider`'s, or
//! [`crate::crypto::ALL`]); the engine remembers each answer, so a pair is never verified
//! twice while paths are explored. An asynchronous host (WebCrypto) answers the same requests
//! out of band, in rounds: see [`crate::host`].

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
    /// Whether some answer was only assumed (a deferred round): the caller stops before
    /// building a principal that would be thrown away.
    fn awaits_answers(&self) -> bool {
        false
    }
}

/// The native oracle: rustls-pki-types algorithms, answering at once. (The engine remembers
/// each answer, so a pair is verified once per verification.)
pub(crate) struct Native {
    algs: &'static [&'static dyn SignatureVerificationAlgorithm],
}

impl Native {
    pub(crate) fn new(algs: &'static [&'static dyn SignatureVerificationAlgorithm]) -> Self {
        Self { algs }
    }
}

impl SignatureOracle for Native {
    fn verify(&mut self, c: &SignatureCheck<'_>) -> Verdict {
        verify_with(self.algs, c)
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
