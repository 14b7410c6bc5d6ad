//! Facts read from one certificate's DER by OID (never by parsing a DN string).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use const_oid::db::rfc4519;
use const_oid::ObjectIdentifier;
use der::asn1::Utf8StringRef;
use der::{Decode, Encode, Tag, Tagged};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::Certificate;

use crate::error::Rejection;

/// OID of the Microsoft User Principal Name otherName (`1.3.6.1.4.1.311.20.2.3`).
pub(crate) const UPN_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3");

/// Everything certclaims reads from a certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertFacts {
    pub(crate) subject: String,
    pub(crate) issuer: String,
    pub(crate) subject_attrs: Vec<(ObjectIdentifier, String)>,
    pub(crate) issuer_attrs: Vec<(ObjectIdentifier, String)>,
    pub(crate) self_issued: bool,
    pub(crate) serial: Vec<u8>,
    pub(crate) sha256: [u8; 32],
    pub(crate) sha1: [u8; 20],
    pub(crate) not_before: u64,
    pub(crate) not_after: u64,
    pub(crate) dns: Vec<String>,
    pub(crate) uris: Vec<String>,
    pub(crate) emails: Vec<String>,
    pub(crate) upns: Vec<String>,
    pub(crate) ips: Vec<String>,
    pub(crate) is_ca: bool,
    /// DER of the SubjectPublicKeyInfo.
    pub(crate) spki: Vec<u8>,
    /// `None` when the certificate has no keyUsage extension.
    pub(crate) digital_signature: Option<bool>,
}

impl CertFacts {
    /// Parses `der`; any structural problem is a `malformed` rejection naming `what`.
    pub(crate) fn parse(der: &[u8], what: &str) -> Result<Self, Rejection> {
        let bad = |e: der::Error| Rejection::malformed(format!("{what}: {e}"));
        let cert = Certificate::from_der(der).map_err(bad)?;
        let tbs = &cert.tbs_certificate;

        let mut facts = CertFacts {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            subject_attrs: attributes(&tbs.subject),
            issuer_attrs: attributes(&tbs.issuer),
            self_issued: tbs.subject == tbs.issuer,
            serial: tbs.serial_number.as_bytes().to_vec(),
            sha256: Sha256::digest(der).into(),
            sha1: Sha1::digest(der).into(),
            not_before: tbs.validity.not_before.to_unix_duration().as_secs(),
            not_after: tbs.validity.not_after.to_unix_duration().as_secs(),
            dns: Vec::new(),
            uris: Vec::new(),
            emails: Vec::new(),
            upns: Vec::new(),
            ips: Vec::new(),
            is_ca: false,
            spki: tbs.subject_public_key_info.to_der().map_err(bad)?,
            digital_signature: None,
        };

        // `get` rejects duplicate extensions of one type.
        if let Some((_, bc)) = tbs.get::<BasicConstraints>().map_err(bad)? {
            facts.is_ca = bc.ca;
        }
        if let Some((_, ku)) = tbs.get::<KeyUsage>().map_err(bad)? {
            facts.digital_signature = Some(ku.digital_signature());
        }
        if let Some((_, san)) = tbs.get::<SubjectAltName>().map_err(bad)? {
            for name in san.0 {
                match name {
                    GeneralName::DnsName(s) => facts.dns.push(s.to_string()),
                    GeneralName::UniformResourceIdentifier(s) => facts.uris.push(s.to_string()),
                    GeneralName::Rfc822Name(s) => facts.emails.push(s.to_string()),
                    GeneralName::IpAddress(octets) => {
                        facts.ips.push(ip_to_string(octets.as_bytes()).ok_or_else(|| {
                            Rejection::malformed(format!(
                                "{what}: IP address SAN of {} bytes",
                                octets.as_bytes().len()
                            ))
                        })?)
                    }
                    GeneralName::OtherName(other) if other.type_id == UPN_OID => {
                        let upn = Utf8StringRef::try_from(&other.value).map_err(|e| {
                            Rejection::malformed(format!("{what}: UPN otherName is not a UTF8String: {e}"))
                        })?;
                        facts.upns.push(upn.as_str().to_string());
                    }
                    _ => {}
                }
            }
        }
        Ok(facts)
    }

    /// The most specific (last in DER order) value of attribute `oid` in the subject.
    pub(crate) fn subject_attr(&self, oid: ObjectIdentifier) -> Option<&str> {
        self.subject_attrs
            .iter()
            .rev()
            .find(|(o, _)| *o == oid)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn common_name(&self) -> Option<&str> {
        self.subject_attr(rfc4519::CN)
    }

    /// Serial as uppercase hex without leading zero bytes (at least one byte is kept).
    pub(crate) fn serial_hex(&self) -> String {
        serial_hex(&self.serial)
    }

    pub(crate) fn fingerprint_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    pub(crate) fn thumbprint_hex(&self) -> String {
        hex::encode_upper(self.sha1)
    }
}

pub(crate) fn serial_hex(serial: &[u8]) -> String {
    let start = serial
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    hex::encode_upper(&serial[start..])
}

/// Every attribute of a name whose value is a string, in DER order (least specific first).
fn attributes(name: &Name) -> Vec<(ObjectIdentifier, String)> {
    let mut out = Vec::new();
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if let Some(value) = attribute_string(&atv.value) {
                out.push((atv.oid, value));
            }
        }
    }
    out
}

fn attribute_string(value: &der::Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
            core::str::from_utf8(value.value()).ok().map(String::from)
        }
        Tag::BmpString => {
            let bytes = value.value();
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<String, _>>().ok()
        }
        _ => None,
    }
}

fn ip_to_string(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => {
            let b: [u8; 4] = bytes.try_into().ok()?;
            Some(Ipv4Addr::from(b).to_string())
        }
        16 => {
            let b: [u8; 16] = bytes.try_into().ok()?;
            Some(Ipv6Addr::from(b).to_string())
        }
        _ => None,
    }
}

/// Formats seconds since the epoch as RFC 3339 UTC (`2026-01-01T00:00:00Z`).
pub(crate) fn rfc3339(secs: u64) -> String {
    match der::DateTime::from_unix_duration(core::time::Duration::from_secs(secs)) {
        Ok(dt) => dt.to_string(),
        Err(_) => format!("@{secs}"),
    }
}
