//! What path validation reads from a certificate, taken from the same parse as the
//! principal's facts ([`crate::cert::CertFacts`] holds it).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use const_oid::ObjectIdentifier;

use crate::cert::{Certificate, Decoded, KU_CRL_SIGN};

use super::constraints::{Constraints, Gn};
use super::der::GeneralName;
use super::name::DistinguishedName;
use super::signature::SignatureCheck;

/// Extensions path validation processes (id-ce 15 keyUsage, 17 subjectAltName, 19
/// basicConstraints, 30 nameConstraints, 31 cRLDistributionPoints, 37 extKeyUsage; 14 and
/// 35, the key identifiers, which must not be critical). A critical extension outside this
/// list makes the certificate unusable in any position (RFC 5280 4.2).
const PROCESSED: [u8; 8] = [15, 17, 19, 30, 31, 37, 14, 35];

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

impl PathFacts {
    /// Reads what path validation needs; `Err` is a malformation (the caller names the
    /// certificate).
    pub(crate) fn read(
        cert: &Certificate<'_>,
        ext: &Decoded<'_>,
        subject_text: &str,
    ) -> Result<Self, String> {
        let der = cert.der;
        let subject = DistinguishedName::of(&cert.subject);
        let issuer = DistinguishedName::of(&cert.issuer);

        let mut names = Vec::new();
        if !subject.is_empty() {
            names.push(Gn::Dir(subject.clone(), subject_text.to_string()));
        }
        for atv in cert.subject.attributes().filter(|a| a.oid == EMAIL_ADDRESS) {
            let text = core::str::from_utf8(atv.value)
                .map_err(|_| "an emailAddress attribute that is not text")?;
            names.push(Gn::Email(text.to_string()));
        }
        if let Some((_, san)) = &ext.subject_alt_name {
            names.extend(san.iter().map(Gn::of));
        }
        let constraints = match &ext.name_constraints {
            Ok(Some(nc)) => Some(Constraints::parse(nc)),
            Ok(None) => None,
            Err(e) => Some(Err(format!("malformed nameConstraints: {e}"))),
        };
        let subject_key_id = ext.subject_key_id.map(<[u8]>::to_vec);
        let authority_key_id = match &ext.authority_key_id {
            Ok(Some(a)) => a.key_identifier.map(<[u8]>::to_vec),
            _ => None,
        };
        let crl_distribution_points = ext.crl_distribution_points.as_ref().map(|dps| {
            dps.iter()
                .flatten()
                .flat_map(|names| names.iter().map(Gn::of))
                .collect()
        });
        let path_len = ext.basic_constraints.and_then(|(_, n)| n);
        let crl_sign = ext.key_usage.map(|ku| ku & KU_CRL_SIGN != 0);
        let unknown_critical = cert
            .extensions
            .iter()
            .filter(|e| {
                e.critical && !matches!(e.oid.as_bytes(), [0x55, 0x1d, n] if PROCESSED.contains(n))
            })
            .map(|e| e.oid.to_string())
            .collect();
        let (inner, outer) = (
            cert.inner_sig_alg.tlv.contents(),
            cert.sig_alg.tlv.contents(),
        );
        Ok(Self {
            der: der.to_vec(),
            tbs: cert.tbs.whole(),
            sig_alg_mismatch: der[inner] != der[outer.clone()],
            sig_alg: outer,
            signature: cert.signature.range.clone(),
            key_alg: cert.key_alg.tlv.contents(),
            key: cert.key.range.clone(),
            subject_value: cert.subject_tlv.contents(),
            subject,
            issuer,
            not_before: cert.not_before,
            not_after: cert.not_after,
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
pub(crate) fn general_names(names: &[GeneralName<'_>]) -> Vec<Gn> {
    names.iter().map(Gn::of).collect()
}
