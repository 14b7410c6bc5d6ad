//! Reading certificates without validating them (for diagnostics only).

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use sha2::{Digest, Sha256};

use crate::cert::{
    eku_name, hex_text, public_key_description, rfc3339, CertFacts, KEY_USAGE_NAMES,
};
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
    /// `sha256:<hex>` of the SubjectPublicKeyInfo: what `trust.deny[].issuer_key` takes.
    spki_sha256: String,
    /// Algorithm and size: `ECDSA P-256`, `RSA 2048`, `Ed25519`.
    public_key: String,
    not_before: String,
    not_after: String,
    #[serde(skip)]
    not_after_unix: i64,
    is_ca: bool,
    self_issued: bool,
    /// The keyUsage bits by RFC 5280 name; `None` without the extension (any use).
    key_usage: Option<Vec<&'static str>>,
    /// The extendedKeyUsage purposes (`client_auth`, `server_auth`, … or a dotted OID);
    /// `None` without the extension (any purpose).
    extended_key_usage: Option<Vec<String>>,
    /// The subject's one SPIFFE ID, as a principal would carry it (`None` without a valid
    /// one, or with several `spiffe://` URIs).
    spiffe_id: Option<String>,
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
    /// `sha256:<hex>` of the SubjectPublicKeyInfo (the `issuer_key` deny form).
    pub fn spki_sha256(&self) -> &str {
        &self.spki_sha256
    }
    /// notAfter, RFC 3339.
    pub fn not_after(&self) -> &str {
        &self.not_after
    }
    /// notAfter, seconds since the epoch (negative before 1970).
    pub fn not_after_unix(&self) -> i64 {
        self.not_after_unix
    }
    /// Whether basicConstraints says cA.
    pub fn is_ca(&self) -> bool {
        self.is_ca
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
    let spiffe_id = crate::validator::spiffe_id_of(&f.uris);
    Ok(UnverifiedCertificate {
        spki_sha256: alloc::format!(
            "sha256:{}",
            hex_text(&<[u8; 32]>::from(Sha256::digest(&f.spki)), false)
        ),
        public_key: public_key_description(&f.spki),
        key_usage: f.key_usage.map(|bits| {
            KEY_USAGE_NAMES
                .iter()
                .enumerate()
                .filter(|(n, _)| bits & (1 << n) != 0)
                .map(|(_, name)| *name)
                .collect()
        }),
        extended_key_usage: f.has_eku.then(|| f.ekus.iter().map(eku_name).collect()),
        spiffe_id,
        verified: false,
        common_name: f.common_name().map(String::from),
        serial: f.serial_hex(),
        fingerprint_sha256: f.fingerprint_hex().into(),
        thumbprint_sha1: f.thumbprint_hex(),
        not_before: rfc3339(f.not_before),
        not_after: rfc3339(f.not_after),
        not_after_unix: f.not_after,
        is_ca: f.is_ca,
        self_issued: f.self_issued,
        subject: String::from(&*f.subject),
        issuer: String::from(&*f.issuer),
        dns: f.dns,
        uris: f.uris,
        emails: f.emails,
        upns: f.upns,
        ips: f.ips,
    })
}
