//! The validator: trust, the certclaims path engine ([`crate::path`]), the profile and
//! policy checks on each path, and the policy's identity rules and claims.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use sha2::{Digest, Sha256};

use crate::cache::{self, Cache, CacheOptions, CacheStats, ParsedCerts};
use crate::cert::{presentable_fingerprints, rfc3339, CertFacts};
use crate::error::{Code, PolicyError, Rejection, Step};
use crate::forwarded::decode::{pem_objects, Label, CERTIFICATE, X509_CRL};
use crate::input::{check_limits, limits, Chain};
use crate::path::revocation::Crl;
use crate::path::signature::{Native, SignatureOracle};
use crate::path::{Engine, Path};
use crate::pki_types::{
    CertificateDer, CertificateRevocationListDer, SignatureVerificationAlgorithm, UnixTime,
};
use crate::policy::{
    normalize_serial, parse_cert_digest, parse_fingerprint, parse_serial, AllowedTypes, CertDigest,
    ClaimGrant, CompiledRule, DenyEntry, ExtendedKeyUsage, MatchTarget, Policy, Revocation, Rule,
    Trust, DEFAULT_CLAIMS_ISSUER,
};
use crate::principal::{ChainLink, Fields, Lazy, Principal, Source, Text};

/// id-kp-clientAuth (RFC 5280 4.2.1.12).
pub(crate) const CLIENT_AUTH_OID: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-kp-serverAuth (RFC 5280 4.2.1.12).
pub(crate) const SERVER_AUTH_OID: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

/// Signature verification algorithms, as rustls's `WebPkiSupportedAlgorithms::all` holds them.
pub type Algorithms = &'static [&'static dyn SignatureVerificationAlgorithm];

/// Validates client certificate chains and applies a policy. Cheap to share (`Sync`);
/// build one per policy generation.
pub struct Validator {
    algs: Algorithms,
    anchor_facts: Vec<CertFacts>,
    anchor_ders: Vec<CertificateDer<'static>>,
    intermediates: Vec<CertFacts>,
    crls: Vec<Crl>,
    trust: Trust,
    eku: ExtendedKeyUsage,
    pinned: Vec<[u8; 32]>,
    deny_fingerprints: Vec<CertDigest>,
    deny_serials: Vec<(IssuerId, Vec<u8>)>,
    rules: Vec<CompiledRule>,
    grants: Vec<(CompiledRule, Vec<(Text, Text)>)>,
    claims_issuer: Text,
    cache: Cache,
    /// Presented intermediates, parsed once.
    pub(crate) parsed: ParsedCerts,
    /// The earliest nextUpdate of the policy's CRLs (a cached principal is not reused past it).
    crl_next_update: Option<u64>,
}

impl core::fmt::Debug for Validator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Validator")
            .field(
                "anchors",
                &self
                    .anchor_facts
                    .iter()
                    .map(|a| &a.subject)
                    .collect::<Vec<_>>(),
            )
            .field("intermediates", &self.intermediates.len())
            .field("crls", &self.crls.len())
            .field("trust", &self.trust)
            .field("eku", &self.eku)
            .field("rules", &self.rules.len())
            .field("grants", &self.grants.len())
            .field("cache", &self.cache.options())
            .finish_non_exhaustive()
    }
}

/// A presented chain, parsed.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) leaf: CertFacts,
    pub(crate) presented: Vec<Arc<CertFacts>>,
    /// The first presented intermediate that does not parse: presented intermediates that
    /// do not parse are left out of path building, and when no path is found, this explains
    /// why better than a missing issuer does.
    pub(crate) unreadable: Option<Rejection>,
}

impl Parsed {
    /// Parses `leaf`, whose SHA-256 is `leaf_sha256`, and `intermediates` through the
    /// validator's `parsed` certificates.
    pub(crate) fn new(
        leaf: &CertificateDer<'_>,
        leaf_sha256: [u8; 32],
        intermediates: &[CertificateDer<'_>],
        parsed: &ParsedCerts,
    ) -> Result<Self, Rejection> {
        let leaf = CertFacts::parse_digested(leaf, "client certificate", leaf_sha256)?;
        let mut presented = Vec::new();
        let mut unreadable = None;
        for (i, der) in intermediates.iter().enumerate() {
            match parsed.parse(der, &format!("presented certificate #{}", i + 2)) {
                Ok(f) => presented.push(f),
                Err(r) => {
                    unreadable.get_or_insert(r);
                }
            }
        }
        Ok(Self {
            leaf,
            presented,
            unreadable,
        })
    }
}

/// What deny-lists match an intermediate by: its presentable fingerprints, its serial, and
/// the SHA-256 of its SubjectPublicKeyInfo.
type PathCertIds = (Vec<([u8; 32], [u8; 20])>, Vec<u8>, [u8; 32]);

/// How a deny-list entry names the issuer of a denied serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IssuerId {
    /// SHA-256 or SHA-1 of one of the issuer's certificates (any presentable encoding of it).
    Certificate(CertDigest),
    /// SHA-256 of the issuer's SubjectPublicKeyInfo.
    Key([u8; 32]),
}

/// Builds a [`Validator`] from code; [`Validator::from_policy`] fills one from a [`Policy`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ValidatorBuilder {
    algs: Algorithms,
    anchors: Vec<CertificateDer<'static>>,
    intermediates: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    trust: Trust,
    eku: ExtendedKeyUsage,
    allow: Vec<Rule>,
    grants: Vec<ClaimGrant>,
    claims_issuer: String,
    cache: CacheOptions,
}

impl ValidatorBuilder {
    /// Adds trust anchors (DER certificates).
    pub fn with_anchors(
        mut self,
        anchors: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Self {
        self.anchors.extend(anchors);
        self
    }
    /// Adds intermediates usable in path building beside those the client presents.
    pub fn with_intermediates(
        mut self,
        certs: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Self {
        self.intermediates.extend(certs);
        self
    }
    /// Adds CRLs (DER).
    pub fn with_crls(
        mut self,
        crls: impl IntoIterator<Item = CertificateRevocationListDer<'static>>,
    ) -> Self {
        self.crls.extend(crls);
        self
    }
    /// Sets which certificate types are accepted.
    pub fn with_allowed_types(mut self, allowed: AllowedTypes) -> Self {
        self.trust.allowed_types = allowed;
        self
    }
    /// Pins a self-signed certificate by the SHA-256 of its DER.
    pub fn with_pinned(mut self, sha256: [u8; 32]) -> Self {
        self.trust
            .pinned
            .push(format!("sha256:{}", hex::encode(sha256)));
        self
    }
    /// Accepts any self-signed certificate (when allowed types permit), pinned or not.
    pub fn allow_unpinned_self_signed(mut self) -> Self {
        self.trust.allow_unpinned_self_signed = true;
        self
    }
    /// Does not require the clientAuth EKU (any EKU, or none, is accepted); the same as
    /// `with_required_eku(ExtendedKeyUsage::Any)`.
    pub fn without_client_auth_eku(self) -> Self {
        self.with_required_eku(ExtendedKeyUsage::Any)
    }
    /// Sets the extended key usage the leaf must allow when it has an EKU extension
    /// (default [`ExtendedKeyUsage::ClientAuth`]). [`ExtendedKeyUsage::ServerAuth`] validates
    /// a TLS server's certificate with the same engine and adds the CA/Browser Forum server
    /// certificate profile described there (an EKU becomes mandatory, among others);
    /// [`ExtendedKeyUsage::Any`] drops the requirement.
    pub fn with_required_eku(mut self, eku: ExtendedKeyUsage) -> Self {
        self.trust.require_client_auth_eku = eku == ExtendedKeyUsage::ClientAuth;
        self.eku = eku;
        self
    }
    /// Does not check the leaf's validity period.
    pub fn without_validity_check(mut self) -> Self {
        self.trust.check_validity = false;
        self
    }
    /// Tolerates a leaf that is at most `skew` before its notBefore or after its notAfter.
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.trust.clock_skew_seconds = skew.as_secs();
        self
    }
    /// At most `n` intermediates between leaf and anchor, self-issued ones not counted (see
    /// [`Trust::max_depth`]).
    pub fn with_max_depth(mut self, n: usize) -> Self {
        self.trust.max_depth = Some(n);
        self
    }
    /// Adds a deny-list entry.
    pub fn with_deny(mut self, entry: DenyEntry) -> Self {
        self.trust.deny.push(entry);
        self
    }
    /// Sets CRL options.
    pub fn with_revocation(mut self, revocation: Revocation) -> Self {
        self.trust.revocation = revocation;
        self
    }
    /// Adds an identity rule (see [`crate::policy`]).
    pub fn allow(mut self, rule: Rule) -> Self {
        self.allow.push(rule);
        self
    }
    /// Adds a claim grant.
    pub fn with_grant(mut self, grant: ClaimGrant) -> Self {
        self.grants.push(grant);
        self
    }
    /// Sets how outcomes are cached (default [`CacheOptions::DEFAULT`]; [`CacheOptions::OFF`]
    /// verifies every call). See [`crate::cache`].
    pub fn with_cache(mut self, options: CacheOptions) -> Self {
        self.cache = options;
        self
    }
    /// Sets the claims issuer (default `LOCAL AUTHORITY`).
    pub fn with_claims_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.claims_issuer = issuer.into();
        self
    }

    /// Checks every setting and builds the validator.
    pub fn build(self) -> Result<Validator, PolicyError> {
        let mut anchor_facts = Vec::new();
        for (i, der) in self.anchors.iter().enumerate() {
            let field = format!("trust.anchors[{i}]");
            let mut facts = CertFacts::parse(der, &field).map_err(|r| {
                PolicyError::invalid(&field, format!("not a usable trust anchor: {}", r.detail()))
            })?;
            // An anchor that issues a path is held to the rule for every certificate of it
            // (checked per path, so an unrelated odd anchor does not stop the validator from
            // building).
            if let Some(oid) = facts.pkix.unknown_critical.first() {
                let problem = format!(
                    "a critical extension {oid} that certclaims does not process (RFC 5280 4.2)"
                );
                facts.profile_problems.push(problem);
            }
            anchor_facts.push(facts);
        }
        let mut intermediates = Vec::new();
        for (i, der) in self.intermediates.iter().enumerate() {
            let field = format!("trust.intermediates[{i}]");
            intermediates.push(
                CertFacts::parse(der, &field)
                    .map_err(|r| PolicyError::invalid(&field, r.detail().to_string()))?,
            );
        }
        let mut crls = Vec::new();
        for (i, der) in self.crls.iter().enumerate() {
            let field = format!("trust.crls[{i}]");
            if der.len() > limits::MAX_CRL_BYTES {
                return Err(PolicyError::invalid(field, "CRL exceeds the size limit"));
            }
            crls.push(
                Crl::parse(der)
                    .map_err(|e| PolicyError::invalid(&field, format!("not a usable CRL: {e}")))?,
            );
        }
        let mut pinned = Vec::new();
        for (i, p) in self.trust.pinned.iter().enumerate() {
            pinned.push(parse_fingerprint(&format!("trust.pinned[{i}]"), p)?);
        }
        let mut deny_fingerprints = Vec::new();
        let mut deny_serials = Vec::new();
        for (i, d) in self.trust.deny.iter().enumerate() {
            let field = format!("trust.deny[{i}]");
            match d {
                DenyEntry::Fingerprint(fp) => {
                    deny_fingerprints.push(parse_cert_digest(&field, fp)?)
                }
                DenyEntry::IssuerSerial { issuer, serial } => deny_serials.push((
                    IssuerId::Certificate(parse_cert_digest(&format!("{field}.issuer"), issuer)?),
                    parse_serial(&format!("{field}.serial"), serial)?,
                )),
                DenyEntry::IssuerKeySerial { issuer_key, serial } => deny_serials.push((
                    IssuerId::Key(parse_fingerprint(
                        &format!("{field}.issuer_key"),
                        issuer_key,
                    )?),
                    parse_serial(&format!("{field}.serial"), serial)?,
                )),
            }
        }
        let self_signed_ok = self.trust.allowed_types != AllowedTypes::Chained
            && (!pinned.is_empty() || self.trust.allow_unpinned_self_signed);
        if anchor_facts.is_empty() && !self_signed_ok {
            return Err(PolicyError::NoTrust);
        }
        let rules = self
            .allow
            .iter()
            .enumerate()
            .map(|(i, r)| CompiledRule::compile(&format!("identity.allow[{i}]"), r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut grants = Vec::new();
        for (i, g) in self.grants.iter().enumerate() {
            let rule = CompiledRule::compile(&format!("claims.add[{i}].when"), &g.when)?;
            let mut claims = Vec::new();
            for (ty, values) in &g.claims {
                if ty.is_empty() {
                    return Err(PolicyError::invalid(
                        format!("claims.add[{i}].claims"),
                        "empty claim type",
                    ));
                }
                let ty = crate::principal::claim_types::canonical(ty);
                for v in values.as_slice() {
                    claims.push((Text::from(ty), Text::from(v.as_str())));
                }
            }
            grants.push((rule, claims));
        }
        let crl_next_update = crls
            .iter()
            .filter_map(|c| c.next_update)
            .min()
            .map(|t| u64::try_from(t).unwrap_or(0));
        Ok(Validator {
            cache: Cache::new(self.cache),
            parsed: ParsedCerts::new(),
            crl_next_update,
            algs: self.algs,
            anchor_facts,
            anchor_ders: self.anchors,
            intermediates,
            crls,
            trust: self.trust,
            eku: self.eku,
            pinned,
            deny_fingerprints,
            deny_serials,
            rules,
            grants,
            claims_issuer: self.claims_issuer.into(),
        })
    }
}

/// For each DER object of a policy list: the entry it came from and its 1-based place in it.
type Origins = Vec<(usize, usize)>;

/// The DER objects of a policy list of PEM strings, and for each, the entry it came from and
/// its position in that entry (an entry may be a bundle of several blocks). They are read by
/// the reader of presented PEM chains (RFC 7468, lax: text outside the blocks and blocks of
/// other labels skipped).
fn decode_pems<T: From<Vec<u8>>>(
    field: &str,
    label: Label,
    pems: &[String],
) -> Result<(Vec<T>, Origins), PolicyError> {
    let mut out = Vec::new();
    let mut origin = Vec::new();
    for (i, pem) in pems.iter().enumerate() {
        let before = out.len();
        let objects = pem_objects(pem.as_bytes(), label).map_err(|e| {
            PolicyError::invalid(
                format!("{field}[{i}]"),
                format!("bad PEM, byte {}: {}", e.offset, e.what),
            )
        })?;
        for der in objects {
            out.push(T::from(der));
            origin.push((i, out.len() - before));
        }
        if out.len() == before {
            return Err(PolicyError::invalid(
                format!("{field}[{i}]"),
                format!(
                    "holds no PEM {0} block (-----BEGIN {0}-----): write the PEM text \
                     here (the certclaims CLI and server also take a file path, relative to \
                     the policy file)",
                    label.name
                ),
            ));
        }
    }
    Ok((out, origin))
}

/// A builder error about the `n`th DER object of a policy list, said of the policy entry it
/// came from (`trust.anchors[1]`, "certificate 2 of the entry: …" for a bundle).
fn entry_error(
    e: PolicyError,
    list: &str,
    what: &str,
    origins: &[(usize, usize)],
    entry_sizes: &dyn Fn(usize) -> usize,
) -> PolicyError {
    let PolicyError::Invalid { field, reason } = &e else {
        return e;
    };
    let Some(n) = field
        .strip_prefix(list)
        .and_then(|r| r.strip_prefix('['))
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse::<usize>().ok())
    else {
        return e;
    };
    let Some(&(entry, nth)) = origins.get(n) else {
        return e;
    };
    // The parser names the object by its place among all of the list's objects.
    let reason = reason.replace(&format!("{field}: "), "");
    let reason = if entry_sizes(entry) > 1 {
        format!("{what} {nth} of the entry: {reason}")
    } else {
        reason
    };
    PolicyError::invalid(format!("{list}[{entry}]"), reason)
}

/// How a leaf was trusted.
enum Trusted<'p> {
    Chained(Path<'p>),
    SelfSigned,
}

impl Validator {
    /// A builder; `algs` are the signature algorithms to accept (for example
    /// [`crate::crypto::ALL`], or a rustls `CryptoProvider`'s
    /// `signature_verification_algorithms.all`).
    pub fn builder(algs: Algorithms) -> ValidatorBuilder {
        ValidatorBuilder {
            algs,
            anchors: Vec::new(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            trust: Trust::default(),
            eku: ExtendedKeyUsage::ClientAuth,
            allow: Vec::new(),
            grants: Vec::new(),
            claims_issuer: String::from(DEFAULT_CLAIMS_ISSUER),
            cache: CacheOptions::DEFAULT,
        }
    }

    /// A validator configured by a policy document.
    pub fn from_policy(policy: &Policy, algs: Algorithms) -> Result<Self, PolicyError> {
        let (anchors, anchor_origins) = decode_pems::<CertificateDer<'static>>(
            "trust.anchors",
            CERTIFICATE,
            &policy.trust.anchors,
        )?;
        let (intermediates, intermediate_origins) = decode_pems::<CertificateDer<'static>>(
            "trust.intermediates",
            CERTIFICATE,
            &policy.trust.intermediates,
        )?;
        let (crls, crl_origins) = decode_pems::<CertificateRevocationListDer<'static>>(
            "trust.crls",
            X509_CRL,
            &policy.trust.crls,
        )?;
        let size = |origins: &[(usize, usize)], entry: usize| {
            origins.iter().filter(|(e, _)| *e == entry).count()
        };
        let mut trust = policy.trust.clone();
        trust.anchors.clear();
        trust.intermediates.clear();
        trust.crls.clear();
        let eku = trust.required_eku()?;
        ValidatorBuilder {
            algs,
            anchors,
            intermediates,
            crls,
            trust,
            eku,
            allow: policy.identity.allow.clone(),
            grants: policy.claims.add.clone(),
            claims_issuer: policy.claims.issuer.clone(),
            cache: CacheOptions::DEFAULT,
        }
        .build()
        .map_err(|e| {
            let e = entry_error(e, "trust.anchors", "certificate", &anchor_origins, &|i| {
                size(&anchor_origins, i)
            });
            let e = entry_error(
                e,
                "trust.intermediates",
                "certificate",
                &intermediate_origins,
                &|i| size(&intermediate_origins, i),
            );
            entry_error(e, "trust.crls", "CRL", &crl_origins, &|i| {
                size(&crl_origins, i)
            })
        })
    }

    /// Parses a JSON policy and builds a validator from it.
    #[inline]
    pub fn from_policy_json(json: &str, algs: Algorithms) -> Result<Self, PolicyError> {
        Self::from_policy(&Policy::from_json(json)?, algs)
    }

    /// The trust anchors' subjects as DER (for TLS `certificate_authorities` hints).
    pub fn anchor_subjects(&self) -> impl Iterator<Item = &[u8]> {
        self.anchor_facts.iter().map(|a| a.pkix.subject_value())
    }

    /// The trust anchor certificates.
    pub fn anchors(&self) -> &[CertificateDer<'static>] {
        &self.anchor_ders
    }

    /// Verifies a presented chain at `now`.
    pub fn verify_chain(&self, chain: &Chain<'_>, now: UnixTime) -> Result<Principal, Rejection> {
        self.verify(chain.leaf(), chain.intermediates(), now)
    }

    /// Verifies `leaf` with the presented `intermediates` at `now` and applies the policy.
    /// The principal's [`Source`] is [`Source::Direct`].
    pub fn verify(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<Principal, Rejection> {
        self.verify_from(leaf, intermediates, now, Source::Direct)
    }

    /// [`Validator::verify`], recording where the chain came from: a host that read it from a
    /// trusted forwarder's header says [`Source::Forwarded`] (the forwarded module does).
    /// The validation is the same for every source. Outcomes are cached (see
    /// [`crate::cache`]).
    pub fn verify_from(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        source: Source,
    ) -> Result<Principal, Rejection> {
        // Input over the limits is refused before it is hashed (and never cached).
        check_limits(leaf, intermediates)?;
        let mut oracle = Native::new(self.algs);
        // The leaf's SHA-256 is its fingerprint and part of the cache key: computed once.
        let leaf_sha256 = cache::sha256(leaf.as_ref());
        if !self.cache.enabled() {
            return self.verify_uncached(
                leaf,
                leaf_sha256,
                intermediates,
                now,
                source,
                &mut oracle,
            );
        }
        // An intermediate kept parsed has its digest already.
        let key = cache::key(source, &leaf_sha256, intermediates, &|der| {
            self.parsed
                .sha256_of(der)
                .unwrap_or_else(|| cache::sha256(der))
        });
        let at = now.as_secs();
        if let Some(hit) = self.cached(&key, at) {
            return hit;
        }
        let outcome =
            self.verify_uncached(leaf, leaf_sha256, intermediates, now, source, &mut oracle);
        self.cache_outcome(key, at, &outcome);
        outcome
    }

    /// The cached outcome for `key` at `at`, if any.
    pub(crate) fn cached(&self, key: &[u8; 32], at: u64) -> Option<Result<Principal, Rejection>> {
        self.cache.get(key, at)
    }

    /// Caches `outcome`: a principal no longer than it is usable, nor past the next CRL update.
    pub(crate) fn cache_outcome(
        &self,
        key: [u8; 32],
        at: u64,
        outcome: &Result<Principal, Rejection>,
    ) {
        let until = outcome
            .as_ref()
            .ok()
            .and_then(|p| p.usable_until_unix())
            .map(|u| u.saturating_add(1));
        let bound = match (until, self.crl_next_update) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.cache.put(key, at, outcome, bound);
    }

    /// Whether outcomes are cached (a capacity above 0).
    pub(crate) fn caches(&self) -> bool {
        self.cache.enabled()
    }

    /// The validator's own signature verification algorithms.
    pub(crate) fn algorithms(&self) -> Algorithms {
        self.algs
    }

    /// What the cache has done so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// This validator with an empty cache of `options` (for one built by
    /// [`Validator::from_policy`], which caches with [`CacheOptions::DEFAULT`]).
    #[must_use]
    pub fn with_cache(mut self, options: CacheOptions) -> Self {
        self.cache = Cache::new(options);
        self
    }

    /// Validates and applies the policy, with `oracle` answering the signature checks.
    fn verify_uncached(
        &self,
        leaf: &CertificateDer<'_>,
        leaf_sha256: [u8; 32],
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        source: Source,
        oracle: &mut dyn SignatureOracle,
    ) -> Result<Principal, Rejection> {
        let parsed = Parsed::new(leaf, leaf_sha256, intermediates, &self.parsed)?;
        self.verify_parsed(
            leaf,
            Cow::Owned(parsed.leaf),
            &parsed.presented,
            parsed.unreadable.as_ref(),
            now,
            source,
            oracle,
        )
    }

    /// [`Validator::verify_uncached`] on certificates already parsed (a deferred
    /// verification parses once for all its rounds, and lends them). A round whose oracle
    /// still awaits answers ends after path building: its verdict is thrown away.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn verify_parsed(
        &self,
        leaf: &CertificateDer<'_>,
        facts: Cow<'_, CertFacts>,
        presented: &[Arc<CertFacts>],
        unreadable: Option<&Rejection>,
        now: UnixTime,
        source: Source,
        oracle: &mut dyn SignatureOracle,
    ) -> Result<Principal, Rejection> {
        self.check_leaf(leaf, &facts)
            .map_err(|r| out_of_order(r, &facts, presented.iter().map(|p| &**p)))?;
        self.check_leaf_eku(&facts)?;
        let time = self.evaluation_time(&facts, now.as_secs());

        let engine = Engine {
            anchors: &self.anchor_facts,
            pool: presented
                .iter()
                .map(|f| &**f)
                .chain(self.intermediates.iter())
                .collect(),
            crls: &self.crls,
            revocation: &self.trust.revocation,
            eku: self.eku,
            time,
        };
        let allowed = self.trust.allowed_types;
        // A self-signed leaf that is also listed as a trust anchor is judged as a self-signed
        // certificate, not as a one-certificate chain: the verdict must not depend on which
        // route admits it (deny entries, CRLs and pins apply the same way on both).
        let self_signed_anchor =
            facts.self_issued && self.anchor_facts.iter().any(|a| a.spki == facts.spki);
        let chained = if self.anchor_facts.is_empty()
            || allowed == AllowedTypes::SelfSigned
            || self_signed_anchor
        {
            None
        } else {
            Some(engine.build(&facts, oracle, &mut |path| {
                self.check_path(&facts, path, time)
            }))
        };

        let no_issuer = |r: &Option<Result<Path<'_>, Rejection>>| match r {
            None => true,
            Some(Err(r)) => r.code() == Code::UnknownIssuer,
            Some(Ok(_)) => false,
        };
        let trusted = if facts.self_issued && no_issuer(&chained) {
            if allowed == AllowedTypes::Chained {
                return Err(reject(
                    Code::SelfSignedNotAllowed,
                    "self-signed certificates are not accepted by this policy",
                ));
            }
            engine.self_signed(&facts, oracle)?;
            self.accept_self_signed(&facts)?;
            self.check_self_signed_deny(leaf, &facts)?;
            Trusted::SelfSigned
        } else {
            match chained {
                Some(Ok(path)) => Trusted::Chained(path),
                _ if allowed == AllowedTypes::SelfSigned && !facts.self_issued => {
                    return Err(reject(
                        Code::ChainedNotAllowed,
                        "this policy accepts only pinned self-signed certificates",
                    ));
                }
                Some(Err(r)) => {
                    return Err(match unreadable {
                        Some(bad) if r.code() == Code::UnknownIssuer => bad.clone(),
                        _ => r,
                    })
                }
                None => return Err(reject(Code::UnknownIssuer, "no trust anchor is configured")),
            }
        };

        if let Trusted::Chained(_) = &trusted {
            // RFC 5280 4.2.1.1 lets only a self-signed certificate omit the key identifier of
            // its issuer; a pinned self-signed leaf is not held to it.
            if self.eku == ExtendedKeyUsage::ServerAuth && !facts.has_authority_key_id {
                return Err(reject(
                    Code::InvalidCertificate,
                    "the leaf certificate: no authorityKeyIdentifier extension (CA/Browser Forum \
                     BR 7.1.2.7.6, RFC 5280 4.2.1.1)",
                ));
            }
        }

        let mut chain = Vec::new();
        chain.push(link(&facts));
        // The earliest notAfter of an issuer in the path (checked at the evaluation time, never
        // with skew).
        let mut issuers_until = i64::MAX;
        if let Trusted::Chained(path) = &trusted {
            for f in path.intermediates() {
                issuers_until = issuers_until.min(f.not_after);
                chain.push(link(f));
            }
            let anchor = &self.anchor_facts[path.anchor];
            issuers_until = issuers_until.min(anchor.not_after);
            chain.push(link(anchor));
        }
        let usable_until = self.usable_until(&facts, issuers_until);

        if oracle.awaits_answers() {
            return Err(reject(
                Code::Malformed,
                "signatures are still to be verified",
            ));
        }
        self.admit(facts, chain, source, usable_until)
    }

    /// Admits a forwarded leaf WITHOUT path validation, for
    /// [`Verification::DangerTrustProxyVerdict`](crate::forwarded::Verification): the proxy
    /// built and checked the path against its own trust store. What the leaf says about
    /// itself is still checked: limits, DER, CA-as-leaf, keyUsage, EKU, the deny-list by
    /// fingerprint, the validity period (with the policy's skew), and then the identity rules
    /// and claims. `chain` in the principal lists the forwarded certificates as forwarded.
    pub(crate) fn admit_forwarded_unverified(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<Principal, Rejection> {
        check_limits(leaf, intermediates)?;
        let facts = CertFacts::parse(leaf, "client certificate")?;
        self.check_leaf(leaf, &facts).map_err(|r| {
            let parsed: Vec<CertFacts> = intermediates
                .iter()
                .filter_map(|c| CertFacts::parse(c, "intermediate").ok())
                .collect();
            out_of_order(r, &facts, parsed.iter())
        })?;
        self.check_leaf_eku(&facts)?;
        if self.trust.check_validity {
            let at = self.evaluation_time(&facts, now.as_secs());
            if at < facts.not_before {
                return Err(reject(
                    Code::NotYetValid,
                    format!(
                        "the client certificate is not valid before {}",
                        rfc3339(facts.not_before)
                    ),
                ));
            }
            if at > facts.not_after {
                return Err(reject(
                    Code::Expired,
                    format!(
                        "the client certificate expired at {}",
                        rfc3339(facts.not_after)
                    ),
                ));
            }
        }
        let mut chain = Vec::new();
        chain.push(link(&facts));
        for cert in intermediates {
            chain.push(link(&CertFacts::parse(cert.as_ref(), "intermediate")?));
        }
        // The issuers are the proxy's business: only the leaf bounds the principal's life.
        let usable_until = self.usable_until(&facts, i64::MAX);
        self.admit(
            Cow::Owned(facts),
            chain,
            Source::ForwardedUnverified,
            usable_until,
        )
    }

    /// The identity rules and claims for a leaf that passed validation; builds the principal.
    /// The leaf's facts move into the principal when the caller gives them up; the ones the
    /// principal keeps are copied when it lends them (a deferred verification keeps its
    /// parsed leaf for its rounds), and no more than those.
    fn admit(
        &self,
        facts: Cow<'_, CertFacts>,
        chain: Vec<ChainLink>,
        source: Source,
        usable_until: Option<u64>,
    ) -> Result<Principal, Rejection> {
        let spiffe_id = spiffe_id_of(&facts.uris);

        if !self.rules.is_empty()
            && !self
                .rules
                .iter()
                .any(|r| r.matches(&MatchTarget::of_leaf(&facts, spiffe_id.as_deref())))
        {
            return Err(Rejection::new(
                Code::PolicyDenied,
                Step::Policy,
                format!("no identity rule admits `{}`", facts.subject),
            ));
        }

        // The policy's grants are decided now, on the leaf's facts; the claims that show
        // them (and the thumbprint) are made when first asked for (`Principal::claims`).
        let mut granted = Vec::new();
        for (rule, grants) in &self.grants {
            if rule.matches(&MatchTarget::of_leaf(&facts, spiffe_id.as_deref())) {
                granted.extend(grants.iter().cloned());
            }
        }
        let common_name = facts.common_name().map(String::from);
        let serial = Text::from(facts.serial_hex());
        let (fingerprint_sha256, sha256) = (facts.fingerprint.clone(), facts.sha256);
        let (not_before, not_after) = (facts.not_before, facts.not_after);
        let (
            subject,
            issuer,
            dns,
            uris,
            emails,
            upns,
            ips,
            subject_attrs,
            issuer_attrs,
            sha1,
            leaf_der,
        ) = match facts {
            Cow::Owned(f) => (
                f.subject,
                f.issuer,
                f.dns,
                f.uris,
                f.emails,
                f.upns,
                f.ips,
                f.subject_attrs,
                f.issuer_attrs,
                f.sha1,
                f.pkix.der,
            ),
            Cow::Borrowed(f) => (
                f.subject.clone(),
                f.issuer.clone(),
                f.dns.clone(),
                f.uris.clone(),
                f.emails.clone(),
                f.upns.clone(),
                f.ips.clone(),
                f.subject_attrs.clone(),
                f.issuer_attrs.clone(),
                f.sha1.clone(),
                f.pkix.der.clone(),
            ),
        };
        Ok(Principal::new(Fields {
            authentication_type: "Certificate",
            source,
            common_name,
            serial,
            fingerprint_sha256,
            not_before: rfc3339(not_before),
            not_after: rfc3339(not_after),
            spiffe_id,
            chain,
            granted,
            claims_issuer: self.claims_issuer.clone(),
            sha256,
            not_before_unix: u64::try_from(not_before).unwrap_or(0),
            not_after_unix: u64::try_from(not_after).unwrap_or(0),
            usable_until_unix: usable_until,
            subject,
            issuer,
            dns,
            uris,
            emails,
            upns,
            ips,
            subject_attrs,
            issuer_attrs,
            sha1,
            leaf_der,
            derived: Lazy::new(),
            json: Lazy::new(),
        }))
    }

    /// What a leaf must be whatever path admits it: not a CA, keyUsage allowing
    /// digitalSignature, not deny-listed by fingerprint, the RFC 5280 leaf profile, and in
    /// serverAuth mode the CA/Browser Forum leaf rules.
    fn check_leaf(&self, leaf: &CertificateDer<'_>, facts: &CertFacts) -> Result<(), Rejection> {
        if facts.is_ca {
            return Err(reject(
                Code::CaAsLeaf,
                format!(
                    "the first certificate presented ({}) is a CA certificate (basicConstraints \
                     cA=true), not a client's own: present the end-entity certificate the CA \
                     issued, leaf first",
                    facts.subject
                ),
            ));
        }
        if facts.digital_signature == Some(false) {
            return Err(reject(
                Code::KeyUsage,
                "the keyUsage extension does not allow digitalSignature",
            ));
        }
        if !self.deny_fingerprints.is_empty() && self.deny_listed(&presentable_fingerprints(leaf)) {
            return Err(reject(
                Code::Denied,
                format!(
                    "certificate sha256:{} is deny-listed",
                    facts.fingerprint_hex()
                ),
            ));
        }
        if let Some(problem) = facts.leaf_problem() {
            return Err(reject(
                Code::InvalidCertificate,
                format!("the leaf certificate: {problem}"),
            ));
        }
        if facts.any_eku && self.eku != ExtendedKeyUsage::Any {
            return Err(reject(
                Code::WrongUsage,
                "the leaf asserts anyExtendedKeyUsage; a specific purpose is required",
            ));
        }
        if self.eku == ExtendedKeyUsage::ServerAuth {
            // The leaf must list serverAuth (`check_leaf_eku` checks what it lists).
            if !facts.has_eku {
                return Err(reject(
                    Code::WrongUsage,
                    "the leaf has no extendedKeyUsage extension; a server certificate must list \
                     serverAuth (CA/Browser Forum BR 7.1.2.7.6)",
                ));
            }
            if let Some(problem) = facts.server_leaf_problem() {
                return Err(reject(
                    Code::InvalidCertificate,
                    format!("the leaf certificate: {problem}"),
                ));
            }
        }
        Ok(())
    }

    /// The leaf's extendedKeyUsage: never empty, and, when present, listing the purpose
    /// (RFC 5280 4.2.1.12; required if present).
    fn check_leaf_eku(&self, facts: &CertFacts) -> Result<(), Rejection> {
        if facts.has_eku && facts.ekus.is_empty() {
            return Err(reject(
                Code::WrongUsage,
                "the leaf's extendedKeyUsage lists no purpose (RFC 5280 4.2.1.12: at least one)",
            ));
        }
        let (oid, name) = match self.eku {
            ExtendedKeyUsage::Any => return Ok(()),
            ExtendedKeyUsage::ClientAuth => (CLIENT_AUTH_OID, "clientAuth"),
            ExtendedKeyUsage::ServerAuth => (SERVER_AUTH_OID, "serverAuth"),
        };
        if facts.has_eku && !facts.ekus.contains(&oid) {
            return Err(reject(
                Code::WrongUsage,
                format!("the leaf's extendedKeyUsage does not list {name}"),
            ));
        }
        Ok(())
    }

    /// The time the chain is evaluated at: `now`, moved to the leaf's validity boundary when
    /// the leaf is outside its validity period by no more than the allowed skew (unbounded
    /// when validity checking is off).
    fn evaluation_time(&self, leaf: &CertFacts, now: u64) -> i64 {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let slack = self
            .validity_slack()
            .map_or(i64::MAX, |s| i64::try_from(s).unwrap_or(i64::MAX));
        if now < leaf.not_before && leaf.not_before.saturating_sub(now) <= slack {
            leaf.not_before
        } else if now > leaf.not_after && now.saturating_sub(leaf.not_after) <= slack {
            leaf.not_after
        } else {
            now
        }
    }

    /// How far outside its validity period a leaf is still accepted: the clock skew, or
    /// `None` (without bound) when validity checking is off. The one place the policy's
    /// notion of validity lives: [`Self::evaluation_time`] and [`Self::usable_until`] both
    /// derive from it.
    fn validity_slack(&self) -> Option<u64> {
        self.trust
            .check_validity
            .then_some(self.trust.clock_skew_seconds)
    }

    /// The last instant at which [`Self::verify`] still accepts the validity of a path whose
    /// leaf is `leaf` and whose issuers' earliest notAfter is `issuers_until` (see
    /// [`Principal::usable_until`]). Issuers are checked at the evaluation time, which never
    /// passes the leaf's notAfter: they only matter when one expires before the leaf.
    fn usable_until(&self, leaf: &CertFacts, issuers_until: i64) -> Option<u64> {
        let clamp = |t: i64| u64::try_from(t).unwrap_or(0);
        if issuers_until < leaf.not_after {
            return Some(clamp(issuers_until));
        }
        self.validity_slack()
            .map(|slack| clamp(leaf.not_after).saturating_add(slack))
    }

    fn accept_self_signed(&self, facts: &CertFacts) -> Result<(), Rejection> {
        if self.trust.allowed_types == AllowedTypes::Chained {
            return Err(reject(
                Code::SelfSignedNotAllowed,
                "self-signed certificates are not accepted by this policy",
            ));
        }
        if self.trust.allow_unpinned_self_signed || self.pinned.contains(&facts.sha256) {
            return Ok(());
        }
        Err(reject(
            Code::SelfSignedNotAllowed,
            format!(
                "self-signed certificate sha256:{} is not pinned",
                facts.fingerprint_hex()
            ),
        ))
    }

    /// The caller's checks on a path the engine validated: depth and deny-lists (policy), the
    /// RFC 5280 profile of each intermediate and of the anchor, the anchor's validity, and
    /// in serverAuth mode the CA/Browser Forum CA rules.
    fn check_path(&self, leaf: &CertFacts, path: &Path<'_>, time: i64) -> Result<(), Rejection> {
        self.check_path_policy(leaf, path)?;
        self.check_path_profile(path, time)
    }

    /// The profile half of [`Self::check_path`]: every intermediate and the anchor must be
    /// fit to issue (see `CertFacts::issuer_problem`, and in serverAuth mode
    /// `CertFacts::server_ca_problem` and, for a root, `CertFacts::server_root_problem`),
    /// and the anchor valid at `time`.
    fn check_path_profile(&self, path: &Path<'_>, time: i64) -> Result<(), Rejection> {
        let invalid = |what: &str, subject: &str, problem: String| {
            reject(
                Code::InvalidCertificate,
                format!("{what} `{subject}`: {problem}"),
            )
        };
        let server = self.eku == ExtendedKeyUsage::ServerAuth;
        for facts in path.intermediates() {
            let mut problem = facts.issuer_problem(false);
            if server && problem.is_none() {
                problem = facts.server_ca_problem();
            }
            if let Some(problem) = problem {
                return Err(invalid("intermediate", &facts.subject, problem));
            }
        }
        let anchor = &self.anchor_facts[path.anchor];
        let mut problem = anchor.issuer_problem(true);
        if server && problem.is_none() {
            problem = anchor.server_ca_problem();
            // A root is a self-issued anchor; an anchor issued by another CA (a trusted
            // intermediate) is not held to the root profile.
            if problem.is_none() && anchor.self_issued {
                problem = anchor.server_root_problem();
            }
        }
        if let Some(problem) = problem {
            return Err(invalid("trust anchor", &anchor.subject, problem));
        }
        if time < anchor.not_before {
            return Err(reject(
                Code::NotYetValid,
                format!(
                    "trust anchor `{}` is not valid before {} (evaluated at {})",
                    anchor.subject,
                    rfc3339(anchor.not_before),
                    rfc3339(time)
                ),
            ));
        }
        if time > anchor.not_after {
            return Err(reject(
                Code::Expired,
                format!(
                    "trust anchor `{}` expired at {} (evaluated at {})",
                    anchor.subject,
                    rfc3339(anchor.not_after),
                    rfc3339(time)
                ),
            ));
        }
        Ok(())
    }

    /// The policy half of [`Self::check_path`]: depth (`max_depth`, self-issued
    /// intermediates not counted), deny-lists.
    fn check_path_policy(&self, leaf: &CertFacts, path: &Path<'_>) -> Result<(), Rejection> {
        if let Some(max) = self.trust.max_depth {
            // RFC 5280 path length semantics (4.2.1.9, 6.1.4 (l)): a self-issued intermediate
            // (subject equal to issuer) does not count.
            let counted = path
                .intermediates()
                .iter()
                .filter(|c| !c.self_issued)
                .count();
            if counted > max {
                return Err(reject(
                    Code::ChainTooDeep,
                    format!(
                        "the path from `{}` has {counted} intermediates; this policy allows at \
                         most {max} (trust.max_depth)",
                        leaf.subject
                    ),
                ));
            }
        }
        if self.deny_fingerprints.is_empty() && self.deny_serials.is_empty() {
            return Ok(());
        }
        let denied = |what: &str, f: &CertFacts, how: &str| {
            reject(
                Code::Denied,
                format!(
                    "{what} `{}` (sha256:{}) is deny-listed{how}",
                    f.subject,
                    f.fingerprint_hex()
                ),
            )
        };
        // Each intermediate with every fingerprint it can be presented under (see
        // `presentable_fingerprints`), its serial and the SHA-256 of its key.
        let inters: Vec<PathCertIds> = path
            .intermediates()
            .iter()
            .map(|c| {
                (
                    presentable_fingerprints(&c.pkix.der),
                    normalize_serial(&c.serial),
                    Sha256::digest(&c.spki).into(),
                )
            })
            .collect();
        let anchor = &self.anchor_facts[path.anchor];
        for (f, (fps, _, _)) in path.intermediates().iter().zip(&inters) {
            if self.deny_listed(fps) {
                return Err(denied("the intermediate", f, ""));
            }
        }
        if self.deny_listed(&[(anchor.sha256, *anchor.sha1())]) {
            return Err(denied("the trust anchor", anchor, ""));
        }
        if !self.deny_serials.is_empty() {
            // For each certificate below the anchor: its serial, and its issuer's presentable
            // fingerprints and key hash (the next certificate up, or the anchor).
            let anchor_fps = [(anchor.sha256, *anchor.sha1())];
            let anchor_key: [u8; 32] = Sha256::digest(&anchor.spki).into();
            let mut issuers = inters
                .iter()
                .map(|(fps, _, key)| (fps.as_slice(), Some(*key)))
                .chain(core::iter::once((anchor_fps.as_slice(), Some(anchor_key))));
            let leaf_serial = normalize_serial(&leaf.serial);
            let serials = core::iter::once(&leaf_serial).chain(inters.iter().map(|(_, s, _)| s));
            for (i, serial) in serials.enumerate() {
                let (issuer_fps, issuer_key) = issuers.next().unwrap_or((&[], None));
                if self.serial_denied(serial, issuer_fps, issuer_key) {
                    let (what, f) = match i {
                        0 => ("the client certificate", leaf),
                        _ => ("the intermediate", path.certs[i]),
                    };
                    return Err(denied(what, f, " by issuer and serial"));
                }
            }
        }
        Ok(())
    }

    /// Whether a fingerprint or thumbprint deny entry names a certificate presentable under
    /// one of `fps` (SHA-256, SHA-1).
    fn deny_listed(&self, fps: &[([u8; 32], [u8; 20])]) -> bool {
        self.deny_fingerprints
            .iter()
            .any(|d| fps.iter().any(|(s256, s1)| d.matches(s256, s1)))
    }

    /// Whether an issuer + serial deny entry names `serial` under an issuer with one of
    /// `issuer_fps` as certificate fingerprint or `issuer_key` as key hash.
    fn serial_denied(
        &self,
        serial: &[u8],
        issuer_fps: &[([u8; 32], [u8; 20])],
        issuer_key: Option<[u8; 32]>,
    ) -> bool {
        self.deny_serials.iter().any(|(issuer, s)| {
            s == serial
                && match issuer {
                    IssuerId::Certificate(fp) => {
                        issuer_fps.iter().any(|(s256, s1)| fp.matches(s256, s1))
                    }
                    IssuerId::Key(k) => issuer_key == Some(*k),
                }
        })
    }

    /// The deny-list for a self-signed leaf, which is its own issuer: an issuer + serial entry
    /// naming the certificate (any presentable encoding of it) or its key, and its serial,
    /// denies it, as it does when the leaf is reached as a trust anchor of a chain. (Its
    /// fingerprint was checked before path building, as for every leaf.)
    fn check_self_signed_deny(&self, der: &[u8], facts: &CertFacts) -> Result<(), Rejection> {
        if self.deny_serials.is_empty() {
            return Ok(());
        }
        let fps = presentable_fingerprints(der);
        let key: [u8; 32] = Sha256::digest(&facts.spki).into();
        if self.serial_denied(&normalize_serial(&facts.serial), &fps, Some(key)) {
            return Err(reject(
                Code::Denied,
                format!(
                    "self-signed certificate sha256:{} is deny-listed by issuer and serial",
                    facts.fingerprint_hex()
                ),
            ));
        }
        Ok(())
    }
}

/// A leaf's SPIFFE ID: its one `spiffe:` URI SAN if that is a valid SPIFFE ID; none with
/// several (an SVID has exactly one).
pub(crate) fn spiffe_id_of(uris: &[String]) -> Option<String> {
    let mut spiffe = uris.iter().filter(|u| has_spiffe_scheme(u));
    match (spiffe.next(), spiffe.next()) {
        (Some(one), None) if crate::policy::is_valid_spiffe_id(one) => Some(one.clone()),
        _ => None,
    }
}

/// Whether `uri`'s scheme is `spiffe`, compared ASCII case-insensitively as RFC 3986 3.1
/// compares schemes: `spiffe://…`, `SPIFFE://…`, but also `spiffe:/…` and `spiffe:…`.
fn has_spiffe_scheme(uri: &str) -> bool {
    uri.split_once(':')
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("spiffe"))
}

fn link(f: &CertFacts) -> ChainLink {
    ChainLink {
        subject: f.subject.clone(),
        issuer: f.issuer.clone(),
        fingerprint_sha256: f.fingerprint.clone(),
    }
}

/// A `ca_as_leaf` rejection of a chain whose leaf comes after its CA (`cat ca.pem
/// client.pem`): said as the ordering mistake it is, naming both certificates.
fn out_of_order<'a>(
    r: Rejection,
    first: &CertFacts,
    presented: impl Iterator<Item = &'a CertFacts>,
) -> Rejection {
    if r.code() != Code::CaAsLeaf {
        return r;
    }
    let mut presented = presented.enumerate();
    match presented.find(|(_, p)| !p.is_ca) {
        Some((i, leaf)) => reject(
            Code::CaAsLeaf,
            format!(
                "the chain is out of order: the first certificate ({}) is a CA certificate and \
                 certificate {} ({}) is an end-entity certificate: put the leaf first, then its \
                 intermediates",
                first.subject,
                i + 2,
                leaf.subject
            ),
        ),
        None => r,
    }
}

fn reject(code: Code, detail: impl Into<String>) -> Rejection {
    Rejection::new(code, Step::Validation, detail)
}
