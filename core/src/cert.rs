//! Facts read from one certificate's DER by OID (never by parsing a DN string).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use const_oid::db::rfc4519;
use const_oid::ObjectIdentifier;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::Rejection;
use crate::path::der::{
    self, algorithm, bit_string, find, id_ce, implicit, name, read_time, serial_number,
    AlgorithmId, AuthorityKeyId, BitString, Extension, GeneralName, Name, NameConstraints, Reader,
    Tlv, BIT_STRING, INTEGER, SEQUENCE,
};
use crate::path::facts::PathFacts;
use crate::principal::{Lazy, Text};

/// OID of the Microsoft User Principal Name otherName (`1.3.6.1.4.1.311.20.2.3`).
pub(crate) const UPN_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3");

/// Everything certclaims reads from a certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertFacts {
    /// RFC 4514 subject and issuer, shared with the principal and its chain.
    pub(crate) subject: Text,
    pub(crate) issuer: Text,
    /// The SHA-256 fingerprint as lowercase hex, shared with the principal and its chain.
    pub(crate) fingerprint: Text,
    pub(crate) subject_attrs: Vec<(ObjectIdentifier, String)>,
    pub(crate) issuer_attrs: Vec<(ObjectIdentifier, String)>,
    pub(crate) self_issued: bool,
    pub(crate) serial: Vec<u8>,
    pub(crate) sha256: [u8; 32],
    /// SHA-1 of the DER, computed when first asked for (deny-lists, rules, thumbprints).
    pub(crate) sha1: Lazy<[u8; 20]>,
    /// Seconds since the epoch (negative before 1970).
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
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
    /// The keyUsage keyCertSign bit; `None` when the certificate has no keyUsage extension.
    pub(crate) key_cert_sign: Option<bool>,
    /// Every keyUsage bit (bit `n` of RFC 5280 4.2.1.3 as `1 << n`); `None` without the
    /// extension.
    pub(crate) key_usage: Option<u16>,
    /// Whether the certificate has a basicConstraints extension.
    pub(crate) has_basic_constraints: bool,
    /// Whether the certificate has a nameConstraints extension.
    pub(crate) has_name_constraints: bool,
    /// Whether the certificate has a subjectKeyIdentifier extension.
    pub(crate) has_subject_key_id: bool,
    /// Whether the extendedKeyUsage extension lists anyExtendedKeyUsage.
    pub(crate) any_eku: bool,
    /// Whether the certificate has an extendedKeyUsage extension.
    pub(crate) has_eku: bool,
    /// The purposes the extendedKeyUsage extension lists (empty without one).
    pub(crate) ekus: Vec<ObjectIdentifier>,
    /// Whether the certificate has an authorityKeyIdentifier extension.
    pub(crate) has_authority_key_id: bool,
    /// Whether the authorityKeyIdentifier names the issuer's issuer and serial
    /// (authorityCertIssuer or authorityCertSerialNumber).
    pub(crate) aki_names_issuer_cert: bool,
    /// Whether the subjectAltName extension is marked critical.
    pub(crate) san_critical: bool,
    /// The dNSName subtrees (permitted and excluded) of the nameConstraints extension.
    pub(crate) dns_name_constraints: Vec<String>,
    /// Whether the subject is an empty sequence.
    pub(crate) subject_empty: bool,
    /// Whether this is a version 1 certificate (no extensions).
    pub(crate) version1: bool,
    /// Departures from the RFC 5280 profile that disqualify the certificate wherever it
    /// stands in a path (see [`CertFacts::profile_problem`]).
    pub(crate) profile_problems: Vec<String>,
    /// What path validation reads (the same parse).
    pub(crate) pkix: PathFacts,
}

impl CertFacts {
    /// Parses `der`; any structural problem is a `malformed` rejection naming `what`.
    pub(crate) fn parse(der: &[u8], what: &str) -> Result<Self, Rejection> {
        Self::parse_digested(der, what, Sha256::digest(der).into())
    }

    /// [`CertFacts::parse`] of `der` whose SHA-256 is `sha256` (computed by the caller, who
    /// needed it first: the cache key, or the host's own SHA-256).
    pub(crate) fn parse_digested(
        der: &[u8],
        what: &str,
        sha256: [u8; 32],
    ) -> Result<Self, Rejection> {
        let bad = |e: der::Error| Rejection::malformed(format!("{what}: {e}"));
        let cert = Certificate::parse(der).map_err(bad)?;
        // Each extension is decoded once, for the principal, the profile and the path.
        let ext = Decoded::read(&cert).map_err(bad)?;
        let subject = cert.subject.to_rfc4514();
        let pkix = PathFacts::read(&cert, &ext, &subject)
            .map_err(|e| Rejection::malformed(format!("{what}: {e}")))?;
        let (not_before, not_after) = (cert.not_before, cert.not_after);

        let mut facts = CertFacts {
            subject: subject.into(),
            issuer: cert.issuer.to_rfc4514().into(),
            fingerprint: hex_text(&sha256, false).into(),
            subject_attrs: attributes(&cert.subject),
            issuer_attrs: attributes(&cert.issuer),
            self_issued: pkix.self_issued(),
            serial: cert.serial.to_vec(),
            sha256,
            sha1: Lazy::new(),
            not_before,
            not_after,
            dns: Vec::new(),
            uris: Vec::new(),
            emails: Vec::new(),
            upns: Vec::new(),
            ips: Vec::new(),
            is_ca: false,
            spki: der[cert.spki.whole()].to_vec(),
            digital_signature: None,
            key_cert_sign: None,
            key_usage: None,
            has_basic_constraints: false,
            has_name_constraints: false,
            has_subject_key_id: false,
            any_eku: false,
            has_eku: false,
            ekus: Vec::new(),
            has_authority_key_id: false,
            aki_names_issuer_cert: false,
            san_critical: false,
            dns_name_constraints: Vec::new(),
            subject_empty: cert.subject.is_empty(),
            version1: cert.version == 0,
            profile_problems: profile_problems(&cert, &pkix, &ext),
            pkix,
        };

        if let Some((ca, _)) = ext.basic_constraints {
            facts.is_ca = ca;
            facts.has_basic_constraints = true;
        }
        if let Some(ku) = ext.key_usage {
            facts.key_usage = Some(ku);
            facts.digital_signature = Some(ku & KU_DIGITAL_SIGNATURE != 0);
            facts.key_cert_sign = Some(ku & KU_KEY_CERT_SIGN != 0);
        }
        if let Some(eku) = ext.extended_key_usage {
            facts.any_eku = eku.contains(&ANY_EKU_OID);
            facts.has_eku = true;
            facts.ekus = eku;
        }
        let has = |n| cert.extensions.iter().any(|e| e.oid.as_bytes() == id_ce(n));
        facts.has_name_constraints = has(NAME_CONSTRAINTS);
        facts.has_subject_key_id = has(SUBJECT_KEY_ID);
        // A malformed authorityKeyIdentifier or nameConstraints is a profile problem (see
        // `profile_problems`), not a parse failure.
        facts.has_authority_key_id = has(AUTHORITY_KEY_ID);
        if let Ok(Some(aki)) = &ext.authority_key_id {
            facts.aki_names_issuer_cert = aki.names_issuer_cert;
        }
        if let Ok(Some(nc)) = &ext.name_constraints {
            let subtrees = nc.permitted.iter().chain(&nc.excluded);
            for subtree in subtrees.flatten() {
                if let GeneralName::Dns(name) = &subtree.base {
                    facts.dns_name_constraints.push(name.to_string());
                }
            }
        }
        if let Some((critical, san)) = &ext.subject_alt_name {
            facts.san_critical = *critical;
            for name in san {
                match name {
                    GeneralName::Dns(s) => facts.dns.push(s.to_string()),
                    GeneralName::Uri(s) => facts.uris.push(s.to_string()),
                    GeneralName::Email(s) => facts.emails.push(s.to_string()),
                    GeneralName::Ip(octets) => {
                        facts.ips.push(ip_to_string(octets).ok_or_else(|| {
                            Rejection::malformed(format!(
                                "{what}: IP address SAN of {} bytes",
                                octets.len()
                            ))
                        })?)
                    }
                    GeneralName::Other(type_id, tag, value) if *type_id == UPN_OID => {
                        let upn = (*tag == der::UTF8_STRING)
                            .then(|| core::str::from_utf8(value).ok())
                            .flatten()
                            .ok_or_else(|| {
                                Rejection::malformed(format!(
                                    "{what}: UPN otherName is not a UTF8String"
                                ))
                            })?;
                        facts.upns.push(upn.to_string());
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

    /// SHA-1 of the DER.
    pub(crate) fn sha1(&self) -> &[u8; 20] {
        self.sha1
            .get_or_init(|| Sha1::digest(&self.pkix.der).into())
    }

    pub(crate) fn fingerprint_hex(&self) -> &str {
        &self.fingerprint
    }

    pub(crate) fn thumbprint_hex(&self) -> String {
        hex_text(self.sha1(), true)
    }

    /// Why this certificate may not stand anywhere in a path, if it may not: the first of
    /// [`CertFacts::profile_problems`].
    pub(crate) fn profile_problem(&self) -> Option<String> {
        self.profile_problems.first().cloned()
    }

    /// Why this certificate may not be the leaf of a path, if it may not.
    pub(crate) fn leaf_problem(&self) -> Option<String> {
        if let Some(p) = self.profile_problem() {
            return Some(p);
        }
        if self.serial.iter().all(|b| *b == 0) {
            return Some("the serial number is zero (RFC 5280 4.1.2.2: a positive integer)".into());
        }
        if self.version1 {
            return Some(
                "a version 1 certificate: certclaims accepts only version 3 certificates \
                 below the trust anchor"
                    .into(),
            );
        }
        if self.has_name_constraints {
            return Some(
                "nameConstraints in an end-entity certificate (RFC 5280 4.2.1.10: CA certificates only)"
                    .into(),
            );
        }
        if self.key_cert_sign == Some(true) && !self.is_ca {
            return Some(
                "keyUsage asserts keyCertSign without basicConstraints cA=true (RFC 5280 4.2.1.3)"
                    .into(),
            );
        }
        None
    }

    /// Why this certificate may not issue the next certificate of a path, as an intermediate
    /// or (when `anchor`) as the trust anchor, if it may not.
    pub(crate) fn issuer_problem(&self, anchor: bool) -> Option<String> {
        if let Some(p) = self.profile_problem() {
            return Some(p);
        }
        // Trust stores carry old roots with serial 0; an issued intermediate may not.
        if !anchor && self.serial.iter().all(|b| *b == 0) {
            return Some("the serial number is zero (RFC 5280 4.1.2.2: a positive integer)".into());
        }
        if self.subject_empty {
            return Some("a CA certificate with an empty subject (RFC 5280 4.1.2.6)".into());
        }
        // A version 1 certificate cannot carry extensions; as a trust anchor it is taken for a
        // CA, as OpenSSL does (webpki refuses v1 intermediates itself).
        if anchor && self.version1 {
            return None;
        }
        if !self.has_basic_constraints || !self.is_ca {
            return Some(
                "not a CA certificate: no basicConstraints extension with cA=true (RFC 5280 4.2.1.9)"
                    .into(),
            );
        }
        if self.key_cert_sign == Some(false) {
            return Some(
                "a CA certificate whose keyUsage lacks keyCertSign (RFC 5280 4.2.1.3)".into(),
            );
        }
        if !self.has_subject_key_id {
            return Some("a CA certificate without subjectKeyIdentifier (RFC 5280 4.2.1.2)".into());
        }
        None
    }

    /// Why this certificate may not be the leaf of a server certificate path under the
    /// CA/Browser Forum profile certclaims applies in serverAuth mode, if it may not (the
    /// extendedKeyUsage and authorityKeyIdentifier requirements are the validator's).
    pub(crate) fn server_leaf_problem(&self) -> Option<String> {
        if self.san_critical && !self.subject_empty {
            return Some(
                "subjectAltName is critical although the subject is not empty (CA/Browser \
                 Forum BR 7.1.2.7.12: critical only when the subject is empty)"
                    .into(),
            );
        }
        self.common_name_problem()
    }

    /// The encoding half of CA/Browser Forum BR 7.1.4.3 for the subject commonName: a
    /// commonName that stands for a subjectAltName must be its exact text (a dNSName copied
    /// character for character, an IPv4 address in dotted decimal, an IPv6 address in RFC 5952
    /// form), so a non-ASCII commonName, or one that names a SAN's address or DNS name in
    /// another spelling, is refused. That the commonName be one of the SANs at all is not
    /// required: certclaims never matches names against the commonName.
    fn common_name_problem(&self) -> Option<String> {
        let cns = self
            .subject_attrs
            .iter()
            .filter(|(oid, _)| *oid == rfc4519::CN)
            .map(|(_, v)| v.as_str());
        for cn in cns {
            if !cn.is_ascii() {
                return Some(format!(
                    "the subject commonName `{cn}` is not ASCII, so it is no copy of a \
                     subjectAltName (CA/Browser Forum BR 7.1.4.3: P-labels are not converted to \
                     Unicode)"
                ));
            }
            if let Some(ip) = ip_literal(cn) {
                let canonical = ip.to_string();
                if cn != canonical && self.ips.contains(&canonical) {
                    return Some(format!(
                        "the subject commonName `{cn}` spells the subjectAltName IP address \
                         {canonical} another way (CA/Browser Forum BR 7.1.4.3: dotted-decimal \
                         IPv4, RFC 5952 IPv6)"
                    ));
                }
            }
            if let Some(dns) = self
                .dns
                .iter()
                .find(|d| d.eq_ignore_ascii_case(cn) && d.as_str() != cn)
            {
                return Some(format!(
                    "the subject commonName `{cn}` differs in case from the subjectAltName \
                     dNSName `{dns}` (CA/Browser Forum BR 7.1.4.3: a character-for-character copy)"
                ));
            }
        }
        None
    }

    /// Why this certificate may not be the root (a self-issued trust anchor) of a server
    /// certificate path under the CA/Browser Forum root profile, if it may not.
    pub(crate) fn server_root_problem(&self) -> Option<String> {
        if self.has_eku {
            return Some(
                "a root CA certificate with an extendedKeyUsage extension (CA/Browser Forum BR \
                 7.1.2.1.2: MUST NOT be present)"
                    .into(),
            );
        }
        if self.aki_names_issuer_cert {
            return Some(
                "a root CA certificate whose authorityKeyIdentifier carries authorityCertIssuer \
                 or authorityCertSerialNumber (CA/Browser Forum BR 7.1.2.1.3: MUST NOT be present)"
                    .into(),
            );
        }
        None
    }

    /// Why this certificate may not issue in a server certificate path (as an intermediate or
    /// the anchor), beyond [`CertFacts::issuer_problem`], if it may not.
    pub(crate) fn server_ca_problem(&self) -> Option<String> {
        self.dns_name_constraints
            .iter()
            .find(|name| name.starts_with('.'))
            .map(|name| {
                format!(
                    "a nameConstraints dNSName subtree `{name}` with a leading period (RFC 5280 \
                     4.2.1.10: a DNS name, matched with any labels prepended; implementations \
                     disagree on what the period means)"
                )
            })
    }
}

/// An IP address as a commonName may spell it: IPv6 text in any case, compressed or not, or
/// IPv4 as inet_aton(3) reads it (one to four parts, each decimal, `0x` hexadecimal or
/// `0` octal, the last filling the remaining bytes).
fn ip_literal(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        return s.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let mut parts = Vec::new();
    for part in s.split('.') {
        let (digits, radix) = match part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            Some(hex) => (hex, 16),
            None if part.len() > 1 && part.starts_with('0') => (&part[1..], 8),
            None => (part, 10),
        };
        if parts.len() == 4 || digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        parts.push(u64::from_str_radix(digits, radix).ok()?);
    }
    let (last, init) = parts.split_last()?;
    let last_bits = 8 * (4 - init.len());
    if init.iter().any(|p| *p > 0xFF) || *last >= 1u64 << last_bits {
        return None;
    }
    let high = init
        .iter()
        .enumerate()
        .fold(0u64, |v, (i, p)| v | p << (24 - 8 * i));
    u32::try_from(high | last)
        .ok()
        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
}

/// id-ce numbers (2.5.29.n) of the extensions certclaims reads.
const SUBJECT_KEY_ID: u8 = 14;
const KEY_USAGE: u8 = 15;
const SUBJECT_ALT_NAME: u8 = 17;
const BASIC_CONSTRAINTS: u8 = 19;
const NAME_CONSTRAINTS: u8 = 30;
const CRL_DISTRIBUTION_POINTS: u8 = 31;
const AUTHORITY_KEY_ID: u8 = 35;
const EXTENDED_KEY_USAGE: u8 = 37;
/// keyUsage bits as [`der::flags`] numbers them.
const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
const KU_KEY_CERT_SIGN: u16 = 1 << 5;
pub(crate) const KU_CRL_SIGN: u16 = 1 << 6;
const ANY_EKU_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// id-pe-authorityInfoAccess (1.3.6.1.5.5.7.1.1).
const AUTHORITY_INFO_ACCESS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];
const RSA_ENCRYPTION_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
/// P-256, P-384 and P-521, by namedCurve OID.
const NAMED_CURVES: [(ObjectIdentifier, &str); 3] = [
    (ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"), "P-256"),
    (ObjectIdentifier::new_unwrap("1.3.132.0.34"), "P-384"),
    (ObjectIdentifier::new_unwrap("1.3.132.0.35"), "P-521"),
];
/// RSA moduli accepted in any certificate of a path, in bits (as rustls's and
/// [`crate::crypto`]'s RSA algorithms: 2048 to 8192).
const RSA_BITS: core::ops::RangeInclusive<usize> = 2048..=8192;

/// A certificate as read: its fields, as slices and offsets of the DER received (RFC 5280
/// 4.1; strict DER, see [`der`]).
pub(crate) struct Certificate<'a> {
    pub(crate) der: &'a [u8],
    /// The TBSCertificate, header included (the signed bytes).
    pub(crate) tbs: Tlv,
    /// 0 for v1, 1 for v2, 2 for v3.
    pub(crate) version: u8,
    /// The serial number's INTEGER octets, as encoded.
    pub(crate) serial: &'a [u8],
    pub(crate) inner_sig_alg: AlgorithmId,
    pub(crate) issuer: Name<'a>,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) subject: Name<'a>,
    pub(crate) subject_tlv: Tlv,
    pub(crate) spki: Tlv,
    pub(crate) key_alg: AlgorithmId,
    pub(crate) key: BitString<'a>,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) sig_alg: AlgorithmId,
    pub(crate) signature: BitString<'a>,
}

impl<'a> Certificate<'a> {
    /// Reads `der` as one certificate, nothing before or after it.
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self, der::Error> {
        let der::Signed {
            tbs,
            sig_alg,
            signature,
        } = der::signed_envelope(
            der,
            (
                "a Certificate (SEQUENCE)",
                "the tbsCertificate (SEQUENCE)",
                "the certificate",
            ),
        )?;

        let mut t = Reader::inside(der, &tbs);
        let version = match t.context(0)? {
            Some(v) => {
                let mut v = Reader::explicit(der, &v)?;
                let int = v.expect(INTEGER, "the version (INTEGER)")?;
                v.finish("the version")?;
                match der[int.contents()] {
                    [n @ 0..=2] => n,
                    _ => {
                        return Err(der::Error::new(
                            "a version other than v1, v2 or v3",
                            int.start,
                        ))
                    }
                }
            }
            None => 0,
        };
        let serial = serial_number(der, &t.expect(INTEGER, "the serialNumber (INTEGER)")?)?;
        let inner_sig_alg = algorithm(&mut t, "the signature (AlgorithmIdentifier)")?;
        let issuer = name(der, &t.expect(SEQUENCE, "the issuer (Name)")?)?;
        let validity = t.expect(SEQUENCE, "the validity (SEQUENCE)")?;
        let mut v = Reader::inside(der, &validity);
        let not_before = read_time(&mut v, "notBefore")?;
        let not_after = read_time(&mut v, "notAfter")?;
        v.finish("the validity")?;
        let subject_tlv = t.expect(SEQUENCE, "the subject (Name)")?;
        let subject = name(der, &subject_tlv)?;
        let spki = t.expect(SEQUENCE, "the subjectPublicKeyInfo (SEQUENCE)")?;
        let mut k = Reader::inside(der, &spki);
        let key_alg = algorithm(&mut k, "the subjectPublicKeyInfo's algorithm")?;
        let key_bits = k.expect(BIT_STRING, "the subjectPublicKey (BIT STRING)")?;
        let key = bit_string(der, &key_bits)?;
        k.finish("the subjectPublicKeyInfo")?;
        if key.unused != 0 {
            return Err(der::Error::new(
                "a subjectPublicKey that is not a whole number of octets",
                key_bits.value,
            ));
        }
        // issuerUniqueID [1], subjectUniqueID [2]: BIT STRINGs certclaims does not use.
        for n in [1, 2] {
            if let Some(id) = t.context(n)? {
                bit_string(der, implicit(&id, false)?)?;
            }
        }
        let extensions = match t.context(3)? {
            Some(e) => {
                der::explicit_extensions(der, &e, ("the extensions (SEQUENCE)", "the extensions"))?
            }
            None => Vec::new(),
        };
        t.finish("the tbsCertificate")?;
        Ok(Self {
            der,
            tbs,
            version,
            serial,
            inner_sig_alg,
            issuer,
            not_before,
            not_after,
            subject,
            subject_tlv,
            spki,
            key_alg,
            key,
            extensions,
            sig_alg,
            signature,
        })
    }
}

/// The extensions certclaims reads, each decoded once (a duplicate of one type is an error).
/// A malformed authorityKeyIdentifier or nameConstraints is a profile problem (see
/// `profile_problems`) rather than a parse failure, and a malformed subjectKeyIdentifier is
/// only a missing path-building hint.
pub(crate) struct Decoded<'a> {
    /// (cA, pathLenConstraint).
    pub(crate) basic_constraints: Option<(bool, Option<u8>)>,
    pub(crate) key_usage: Option<u16>,
    pub(crate) extended_key_usage: Option<Vec<ObjectIdentifier>>,
    /// With its criticality.
    pub(crate) subject_alt_name: Option<(bool, Vec<GeneralName<'a>>)>,
    pub(crate) name_constraints: Result<Option<NameConstraints<'a>>, der::Error>,
    pub(crate) authority_key_id: Result<Option<AuthorityKeyId<'a>>, der::Error>,
    pub(crate) subject_key_id: Option<&'a [u8]>,
    /// Each point's fullName names (`None` without a fullName).
    pub(crate) crl_distribution_points: Option<Vec<Option<Vec<GeneralName<'a>>>>>,
}

/// The extension id-ce `n` of `cert`, decoded by `read`, with its criticality; an error
/// (naming the extension) if it is malformed or present twice.
fn get<'a, T>(
    cert: &Certificate<'a>,
    n: u8,
    what: &str,
    read: impl Fn(&'a [u8], &Extension) -> Result<T, der::Error>,
) -> Result<Option<(bool, T)>, der::Error> {
    let found = find(&cert.extensions, &id_ce(n)).map_err(|e| e.inside(what))?;
    found
        .map(|e| read(cert.der, e).map(|v| (e.critical, v)))
        .transpose()
        .map_err(|e| e.inside(what))
}

impl<'a> Decoded<'a> {
    fn read(cert: &Certificate<'a>) -> Result<Self, der::Error> {
        fn value<T>(o: Option<(bool, T)>) -> Option<T> {
            o.map(|(_, v)| v)
        }
        Ok(Self {
            basic_constraints: value(get(
                cert,
                BASIC_CONSTRAINTS,
                "basicConstraints",
                der::basic_constraints,
            )?),
            key_usage: value(get(cert, KEY_USAGE, "keyUsage", der::key_usage)?),
            extended_key_usage: value(get(
                cert,
                EXTENDED_KEY_USAGE,
                "extKeyUsage",
                der::extended_key_usage,
            )?),
            subject_alt_name: get(cert, SUBJECT_ALT_NAME, "subjectAltName", der::alt_names)?,
            name_constraints: get(
                cert,
                NAME_CONSTRAINTS,
                "nameConstraints",
                der::name_constraints,
            )
            .map(value),
            authority_key_id: get(
                cert,
                AUTHORITY_KEY_ID,
                "authorityKeyIdentifier",
                der::authority_key_id,
            )
            .map(value),
            subject_key_id: get(
                cert,
                SUBJECT_KEY_ID,
                "subjectKeyIdentifier",
                der::subject_key_id,
            )
            .ok()
            .and_then(value),
            crl_distribution_points: value(get(
                cert,
                CRL_DISTRIBUTION_POINTS,
                "cRLDistributionPoints",
                der::crl_distribution_points,
            )?),
        })
    }
}

/// Profile problems that disqualify a certificate in any position of a path. rustls-webpki
/// already rejects most malformed or unknown critical extensions of the leaf and the
/// intermediates; these are RFC 5280 rules it leaves out, plus the key algorithms a TLS
/// peer may use.
fn profile_problems(cert: &Certificate<'_>, pkix: &PathFacts, ext: &Decoded<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if pkix.sig_alg_mismatch {
        out.push(
            "the signature algorithm inside the certificate differs from the outer one \
             (RFC 5280 4.1.1.2)"
                .into(),
        );
    }
    if pkix.not_before > pkix.not_after {
        out.push("notBefore is after notAfter (RFC 5280 4.1.2.5)".into());
    }
    let extensions = &cert.extensions;
    for (i, e) in extensions.iter().enumerate() {
        if extensions[..i].iter().any(|prev| prev.oid == e.oid) {
            out.push(format!(
                "extension {} appears more than once (RFC 5280 4.2)",
                e.oid
            ));
        }
        let key_id = [id_ce(AUTHORITY_KEY_ID), id_ce(SUBJECT_KEY_ID)];
        if e.critical && key_id.iter().any(|k| e.oid.as_bytes() == k) {
            out.push(format!(
                "the key identifier extension {} is critical (RFC 5280 4.2.1.1, 4.2.1.2: non-critical)",
                e.oid
            ));
        }
    }
    match &ext.authority_key_id {
        Ok(Some(aki)) if aki.key_identifier.is_none() => {
            out.push("authorityKeyIdentifier without keyIdentifier (RFC 5280 4.2.1.1)".into())
        }
        Ok(_) => {}
        Err(e) => out.push(format!("malformed authorityKeyIdentifier: {e}")),
    }
    if extensions
        .iter()
        .any(|e| e.oid.as_bytes() == AUTHORITY_INFO_ACCESS)
    {
        let aia = find(extensions, AUTHORITY_INFO_ACCESS).and_then(|e| {
            e.map(|e| der::authority_info_access(cert.der, e))
                .transpose()
        });
        match aia {
            Ok(Some(n)) if n > 0 => {}
            Ok(_) => out.push(
                "authorityInfoAccess without an access description (RFC 5280 4.2.2.1)".into(),
            ),
            Err(e) => out.push(format!("malformed authorityInfoAccess: {e}")),
        }
    }
    match &ext.name_constraints {
        Ok(Some(nc)) => {
            let empty = |t: &Option<Vec<_>>| t.as_ref().is_some_and(|t| t.is_empty());
            if nc.permitted.is_none() && nc.excluded.is_none()
                || empty(&nc.permitted)
                || empty(&nc.excluded)
            {
                out.push(
                    "nameConstraints with no subtree, or an empty one (RFC 5280 4.2.1.10)".into(),
                );
            }
        }
        Ok(None) => {}
        Err(e) => out.push(format!("malformed nameConstraints: {e}")),
    }
    let key = Spki {
        algorithm: cert.key_alg.oid,
        parameters: cert
            .key_alg
            .parameters
            .map(|p| (p.tag, &cert.der[p.contents()])),
        key: cert.key.bytes,
    };
    if let Some(p) = key_problem(&key) {
        out.push(p);
    }
    out
}

/// The keyUsage bits' names (RFC 5280 4.2.1.3), bit `n` at index `n`.
pub(crate) const KEY_USAGE_NAMES: [&str; 9] = [
    "digitalSignature",
    "contentCommitment",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// The names of extendedKeyUsage purposes certclaims knows (RFC 5280 4.2.1.12), in the
/// words of the policy's `extended_key_usage` where it has one.
pub(crate) fn eku_name(oid: &ObjectIdentifier) -> String {
    const NAMES: [(&str, &str); 7] = [
        ("1.3.6.1.5.5.7.3.1", "server_auth"),
        ("1.3.6.1.5.5.7.3.2", "client_auth"),
        ("1.3.6.1.5.5.7.3.3", "code_signing"),
        ("1.3.6.1.5.5.7.3.4", "email_protection"),
        ("1.3.6.1.5.5.7.3.8", "time_stamping"),
        ("1.3.6.1.5.5.7.3.9", "ocsp_signing"),
        ("2.5.29.37.0", "any"),
    ];
    let dotted = oid.to_string();
    NAMES
        .iter()
        .find(|(o, _)| *o == dotted)
        .map_or(dotted, |(_, n)| String::from(*n))
}

/// The subject public key in words: algorithm and size (`ECDSA P-256`, `RSA 2048`,
/// `Ed25519`), or the algorithm's OID for one certclaims does not name.
pub(crate) fn public_key_description(spki: &[u8]) -> String {
    let described = (|| -> Option<String> {
        let mut top = Reader::new(spki);
        let seq = top.expect(SEQUENCE, "a SubjectPublicKeyInfo").ok()?;
        let mut k = Reader::inside(spki, &seq);
        let alg = algorithm(&mut k, "the algorithm").ok()?;
        let key = bit_string(spki, &k.expect(BIT_STRING, "the key").ok()?).ok()?;
        let key = Spki {
            algorithm: alg.oid,
            parameters: alg.parameters.map(|p| (p.tag, &spki[p.contents()])),
            key: key.bytes,
        };
        Some(
            if key.algorithm == RSA_ENCRYPTION_OID || key.algorithm == RSASSA_PSS_OID {
                let pss = if key.algorithm == RSASSA_PSS_OID {
                    "-PSS"
                } else {
                    ""
                };
                match rsa_modulus_bits(key.key) {
                    Some(bits) => format!("RSA{pss} {bits}"),
                    None => format!("RSA{pss} (malformed key)"),
                }
            } else if key.algorithm == EC_PUBLIC_KEY_OID {
                let curve = key
                    .parameters
                    .filter(|(tag, _)| *tag == der::OID)
                    .and_then(|(_, p)| ObjectIdentifier::from_bytes(p).ok());
                match curve {
                    Some(c) => match NAMED_CURVES.iter().find(|(oid, _)| *oid == c) {
                        Some((_, name)) => format!("ECDSA {name}"),
                        None => format!("ECDSA curve {c}"),
                    },
                    None => "ECDSA (explicit curve parameters)".into(),
                }
            } else if key.algorithm == ED25519_OID {
                "Ed25519".into()
            } else if key.algorithm == ED448_OID {
                "Ed448".into()
            } else {
                key.algorithm.to_string()
            },
        )
    })();
    described.unwrap_or_else(|| "unreadable public key".into())
}

/// What [`key_problem`] looks at in a SubjectPublicKeyInfo.
struct Spki<'a> {
    algorithm: ObjectIdentifier,
    /// The parameters' tag and contents.
    parameters: Option<(u8, &'a [u8])>,
    /// The subjectPublicKey's octets.
    key: &'a [u8],
}

/// Why a subject public key is not one a TLS peer or CA may use, if it is not: RSA of 2048
/// to 8192 bits (a whole number of bytes), ECDSA on a named P-256/P-384/P-521 curve, Ed25519
/// or Ed448. DSA, small or explicit curves and weak RSA keys are refused in every position,
/// including the leaf, whose key certclaims itself never verifies a signature with.
fn key_problem(spki: &Spki<'_>) -> Option<String> {
    let alg = spki.algorithm;
    if alg == RSA_ENCRYPTION_OID || alg == RSASSA_PSS_OID {
        return match rsa_modulus_bits(spki.key) {
            Some(bits) if RSA_BITS.contains(&bits) && bits % 8 == 0 => None,
            Some(bits) => Some(format!(
                "an RSA key of {bits} bits (accepted: 2048 to 8192, a multiple of 8)"
            )),
            None => Some("a malformed RSA public key".into()),
        };
    }
    if alg == EC_PUBLIC_KEY_OID {
        let curve = spki
            .parameters
            .filter(|(tag, _)| *tag == der::OID)
            .and_then(|(_, p)| ObjectIdentifier::from_bytes(p).ok());
        return match curve {
            Some(c) if NAMED_CURVES.iter().any(|(oid, _)| *oid == c) => None,
            Some(c) => Some(format!(
                "an EC key on curve {c} (accepted: P-256, P-384, P-521)"
            )),
            None => Some("an EC key without a named curve (explicit parameters)".into()),
        };
    }
    if alg == ED25519_OID || alg == ED448_OID {
        return None;
    }
    Some(format!(
        "a public key of algorithm {alg} (accepted: RSA, ECDSA, EdDSA)"
    ))
}

/// The two non-negative INTEGERs of a DER `SEQUENCE { INTEGER, INTEGER }` (a PKCS#1
/// RSAPublicKey, an ECDSA-Sig-Value), as magnitudes; `None` if it is anything else.
fn two_unsigned(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut top = Reader::new(der);
    let seq = top.expect(SEQUENCE, "a SEQUENCE").ok()?;
    top.finish("the SEQUENCE").ok()?;
    let mut r = Reader::inside(der, &seq);
    let a = der::unsigned(der, &r.expect(INTEGER, "an INTEGER").ok()?, usize::MAX).ok()?;
    let b = der::unsigned(der, &r.expect(INTEGER, "an INTEGER").ok()?, usize::MAX).ok()?;
    r.finish("the SEQUENCE").ok()?;
    Some((a, b))
}

/// Bit length of the modulus of a PKCS#1 RSAPublicKey.
fn rsa_modulus_bits(key: &[u8]) -> Option<usize> {
    let (n, _e) = two_unsigned(key)?;
    Some(match n.first() {
        Some(first) => n.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    })
}

pub(crate) fn serial_hex(serial: &[u8]) -> String {
    let start = serial
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    hex_text(&serial[start..], true)
}

/// `bytes` as hex text, in one allocation (the `hex` crate's iterator builds it a char at a
/// time, and fingerprints are formatted on every verification).
pub(crate) fn hex_text(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 0x0f)]);
    }
    // ASCII digits only: always UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Every attribute of a name whose value is a string, in DER order (least specific first).
fn attributes(name: &Name<'_>) -> Vec<(ObjectIdentifier, String)> {
    name.attributes()
        .filter_map(|atv| Some((atv.oid, attribute_string(atv.tag, atv.value)?)))
        .collect()
}

fn attribute_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        der::UTF8_STRING | der::PRINTABLE_STRING | der::IA5_STRING | der::TELETEX_STRING => {
            core::str::from_utf8(bytes).ok().map(String::from)
        }
        der::BMP_STRING => {
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
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

/// Formats seconds since the epoch as RFC 3339 UTC (`2026-01-01T00:00:00Z`), before 1970
/// too (years 0 to 9999; others as `@seconds`). Digit by digit into one allocation: every
/// principal carries two.
pub(crate) fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::path::der::civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!("@{secs}");
    }
    let mut out = String::with_capacity(20);
    let mut digits = |n: i64, width: u32, sep: char| {
        for p in (0..width).rev() {
            // 0..=9 after the range checks above.
            let digit = u8::try_from(n / 10_i64.pow(p) % 10).unwrap_or(0);
            out.push(char::from(b'0' + digit));
        }
        out.push(sep);
    };
    digits(y, 4, '-');
    digits(m, 2, '-');
    digits(d, 2, 'T');
    digits(rem / 3600, 2, ':');
    digits(rem / 60 % 60, 2, ':');
    digits(rem % 60, 2, 'Z');
    out
}

/// Orders of the NIST curves ECDSA certificates are signed on (P-256, P-384, P-521).
const ECDSA_ORDERS: [&str; 3] = [
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
];

/// The SHA-256 fingerprints under which a certificate can be presented by anyone, without
/// the issuer's key: its own and, when it is signed with ECDSA, that of its twin whose
/// signature `(r, s)` is replaced by `(r, n − s)` (which verifies just as well). Deny-lists
/// match on all of them, so flipping `s` does not take a certificate off a deny-list.
///
/// The curve of the issuer is not needed: a twin is computed for each curve order greater
/// than `s`; a twin that is not a valid signature can only match a deny-list entry if it is
/// the very certificate that entry names.
pub(crate) fn presentable_fingerprints(der: &[u8]) -> Vec<([u8; 32], [u8; 20])> {
    let digests = |der: &[u8]| -> ([u8; 32], [u8; 20]) {
        (Sha256::digest(der).into(), Sha1::digest(der).into())
    };
    let mut out = alloc::vec![digests(der)];
    let Ok(cert) = Certificate::parse(der) else {
        return out;
    };
    // ecdsa-with-SHA* (1.2.840.10045.4.*).
    if !cert
        .sig_alg
        .oid
        .as_bytes()
        .starts_with(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04])
    {
        return out;
    }
    let Some((r, s)) = ecdsa_sig_parts(cert.signature.bytes) else {
        return out;
    };
    // The twin keeps every byte but the signature's: the signed bytes are the same.
    let signed = &der[cert.tbs.start..cert.sig_alg.tlv.end];
    for order in ECDSA_ORDERS {
        let Ok(n) = hex::decode(order) else { continue };
        let Some(twin_s) = sub_be(&n, &s) else {
            continue;
        };
        let sig = ecdsa_sig_der(&r, &twin_s);
        let mut bits = alloc::vec![BIT_STRING];
        der::push_length(&mut bits, sig.len() + 1);
        bits.push(0);
        bits.extend_from_slice(&sig);
        let mut twin = alloc::vec![SEQUENCE];
        der::push_length(&mut twin, signed.len() + bits.len());
        twin.extend_from_slice(signed);
        twin.extend_from_slice(&bits);
        out.push(digests(&twin));
    }
    out
}

/// `(r, s)` of a DER ECDSA-Sig-Value, as unsigned big-endian magnitudes.
fn ecdsa_sig_parts(sig: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (r, s) = two_unsigned(sig)?;
    Some((r.to_vec(), s.to_vec()))
}

/// `a − b` for big-endian magnitudes when `0 < b < a`, without leading zero bytes.
fn sub_be(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
    let strip = |x: &[u8]| -> Vec<u8> { x.iter().skip_while(|v| **v == 0).copied().collect() };
    let (a, b) = (strip(a), strip(b));
    if b.is_empty() || b.len() > a.len() || (b.len() == a.len() && b >= a) {
        return None;
    }
    let mut out = a.clone();
    let mut borrow = 0i16;
    for i in 0..out.len() {
        let ai = out.len() - 1 - i;
        let bv = if i < b.len() {
            i16::from(b[b.len() - 1 - i])
        } else {
            0
        };
        let mut v = i16::from(out[ai]) - bv - borrow;
        borrow = 0;
        if v < 0 {
            v += 256;
            borrow = 1;
        }
        out[ai] = v as u8;
    }
    Some(strip(&out))
}

/// DER of ECDSA-Sig-Value `SEQUENCE { r INTEGER, s INTEGER }` from magnitudes.
fn ecdsa_sig_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn int(out: &mut Vec<u8>, v: &[u8]) {
        let pad = v.first().is_none_or(|b| *b & 0x80 != 0);
        out.push(INTEGER);
        der::push_length(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::new();
    int(&mut body, r);
    int(&mut body, s);
    let mut out = alloc::vec![SEQUENCE];
    der::push_length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ::der::Encode;
    use alloc::vec;

    /// A PKCS#1 RSAPublicKey whose modulus is `top` followed by `rest` zero bytes, e = 3.
    fn rsa_key(top: u8, rest: usize) -> Vec<u8> {
        let mut n = vec![top];
        n.resize(rest + 1, 0);
        let n = ::der::asn1::UintRef::new(&n).unwrap();
        let e = ::der::asn1::UintRef::new(&[3]).unwrap();
        let mut body = n.to_der().unwrap();
        body.extend(e.to_der().unwrap());
        let mut out = match body.len() {
            len @ 0..=127 => vec![0x30, len as u8],
            len @ 128..=255 => vec![0x30, 0x81, len as u8],
            len => vec![0x30, 0x82, (len >> 8) as u8, len as u8],
        };
        out.extend(body);
        out
    }

    fn spki<'a>(
        algorithm: ObjectIdentifier,
        parameters: Option<(u8, &'a [u8])>,
        key: &'a [u8],
    ) -> Spki<'a> {
        Spki {
            algorithm,
            parameters,
            key,
        }
    }

    #[test]
    fn ip_literal_reads_what_inet_aton_and_ipv6_text_read() {
        let v4 = |s: &str| ip_literal(s).map(|ip| ip.to_string());
        assert_eq!(v4("192.168.1.1").as_deref(), Some("192.168.1.1"));
        assert_eq!(v4("0xC0A80101").as_deref(), Some("192.168.1.1"));
        assert_eq!(v4("192.168.001.001").as_deref(), Some("192.168.1.1"));
        assert_eq!(v4("192.168.257").as_deref(), Some("192.168.1.1"));
        assert_eq!(v4("3232235777").as_deref(), Some("192.168.1.1"));
        assert_eq!(v4("0").as_deref(), Some("0.0.0.0"));
        assert_eq!(v4("2001:0DB8:0000::0001").as_deref(), Some("2001:db8::1"));
        for not_ip in [
            "",
            ".",
            "1..2",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.256",
            "4294967296",
            "0x",
            "08",
            "+1",
            "example.com",
            "EE",
            "1.1.1.1.",
            ":::",
        ] {
            assert_eq!(v4(not_ip), None, "{not_ip}");
        }
    }

    #[test]
    fn rsa_modulus_bits_counts_significant_bits() {
        assert_eq!(rsa_modulus_bits(&rsa_key(0x80, 255)), Some(2048));
        assert_eq!(rsa_modulus_bits(&rsa_key(0x08, 256)), Some(2052));
        assert_eq!(rsa_modulus_bits(&rsa_key(0x01, 127)), Some(1017));
        assert_eq!(rsa_modulus_bits(b"\x30\x00"), None);
        let mut trailing = rsa_key(0x80, 255);
        trailing.push(0);
        assert_eq!(rsa_modulus_bits(&trailing), None);
    }

    #[test]
    fn key_problem_accepts_tls_keys_only() {
        let null = Some((0x05, &[][..]));
        let rsa = |key: &Vec<u8>| key_problem(&spki(RSA_ENCRYPTION_OID, null, key));
        assert_eq!(rsa(&rsa_key(0x80, 255)), None);
        assert_eq!(rsa(&rsa_key(0x80, 1023)), None); // 8192 bits
        assert_eq!(
            rsa(&rsa_key(0x08, 256)).unwrap(),
            "an RSA key of 2052 bits (accepted: 2048 to 8192, a multiple of 8)"
        );
        assert_eq!(
            rsa(&rsa_key(0x80, 127)).unwrap(),
            "an RSA key of 1024 bits (accepted: 2048 to 8192, a multiple of 8)"
        );
        let curves: Vec<(&str, ObjectIdentifier)> =
            ["1.2.840.10045.3.1.7", "1.3.132.0.35", "1.2.840.10045.3.1.1"]
                .into_iter()
                .map(|c| (c, ObjectIdentifier::new_unwrap(c)))
                .collect();
        let ec = |params| key_problem(&spki(EC_PUBLIC_KEY_OID, params, &[4; 65]));
        assert_eq!(ec(Some((0x06, curves[0].1.as_bytes()))), None);
        assert_eq!(ec(Some((0x06, curves[1].1.as_bytes()))), None);
        assert_eq!(
            ec(Some((0x06, curves[2].1.as_bytes()))).unwrap(),
            "an EC key on curve 1.2.840.10045.3.1.1 (accepted: P-256, P-384, P-521)"
        );
        assert_eq!(
            ec(Some((0x30, &[][..]))).unwrap(),
            "an EC key without a named curve (explicit parameters)"
        );
        assert_eq!(key_problem(&spki(ED25519_OID, None, &[0; 32])), None);
        let dsa = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
        assert_eq!(
            key_problem(&spki(dsa, None, &[0; 4])).unwrap(),
            "a public key of algorithm 1.2.840.10040.4.1 (accepted: RSA, ECDSA, EdDSA)"
        );
    }

    #[test]
    fn big_endian_subtraction_and_ecdsa_signature_encoding() {
        assert_eq!(
            super::sub_be(&[0x01, 0x00], &[0x01]),
            Some(alloc::vec![0xff])
        );
        assert_eq!(super::sub_be(&[0x00, 0x05], &[0x05]), None); // b == a
        assert_eq!(super::sub_be(&[0x05], &[0x06]), None); // b > a
        assert_eq!(super::sub_be(&[0x05], &[0x00]), None); // b == 0
        assert_eq!(
            super::sub_be(&[0x10, 0x00, 0x00], &[0xff, 0xff]),
            Some(alloc::vec![0x0f, 0x00, 0x01])
        );
        // Round trip through DER, with high bits set (padding) and long-form lengths (P-521).
        for (r, s) in [
            (alloc::vec![0x80u8; 32], alloc::vec![0x01u8; 32]),
            (alloc::vec![0xffu8; 66], alloc::vec![0x7fu8; 66]),
        ] {
            let der = super::ecdsa_sig_der(&r, &s);
            assert_eq!(super::ecdsa_sig_parts(&der), Some((r, s)));
        }
    }
}
