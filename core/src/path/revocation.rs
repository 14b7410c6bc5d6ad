//! Revocation by CRL (RFC 5280 5, 6.3): which CRLs speak for a certificate, who may sign
//! them, and what they say.
//!
//! A CRL speaks for a certificate when its issuer is the certificate's issuer (7.1 name
//! comparison) and its issuingDistributionPoint, if any, covers it: the kind of certificate
//! (onlyContainsUserCerts / onlyContainsCACerts) and, when both name distribution points,
//! one name in common with the certificate's cRLDistributionPoints. It is believed when it
//! is signed by the certificate's issuer, whose keyUsage must then allow cRLSign, or by a
//! separate CRL-signing certificate of the same CA: same name, keyUsage cRLSign, and a path
//! of its own to the same trust anchor. Delta CRLs, indirect CRLs, reason partitions and
//! attribute-certificate CRLs are refused when the policy is loaded.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use const_oid::ObjectIdentifier;

use super::constraints::Gn;
use super::der::{
    self, algorithm, extensions, name, read_time, serial_number, Extension, Reader,
    GENERALIZED_TIME, INTEGER, SEQUENCE, UTC_TIME,
};
use super::facts::general_names;
use super::name::DistinguishedName;
use super::signature::SignatureCheck;

const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ISSUING_DISTRIBUTION_POINT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");
const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
/// CRLReason removeFromCRL (8): only meaningful in delta CRLs.
const REMOVE_FROM_CRL: u8 = 8;

/// A CRL as the engine uses it.
#[derive(Debug, Clone)]
pub(crate) struct Crl {
    der: Vec<u8>,
    tbs: Range<usize>,
    sig_alg: Range<usize>,
    signature: Range<usize>,
    pub(crate) issuer: DistinguishedName,
    /// The issuer as a person reads it.
    pub(crate) issuer_text: String,
    pub(crate) authority_key_id: Option<Vec<u8>>,
    pub(crate) next_update: Option<i64>,
    /// Serial numbers (leading zeros removed) of the revoked certificates.
    revoked: Vec<Vec<u8>>,
    only_user: bool,
    only_ca: bool,
    /// The issuingDistributionPoint's fullName names (`None` without one).
    scope_names: Option<Vec<Gn>>,
}

impl Crl {
    /// Parses and checks a CRL (RFC 5280 5.1, 5.2, 5.3); `Err` says why it cannot be used.
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let list = CertificateList::parse(der).map_err(|e| e.to_string())?;
        if list.version != 1 {
            return Err("a version 1 CRL (RFC 5280 5.1.2.1: v2 when extensions are present, and cRLNumber is required)".into());
        }
        if der[list.inner_sig_alg.clone()] != der[list.sig_alg.clone()] {
            return Err(
                "its inner and outer signature algorithms differ (RFC 5280 5.1.1.2)".into(),
            );
        }
        let exts = &list.extensions;
        let mut numbers = 0;
        let mut idp = None;
        let mut authority_key_id = None;
        for (i, e) in exts.iter().enumerate() {
            if exts[..i].iter().any(|p| p.oid == e.oid) {
                return Err(format!("extension {} appears more than once", e.oid));
            }
            match e.oid {
                CRL_NUMBER if e.critical => {
                    return Err(
                        "the cRLNumber extension is critical (RFC 5280 5.2.3: non-critical)".into(),
                    )
                }
                CRL_NUMBER => numbers += 1,
                DELTA_CRL_INDICATOR => return Err("a delta CRL (not supported)".into()),
                ISSUING_DISTRIBUTION_POINT => {
                    idp = Some(
                        der::issuing_distribution_point(der, e)
                            .map_err(|e| format!("malformed issuingDistributionPoint: {e}"))?,
                    )
                }
                AUTHORITY_KEY_ID => {
                    let aki = der::authority_key_id(der, e)
                        .map_err(|e| format!("malformed authorityKeyIdentifier: {e}"))?;
                    authority_key_id = aki.key_identifier.map(<[u8]>::to_vec);
                }
                FRESHEST_CRL => {}
                _ if e.critical => {
                    return Err(format!(
                        "a critical extension {} certclaims does not process",
                        e.oid
                    ))
                }
                _ => {}
            }
        }
        if numbers == 0 {
            return Err("no cRLNumber extension (RFC 5280 5.2.3)".into());
        }
        let (mut only_user, mut only_ca, mut scope_names) = (false, false, None);
        if let Some(idp) = idp {
            if idp.indirect {
                return Err("an indirect CRL (not supported)".into());
            }
            if idp.only_some_reasons {
                return Err("a CRL partitioned by reason (onlySomeReasons, not supported)".into());
            }
            if idp.only_attribute {
                return Err("a CRL of attribute certificates".into());
            }
            if idp.only_user && idp.only_ca {
                return Err("an issuingDistributionPoint for both user and CA certificates only (RFC 5280 5.2.5)".into());
            }
            only_user = idp.only_user;
            only_ca = idp.only_ca;
            scope_names = match idp.distribution_point {
                Some(Some(names)) => Some(general_names(&names)),
                Some(None) => return Err(
                    "an issuingDistributionPoint named relative to the CRL issuer (not supported)"
                        .into(),
                ),
                None => None,
            };
        }
        let mut revoked = Vec::new();
        for entry in &list.revoked {
            let mut remove = false;
            for e in &entry.extensions {
                match e.oid {
                    CERTIFICATE_ISSUER => {
                        return Err(
                            "an entry with a certificateIssuer (indirect CRL, not supported)"
                                .into(),
                        )
                    }
                    REASON_CODE => {
                        // ENUMERATED: tag 10, one byte for the defined reasons.
                        let v = &der[e.value.contents()];
                        if v.len() != 3 || v[0] != 0x0a || v[1] != 1 {
                            return Err("a malformed reasonCode entry extension".into());
                        }
                        remove = v[2] == REMOVE_FROM_CRL;
                    }
                    INVALIDITY_DATE => {}
                    _ if e.critical => {
                        return Err(format!(
                            "a critical entry extension {} certclaims does not process",
                            e.oid
                        ))
                    }
                    _ => {}
                }
            }
            if !remove {
                revoked.push(strip(entry.serial));
            }
        }
        Ok(Self {
            der: der.to_vec(),
            tbs: list.tbs,
            sig_alg: list.sig_alg,
            signature: list.signature,
            issuer: DistinguishedName::of(&list.issuer),
            issuer_text: list.issuer.to_rfc4514(),
            authority_key_id,
            next_update: list.next_update,
            revoked,
            only_user,
            only_ca,
            scope_names,
        })
    }

    /// Whether this CRL covers a certificate with these properties (see the module docs).
    pub(crate) fn covers(&self, is_ca: bool, crl_dps: Option<&[Gn]>) -> bool {
        if (self.only_user && is_ca) || (self.only_ca && !is_ca) {
            return false;
        }
        match (&self.scope_names, crl_dps) {
            (None, _) => true,
            // A CRL scoped to a distribution point speaks only for certificates that name it.
            (Some(_), None) => false,
            (Some(scope), Some(dps)) => scope.iter().any(|n| dps.contains(n)),
        }
    }

    pub(crate) fn lists(&self, serial: &[u8]) -> bool {
        let serial = strip(serial);
        self.revoked.contains(&serial)
    }

    /// The check of this CRL's signature under a key.
    pub(crate) fn signed_by<'a>(&'a self, key_alg: &'a [u8], key: &'a [u8]) -> SignatureCheck<'a> {
        SignatureCheck {
            key_alg,
            key,
            sig_alg: &self.der[self.sig_alg.clone()],
            message: &self.der[self.tbs.clone()],
            signature: &self.der[self.signature.clone()],
        }
    }
}

fn strip(serial: &[u8]) -> Vec<u8> {
    let start = serial
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    serial[start..].to_vec()
}

/// A CertificateList (RFC 5280 5.1) as read: strict DER (see [`der`]), zero-copy.
struct CertificateList<'a> {
    tbs: Range<usize>,
    version: u8,
    /// Contents of the tbsCertList's and the outer AlgorithmIdentifier.
    inner_sig_alg: Range<usize>,
    sig_alg: Range<usize>,
    signature: Range<usize>,
    issuer: der::Name<'a>,
    next_update: Option<i64>,
    revoked: Vec<RevokedCert<'a>>,
    extensions: Vec<Extension>,
}

struct RevokedCert<'a> {
    serial: &'a [u8],
    extensions: Vec<Extension>,
}

impl<'a> CertificateList<'a> {
    fn parse(der: &'a [u8]) -> Result<Self, der::Error> {
        let der::Signed {
            tbs,
            sig_alg,
            signature,
        } = der::signed_envelope(
            der,
            (
                "a CertificateList (SEQUENCE)",
                "the tbsCertList (SEQUENCE)",
                "the CRL",
            ),
        )?;
        let mut t = Reader::inside(der, &tbs);
        let version = t.expect(INTEGER, "the version (INTEGER; a version 1 CRL has none)")?;
        let version = match der[version.contents()] {
            [n @ 0..=2] => n,
            _ => {
                return Err(der::Error::new(
                    "a version other than v1, v2 or v3",
                    version.start,
                ))
            }
        };
        let inner_sig_alg = algorithm(&mut t, "the signature (AlgorithmIdentifier)")?;
        let issuer = name(der, &t.expect(SEQUENCE, "the issuer (Name)")?)?;
        read_time(&mut t, "thisUpdate")?;
        let next_update = match t.peek_tag() {
            Some(UTC_TIME | GENERALIZED_TIME) => Some(read_time(&mut t, "nextUpdate")?),
            _ => None,
        };
        let mut revoked = Vec::new();
        if let Some(list) = t.optional(SEQUENCE)? {
            let mut l = Reader::inside(der, &list);
            while !l.at_end() {
                let entry = l.expect(SEQUENCE, "a revoked certificate (SEQUENCE)")?;
                let mut e = Reader::inside(der, &entry);
                let serial =
                    serial_number(der, &e.expect(INTEGER, "a userCertificate (INTEGER)")?)?;
                read_time(&mut e, "a revocationDate")?;
                let extensions = match e.optional(SEQUENCE)? {
                    Some(exts) => extensions(der, &exts)?,
                    None => Vec::new(),
                };
                e.finish("a revoked certificate")?;
                revoked.push(RevokedCert { serial, extensions });
            }
        }
        let extensions = match t.context(0)? {
            Some(e) => der::explicit_extensions(
                der,
                &e,
                ("the crlExtensions (SEQUENCE)", "the crlExtensions"),
            )?,
            None => Vec::new(),
        };
        t.finish("the tbsCertList")?;
        Ok(Self {
            tbs: tbs.whole(),
            version,
            inner_sig_alg: inner_sig_alg.tlv.contents(),
            sig_alg: sig_alg.tlv.contents(),
            signature: signature.range,
            issuer,
            next_update,
            revoked,
            extensions,
        })
    }
}
