//! Signatures the host verifies: WebCrypto at the edge.
//!
//! The path engine asks for each signature it needs (see the crate's `path::signature`). A
//! native host answers at once with rustls-pki-types algorithms. A host whose cryptography is
//! asynchronous — `crypto.subtle.verify` in workerd, Deno, Node and Bun — cannot answer
//! inside the engine's synchronous search, so validation runs in rounds instead:
//!
//! ```text
//!  Validator::verify_deferred(chain, now, source, host algorithms, host SHA-256)
//!      ─► DeferredVerification
//!  loop:
//!    step(validator) ─► Progress::Done(principal | rejection)      (finished)
//!                    └► Progress::Pending: pending() lists SignatureRequests; the host
//!                       verifies them (in parallel) and calls answer(i, HostAnswer)
//! ```
//!
//! Each round runs the whole validation with every answer known so far. A signature not yet
//! answered is taken as valid *for that round only*, so one round discovers every signature
//! of the path it explores; the round's verdict is thrown away and its new requests go to the
//! host. A round that needed no new answer is final: it used nothing but real answers, so its
//! verdict is exactly what a synchronous oracle gives. A typical chain takes two rounds; an
//! invalid signature can send the search to another candidate issuer and so to another round
//! (bounded by [`MAX_ROUNDS`]).
//!
//! What is delegated, and what stays in Rust:
//! - ECDSA P-256 and P-384 with SHA-256/384, RSA PKCS#1 v1.5 and PSS with SHA-256/384/512
//!   ([`HostAlgorithm`]). Before a request is made, certclaims applies the same rules as its
//!   pure-Rust set, so the verdict cannot depend on the host: the ECDSA signature is parsed
//!   as strict DER and converted to the fixed-size `r ‖ s` form WebCrypto takes; the RSA key
//!   is parsed and held to 2048–8192 bits, an odd modulus and an odd exponent of
//!   3 ..= 2³³ − 1 below the modulus. What fails these rules is invalid without asking.
//! - Ed25519 is always verified in Rust (`verify_strict`): RFC 8032 leaves the treatment of
//!   small-order and non-canonical points open, and the hosts' WebCrypto implementations
//!   (OpenSSL in Node, BoringSSL in workerd, others in Deno and Bun) do not agree on it.
//! - A host that answers [`HostAnswer::Unsupported`] (its WebCrypto lacks the algorithm)
//!   gets the validator's own algorithms for that signature, when they include it.
//! - The presented certificates' SHA-256 (the leaf's fingerprint, the cache key), when the
//!   host passes its own ([`HostSha256`]: `node:crypto` in Node, Deno and Bun); a digest is a
//!   digest, so only the speed depends on who computes it.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::cache;
use crate::error::Rejection;
use crate::path::signature::{verify_with, SignatureCheck, SignatureOracle, Verdict};
use crate::pki_types::{alg_id, AlgorithmIdentifier, SignatureVerificationAlgorithm};
use crate::principal::Principal;
use crate::validator::Parsed;

/// At most this many rounds (each adds at least one answer; the engine's own budget of
/// signature checks bounds them first in practice).
pub const MAX_ROUNDS: usize = 16;

/// Smallest RSA modulus accepted, in bits (here and in the pure-Rust set).
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits.
pub const RSA_MAX_BITS: usize = 8192;

/// The host's SHA-256, for the presented certificates' fingerprints and the cache key (see
/// [`crate::cache`]): `node:crypto`'s `hash` at the edge, several times faster than SHA-256
/// compiled to wasm. Given a certificate's DER, it returns the digest, or `None` when it
/// cannot (certclaims then computes it); no function at all means certclaims computes every
/// digest.
pub type HostSha256<'a> = Option<&'a dyn Fn(&[u8]) -> Option<[u8; 32]>>;

/// A signature algorithm a host may verify for certclaims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostAlgorithm {
    /// ECDSA over P-256 with SHA-256.
    EcdsaP256Sha256,
    /// ECDSA over P-256 with SHA-384.
    EcdsaP256Sha384,
    /// ECDSA over P-384 with SHA-256.
    EcdsaP384Sha256,
    /// ECDSA over P-384 with SHA-384.
    EcdsaP384Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512 and a 64-byte salt.
    RsaPssSha512,
}

/// The key type of a [`HostAlgorithm`], as WebCrypto imports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostKey {
    /// `{ name: "ECDSA", namedCurve: "P-256" }`.
    P256,
    /// `{ name: "ECDSA", namedCurve: "P-384" }`.
    P384,
    /// `{ name: "RSASSA-PKCS1-v1_5", hash }`.
    RsaPkcs1,
    /// `{ name: "RSA-PSS", hash }`.
    RsaPss,
}

impl HostAlgorithm {
    /// Every algorithm a WebCrypto host is asked for.
    pub const ALL: &'static [HostAlgorithm] = &[
        Self::EcdsaP256Sha256,
        Self::EcdsaP256Sha384,
        Self::EcdsaP384Sha256,
        Self::EcdsaP384Sha384,
        Self::RsaPkcs1Sha256,
        Self::RsaPkcs1Sha384,
        Self::RsaPkcs1Sha512,
        Self::RsaPssSha256,
        Self::RsaPssSha384,
        Self::RsaPssSha512,
    ];

    /// A stable name (`ecdsa-p256-sha256`, `rsa-pss-sha384`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Self::EcdsaP256Sha384 => "ecdsa-p256-sha384",
            Self::EcdsaP384Sha256 => "ecdsa-p384-sha256",
            Self::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            Self::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
            Self::RsaPkcs1Sha384 => "rsa-pkcs1-sha384",
            Self::RsaPkcs1Sha512 => "rsa-pkcs1-sha512",
            Self::RsaPssSha256 => "rsa-pss-sha256",
            Self::RsaPssSha384 => "rsa-pss-sha384",
            Self::RsaPssSha512 => "rsa-pss-sha512",
        }
    }

    /// The key type to import.
    pub fn key(self) -> HostKey {
        match self {
            Self::EcdsaP256Sha256 | Self::EcdsaP256Sha384 => HostKey::P256,
            Self::EcdsaP384Sha256 | Self::EcdsaP384Sha384 => HostKey::P384,
            Self::RsaPkcs1Sha256 | Self::RsaPkcs1Sha384 | Self::RsaPkcs1Sha512 => HostKey::RsaPkcs1,
            Self::RsaPssSha256 | Self::RsaPssSha384 | Self::RsaPssSha512 => HostKey::RsaPss,
        }
    }

    /// The WebCrypto hash name (`SHA-256`, `SHA-384`, `SHA-512`).
    pub fn hash(self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256
            | Self::EcdsaP384Sha256
            | Self::RsaPkcs1Sha256
            | Self::RsaPssSha256 => "SHA-256",
            Self::EcdsaP256Sha384
            | Self::EcdsaP384Sha384
            | Self::RsaPkcs1Sha384
            | Self::RsaPssSha384 => "SHA-384",
            Self::RsaPkcs1Sha512 | Self::RsaPssSha512 => "SHA-512",
        }
    }

    /// The PSS salt length in bytes (the digest length, as the algorithm identifiers pin
    /// it); 0 for the others.
    pub fn salt_length(self) -> u32 {
        match self {
            Self::RsaPssSha256 => 32,
            Self::RsaPssSha384 => 48,
            Self::RsaPssSha512 => 64,
            _ => 0,
        }
    }

    fn ids(self) -> (AlgorithmIdentifier, AlgorithmIdentifier) {
        match self {
            Self::EcdsaP256Sha256 => (alg_id::ECDSA_P256, alg_id::ECDSA_SHA256),
            Self::EcdsaP256Sha384 => (alg_id::ECDSA_P256, alg_id::ECDSA_SHA384),
            Self::EcdsaP384Sha256 => (alg_id::ECDSA_P384, alg_id::ECDSA_SHA256),
            Self::EcdsaP384Sha384 => (alg_id::ECDSA_P384, alg_id::ECDSA_SHA384),
            Self::RsaPkcs1Sha256 => (alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA256),
            Self::RsaPkcs1Sha384 => (alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA384),
            Self::RsaPkcs1Sha512 => (alg_id::RSA_ENCRYPTION, alg_id::RSA_PKCS1_SHA512),
            Self::RsaPssSha256 => (alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA256),
            Self::RsaPssSha384 => (alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA384),
            Self::RsaPssSha512 => (alg_id::RSA_ENCRYPTION, alg_id::RSA_PSS_SHA512),
        }
    }
}

/// One signature for the host to verify, in the form WebCrypto takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRequest {
    /// The algorithm.
    pub algorithm: HostAlgorithm,
    /// The signer's SubjectPublicKeyInfo, DER (`importKey("spki", …)`).
    pub spki: Vec<u8>,
    /// The signed bytes.
    pub message: Vec<u8>,
    /// The signature: `r ‖ s` (each the curve's size) for ECDSA, the raw value for RSA.
    pub signature: Vec<u8>,
}

/// The host's answer to a [`SignatureRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostAnswer {
    /// `verify` returned true.
    Valid,
    /// `verify` returned false, or the key would not import.
    Invalid,
    /// The host lacks the algorithm: certclaims uses its own algorithms, if they have it.
    Unsupported,
}

/// Where a [`DeferredVerification`] stands.
#[derive(Debug)]
#[non_exhaustive]
// The outcome is as large as `Validator::verify`'s, and handed out once.
#[allow(clippy::large_enum_variant)]
pub enum Progress {
    /// Finished: the same outcome [`crate::Validator::verify_from`] gives.
    Done(Result<Principal, Rejection>),
    /// Answer every [`DeferredVerification::pending`] request, then step again.
    Pending,
}

/// What a deferred verification does when stepped.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per verification
pub(crate) enum Work {
    /// Validate this chain (owned copies).
    Chain {
        leaf: crate::pki_types::CertificateDer<'static>,
        /// Parsed once for every round.
        parsed: Parsed,
        now: crate::pki_types::UnixTime,
        source: crate::Source,
        key: [u8; 32],
    },
    /// Already decided (a cache hit, input over the limits, a forwarder's refusal).
    Decided(Result<Principal, Rejection>),
    /// Handed out.
    Finished,
}

/// A validation whose signatures the host verifies (see the module docs). Made by
/// [`crate::Validator::verify_deferred`] (or, for a forwarded header,
/// [`crate::forwarded::Forwarder::authenticate_deferred`]); step it with the same validator.
#[derive(Debug)]
pub struct DeferredVerification {
    pub(crate) work: Work,
    pub(crate) host: Vec<HostAlgorithm>,
    answers: Vec<(SignatureRequest, HostAnswer)>,
    pending: Vec<SignatureRequest>,
    /// The host's answers to `pending`, by index, until the next step.
    given: Vec<Option<HostAnswer>>,
    rounds: usize,
}

impl DeferredVerification {
    pub(crate) fn new(work: Work, host: &[HostAlgorithm]) -> Self {
        Self {
            work,
            host: host.to_vec(),
            answers: Vec::new(),
            pending: Vec::new(),
            given: Vec::new(),
            rounds: 0,
        }
    }

    /// A verification that is already decided.
    pub fn decided(outcome: Result<Principal, Rejection>) -> Self {
        Self::new(Work::Decided(outcome), &[])
    }

    /// The requests of the last round, in order; answer each with [`Self::answer`].
    pub fn pending(&self) -> &[SignatureRequest] {
        &self.pending
    }

    /// Records the host's answer to `pending()[index]` (an index out of range is ignored; a
    /// later answer to the same index replaces an earlier one; an unanswered request is asked
    /// again next round).
    pub fn answer(&mut self, index: usize, answer: HostAnswer) {
        if let Some(slot) = self.given.get_mut(index) {
            *slot = Some(answer);
        }
    }

    /// Runs a round: `Done` when every signature it needed was answered, otherwise
    /// `Pending` with new requests. `validator` must be the one that made this verification.
    pub fn step(&mut self, validator: &crate::Validator) -> Progress {
        self.step_answering(validator, &mut |_| None)
    }

    /// Runs a round in which `answer` is asked, at once, for each signature that has no
    /// answer yet: a host with synchronous verification (`node:crypto`'s `verify`) answers
    /// them all inside the round, and the verification finishes in one step, as natively. A
    /// request `answer` returns `None` for is left pending, to be answered asynchronously as
    /// with [`Self::step`]. The requests, the rules applied before them and the outcome are
    /// the same either way.
    pub fn step_answering(
        &mut self,
        validator: &crate::Validator,
        answer: &mut dyn FnMut(&SignatureRequest) -> Option<HostAnswer>,
    ) -> Progress {
        // Answered requests join the answers; those left unanswered are asked again.
        let mut unanswered = Vec::new();
        for (request, given) in self.pending.drain(..).zip(self.given.drain(..)) {
            match given {
                Some(answer) => self.answers.push((request, answer)),
                None => unanswered.push(request),
            }
        }
        let (leaf, parsed, now, source, key) = match &self.work {
            Work::Chain {
                leaf,
                parsed,
                now,
                source,
                key,
            } => (leaf, parsed, *now, *source, *key),
            Work::Decided(_) => match core::mem::replace(&mut self.work, Work::Finished) {
                Work::Decided(outcome) => return Progress::Done(outcome),
                _ => unreachable!("matched above"),
            },
            Work::Finished => {
                return Progress::Done(Err(Rejection::new(
                    crate::Code::Malformed,
                    crate::Step::Input,
                    "this verification has already finished; start a new one",
                )))
            }
        };
        self.rounds += 1;
        if self.rounds > MAX_ROUNDS {
            self.work = Work::Finished;
            return Progress::Done(Err(Rejection::new(
                crate::Code::ChainTooDeep,
                crate::Step::Validation,
                alloc::format!(
                    "path building gave up after {MAX_ROUNDS} rounds of signature checks by the \
                     host; present only the chain"
                ),
            )));
        }
        let mut oracle = Deferred {
            host: &self.host,
            fallback: validator.algorithms(),
            answers: &self.answers,
            learned: Vec::new(),
            answer,
            pending: unanswered,
        };
        let outcome = validator.verify_parsed(
            leaf,
            Cow::Borrowed(&parsed.leaf),
            &parsed.presented,
            parsed.unreadable.as_ref(),
            now,
            source,
            &mut oracle,
        );
        let (learned, pending) = (oracle.learned, oracle.pending);
        self.answers.extend(learned);
        if pending.is_empty() {
            validator.cache_outcome(key, now.as_secs(), &outcome);
            self.work = Work::Finished;
            Progress::Done(outcome)
        } else {
            self.given = alloc::vec![None; pending.len()];
            self.pending = pending;
            Progress::Pending
        }
    }
}

impl crate::Validator {
    /// Starts a validation of `leaf` with the presented `intermediates` at `now` whose
    /// signatures of the `host` algorithms the caller verifies (see [`crate::host`]), with the
    /// certificates' SHA-256 from `sha256` when the host has one. The outcome is the one
    /// [`crate::Validator::verify_from`] gives, and it is cached the same way (a cache hit
    /// finishes at the first step, with no request).
    pub fn verify_deferred(
        &self,
        leaf: &crate::pki_types::CertificateDer<'_>,
        intermediates: &[crate::pki_types::CertificateDer<'_>],
        now: crate::pki_types::UnixTime,
        source: crate::Source,
        host: &[HostAlgorithm],
        sha256: HostSha256<'_>,
    ) -> DeferredVerification {
        if let Err(r) = crate::input::check_limits(leaf, intermediates) {
            return DeferredVerification::decided(Err(r));
        }
        let digest = |der: &[u8]| {
            sha256
                .and_then(|f| f(der))
                .unwrap_or_else(|| cache::sha256(der))
        };
        let leaf_sha256 = digest(leaf.as_ref());
        // Without a cache there is nothing to look up or store: no chain key either.
        let key = if self.caches() {
            // An intermediate kept parsed has its digest already.
            let key = cache::key(source, &leaf_sha256, intermediates, &|der| {
                self.parsed.sha256_of(der).unwrap_or_else(|| digest(der))
            });
            if let Some(hit) = self.cached(&key, now.as_secs()) {
                return DeferredVerification::decided(hit);
            }
            key
        } else {
            [0; 32]
        };
        let parsed = match Parsed::new(leaf, leaf_sha256, intermediates, &self.parsed) {
            Ok(parsed) => parsed,
            Err(r) => {
                let outcome = Err(r);
                self.cache_outcome(key, now.as_secs(), &outcome);
                return DeferredVerification::decided(outcome);
            }
        };
        DeferredVerification::new(
            Work::Chain {
                leaf: leaf.clone().into_owned(),
                parsed,
                now,
                source,
                key,
            },
            host,
        )
    }
}

/// The oracle of one round.
struct Deferred<'a, 'f> {
    host: &'a [HostAlgorithm],
    fallback: &'a [&'static dyn SignatureVerificationAlgorithm],
    answers: &'a [(SignatureRequest, HostAnswer)],
    /// Answers given synchronously in this round.
    learned: Vec<(SignatureRequest, HostAnswer)>,
    answer: &'f mut dyn FnMut(&SignatureRequest) -> Option<HostAnswer>,
    pending: Vec<SignatureRequest>,
}

impl SignatureOracle for Deferred<'_, '_> {
    fn verify(&mut self, check: &SignatureCheck<'_>) -> Verdict {
        let delegated = self.host.iter().copied().find(|h| {
            let (key, sig) = h.ids();
            key.as_ref() == check.key_alg && sig.as_ref() == check.sig_alg
        });
        let Some(algorithm) = delegated else {
            let v = verify_with(self.fallback, check);
            // A signature algorithm the host has, under another kind of key.
            let host_knows = self
                .host
                .iter()
                .any(|h| h.ids().1.as_ref() == check.sig_alg);
            return match v {
                Verdict::UnsupportedAlgorithm if host_knows => Verdict::WrongKeyType,
                v => v,
            };
        };
        let Some(request) = request(algorithm, check) else {
            return Verdict::Invalid;
        };
        let known = self
            .answers
            .iter()
            .chain(self.learned.iter())
            .find(|(r, _)| *r == request)
            .map(|(_, a)| *a);
        if let Some(a) = known {
            return self.answered(a, check);
        }
        if !self.pending.contains(&request) {
            if let Some(a) = (self.answer)(&request) {
                // Kept, not copied: the request is not needed again.
                self.learned.push((request, a));
                return self.answered(a, check);
            }
            self.pending.push(request);
        }
        // Assumed for this round only: the round's verdict is discarded.
        Verdict::Valid
    }

    fn awaits_answers(&self) -> bool {
        !self.pending.is_empty()
    }
}

impl Deferred<'_, '_> {
    /// The verdict of the host's answer `a` for `check`.
    fn answered(&self, a: HostAnswer, check: &SignatureCheck<'_>) -> Verdict {
        match a {
            HostAnswer::Valid => Verdict::Valid,
            HostAnswer::Invalid => Verdict::Invalid,
            HostAnswer::Unsupported => verify_with(self.fallback, check),
        }
    }
}

/// The request for `check`, or `None` when certclaims' own rules already make it invalid.
fn request(algorithm: HostAlgorithm, check: &SignatureCheck<'_>) -> Option<SignatureRequest> {
    let signature = match algorithm.key() {
        HostKey::P256 => ecdsa_fixed(check.signature, 32)?,
        HostKey::P384 => ecdsa_fixed(check.signature, 48)?,
        HostKey::RsaPkcs1 | HostKey::RsaPss => {
            let modulus_len = rsa_key_ok(check.key)?;
            // The signature is exactly the modulus' length (RFC 8017 8.2.2 step 1).
            if check.signature.len() != modulus_len {
                return None;
            }
            check.signature.to_vec()
        }
    };
    Some(SignatureRequest {
        algorithm,
        spki: spki(check.key_alg, check.key),
        message: check.message.to_vec(),
        signature,
    })
}

/// A DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT
/// STRING }` from the AlgorithmIdentifier's contents and the key bits.
fn spki(key_alg: &[u8], key: &[u8]) -> Vec<u8> {
    let mut inner = Vec::with_capacity(key_alg.len() + key.len() + 12);
    inner.push(0x30);
    push_len(&mut inner, key_alg.len());
    inner.extend_from_slice(key_alg);
    inner.push(0x03);
    push_len(&mut inner, key.len() + 1);
    inner.push(0);
    inner.extend_from_slice(key);
    let mut out = Vec::with_capacity(inner.len() + 4);
    out.push(0x30);
    push_len(&mut out, inner.len());
    out.extend_from_slice(&inner);
    out
}

/// One strict DER TLV of `tag` at the start of `input`: (contents, rest). Definite, minimal
/// lengths only.
fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n || rest[0] == 0 {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return None;
        }
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A strict DER INTEGER that is not negative: its magnitude without the sign octet.
fn unsigned(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (v, rest) = tlv(input, 0x02)?;
    match v {
        [] => None,
        [b, ..] if b & 0x80 != 0 => None,
        [0, b, ..] if b & 0x80 == 0 => None,
        [0, tail @ ..] if !tail.is_empty() => Some((tail, rest)),
        _ => Some((v, rest)),
    }
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (strict DER, nothing after it) as
/// the `r ‖ s` WebCrypto takes; neither may be zero or wider than the curve.
fn ecdsa_fixed(sig: &[u8], size: usize) -> Option<Vec<u8>> {
    let (body, rest) = tlv(sig, 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, body) = unsigned(body)?;
    let (s, body) = unsigned(body)?;
    if !body.is_empty() {
        return None;
    }
    let mut out = alloc::vec![0u8; 2 * size];
    for (i, v) in [r, s].into_iter().enumerate() {
        if v.len() > size || v.iter().all(|b| *b == 0) {
            return None;
        }
        out[(i + 1) * size - v.len()..(i + 1) * size].copy_from_slice(v);
    }
    Some(out)
}

/// Checks a PKCS#1 `RSAPublicKey` against the pure-Rust set's rules (2048–8192 bits, odd
/// modulus, odd exponent in 3 ..= 2³³ − 1 and below the modulus); the modulus' length in
/// bytes.
fn rsa_key_ok(key: &[u8]) -> Option<usize> {
    let (body, rest) = tlv(key, 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (n, body) = unsigned(body)?;
    let (e, body) = unsigned(body)?;
    if !body.is_empty() {
        return None;
    }
    let bits = n.len() * 8 - n[0].leading_zeros() as usize;
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return None;
    }
    if n[n.len() - 1] & 1 == 0 || e.len() > 5 {
        return None;
    }
    let e = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if e < 3 || e & 1 == 0 || e > (1 << 33) - 1 {
        return None;
    }
    Some(n.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_convert_strictly() {
        // r = 1, s = 0x80 (needs the sign octet).
        let good = [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80];
        let fixed = ecdsa_fixed(&good, 32).unwrap();
        assert_eq!(fixed.len(), 64);
        assert_eq!(fixed[31], 1);
        assert_eq!(fixed[63], 0x80);
        assert!(fixed[..31].iter().chain(&fixed[32..63]).all(|b| *b == 0));
        // A superfluous leading zero, a negative value, a zero, trailing bytes, a long-form
        // length for a short value, an integer wider than the curve.
        for bad in [
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01][..],
            &[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01],
            &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01],
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00],
            &[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            &[0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x01],
        ] {
            assert_eq!(ecdsa_fixed(bad, 32), None, "{bad:02x?}");
        }
        let mut wide = alloc::vec![0x30, 0x26, 0x02, 0x21];
        wide.extend([0x7f; 33]);
        wide.extend([0x02, 0x01, 0x01]);
        assert_eq!(ecdsa_fixed(&wide, 32), None);
        assert!(ecdsa_fixed(&wide, 48).is_some());
    }

    fn rsa_key(n_bytes: usize, n_last: u8, e: &[u8]) -> Vec<u8> {
        let mut n = alloc::vec![0x00, 0xc1];
        n.resize(n_bytes, 0x5a);
        n.push(n_last);
        let mut body = alloc::vec![0x02];
        push_len(&mut body, n.len());
        body.extend(&n);
        body.push(0x02);
        push_len(&mut body, e.len());
        body.extend(e);
        let mut out = alloc::vec![0x30];
        push_len(&mut out, body.len());
        out.extend(body);
        out
    }

    #[test]
    fn rsa_keys_follow_the_pure_rust_rules() {
        // 2048 bits: 0xc1 then 255 more bytes.
        assert_eq!(
            rsa_key_ok(&rsa_key(256, 0x01, &[0x01, 0x00, 0x01])),
            Some(256)
        );
        assert_eq!(
            rsa_key_ok(&rsa_key(256, 0x02, &[0x01, 0x00, 0x01])),
            None,
            "even modulus"
        );
        assert_eq!(
            rsa_key_ok(&rsa_key(128, 0x01, &[0x01, 0x00, 0x01])),
            None,
            "1032 bits"
        );
        assert_eq!(
            rsa_key_ok(&rsa_key(256, 0x01, &[0x02])),
            None,
            "even exponent"
        );
        assert_eq!(rsa_key_ok(&rsa_key(256, 0x01, &[0x01])), None, "exponent 1");
        assert_eq!(rsa_key_ok(&rsa_key(256, 0x01, &[0x03])), Some(256));
        assert_eq!(
            rsa_key_ok(&rsa_key(256, 0x01, &[0x02, 0x00, 0x00, 0x00, 0x01])),
            None,
            "exponent above 2^33 - 1"
        );
        assert_eq!(rsa_key_ok(&rsa_key(1025, 0x01, &[0x03])), None, "8200 bits");
    }

    #[test]
    fn spki_is_der() {
        let key = [0x04; 65];
        let out = spki(alg_id::ECDSA_P256.as_ref(), &key);
        let (body, rest) = tlv(&out, 0x30).unwrap();
        assert!(rest.is_empty());
        let (alg, body) = tlv(body, 0x30).unwrap();
        assert_eq!(alg, alg_id::ECDSA_P256.as_ref());
        let (bits, body) = tlv(body, 0x03).unwrap();
        assert!(body.is_empty());
        assert_eq!(bits[0], 0);
        assert_eq!(&bits[1..], &key[..]);
    }
}
