//! certclaims' certification path engine (RFC 5280 6.1, with the CRL processing of 6.3).
//!
//! Each concern lives in one file:
//!
//! * [`name`] — name comparison (RFC 5280 7.1 / RFC 4518), used for chaining, CRL issuers
//!   and directoryName constraints;
//! * [`facts`] — what validation reads from a certificate (from the same parse as the
//!   principal's facts); [`der`] — certclaims' strict DER reader: certificates, names,
//!   extensions, CRLs, times over the whole RFC 5280 range;
//! * [`constraints`] — name constraints of every form;
//! * [`revocation`] — CRLs: scope, signer, status;
//! * [`signature`] — the one interface through which signatures are checked (answered at
//!   once natively, or by the host in rounds: [`crate::host`]);
//! * this module — path building (candidates by name, key identifiers first, backtracking,
//!   cycles refused), the per-certificate checks of 6.1.3 / 6.1.4 / 6.1.5, the work budget
//!   and the choice of the failure to report.
//!
//! # Building
//! From the leaf up: the candidates for a certificate's issuer are the trust anchors, then the
//! intermediates (those presented, then the policy's), whose subject is the certificate's
//! issuer name; among them, those whose subjectKeyIdentifier matches the
//! authorityKeyIdentifier are tried first. A candidate whose key does not verify the
//! certificate's signature is dropped before anything is built on it. A path that reaches an
//! anchor is then processed as 6.1 says, from the anchor down; the first path that passes, and
//! that the caller's own checks accept, is the result. A certificate already in the path (same
//! subject and key) is never added again, a path holds at most [`MAX_INTERMEDIATES`]
//! intermediates, and the whole search is bounded by a [`Budget`].
//!
//! # Failures
//! When no path passes, the failure reported is that of the path that got furthest: a path
//! that reached an anchor and failed a check of 6.1 (or the caller's) is reported over a bad
//! signature, which is reported over a path too long, which is reported over a missing issuer.
//! Every message names the certificate and the rule.

pub(crate) mod constraints;
pub(crate) mod der;
pub(crate) mod facts;
pub(crate) mod name;
pub(crate) mod revocation;
pub(crate) mod signature;
pub(crate) mod sort;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cert::{rfc3339, serial_hex, CertFacts};
use crate::error::{Code, Rejection, Step};
use crate::policy::{ExpiredCrl, ExtendedKeyUsage, Revocation, RevocationDepth, UnknownStatus};
use constraints::Constraints;
use revocation::Crl;
use signature::{SignatureCheck, SignatureOracle, Verdict};

/// The most intermediates a path may hold (rustls-webpki's limit too).
pub(crate) const MAX_INTERMEDIATES: usize = 6;

/// Bounds on the work of one verification, so hostile inputs end in bounded time.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    /// Signatures verified (each certificate and issuer pair once).
    pub(crate) signatures: usize,
    /// Candidate issuers considered.
    pub(crate) candidates: usize,
    /// Name constraint comparisons.
    pub(crate) comparisons: usize,
}

impl Budget {
    /// Signature checks (as rustls-webpki's budget).
    pub(crate) const SIGNATURES: usize = 100;
    /// Candidate issuers considered.
    pub(crate) const CANDIDATES: usize = 200_000;
    /// Name-constraint comparisons.
    pub(crate) const COMPARISONS: usize = 250_000;

    pub(crate) fn new() -> Self {
        Self {
            signatures: 0,
            candidates: 0,
            comparisons: 0,
        }
    }
}

/// A path: the leaf first, then the intermediates up to the anchor `anchor` (an index into
/// the engine's anchors).
#[derive(Debug, Clone)]
pub(crate) struct Path<'a> {
    pub(crate) certs: Vec<&'a CertFacts>,
    pub(crate) anchor: usize,
}

impl<'a> Path<'a> {
    /// The intermediates, from the leaf's issuer up.
    pub(crate) fn intermediates(&self) -> &[&'a CertFacts] {
        &self.certs[1..]
    }
}

/// What one verification may use.
pub(crate) struct Engine<'a> {
    pub(crate) anchors: &'a [CertFacts],
    /// Candidate intermediates, in the order they are tried.
    pub(crate) pool: Vec<&'a CertFacts>,
    pub(crate) crls: &'a [Crl],
    pub(crate) revocation: &'a Revocation,
    pub(crate) eku: ExtendedKeyUsage,
    /// Seconds since the epoch the path is evaluated at.
    pub(crate) time: i64,
}

/// A check of the caller's on a complete path (deny-lists, depth, profiles).
pub(crate) type Accept<'x, 'a> = &'x mut dyn FnMut(&Path<'a>) -> Result<(), Rejection>;

/// The state of one search.
struct Search<'o> {
    oracle: &'o mut dyn SignatureOracle,
    budget: Budget,
    /// Signature answers by (signed bytes, key) address.
    seen: Vec<(usize, usize, Verdict)>,
    /// The most specific failure so far and its rank (see the module docs).
    best: Option<(u8, Rejection)>,
    /// A budget ran out: the search ends with that failure.
    exhausted: bool,
}

/// What a search is for: the client's path, or the path of a separate CRL signer.
#[derive(Clone, Copy)]
struct Goal {
    /// A CRL signer's path must end at this anchor.
    anchor: Option<usize>,
    revocation: bool,
}

const RANK_NO_ISSUER: u8 = 0;
const RANK_TOO_DEEP: u8 = 1;
const RANK_SIGNATURE: u8 = 2;
const RANK_CHECKS: u8 = 3;

fn reject(code: Code, detail: impl Into<String>) -> Rejection {
    Rejection::new(code, Step::Validation, detail)
}

impl<'o> Search<'o> {
    fn new(oracle: &'o mut dyn SignatureOracle) -> Self {
        Self {
            oracle,
            budget: Budget::new(),
            seen: Vec::new(),
            best: None,
            exhausted: false,
        }
    }

    fn fail(&mut self, rank: u8, r: Rejection) {
        if self.best.as_ref().is_none_or(|(b, _)| rank > *b) {
            self.best = Some((rank, r));
        }
    }

    fn verify(&mut self, check: &SignatureCheck<'_>, whom: &str) -> Result<Verdict, Rejection> {
        let id = (check.message.as_ptr() as usize, check.key.as_ptr() as usize);
        if let Some((_, _, v)) = self.seen.iter().find(|(m, k, _)| (*m, *k) == id) {
            return Ok(*v);
        }
        self.budget.signatures += 1;
        if self.budget.signatures > Budget::SIGNATURES {
            self.exhausted = true;
            return Err(reject(
                Code::ChainTooDeep,
                format!(
                    "path building for `{whom}` gave up after {} signature checks: the \
                     certificates offered contain too many candidate issuers; present only the \
                     chain",
                    Budget::SIGNATURES
                ),
            ));
        }
        let v = self.oracle.verify(check);
        self.seen.push((id.0, id.1, v));
        Ok(v)
    }
}

/// A candidate issuer.
#[derive(Clone, Copy)]
enum Candidate<'a> {
    Anchor(usize, &'a CertFacts),
    Intermediate(&'a CertFacts),
}

impl<'a> Candidate<'a> {
    fn facts(&self) -> &'a CertFacts {
        match self {
            Self::Anchor(_, f) | Self::Intermediate(f) => f,
        }
    }
}

impl<'a> Engine<'a> {
    /// Builds and validates a path for `leaf`; `accept` adds the caller's checks on a complete
    /// path. `Err` is the most specific failure, or a budget that ran out.
    pub(crate) fn build(
        &self,
        leaf: &'a CertFacts,
        oracle: &mut dyn SignatureOracle,
        accept: Accept<'_, 'a>,
    ) -> Result<Path<'a>, Rejection> {
        let mut search = Search::new(oracle);
        let goal = Goal {
            anchor: None,
            revocation: !self.crls.is_empty(),
        };
        let mut certs = alloc::vec![leaf];
        match self.extend(&mut certs, goal, &mut search, accept)? {
            Some(anchor) => Ok(Path { certs, anchor }),
            None => Err(search
                .best
                .map(|(_, r)| r)
                .unwrap_or_else(|| reject(Code::UnknownIssuer, no_issuer(leaf)))),
        }
    }

    /// Verifies a self-signed leaf on its own: its signature under its own key, its validity
    /// and its critical extensions.
    pub(crate) fn self_signed(
        &self,
        leaf: &CertFacts,
        oracle: &mut dyn SignatureOracle,
    ) -> Result<(), Rejection> {
        let mut search = Search::new(oracle);
        let check = leaf.pkix.signed_by(&leaf.pkix);
        match search.verify(&check, &leaf.subject)? {
            Verdict::Valid => {}
            v => return Err(signature_failure(v, leaf, leaf)),
        }
        self.validity(leaf, "the client certificate")?;
        critical(leaf, "the client certificate")
    }

    /// Extends `certs` (leaf first) to an anchor; `Ok(Some(anchor))` when a path passed.
    fn extend(
        &self,
        certs: &mut Vec<&'a CertFacts>,
        goal: Goal,
        search: &mut Search<'_>,
        accept: Accept<'_, 'a>,
    ) -> Result<Option<usize>, Rejection> {
        let child = *certs.last().unwrap_or(&certs[0]);
        let issuer_name = &child.pkix.issuer;
        let mut candidates: Vec<Candidate<'a>> = Vec::new();
        for (i, a) in self.anchors.iter().enumerate() {
            if a.pkix.subject == *issuer_name && goal.anchor.is_none_or(|g| g == i) {
                candidates.push(Candidate::Anchor(i, a));
            }
        }
        for c in &self.pool {
            let in_path = certs
                .iter()
                .any(|p| p.pkix.subject == c.pkix.subject && p.pkix.key() == c.pkix.key());
            if c.pkix.subject == *issuer_name && !in_path {
                candidates.push(Candidate::Intermediate(c));
            }
        }
        if candidates.is_empty() {
            search.fail(
                RANK_NO_ISSUER,
                reject(Code::UnknownIssuer, no_issuer(child)),
            );
            return Ok(None);
        }
        // Key identifiers that match first, anchors before intermediates and the given
        // order otherwise: a stable partition in place (a stable sort by a yes/no key,
        // without the sort's code in the size-built npm module).
        let mut first = 0;
        for i in 0..candidates.len() {
            if child.pkix.key_ids_suggest(&candidates[i].facts().pkix) {
                candidates[first..=i].rotate_right(1);
                first += 1;
            }
        }
        let checks: Vec<SignatureCheck<'_>> = candidates
            .iter()
            .map(|c| child.pkix.signed_by(&c.facts().pkix))
            .collect();

        for (candidate, check) in candidates.iter().zip(&checks) {
            search.budget.candidates += 1;
            if search.budget.candidates > Budget::CANDIDATES {
                search.exhausted = true;
                return Err(reject(
                    Code::ChainTooDeep,
                    format!(
                        "path building for `{}` gave up after considering {} candidate issuers; \
                         present only the chain",
                        certs[0].subject,
                        Budget::CANDIDATES
                    ),
                ));
            }
            let issuer = candidate.facts();
            match search.verify(check, &certs[0].subject)? {
                Verdict::Valid => {}
                v => {
                    search.fail(RANK_SIGNATURE, signature_failure(v, child, issuer));
                    continue;
                }
            }
            match *candidate {
                Candidate::Anchor(i, _) => {
                    let path = Path {
                        certs: certs.clone(),
                        anchor: i,
                    };
                    let outcome = self
                        .process(&path, goal, search)
                        .and_then(|()| accept(&path));
                    match outcome {
                        Ok(()) => return Ok(Some(i)),
                        Err(r) if search.exhausted => return Err(r),
                        Err(r) => search.fail(RANK_CHECKS, r),
                    }
                }
                Candidate::Intermediate(c) => {
                    if certs.len() > MAX_INTERMEDIATES {
                        search.fail(
                            RANK_TOO_DEEP,
                            reject(
                                Code::ChainTooDeep,
                                format!(
                                    "the path from `{}` would need more than {MAX_INTERMEDIATES} \
                                     intermediates (certclaims' limit)",
                                    certs[0].subject
                                ),
                            ),
                        );
                        continue;
                    }
                    certs.push(c);
                    if let Some(anchor) = self.extend(certs, goal, search, accept)? {
                        return Ok(Some(anchor));
                    }
                    certs.pop();
                }
            }
        }
        Ok(None)
    }

    /// RFC 5280 6.1 processing of a complete path, from the anchor down.
    fn process(
        &self,
        path: &Path<'a>,
        goal: Goal,
        search: &mut Search<'_>,
    ) -> Result<(), Rejection> {
        let anchor = &self.anchors[path.anchor];
        let mut in_force: Vec<(&Constraints, &str)> = Vec::new();
        match &anchor.pkix.constraints {
            Some(Ok(c)) => in_force.push((c, &anchor.subject)),
            Some(Err(e)) => return Err(malformed_constraints(anchor, e)),
            None => {}
        }
        let mut max_path_len: Option<(usize, &str)> = anchor
            .pkix
            .path_len
            .map(|n| (usize::from(n), &*anchor.subject));
        for idx in (0..path.certs.len()).rev() {
            let cert = path.certs[idx];
            let leaf = idx == 0;
            let what = if leaf && goal.anchor.is_none() {
                "the client certificate"
            } else if leaf {
                "the CRL signer"
            } else {
                "the intermediate"
            };
            self.validity(cert, what)?;
            critical(cert, what)?;
            let depth_ok = matches!(self.revocation.depth, RevocationDepth::Chain) || leaf;
            if goal.revocation && depth_ok {
                self.revocation_status(path, idx, what, search)?;
            }
            if leaf || !cert.pkix.self_issued() {
                for (c, ca) in &in_force {
                    let checked = c.check(
                        &cert.pkix.names,
                        &cert.subject,
                        ca,
                        &mut search.budget.comparisons,
                        Budget::COMPARISONS,
                    );
                    if search.budget.comparisons > Budget::COMPARISONS {
                        search.exhausted = true;
                        return Err(reject(
                            Code::NameConstraintViolation,
                            format!(
                                "name constraint checking for `{}` gave up after {} comparisons",
                                path.certs[0].subject,
                                Budget::COMPARISONS
                            ),
                        ));
                    }
                    checked.map_err(|m| reject(Code::NameConstraintViolation, m))?;
                }
            }
            if leaf {
                break;
            }
            // 6.1.4 (l), (m): path length.
            if !cert.pkix.self_issued() {
                if let Some((left, ca)) = max_path_len {
                    if left == 0 {
                        return Err(reject(
                            Code::ChainTooDeep,
                            format!(
                                "the intermediate `{}` stands below `{ca}`, whose \
                                 pathLenConstraint allows no more CA certificates below it \
                                 (RFC 5280 4.2.1.9)",
                                cert.subject
                            ),
                        ));
                    }
                    max_path_len = Some((left - 1, ca));
                }
            }
            if let Some(n) = cert.pkix.path_len {
                let n = usize::from(n);
                if max_path_len.is_none_or(|(left, _)| n < left) {
                    max_path_len = Some((n, &*cert.subject));
                }
            }
            if goal.anchor.is_none() {
                self.issuer_eku(cert)?;
            }
            match &cert.pkix.constraints {
                Some(Ok(c)) => in_force.push((c, &cert.subject)),
                Some(Err(e)) => return Err(malformed_constraints(cert, e)),
                None => {}
            }
        }
        Ok(())
    }

    /// Validity at the evaluation time (RFC 5280 6.1.3 (a)(2)).
    fn validity(&self, cert: &CertFacts, what: &str) -> Result<(), Rejection> {
        if self.time < cert.pkix.not_before {
            return Err(reject(
                Code::NotYetValid,
                format!(
                    "{what} `{}` is not valid before {} (evaluated at {})",
                    cert.subject,
                    rfc3339(cert.pkix.not_before),
                    rfc3339(self.time)
                ),
            ));
        }
        if self.time > cert.pkix.not_after {
            return Err(reject(
                Code::Expired,
                format!(
                    "{what} `{}` expired at {} (evaluated at {})",
                    cert.subject,
                    rfc3339(cert.pkix.not_after),
                    rfc3339(self.time)
                ),
            ));
        }
        Ok(())
    }

    /// An intermediate's extendedKeyUsage, when it has one, must allow the purpose the leaf
    /// is validated for (as rustls-webpki, Mozilla and Windows chain EKUs).
    fn issuer_eku(&self, cert: &CertFacts) -> Result<(), Rejection> {
        let (oid, name) = match self.eku {
            ExtendedKeyUsage::Any => return Ok(()),
            ExtendedKeyUsage::ClientAuth => (crate::validator::CLIENT_AUTH_OID, "clientAuth"),
            ExtendedKeyUsage::ServerAuth => (crate::validator::SERVER_AUTH_OID, "serverAuth"),
        };
        if cert.has_eku && !cert.ekus.contains(&oid) {
            return Err(reject(
                Code::WrongUsage,
                format!(
                    "the intermediate `{}` has an extendedKeyUsage without {name}, so it may not \
                     issue certificates for {name}",
                    cert.subject
                ),
            ));
        }
        Ok(())
    }

    /// The revocation status of `path.certs[idx]` (RFC 5280 6.3).
    fn revocation_status(
        &self,
        path: &Path<'a>,
        idx: usize,
        what: &str,
        search: &mut Search<'_>,
    ) -> Result<(), Rejection> {
        let cert = path.certs[idx];
        let issuer = path
            .certs
            .get(idx + 1)
            .copied()
            .unwrap_or(&self.anchors[path.anchor]);
        let mut covered = false;
        let mut problems: Vec<String> = Vec::new();
        for crl in self.crls.iter().filter(|c| c.issuer == cert.pkix.issuer) {
            if !crl.covers(cert.is_ca, cert.pkix.crl_distribution_points.as_deref()) {
                continue;
            }
            if self.revocation.expired_crl == ExpiredCrl::Deny
                && crl.next_update.is_some_and(|n| n < self.time)
            {
                problems.push(format!(
                    "the CRL of `{}` is past its nextUpdate",
                    crl.issuer_text
                ));
                continue;
            }
            match self.crl_signer(crl, issuer, path.anchor, search)? {
                Ok(()) => {}
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            }
            if crl.lists(&cert.serial) {
                return Err(reject(
                    Code::Revoked,
                    format!(
                        "{what} `{}` (serial {}) is revoked by the CRL of `{}`",
                        cert.subject,
                        serial_hex(&cert.serial),
                        crl.issuer_text
                    ),
                ));
            }
            covered = true;
        }
        if covered || self.revocation.unknown_status == UnknownStatus::Allow {
            return Ok(());
        }
        let mut detail = format!(
            "no usable CRL covers {what} `{}`: its issuer `{}` has none the policy lists",
            cert.subject, issuer.subject
        );
        if !problems.is_empty() {
            detail = format!(
                "no usable CRL covers {what} `{}`: {}",
                cert.subject,
                problems.join("; ")
            );
        }
        Err(reject(Code::UnknownRevocationStatus, detail))
    }

    /// Whether `crl` is signed by `issuer` (with cRLSign) or by a separate CRL signer of the
    /// same CA with a path of its own to `anchor`; the inner `Err` says why not.
    fn crl_signer(
        &self,
        crl: &'a Crl,
        issuer: &'a CertFacts,
        anchor: usize,
        search: &mut Search<'_>,
    ) -> Result<Result<(), String>, Rejection> {
        let (key_alg, key) = issuer.pkix.key();
        let by_issuer = crl.signed_by(key_alg, key);
        // An authorityKeyIdentifier that names another key points to a separate signer.
        let other_key = matches!(
            (&crl.authority_key_id, &issuer.pkix.subject_key_id),
            (Some(a), Some(s)) if a != s
        );
        if !other_key && search.verify(&by_issuer, &issuer.subject)? == Verdict::Valid {
            if issuer.pkix.crl_sign == Some(false) {
                return Ok(Err(format!(
                    "`{}` signed its CRL but its keyUsage does not allow cRLSign (RFC 5280 4.2.1.3)",
                    issuer.subject
                )));
            }
            return Ok(Ok(()));
        }
        // A separate CRL signing key of the same CA (RFC 5280 6.3.3 (f)).
        let signers = self
            .anchors
            .iter()
            .enumerate()
            .map(|(i, a)| (Some(i), a))
            .chain(self.pool.iter().map(|c| (None, *c)))
            .filter(|(_, c)| c.pkix.subject == crl.issuer && c.pkix.crl_sign == Some(true));
        for (anchor_index, signer) in signers {
            if core::ptr::eq(signer, issuer) {
                continue;
            }
            let (key_alg, key) = signer.pkix.key();
            if search.verify(&crl.signed_by(key_alg, key), &issuer.subject)? != Verdict::Valid {
                continue;
            }
            if anchor_index.is_some() {
                return Ok(Ok(()));
            }
            let goal = Goal {
                anchor: Some(anchor),
                revocation: false,
            };
            let mut certs = alloc::vec![signer];
            let saved = search.best.take();
            // Its intermediates must be CAs fit to issue, as on the client's path.
            let mut issuers_fit = |p: &Path<'a>| match p
                .intermediates()
                .iter()
                .find_map(|f| f.issuer_problem(false).map(|m| (f, m)))
            {
                Some((f, m)) => Err(reject(
                    Code::InvalidCertificate,
                    format!("intermediate `{}`: {m}", f.subject),
                )),
                None => Ok(()),
            };
            let found = self.extend(&mut certs, goal, search, &mut issuers_fit)?;
            let failure = search.best.take();
            search.best = saved;
            if found.is_some() {
                return Ok(Ok(()));
            }
            return Ok(Err(format!(
                "the CRL of `{}` is signed by `{}`, whose own path does not validate: {}",
                crl.issuer_text,
                signer.subject,
                failure
                    .map(|(_, r)| String::from(r.detail()))
                    .unwrap_or_default()
            )));
        }
        Ok(Err(format!(
            "the CRL of `{}` is not signed by its issuer's key or a CRL signer of that CA",
            crl.issuer_text
        )))
    }
}

fn no_issuer(cert: &CertFacts) -> String {
    format!(
        "no issuer for `{}`: its issuer `{}` is neither a trust anchor nor a presented \
         intermediate",
        cert.subject, cert.issuer
    )
}

fn signature_failure(v: Verdict, cert: &CertFacts, issuer: &CertFacts) -> Rejection {
    match v {
        Verdict::UnsupportedAlgorithm => reject(
            Code::UnsupportedAlgorithm,
            format!(
                "`{}` is signed with an algorithm this validator does not accept",
                cert.subject
            ),
        ),
        Verdict::WrongKeyType => reject(
            Code::UnsupportedAlgorithm,
            format!(
                "the signature algorithm of `{}` does not fit the key of `{}`, or is not accepted for it",
                cert.subject, issuer.subject
            ),
        ),
        _ => reject(
            Code::BadSignature,
            format!(
                "the signature of `{}` does not verify with the key of `{}`",
                cert.subject, issuer.subject
            ),
        ),
    }
}

fn malformed_constraints(ca: &CertFacts, problem: &str) -> Rejection {
    reject(
        Code::NameConstraintViolation,
        format!(
            "the nameConstraints of `{}` cannot be applied: {problem}",
            ca.subject
        ),
    )
}

/// A critical extension that is not processed (RFC 5280 4.2).
fn critical(cert: &CertFacts, what: &str) -> Result<(), Rejection> {
    match cert.pkix.unknown_critical.first() {
        Some(oid) => Err(reject(
            Code::InvalidCertificate,
            format!(
                "{what} `{}` has a critical extension {oid} that certclaims does not process \
                 (RFC 5280 4.2)",
                cert.subject
            ),
        )),
        None => Ok(()),
    }
}
