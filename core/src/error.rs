//! Rejections: why a certificate did not yield a principal.

use alloc::string::String;
use core::fmt;

/// Where in the pipeline a rejection happened.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Decoding the presented bytes (PEM, DER, a forwarded header).
    Input,
    /// Path building, signatures, time, usage, revocation, deny-lists.
    Validation,
    /// The policy's identity rules.
    Policy,
}

impl Step {
    /// The stable lowercase name used in JSON (`input`, `validation`, `policy`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Validation => "validation",
            Self::Policy => "policy",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stable, machine-readable rejection code.
///
/// The string form ([`Code::as_str`]) is part of the public contract: it appears in the CLI's
/// JSON, in HTTP bodies and in the wasm package, and never changes meaning.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// Bytes that are not a well-formed certificate, chain, PEM document or CRL, or input
    /// beyond the documented size and count limits.
    Malformed,
    /// No client certificate was presented.
    NoCertificate,
    /// No path from the leaf to a trust anchor.
    UnknownIssuer,
    /// A signature in the path does not verify.
    BadSignature,
    /// A certificate in the path has expired.
    Expired,
    /// A certificate in the path is not valid yet.
    NotYetValid,
    /// The extended key usage does not allow TLS client authentication.
    WrongUsage,
    /// The leaf's keyUsage extension does not allow digitalSignature.
    KeyUsage,
    /// A CA certificate was presented as the client certificate.
    CaAsLeaf,
    /// A certificate in the path is revoked by a CRL.
    Revoked,
    /// No CRL covers a certificate whose revocation status must be known.
    UnknownRevocationStatus,
    /// The leaf is self-signed and the policy does not accept it.
    SelfSignedNotAllowed,
    /// The leaf is CA-issued and the policy accepts only pinned self-signed certificates.
    ChainedNotAllowed,
    /// The path is longer than the policy's `max_depth`, a CA's pathLenConstraint, or the
    /// engine's hard limits.
    ChainTooDeep,
    /// A name in the path violates an issuer's name constraints (or uses a constraint form
    /// that cannot be evaluated).
    NameConstraintViolation,
    /// A signature or key algorithm outside the configured set.
    UnsupportedAlgorithm,
    /// A certificate in the path is on the policy's deny-list.
    Denied,
    /// The certificate is valid but no identity rule of the policy admits it.
    PolicyDenied,
    /// The certificate is well-formed DER but not acceptable X.509 for this use (for example
    /// an unknown critical extension, or an inverted validity period).
    InvalidCertificate,
    /// A forwarded-certificate header (XFCC, RFC 9440, nginx, ALB, …) that cannot be decoded,
    /// is duplicated, exceeds its size limit, or contradicts itself.
    MalformedHeader,
    /// A forwarded-certificate header arrived from a peer that is not a configured forwarder.
    UntrustedForwarder,
    /// A companion check of the forwarder failed: a header it must send (for example
    /// `X-SSL-Client-Verify: SUCCESS`, or its shared secret) is missing or differs.
    ForwarderCheckFailed,
}

impl Code {
    /// Every code, in declaration order.
    pub const ALL: &'static [Code] = &[
        Self::Malformed,
        Self::NoCertificate,
        Self::UnknownIssuer,
        Self::BadSignature,
        Self::Expired,
        Self::NotYetValid,
        Self::WrongUsage,
        Self::KeyUsage,
        Self::CaAsLeaf,
        Self::Revoked,
        Self::UnknownRevocationStatus,
        Self::SelfSignedNotAllowed,
        Self::ChainedNotAllowed,
        Self::ChainTooDeep,
        Self::NameConstraintViolation,
        Self::UnsupportedAlgorithm,
        Self::Denied,
        Self::PolicyDenied,
        Self::InvalidCertificate,
        Self::MalformedHeader,
        Self::UntrustedForwarder,
        Self::ForwarderCheckFailed,
    ];

    /// The stable snake_case string of this code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::NoCertificate => "no_certificate",
            Self::UnknownIssuer => "unknown_issuer",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongUsage => "wrong_usage",
            Self::KeyUsage => "key_usage",
            Self::CaAsLeaf => "ca_as_leaf",
            Self::Revoked => "revoked",
            Self::UnknownRevocationStatus => "unknown_revocation_status",
            Self::SelfSignedNotAllowed => "self_signed_not_allowed",
            Self::ChainedNotAllowed => "chained_not_allowed",
            Self::ChainTooDeep => "chain_too_deep",
            Self::NameConstraintViolation => "name_constraint_violation",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::Denied => "denied",
            Self::PolicyDenied => "policy_denied",
            Self::InvalidCertificate => "invalid_certificate",
            Self::MalformedHeader => "malformed_header",
            Self::UntrustedForwarder => "untrusted_forwarder",
            Self::ForwarderCheckFailed => "forwarder_check_failed",
        }
    }

    /// The HTTP status a server answers with for this code: 401 when no certificate was
    /// presented (the client may retry with one), 400 for a forwarded header that cannot be
    /// decoded (the request itself is broken), 403 for every other rejection.
    ///
    /// This is the one place where rejections map to HTTP.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::NoCertificate => 401,
            Self::MalformedHeader => 400,
            _ => 403,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a presented certificate did not yield a [`Principal`](crate::Principal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    code: Code,
    step: Step,
    detail: String,
}

impl Rejection {
    /// A rejection with a code, the step it happened in, and a human-readable detail.
    pub fn new(code: Code, step: Step, detail: impl Into<String>) -> Self {
        Self {
            code,
            step,
            detail: detail.into(),
        }
    }

    /// The rejection used when a client presented no certificate.
    pub fn no_certificate() -> Self {
        Self::new(
            Code::NoCertificate,
            Step::Input,
            "no client certificate was presented",
        )
    }

    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        Self::new(Code::Malformed, Step::Input, detail)
    }

    pub(crate) fn malformed_header(detail: impl Into<String>) -> Self {
        Self::new(Code::MalformedHeader, Step::Input, detail)
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The step that rejected.
    pub fn step(&self) -> Step {
        self.step
    }

    /// A human-readable explanation (not stable; do not match on it).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The HTTP status for this rejection (see [`Code::http_status`]).
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The JSON body used by every host: `{"error":{"code","message","step"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "code": self.code.as_str(),
                "message": self.detail,
                "step": self.step.as_str(),
            }
        })
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} step): {}", self.code, self.step, self.detail)
    }
}

impl core::error::Error for Rejection {}

/// Why a policy could not be loaded or a validator could not be built.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The JSON does not match the policy schema; the message names the field and position.
    Json(String),
    /// The policy's `version` is not one this library understands.
    UnsupportedVersion(u64),
    /// A field's value is invalid (a bad PEM, fingerprint or pattern).
    Invalid {
        /// Dotted path of the field, e.g. `trust.anchors[0]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The policy names no trust anchor and accepts no self-signed certificate, so it could
    /// never admit anyone.
    NoTrust,
    /// A forwarder document ([`crate::forwarded::Forwarder`]) does not match its schema; the
    /// message names the field and position.
    ForwarderJson(String),
}

impl PolicyError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(msg) => write!(f, "invalid policy JSON: {msg}"),
            Self::ForwarderJson(msg) => write!(f, "invalid forwarder JSON: {msg}"),
            Self::UnsupportedVersion(v) => {
                write!(f, "unsupported policy version {v} (this build reads version 1)")
            }
            Self::Invalid { field, reason } => write!(f, "invalid policy field `{field}`: {reason}"),
            Self::NoTrust => f.write_str(
                "policy trusts nothing: give trust.anchors, or allowed_types \"self_signed\"/\"all\" with pins",
            ),
        }
    }
}

impl core::error::Error for PolicyError {}
