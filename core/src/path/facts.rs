//! What path validation reads from a certificate, taken from the same parse as the
//! principal's facts ([`crate::cert::CertFacts`] holds it).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use const_oid::ObjectIdentifier;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::Certificate;

use crate::cert::Decoded;

use super::constraints::{Constraints, Gn};
use super::der::{children, signed_layout, spki_layout, time};
use super::name::DistinguishedName;
use super::signature::SignatureCheck;

/// Extensions path validation processes (id-ce 15 keyUsage, 17 subjectAltName, 19
/// basicConstraints, 30 nameConstraints, 31 cRLDistributionPoints, 37 extKeyUsage; 14 and
/// 35, the key identifiers, which must not be critical). A critical extension outside this
/// list makes the certificate unusable in any position (RFC 5280 4.2).
const PROCESSED: [&str; 8] = [
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.19",
    "2.5.29.30",
    "2.5.29.31",
    "2.5.29.37",
    "2.5.29.14",
    "2.5.29.35",
];

/// emailAddress (PKCS #9), the legacy subject attribute rfc822Name constraints apply to.
const EMAIL_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// The path-validation half of a certificate's facts.
#[derive(Debug, Clone)]
pub(crate) struct PathFacts {
    /// The certificate as received.
    pub(crate) der: Vec<u8>,
    tbs: Range<usize>,
    sig_alg: Range<usize>,
    signature: Range<usize>,
    key_alg: Range<usize>,
    key: Range<usize>,
    /// The signature algorithm inside the signed part differs from the outer one.
    pub(crate) sig_alg_mismatch: bool,
    /// The subject Name's contents (without its SEQUENCE header), as TLS hints carry it.
    subject_value: Range<usize>,
    pub(crate) subject: DistinguishedName,
    pub(crate) issuer: DistinguishedName,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) path_len: Option<u8>,
    /// The keyUsage cRLSign bit; `None` without a keyUsage extension.
    pub(crate) crl_sign: Option<bool>,
    /// Critical extensions path validation does not process, by OID.
    pub(crate) unknown_critical: Vec<String>,
    /// The names name constraints apply to: the subject (when not empty), its emailAddress
    /// attributes, and every subjectAltName.
    pub(crate) names: Vec<Gn>,
    /// The nameConstraints extension, or why it cannot be applied.
    pub(crate) constraints: Option<Result<Constraints, String>>,
    pub(crate) subject_key_id: Option<Vec<u8>>,
    pub(crate) authority_key_id: Option<Vec<u8>>,
    /// The fullName general names of the cRLDistributionPoints (`None` without the
    /// extension).
    pub(crate) crl_distribution_points: Option<Vec<Gn>>,
}

/// Times at or after 1970 that stand in for earlier ones when the certificate is handed to
/// x509-cert, whose time types start at the Unix epoch (same length, so nothing moves).
const UTC_EPOCH: &[u8; 13] = b"700101000000Z";
const GENERALIZED_EPOCH: &[u8; 15] = b"19700101000000Z";

/// Reads the validity of `der` and, when a time falls before 1970, the copy of `der` that
/// x509-cert can decode. `Err` is a malformation.
pub(crate) fn validity(der: &[u8]) -> Result<(i64, i64, Option<Vec<u8>>), String> {
    let layout = signed_layout(der, 1).ok_or("not a DER certificate (Certificate SEQUENCE)")?;
    let validity = layout
        .fields
        .get(3)
        .filter(|v| v.tag == 0x30)
        .ok_or("no validity")?;
    let times = children(der, validity).ok_or("malformed validity")?;
    let [nb, na] = times.as_slice() else {
        return Err("malformed validity".into());
    };
    let read = |t: &super::der::Tlv, what: &str| {
        time(t.tag, &der[t.contents()])
            .ok_or_else(|| format!("{what} is not an RFC 5280 time (UTCTime or GeneralizedTime, to the second, in UTC)"))
    };
    let (not_before, not_after) = (read(nb, "notBefore")?, read(na, "notAfter")?);
    let mut patched: Option<Vec<u8>> = None;
    for (t, secs) in [(nb, not_before), (na, not_after)] {
        if secs < 0 {
            let copy = patched.get_or_insert_with(|| der.to_vec());
            let with: &[u8] = if t.tag == 0x17 {
                UTC_EPOCH
            } else {
                GENERALIZED_EPOCH
            };
            copy[t.contents()].copy_from_slice(with);
        }
    }
    Ok((not_before, not_after, patched))
}

impl PathFacts {
    /// Reads what path validation needs; `Err` is a malformation (the caller names the
    /// certificate).
    pub(crate) fn read(
        der: &[u8],
        cert: &Certificate,
        not_before: i64,
        not_after: i64,
        ext: &Decoded,
        subject_text: &str,
    ) -> Result<Self, String> {
        let tbs = &cert.tbs_certificate;
        let layout = signed_layout(der, 1).ok_or("not a DER certificate")?;
        // serial, signature, issuer, validity, subject, subjectPublicKeyInfo
        let spki = layout
            .fields
            .get(5)
            .filter(|s| s.tag == 0x30)
            .ok_or("no subjectPublicKeyInfo")?;
        let (key_alg, key) = spki_layout(der, spki).ok_or("malformed subjectPublicKeyInfo")?;
        let subject_value = layout
            .fields
            .get(4)
            .filter(|s| s.tag == 0x30)
            .ok_or("no subject")?
            .contents();
        let subject = DistinguishedName::of(&tbs.subject);
        let issuer = DistinguishedName::of(&tbs.issuer);

        let mut names = Vec::new();
        if !subject.is_empty() {
            names.push(Gn::Dir(subject.clone(), subject_text.to_string()));
        }
        for rdn in tbs.subject.0.iter() {
            for atv in rdn.0.iter().filter(|a| a.oid == EMAIL_ADDRESS) {
                let text = core::str::from_utf8(atv.value.value())
                    .map_err(|_| "an emailAddress attribute that is not text")?;
                names.push(Gn::Email(text.to_string()));
            }
        }
        if let Some((_, san)) = &ext.subject_alt_name {
            names.extend(san.0.iter().map(Gn::of));
        }
        let constraints = match &ext.name_constraints {
            Ok(Some(nc)) => Some(Constraints::parse(nc)),
            Ok(None) => None,
            Err(e) => Some(Err(format!("malformed nameConstraints: {e}"))),
        };
        let subject_key_id = ext.subject_key_id.as_ref().map(|s| s.0.as_bytes().to_vec());
        let authority_key_id = match &ext.authority_key_id {
            Ok(Some(a)) => a.key_identifier.as_ref().map(|k| k.as_bytes().to_vec()),
            _ => None,
        };
        let crl_distribution_points = match &ext.crl_distribution_points {
            Some(dps) => {
                let mut out = Vec::new();
                for dp in &dps.0 {
                    if let Some(DistributionPointName::FullName(names)) = &dp.distribution_point {
                        out.extend(names.iter().map(Gn::of));
                    }
                }
                Some(out)
            }
            None => None,
        };
        let path_len = ext
            .basic_constraints
            .as_ref()
            .and_then(|bc| bc.path_len_constraint);
        let crl_sign = ext.key_usage.as_ref().map(|ku| ku.crl_sign());
        let unknown_critical = tbs
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.critical && !PROCESSED.contains(&e.extn_id.to_string().as_str()))
            .map(|e| e.extn_id.to_string())
            .collect();
        Ok(Self {
            der: der.to_vec(),
            tbs: layout.tbs,
            sig_alg: layout.sig_alg.clone(),
            signature: layout.signature,
            key_alg,
            key,
            sig_alg_mismatch: der[layout.inner_sig_alg] != der[layout.sig_alg],
            subject_value,
            subject,
            issuer,
            not_before,
            not_after,
            path_len,
            crl_sign,
            unknown_critical,
            names,
            constraints,
            subject_key_id,
            authority_key_id,
            crl_distribution_points,
        })
    }

    /// The check of this certificate's signature under `issuer`'s key.
    pub(crate) fn signed_by<'a>(&'a self, issuer: &'a PathFacts) -> SignatureCheck<'a> {
        SignatureCheck {
            key_alg: &issuer.der[issuer.key_alg.clone()],
            key: &issuer.der[issuer.key.clone()],
            sig_alg: &self.der[self.sig_alg.clone()],
            message: &self.der[self.tbs.clone()],
            signature: &self.der[self.signature.clone()],
        }
    }

    /// The subject Name's DER contents.
    pub(crate) fn subject_value(&self) -> &[u8] {
        &self.der[self.subject_value.clone()]
    }

    /// The key, as a signer of something else.
    pub(crate) fn key(&self) -> (&[u8], &[u8]) {
        (&self.der[self.key_alg.clone()], &self.der[self.key.clone()])
    }

    /// Whether the key identifiers suggest `issuer` issued this certificate: true unless both
    /// the authorityKeyIdentifier and the issuer's subjectKeyIdentifier are present and
    /// differ (RFC 5280 4.2.1.1). Path building tries such candidates first (RFC 4158 3.5);
    /// the signature decides.
    pub(crate) fn key_ids_suggest(&self, issuer: &PathFacts) -> bool {
        match (&self.authority_key_id, &issuer.subject_key_id) {
            (Some(a), Some(s)) => a == s,
            _ => true,
        }
    }

    /// Self-issued: subject and issuer are the same name (RFC 5280 6.1, compared as 7.1 says).
    pub(crate) fn self_issued(&self) -> bool {
        self.subject == self.issuer
    }
}

/// The general names of a `GeneralNames`.
pub(crate) fn general_names(names: &[GeneralName]) -> Vec<Gn> {
    names.iter().map(Gn::of).collect()
}
