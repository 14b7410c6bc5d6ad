//! Reading certificates without validating them (for diagnostics only).

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::cert::{rfc3339, CertFacts};
use crate::error::Rejection;
use crate::pki_types::CertificateDer;

/// What a certificate says about itself, **unverified**: nothing here is proven. Use it to
/// debug a chain, never to authorize. `verified` is always `false` in its JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnverifiedCertificate {
    verified: bool,
    subject: String,
    issuer: String,
    common_name: Option<String>,
    serial: String,
    fingerprint_sha256: String,
    thumbprint_sha1: String,
    not_before: String,
    not_after: String,
    is_ca: bool,
    self_issued: bool,
    dns: Vec<String>,
    uris: Vec<String>,
    emails: Vec<String>,
    upns: Vec<String>,
    ips: Vec<String>,
}

impl UnverifiedCertificate {
    /// The RFC 4514 subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// The RFC 4514 issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The most specific commonName of the subject.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }
    /// Lowercase hex SHA-256 of the DER.
    pub fn fingerprint_sha256(&self) -> &str {
        &self.fingerprint_sha256
    }
    /// The JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Reads a certificate's fields by OID without any validation.
pub fn inspect(cert: &CertificateDer<'_>) -> Result<UnverifiedCertificate, Rejection> {
    crate::input::check_limits(cert, &[])?;
    let f = CertFacts::parse(cert, "certificate")?;
    Ok(UnverifiedCertificate {
        verified: false,
        common_name: f.common_name().map(String::from),
        serial: f.serial_hex(),
        fingerprint_sha256: f.fingerprint_hex(),
        thumbprint_sha1: f.thumbprint_hex(),
        not_before: rfc3339(f.not_before),
        not_after: rfc3339(f.not_after),
        is_ca: f.is_ca,
        self_issued: f.self_issued,
        subject: f.subject,
        issuer: f.issuer,
        dns: f.dns,
        uris: f.uris,
        emails: f.emails,
        upns: f.upns,
        ips: f.ips,
    })
}
