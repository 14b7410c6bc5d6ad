//! The x509-limbo harness: the testcase model, evaluation through [`certclaims::Validator`],
//! the summary counts and the comparison with a committed baseline.
//!
//! # How a testcase is evaluated
//!
//! Every testcase goes through the code path the adapters use:
//! `Validator::builder(certclaims::crypto::ALL)` with the testcase's trusted certificates as
//! anchors, its CRLs and its maximum depth, then [`Validator::verify`] of the peer certificate
//! with the untrusted intermediates as the presented chain, at the testcase's validation time
//! (the current time when it has none, as the limbo schema says).
//!
//! * `CLIENT` testcases use certclaims' default client-auth semantics
//!   ([`ExtendedKeyUsage::ClientAuth`]); their `expected_peer_names` must each be a SAN of the
//!   verified [`certclaims::Principal`].
//! * `SERVER` testcases require the serverAuth EKU ([`ExtendedKeyUsage::ServerAuth`], which
//!   also applies the CA/Browser Forum server certificate profile) and, when
//!   the testcase names an `expected_peer_name`, check it with rustls-webpki's
//!   `EndEntityCert::verify_is_valid_for_subject_name` (harness glue: certclaims validates
//!   clients, it does not match a server's name). A testcase without an expected peer name is
//!   judged on the chain alone.
//! * `max_chain_depth` is, in limbo, the number of intermediates allowed between the peer
//!   certificate and the trust anchor ("with a maximum chain depth of 0, there may not be any
//!   intermediates"), counted in "logical" intermediates, self-issued ones left out: the same
//!   quantity as certclaims' `max_depth`.
//! * `key_usage` may only ask for `digitalSignature`, which the core always requires of a leaf
//!   with a keyUsage extension; `extended_key_usage` may only ask for the usage of the
//!   validation kind. Anything else is reported as `SKIPPED`, with the reason in `context`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use certclaims::pki_types::pem::PemObject;
use certclaims::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use certclaims::policy::ExtendedKeyUsage;
use certclaims::{Chain, PolicyError, Principal, Rejection, Validator};
use rustls_pki_types::{DnsName, ServerName};
use serde::{Deserialize, Serialize};

/// The top-level corpus document (`limbo.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct Limbo {
    /// Schema version; 1.
    pub version: u64,
    /// The testcases.
    pub testcases: Vec<Testcase>,
}

impl Limbo {
    /// Parses a corpus document; only schema version 1 is understood.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let limbo: Limbo =
            serde_json::from_str(json).map_err(|e| format!("not a limbo corpus: {e}"))?;
        if limbo.version != 1 {
            return Err(format!(
                "unsupported limbo schema version {}",
                limbo.version
            ));
        }
        Ok(limbo)
    }
}

/// The kind of validation a testcase asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum ValidationKind {
    /// Validation of a client certificate by a server (certclaims' own job).
    Client,
    /// Validation of a server certificate by a client.
    Server,
}

/// A testcase's expected result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Expected {
    /// The chain must validate.
    Success,
    /// The chain must be rejected.
    Failure,
}

/// What the harness concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum ActualResult {
    /// Validated.
    Success,
    /// Rejected.
    Failure,
    /// Not evaluated: the testcase asks for something certclaims cannot express.
    Skipped,
}

/// The kind of an expected peer name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum PeerKind {
    /// An rfc822Name (email address).
    #[serde(rename = "RFC822")]
    Rfc822,
    /// A DNS name.
    #[serde(rename = "DNS")]
    Dns,
    /// An IP address.
    #[serde(rename = "IP")]
    Ip,
}

/// An expected peer name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PeerName {
    /// The kind of name.
    pub kind: PeerKind,
    /// The name.
    pub value: String,
}

/// One testcase (fields the harness does not use, like `description`, are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Testcase {
    /// Unique id, e.g. `rfc5280::nc::permitted-dns-match`.
    pub id: String,
    /// Optional-behaviour tags.
    #[serde(default)]
    pub features: Vec<String>,
    /// CLIENT or SERVER.
    pub validation_kind: ValidationKind,
    /// PEM trust anchors.
    pub trusted_certs: Vec<String>,
    /// PEM intermediates usable in path building.
    pub untrusted_intermediates: Vec<String>,
    /// PEM peer (end-entity) certificate.
    pub peer_certificate: String,
    /// RFC 3339 validation time; `None` means now.
    #[serde(default)]
    pub validation_time: Option<String>,
    /// Acceptable signature algorithms (empty: the validator's default).
    #[serde(default)]
    pub signature_algorithms: Vec<String>,
    /// Required key usages.
    #[serde(default)]
    pub key_usage: Vec<String>,
    /// Required extended key usages.
    #[serde(default)]
    pub extended_key_usage: Vec<String>,
    /// SUCCESS or FAILURE.
    pub expected_result: Expected,
    /// SERVER testcases: the name the server certificate must be valid for.
    #[serde(default)]
    pub expected_peer_name: Option<PeerName>,
    /// CLIENT testcases: the names the client certificate must carry.
    #[serde(default)]
    pub expected_peer_names: Vec<PeerName>,
    /// Maximum number of intermediates between the peer certificate and the anchor.
    #[serde(default)]
    pub max_chain_depth: Option<u64>,
    /// PEM CRLs.
    #[serde(default)]
    pub crls: Vec<String>,
}

/// One entry of the results file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestcaseResult {
    /// The testcase id.
    pub id: String,
    /// SUCCESS, FAILURE or SKIPPED.
    pub actual_result: ActualResult,
    /// Why: the rejection, the skip reason, or what validated.
    pub context: String,
}

/// The results file: `{"version":1,"harness":"certclaims","results":[…]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimboResults {
    /// Always 1.
    pub version: u64,
    /// `certclaims`.
    pub harness: String,
    /// One entry per testcase, in corpus order.
    pub results: Vec<TestcaseResult>,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
        })
    }
}

impl fmt::Display for ActualResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Skipped => "SKIPPED",
        })
    }
}

impl TestcaseResult {
    fn new(tc: &Testcase, actual_result: ActualResult, context: impl Into<String>) -> Self {
        Self {
            id: tc.id.clone(),
            actual_result,
            context: context.into(),
        }
    }
}

/// Evaluates one testcase; `now` is used when the testcase has no validation time.
pub fn evaluate(tc: &Testcase, now: UnixTime) -> TestcaseResult {
    match evaluate_inner(tc, now) {
        Ok(Verdict::Success(context)) => TestcaseResult::new(tc, ActualResult::Success, context),
        Ok(Verdict::Skip(context)) => TestcaseResult::new(tc, ActualResult::Skipped, context),
        Err(context) => TestcaseResult::new(tc, ActualResult::Failure, context),
    }
}

enum Verdict {
    Success(String),
    Skip(String),
}

/// A testcase as the harness configures the validator for it.
pub(crate) struct Setup {
    pub(crate) leaf: CertificateDer<'static>,
    pub(crate) intermediates: Vec<CertificateDer<'static>>,
    pub(crate) anchors: Vec<CertificateDer<'static>>,
    pub(crate) crls: Vec<CertificateRevocationListDer<'static>>,
    pub(crate) time: UnixTime,
    pub(crate) eku: ExtendedKeyUsage,
    max_depth: Option<usize>,
    server_name: Option<ServerName<'static>>,
}

pub(crate) enum Prepared {
    Run(Box<Setup>),
    Skip(String),
}

/// Decodes a testcase into the validator's inputs, or the reason it is skipped; an input
/// the harness cannot decode is an error.
pub(crate) fn prepare(tc: &Testcase, now: UnixTime) -> Result<Prepared, String> {
    if !tc.signature_algorithms.is_empty() {
        return Ok(Prepared::Skip(
            "signature_algorithms: certclaims takes its algorithm set from the host's crypto \
             provider, not a per-chain list"
                .into(),
        ));
    }
    if let Some(ku) = tc
        .key_usage
        .iter()
        .find(|ku| ku.as_str() != "digitalSignature")
    {
        return Ok(Prepared::Skip(format!(
            "key_usage `{ku}`: the core requires digitalSignature of a leaf with keyUsage and \
             cannot require other key usages"
        )));
    }
    let (eku, eku_name) = match tc.validation_kind {
        ValidationKind::Client => (ExtendedKeyUsage::ClientAuth, "clientAuth"),
        ValidationKind::Server => (ExtendedKeyUsage::ServerAuth, "serverAuth"),
    };
    if let Some(other) = tc
        .extended_key_usage
        .iter()
        .find(|e| e.as_str() != eku_name)
    {
        return Ok(Prepared::Skip(format!(
            "extended_key_usage `{other}`: the core requires exactly one purpose, {eku_name} for \
             {:?} testcases",
            tc.validation_kind
        )));
    }
    let server_name = match (&tc.validation_kind, &tc.expected_peer_name) {
        (ValidationKind::Server, Some(name)) => match server_name(name)? {
            Some(name) => Some(name),
            None => {
                return Ok(Prepared::Skip(format!(
                    "expected peer name of kind {:?}: rustls-webpki matches only DNS names and IP \
                     addresses",
                    name.kind
                )))
            }
        },
        _ => None,
    };

    let leaf = CertificateDer::from_pem_slice(tc.peer_certificate.as_bytes())
        .map_err(|e| format!("harness: peer certificate PEM: {e}"))?;
    let intermediates = tc
        .untrusted_intermediates
        .iter()
        .map(|pem| CertificateDer::from_pem_slice(pem.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("harness: intermediate PEM: {e}"))?;
    let anchors = tc
        .trusted_certs
        .iter()
        .map(|pem| CertificateDer::from_pem_slice(pem.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("harness: trusted certificate PEM: {e}"))?;
    let crls = tc
        .crls
        .iter()
        .map(|pem| CertificateRevocationListDer::from_pem_slice(pem.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("harness: CRL PEM: {e}"))?;
    let time = match &tc.validation_time {
        Some(t) => parse_time(t)?,
        None => now,
    };
    Ok(Prepared::Run(Box::new(Setup {
        leaf,
        intermediates,
        anchors,
        crls,
        time,
        eku,
        max_depth: tc
            .max_chain_depth
            .map(|depth| usize::try_from(depth).unwrap_or(usize::MAX)),
        server_name,
    })))
}

/// The validator the harness configures for `setup`, through the builder.
fn build(setup: &Setup) -> Result<Validator, PolicyError> {
    let mut builder = Validator::builder(certclaims::crypto::ALL)
        .with_anchors(setup.anchors.clone())
        .with_crls(setup.crls.clone())
        .with_required_eku(setup.eku);
    if let Some(depth) = setup.max_depth {
        builder = builder.with_max_depth(depth);
    }
    builder.build()
}

fn evaluate_inner(tc: &Testcase, now: UnixTime) -> Result<Verdict, String> {
    let setup = match prepare(tc, now)? {
        Prepared::Run(setup) => setup,
        Prepared::Skip(reason) => return Ok(Verdict::Skip(reason)),
    };
    // A validator that cannot be built (an unusable anchor or CRL) admits nobody.
    let validator = build(&setup).map_err(|e| format!("validator not built: {e}"))?;
    let principal = validator
        .verify(&setup.leaf, &setup.intermediates, setup.time)
        .map_err(|r| r.to_string())?;

    if let Some(name) = &setup.server_name {
        let ee =
            webpki::EndEntityCert::try_from(&setup.leaf).map_err(|e| format!("peer name: {e}"))?;
        ee.verify_is_valid_for_subject_name(name)
            .map_err(|e| format!("peer name {}: {e}", server_name_str(name)))?;
    }
    if tc.validation_kind == ValidationKind::Client {
        for name in &tc.expected_peer_names {
            if !principal_has_name(&principal, name) {
                return Err(format!(
                    "expected peer name {:?} `{}` is not a SAN of the leaf",
                    name.kind, name.value
                ));
            }
        }
    }
    Ok(Verdict::Success(format!(
        "verified: {}",
        principal.subject()
    )))
}

/// The default of `--sample-every`: with the CLIENT testcases, a few hundred cases.
pub const DEFAULT_SAMPLE_EVERY: usize = 25;

/// One testcase of the sample: a policy document equivalent to what the harness configures,
/// the presented chain, and the verdict the native core gives for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleCase {
    /// The limbo testcase id.
    pub id: String,
    /// `CLIENT` or `SERVER`.
    pub validation_kind: String,
    /// What limbo expects of the whole testcase (the sample compares chain verdicts, which
    /// leave out the peer-name check).
    pub expected_result: Expected,
    /// The policy document (version 1).
    pub policy: serde_json::Value,
    /// The presented chain as PEM: the peer certificate, then the untrusted intermediates.
    pub chain: String,
    /// The validation time in milliseconds since the epoch (a JS `Date` value).
    pub at: u64,
    /// The native verdict.
    pub native: NativeVerdict,
}

/// What `Validator::from_policy_json` + [`Chain::from_pem`] + `verify_chain` gave natively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum NativeVerdict {
    /// Verified: the principal as the CLI prints it (`serde_json::to_string_pretty`).
    Accepted {
        /// Always `true`.
        ok: bool,
        /// The principal JSON, pretty-printed.
        principal: String,
    },
    /// Rejected.
    Rejected {
        /// Always `false`.
        ok: bool,
        /// [`certclaims::Code`] as a string.
        code: String,
        /// [`Rejection::detail`].
        message: String,
        /// [`certclaims::Step`] as a string.
        step: String,
    },
}

impl NativeVerdict {
    fn of(result: &Result<Principal, Rejection>) -> Result<Self, String> {
        Ok(match result {
            Ok(p) => Self::Accepted {
                ok: true,
                principal: serde_json::to_string_pretty(&p.to_json())
                    .map_err(|e| format!("principal JSON: {e}"))?,
            },
            Err(r) => Self::Rejected {
                ok: false,
                code: r.code().as_str().into(),
                message: r.detail().into(),
                step: r.step().as_str().into(),
            },
        })
    }
}

/// The sample file: `{"version":1,"every":N,"cases":[…]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// Always 1.
    pub version: u64,
    /// Every how many testcases one was taken (CLIENT testcases are all taken).
    pub every: usize,
    /// The cases, in corpus order.
    pub cases: Vec<SampleCase>,
}

/// What [`sample`] produced.
#[derive(Debug, Clone, Default)]
pub struct SampleReport {
    /// The sampled testcases a policy document can express.
    pub cases: Vec<SampleCase>,
    /// Why sampled testcases were left out, with how many each reason left out.
    pub left_out: BTreeMap<&'static str, usize>,
    /// Disagreements between the policy-document path and the harness's builder path (or
    /// between the PEM and DER inputs): each is a bug, and the sample must not be used.
    pub errors: Vec<String>,
}

/// The policy document equivalent to what the harness configures for `setup`.
fn policy_document(tc: &Testcase, setup: &Setup) -> serde_json::Value {
    let eku = match setup.eku {
        ExtendedKeyUsage::ServerAuth => "server_auth",
        ExtendedKeyUsage::Any => "any",
        _ => "client_auth",
    };
    let mut trust = serde_json::json!({
        "anchors": tc.trusted_certs,
        "crls": tc.crls,
        "extended_key_usage": eku,
    });
    if let Some(depth) = tc.max_chain_depth {
        trust["max_depth"] = depth.into();
    }
    serde_json::json!({ "version": 1, "trust": trust })
}

/// A testcase's family: its id without the last `::` segment (`bettertls::nameconstraints`
/// for `bettertls::nameconstraints::tc42`).
fn family(id: &str) -> &str {
    id.rsplit_once("::").map_or("", |(family, _)| family)
}

/// Samples the corpus: families (a testcase id without its last `::` segment, such as
/// `bettertls::nameconstraints`) of at most `every` testcases are taken whole, larger ones
/// every `every`-th testcase (counted within the family, the first included), and every
/// CLIENT testcase. The hand-written families are small and varied;
/// the generated ones (bettertls) are large and alike, so they are thinned.
///
/// For each sampled testcase that a policy document can express, the sample holds that
/// document, the presented chain and the native verdict. A testcase is kept only when the
/// policy document's verdict equals the harness's own chain verdict (before its peer-name
/// check); a difference is an error in the report, not a silent omission.
///
/// The testcases are evaluated on up to `threads` threads; the sample keeps corpus order.
pub fn sample(testcases: &[Testcase], now: UnixTime, every: usize, threads: usize) -> SampleReport {
    let mut report = SampleReport::default();
    let chosen = sampled(testcases, every);
    let outcomes = par_map(&chosen, threads, |tc| sample_case(tc, now));
    for (tc, outcome) in chosen.iter().zip(outcomes) {
        match outcome {
            Ok(Ok(case)) => report.cases.push(case),
            Ok(Err(reason)) => *report.left_out.entry(reason).or_default() += 1,
            Err(e) => report.errors.push(format!("{}: {e}", tc.id)),
        }
    }
    report
}

/// The testcases [`sample`] takes, in corpus order.
fn sampled(testcases: &[Testcase], every: usize) -> Vec<&Testcase> {
    let every = every.max(1);
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for tc in testcases {
        *sizes.entry(family(&tc.id)).or_default() += 1;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    testcases
        .iter()
        .filter(|tc| {
            let fam = family(&tc.id);
            let index = seen.entry(fam).or_default();
            let take = sizes.get(fam).is_some_and(|&n| n <= every)
                || *index % every == 0
                || tc.validation_kind == ValidationKind::Client;
            *index += 1;
            take
        })
        .collect()
}

/// `Ok(Ok(case))`, `Ok(Err(why it is left out))`, or `Err(a disagreement)`.
fn sample_case(tc: &Testcase, now: UnixTime) -> Result<Result<SampleCase, &'static str>, String> {
    let setup = match prepare(tc, now) {
        Ok(Prepared::Run(setup)) => setup,
        Ok(Prepared::Skip(_)) => return Ok(Err("skipped by the harness")),
        Err(_) => return Ok(Err("input the harness cannot decode")),
    };
    let policy = policy_document(tc, &setup);
    let from_policy = Validator::from_policy_json(&policy.to_string(), certclaims::crypto::ALL);
    let (built, from_policy) = match (build(&setup), from_policy) {
        (Ok(built), Ok(from_policy)) => (built, from_policy),
        (Err(a), Err(b)) if a == b => return Ok(Err("no validator can be built")),
        (a, b) => {
            return Err(format!(
                "the builder gives {:?}, the policy document {:?}",
                a.err(),
                b.err()
            ))
        }
    };
    let harness = built.verify(&setup.leaf, &setup.intermediates, setup.time);
    let document = from_policy.verify(&setup.leaf, &setup.intermediates, setup.time);
    if document != harness {
        return Err(format!(
            "the policy document gives {}, the harness {}",
            describe(&document),
            describe(&harness)
        ));
    }
    let mut chain = String::new();
    for pem in std::iter::once(&tc.peer_certificate).chain(&tc.untrusted_intermediates) {
        chain.push_str(pem.trim_end());
        chain.push('\n');
    }
    // The npm package's path: the PEM text through `Chain::from_pem` and `verify_chain`.
    let pem =
        Chain::from_pem(chain.as_bytes()).and_then(|c| from_policy.verify_chain(&c, setup.time));
    if pem != harness {
        return Err(format!(
            "the PEM chain gives {}, the DER certificates {}",
            describe(&pem),
            describe(&harness)
        ));
    }
    Ok(Ok(SampleCase {
        id: tc.id.clone(),
        validation_kind: match tc.validation_kind {
            ValidationKind::Client => "CLIENT".into(),
            ValidationKind::Server => "SERVER".into(),
        },
        expected_result: tc.expected_result,
        policy,
        chain,
        at: setup.time.as_secs().saturating_mul(1000),
        native: NativeVerdict::of(&pem)?,
    }))
}

fn describe(result: &Result<Principal, Rejection>) -> String {
    match result {
        Ok(p) => format!("a principal for {}", p.subject()),
        Err(r) => r.to_string(),
    }
}

/// The peer name of a SERVER testcase; `None` for a kind webpki cannot match.
fn server_name(name: &PeerName) -> Result<Option<ServerName<'static>>, String> {
    match name.kind {
        PeerKind::Dns => DnsName::try_from(name.value.as_str())
            .map(|n| Some(ServerName::DnsName(n.to_owned())))
            .map_err(|_| {
                format!(
                    "expected peer name `{}` is not a valid DNS name",
                    name.value
                )
            }),
        PeerKind::Ip => name
            .value
            .parse::<IpAddr>()
            .map(|ip| Some(ServerName::IpAddress(ip.into())))
            .map_err(|_| format!("expected peer name `{}` is not an IP address", name.value)),
        PeerKind::Rfc822 => Ok(None),
    }
}

fn server_name_str(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(n) => n.as_ref().to_string(),
        ServerName::IpAddress(ip) => format!("{:?}", IpAddr::from(*ip)),
        other => format!("{other:?}"),
    }
}

fn principal_has_name(principal: &Principal, name: &PeerName) -> bool {
    match name.kind {
        PeerKind::Rfc822 => principal.emails().iter().any(|e| e == &name.value),
        PeerKind::Dns => principal
            .dns()
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&name.value)),
        PeerKind::Ip => match name.value.parse::<IpAddr>() {
            Ok(want) => principal
                .ips()
                .iter()
                .any(|ip| ip.parse::<IpAddr>() == Ok(want)),
            Err(_) => false,
        },
    }
}

/// Parses an RFC 3339 time (fractions of a second are dropped).
pub fn parse_time(s: &str) -> Result<UnixTime, String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("harness: validation_time `{s}`: {e}"))?;
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| format!("harness: validation_time `{s}` is before 1970"))?;
    Ok(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
}

/// The validation time for testcases without one: `time` (RFC 3339), or the current time.
pub fn time_or_now(time: Option<&str>) -> Result<UnixTime, String> {
    match time {
        Some(t) => parse_time(t),
        None => std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(UnixTime::since_unix_epoch)
            .map_err(|e| format!("system clock: {e}")),
    }
}

/// Evaluates every testcase, in corpus order, on up to `threads` threads.
pub fn run(testcases: &[Testcase], now: UnixTime, threads: usize) -> Vec<TestcaseResult> {
    par_map(testcases, threads, |tc| evaluate(tc, now))
}

/// `f` of every item (testcases, or references to them), in order, on up to `threads` threads.
pub fn par_map<I: Sync, T: Send>(
    testcases: &[I],
    threads: usize,
    f: impl Fn(&I) -> T + Sync,
) -> Vec<T> {
    let threads = threads.clamp(1, 64);
    let chunk = testcases.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = testcases
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// The four counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Actual result equals the expected result.
    pub pass: usize,
    /// Expected FAILURE, got SUCCESS.
    pub unexpected_success: usize,
    /// Expected SUCCESS, got FAILURE.
    pub unexpected_failure: usize,
    /// Not evaluated.
    pub skipped: usize,
}

impl Summary {
    /// Counts `results` against the expectations of `testcases` (matched by id).
    pub fn of(testcases: &[Testcase], results: &[TestcaseResult]) -> Self {
        let expected: BTreeMap<&str, Expected> = testcases
            .iter()
            .map(|t| (t.id.as_str(), t.expected_result))
            .collect();
        let mut s = Self::default();
        for r in results {
            match (expected.get(r.id.as_str()), r.actual_result) {
                (_, ActualResult::Skipped) => s.skipped += 1,
                (Some(Expected::Success), ActualResult::Success)
                | (Some(Expected::Failure), ActualResult::Failure) => s.pass += 1,
                (Some(Expected::Failure), ActualResult::Success) => s.unexpected_success += 1,
                (Some(Expected::Success), ActualResult::Failure) | (None, _) => {
                    s.unexpected_failure += 1
                }
            }
        }
        s
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pass {}, unexpected_success {}, unexpected_failure {}, skipped {}",
            self.pass, self.unexpected_success, self.unexpected_failure, self.skipped
        )
    }
}

/// A known divergence from the expected result, with the reason it is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// What limbo expects.
    pub expected: Expected,
    /// What certclaims does.
    pub actual: ActualResult,
    /// Why that is accepted.
    pub reason: String,
}

/// The committed baseline (`tests/limbo/exceptions.json`): the counts a run must not fall
/// behind, and every testcase whose result differs from limbo's expectation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Format version; 1.
    pub version: u64,
    /// Free text: which corpus the counts are for.
    #[serde(default)]
    pub corpus: String,
    /// The counts of the last accepted run.
    pub counts: Summary,
    /// Testcase id → the accepted divergence.
    pub exceptions: BTreeMap<String, Exception>,
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Regressions: the run must fail.
    pub errors: Vec<String>,
    /// Improvements and stale entries: the baseline can be tightened.
    pub notes: Vec<String>,
}

/// Compares a run of the whole corpus with the baseline: a count worse than the baseline, or
/// any testcase that diverges from limbo's expectation without a matching exception (see
/// [`check_divergences`]), is an error.
pub fn check(
    testcases: &[Testcase],
    results: &[TestcaseResult],
    baseline: &Baseline,
) -> CheckReport {
    let mut report = CheckReport::default();
    let now = Summary::of(testcases, results);
    let was = baseline.counts;
    let worse = |name: &str, now: usize, was: usize, higher_is_better: bool| {
        let regressed = if higher_is_better {
            now < was
        } else {
            now > was
        };
        regressed.then(|| format!("{name} is {now}, baseline {was}"))
    };
    report.errors.extend(
        [
            worse("pass", now.pass, was.pass, true),
            worse(
                "unexpected_success",
                now.unexpected_success,
                was.unexpected_success,
                false,
            ),
            worse(
                "unexpected_failure",
                now.unexpected_failure,
                was.unexpected_failure,
                false,
            ),
            worse("skipped", now.skipped, was.skipped, false),
        ]
        .into_iter()
        .flatten(),
    );
    if now != was && report.errors.is_empty() {
        report.notes.push(format!(
            "counts improved on the baseline ({was}); update `counts` to ({now})"
        ));
    }
    let divergences = check_divergences(testcases, results, &baseline.exceptions);
    report.errors.extend(divergences.errors);
    report.notes.extend(divergences.notes);
    for id in baseline.exceptions.keys() {
        if !testcases.iter().any(|t| &t.id == id) {
            report
                .notes
                .push(format!("{id}: not in this corpus; remove its exception"));
        }
    }
    report
}

/// Compares each result with limbo's expectation: a divergence (a wrong verdict or a skip)
/// without an exception naming the same expected and actual result is an error; an
/// exception whose testcase now meets the expectation is a note. Works on any subset of the
/// corpus.
pub fn check_divergences(
    testcases: &[Testcase],
    results: &[TestcaseResult],
    exceptions: &BTreeMap<String, Exception>,
) -> CheckReport {
    let mut report = CheckReport::default();
    let expected: BTreeMap<&str, Expected> = testcases
        .iter()
        .map(|t| (t.id.as_str(), t.expected_result))
        .collect();
    for r in results {
        let Some(&exp) = expected.get(r.id.as_str()) else {
            continue;
        };
        let diverges = !matches!(
            (exp, r.actual_result),
            (Expected::Success, ActualResult::Success) | (Expected::Failure, ActualResult::Failure)
        );
        match (diverges, exceptions.get(&r.id)) {
            (true, Some(e)) if e.actual == r.actual_result && e.expected == exp => {}
            (true, Some(e)) => report.errors.push(format!(
                "{}: expected {exp}, got {} ({}); the exception lists {}",
                r.id, r.actual_result, r.context, e.actual
            )),
            (true, None) => report.errors.push(format!(
                "{}: expected {exp}, got {} ({}) and no exception explains it",
                r.id, r.actual_result, r.context
            )),
            (false, Some(_)) => report
                .notes
                .push(format!("{}: now as expected; remove its exception", r.id)),
            (false, None) => {}
        }
    }
    report
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn testcase(id: &str, expected: &str) -> Testcase {
        serde_json::from_value(serde_json::json!({
            "id": id, "description": "", "validation_kind": "SERVER", "trusted_certs": [],
            "untrusted_intermediates": [], "peer_certificate": "", "signature_algorithms": [],
            "key_usage": [], "extended_key_usage": [], "expected_result": expected,
            "expected_peer_names": [], "importance": "high", "conflicts_with": []
        }))
        .unwrap()
    }

    fn result(id: &str, actual: ActualResult) -> TestcaseResult {
        TestcaseResult {
            id: id.into(),
            actual_result: actual,
            context: "ctx".into(),
        }
    }

    fn corpus() -> (Vec<Testcase>, Vec<TestcaseResult>) {
        let tcs = vec![
            testcase("a", "SUCCESS"),
            testcase("b", "FAILURE"),
            testcase("c", "FAILURE"),
            testcase("d", "SUCCESS"),
            testcase("e", "SUCCESS"),
        ];
        let results = vec![
            result("a", ActualResult::Success),
            result("b", ActualResult::Failure),
            result("c", ActualResult::Success),
            result("d", ActualResult::Failure),
            result("e", ActualResult::Skipped),
        ];
        (tcs, results)
    }

    fn exception(expected: Expected, actual: ActualResult) -> Exception {
        Exception {
            expected,
            actual,
            reason: "because".into(),
        }
    }

    fn baseline() -> Baseline {
        Baseline {
            version: 1,
            corpus: String::new(),
            counts: Summary {
                pass: 2,
                unexpected_success: 1,
                unexpected_failure: 1,
                skipped: 1,
            },
            exceptions: [
                (
                    "c".to_string(),
                    exception(Expected::Failure, ActualResult::Success),
                ),
                (
                    "d".to_string(),
                    exception(Expected::Success, ActualResult::Failure),
                ),
                (
                    "e".to_string(),
                    exception(Expected::Success, ActualResult::Skipped),
                ),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn the_summary_line_counts_each_kind() {
        let (tcs, results) = corpus();
        let s = Summary::of(&tcs, &results);
        assert_eq!(
            s.to_string(),
            "pass 2, unexpected_success 1, unexpected_failure 1, skipped 1"
        );
    }

    #[test]
    fn a_run_equal_to_the_baseline_passes_the_check() {
        let (tcs, results) = corpus();
        assert_eq!(check(&tcs, &results, &baseline()), CheckReport::default());
    }

    #[test]
    fn a_new_unexpected_success_fails_the_check_even_when_counts_hold() {
        let (tcs, mut results) = corpus();
        // `c` is fixed but `b` now passes wrongly: same counts, unlisted divergence.
        results[1].actual_result = ActualResult::Success;
        results[2].actual_result = ActualResult::Failure;
        let report = check(&tcs, &results, &baseline());
        assert_eq!(
            report.errors,
            ["b: expected FAILURE, got SUCCESS (ctx) and no exception explains it"]
        );
        assert_eq!(report.notes, ["c: now as expected; remove its exception"]);
    }

    #[test]
    fn a_worse_count_fails_the_check() {
        let (tcs, mut results) = corpus();
        results[0].actual_result = ActualResult::Skipped;
        let report = check(&tcs, &results, &baseline());
        assert_eq!(
            report.errors[..2],
            ["pass is 1, baseline 2", "skipped is 2, baseline 1"]
        );
        assert_eq!(
            report.errors[2],
            "a: expected SUCCESS, got SKIPPED (ctx) and no exception explains it"
        );
    }

    #[test]
    fn an_exception_with_another_outcome_does_not_cover_a_divergence() {
        let (tcs, mut results) = corpus();
        results[4].actual_result = ActualResult::Failure; // listed as SKIPPED
        let report = check(&tcs, &results, &baseline());
        assert!(report
            .errors
            .iter()
            .any(|e| e == "unexpected_failure is 2, baseline 1"));
        assert!(report
            .errors
            .iter()
            .any(|e| e == "e: expected SUCCESS, got FAILURE (ctx); the exception lists SKIPPED"));
    }

    #[test]
    fn improvements_and_stale_entries_are_notes() {
        let (tcs, mut results) = corpus();
        results[2].actual_result = ActualResult::Failure;
        let mut b = baseline();
        b.exceptions.insert(
            "gone".into(),
            exception(Expected::Success, ActualResult::Failure),
        );
        let report = check(&tcs, &results, &b);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(
            report.notes,
            [
                "counts improved on the baseline (pass 2, unexpected_success 1, unexpected_failure 1, \
                 skipped 1); update `counts` to (pass 3, unexpected_success 0, unexpected_failure 1, \
                 skipped 1)",
                "c: now as expected; remove its exception",
                "gone: not in this corpus; remove its exception",
            ]
        );
    }

    #[test]
    fn validation_times_are_rfc3339() {
        assert_eq!(
            parse_time("2026-11-25T11:41:22+00:00").unwrap().as_secs(),
            1_795_606_882
        );
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z").unwrap().as_secs(), 1);
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("1969-12-31T23:59:59Z").is_err());
    }

    #[test]
    fn unsupported_asks_are_skipped_with_a_reason() {
        let now = UnixTime::since_unix_epoch(Duration::from_secs(0));
        let mut tc = testcase("x", "SUCCESS");
        tc.extended_key_usage = vec!["codeSigning".into()];
        let r = evaluate(&tc, now);
        assert_eq!(r.actual_result, ActualResult::Skipped);
        assert!(r.context.contains("codeSigning"), "{}", r.context);
        let mut tc = testcase("y", "SUCCESS");
        tc.key_usage = vec!["keyEncipherment".into()];
        assert_eq!(evaluate(&tc, now).actual_result, ActualResult::Skipped);
        // A harness input problem is a failure with context, never a panic.
        let r = evaluate(&testcase("z", "SUCCESS"), now);
        assert_eq!(r.actual_result, ActualResult::Failure);
        assert!(
            r.context.starts_with("harness: peer certificate PEM"),
            "{}",
            r.context
        );
    }

    /// A testcase from a minted PKI: the kit's root trusted, its intermediate presented.
    fn minted(
        id: &str,
        kind: &str,
        issued: &certclaims::test_kit::Issued,
        pki: &certclaims::test_kit::Pki,
    ) -> Testcase {
        let leaf = issued.leaf_pem();
        let chain = issued.chain_pem();
        let mut tc = testcase(id, "SUCCESS");
        tc.validation_kind = if kind == "CLIENT" {
            ValidationKind::Client
        } else {
            ValidationKind::Server
        };
        tc.trusted_certs = vec![pki.root_pem()];
        tc.untrusted_intermediates = vec![chain[leaf.len()..].to_string()];
        tc.peer_certificate = leaf;
        tc.validation_time = Some("2026-11-25T11:41:22Z".into());
        tc
    }

    #[test]
    fn the_sample_holds_the_policy_document_the_chain_and_the_native_verdict() {
        use certclaims::test_kit::{Eku, Pki};
        let pki = Pki::new();
        let client = pki.client("alice").dns("alice.example").issue();
        let now = UnixTime::since_unix_epoch(Duration::from_secs(0));
        let tcs = vec![
            minted("a::client", "CLIENT", &client, &pki),
            minted("a::server", "SERVER", &client, &pki),
        ];
        let report = sample(&tcs, now, 1, 2);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.left_out.is_empty(), "{:?}", report.left_out);
        let [accepted, rejected] = &report.cases[..] else {
            panic!("{:?}", report.cases)
        };

        assert_eq!(accepted.id, "a::client");
        assert_eq!(accepted.validation_kind, "CLIENT");
        assert_eq!(
            accepted.policy,
            serde_json::json!({"version": 1, "trust": {
                "anchors": [pki.root_pem()], "crls": [], "extended_key_usage": "client_auth"
            }})
        );
        assert_eq!(accepted.chain, client.chain_pem());
        let at = parse_time("2026-11-25T11:41:22Z").unwrap();
        assert_eq!(accepted.at, 1_795_606_882_000);
        let principal = Validator::builder(certclaims::crypto::ALL)
            .with_anchors([pki.root_der()])
            .build()
            .unwrap()
            .verify(client.leaf(), client.intermediates(), at)
            .unwrap();
        assert_eq!(
            accepted.native,
            NativeVerdict::Accepted {
                ok: true,
                principal: serde_json::to_string_pretty(&principal.to_json()).unwrap(),
            }
        );

        // The same clientAuth leaf in a SERVER testcase: server_auth mode rejects it.
        assert_eq!(
            rejected.policy["trust"]["extended_key_usage"],
            "server_auth"
        );
        assert_eq!(
            rejected.native,
            NativeVerdict::Rejected {
                ok: false,
                code: "wrong_usage".into(),
                message: "the leaf's extendedKeyUsage does not list serverAuth".into(),
                step: "validation".into(),
            }
        );
        // The file form: the verdict is untagged, the principal a string.
        let json = serde_json::to_value(rejected).unwrap();
        assert_eq!(
            json["native"],
            serde_json::json!({"ok": false, "code": "wrong_usage", "message":
                "the leaf's extendedKeyUsage does not list serverAuth", "step": "validation"})
        );

        // A maximum depth of 0 forbids the kit's intermediate: `max_depth` in the document.
        let mut deep = minted(
            "a::deep",
            "SERVER",
            &pki.client("s").eku(Eku::ServerAuth).issue(),
            &pki,
        );
        deep.max_chain_depth = Some(0);
        let report = sample(&[deep], now, 1, 2);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.cases[0].policy["trust"]["max_depth"], 0);
        let NativeVerdict::Rejected { code, .. } = &report.cases[0].native else {
            panic!("{:?}", report.cases[0].native)
        };
        assert_eq!(code, "chain_too_deep");
    }

    #[test]
    fn testcases_a_policy_document_cannot_express_are_left_out_and_counted() {
        let now = UnixTime::since_unix_epoch(Duration::from_secs(0));
        let pki = certclaims::test_kit::Pki::new();
        let issued = pki.client("alice").issue();
        let mut skipped = minted("a::skip", "CLIENT", &issued, &pki);
        skipped.signature_algorithms = vec!["RSASSA_PSS".into()];
        let mut untrusted = minted("a::nothing-trusted", "CLIENT", &issued, &pki);
        untrusted.trusted_certs.clear();
        let report = sample(
            &[skipped, untrusted, testcase("a::no-pem", "SUCCESS")],
            now,
            1,
            2,
        );
        assert!(report.cases.is_empty() && report.errors.is_empty());
        assert_eq!(
            report.left_out,
            [
                ("input the harness cannot decode", 1),
                ("no validator can be built", 1),
                ("skipped by the harness", 1),
            ]
            .into_iter()
            .collect()
        );
    }

    #[test]
    fn small_families_are_sampled_whole_large_ones_thinned_clients_always() {
        let mut tcs: Vec<Testcase> = (0..7)
            .map(|i| testcase(&format!("big::fam::tc{i}"), "SUCCESS"))
            .collect();
        tcs[4].validation_kind = ValidationKind::Client;
        tcs.push(testcase("small::a", "SUCCESS"));
        tcs.push(testcase("small::b", "SUCCESS"));
        tcs.push(testcase("small::c", "FAILURE"));
        let ids: Vec<&str> = sampled(&tcs, 3).iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "big::fam::tc0",
                "big::fam::tc3",
                "big::fam::tc4",
                "big::fam::tc6",
                "small::a",
                "small::b",
                "small::c"
            ]
        );
        assert_eq!(sampled(&tcs, 1).len(), tcs.len());
        assert_eq!(
            family("bettertls::nameconstraints::tc42"),
            "bettertls::nameconstraints"
        );
        assert_eq!(family("solo"), "");
    }
}
