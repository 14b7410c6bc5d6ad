//! Test kit (feature `test-kit`): mint PKIs to unit-test policies in isolation.
//!
//! Everything is minted relative to a pinned instant, [`NOW`], so tests never depend on the
//! wall clock. [`Pki::at`] mints relative to another base instant instead (for a live TLS
//! handshake, where rustls passes the real time to the verifier). Keys are generated fresh
//! (rcgen on aws-lc-rs); certificates are real X.509.
//!
//! ```
//! use certclaims::test_kit::{Pki, NOW};
//! use certclaims::{Validator, Code};
//!
//! let pki = Pki::new();
//! let alice = pki.client("alice").dns("alice.svc.example").issue();
//! let mut policy = pki.policy();
//! policy.identity.allow.push(serde_json::from_str(r#"{"dns":"*.svc.example"}"#).unwrap());
//! let v = Validator::from_policy(&policy, certclaims::crypto::ALL).unwrap();
//! assert_eq!(v.verify(alice.leaf(), alice.intermediates(), NOW).unwrap().dns(), ["alice.svc.example"]);
//!
//! let old = pki.client("old").expired().issue();
//! assert_eq!(v.verify(old.leaf(), old.intermediates(), NOW).unwrap_err().code(), Code::Expired);
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test kit panics on misuse by design

use std::net::IpAddr;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::vec::Vec;
use std::{format, vec};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose, NameConstraints, OtherNameValue, RevokedCertParams,
    SanType, SerialNumber,
};
use time::OffsetDateTime;

use crate::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use crate::policy::Policy;

/// The instant every minted certificate is valid at: 2026-06-01T00:00:00Z.
pub const NOW: UnixTime =
    UnixTime::since_unix_epoch(core::time::Duration::from_secs(1_780_272_000));

/// One day in seconds.
pub const DAY: u64 = 86_400;

/// Key (and signature) types the kit can mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// ECDSA P-256 with SHA-256.
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
    /// Ed25519.
    Ed25519,
    /// RSA 2048 with PKCS#1 v1.5 SHA-256.
    Rsa2048,
    /// RSA 3072 with PKCS#1 v1.5 SHA-384.
    Rsa3072,
    /// RSA 4096 with PKCS#1 v1.5 SHA-512.
    Rsa4096,
}

impl KeyType {
    fn generate(self) -> KeyPair {
        match self {
            Self::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            Self::P384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            Self::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
            Self::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            }
            Self::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA384, rcgen::RsaKeySize::_3072)
            }
            Self::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA512, rcgen::RsaKeySize::_4096)
            }
        }
        .expect("key generation")
    }

    /// Every key type.
    pub const ALL: [KeyType; 6] = [
        Self::P256,
        Self::P384,
        Self::Ed25519,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
    ];
}

/// Extended key usage of a minted certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Eku {
    /// clientAuth only (the default for clients).
    ClientAuth,
    /// serverAuth only.
    ServerAuth,
    /// No EKU extension.
    None,
    /// serverAuth and clientAuth.
    Both,
}

fn dt(secs: u64) -> OffsetDateTime {
    dt_signed(secs as i64)
}

fn dt_signed(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).expect("time in range")
}

/// A certificate authority of the kit: root or intermediate.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    chain_above: Vec<CertificateDer<'static>>,
}

impl Ca {
    /// The CA certificate.
    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }
    /// The CA certificate in PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }
    /// `sha256:<hex>` of the CA certificate, as policies write fingerprints (deny-lists).
    pub fn fingerprint(&self) -> String {
        fingerprint(self.issuer.der())
    }
}

/// A minted PKI: a root CA and an issuing intermediate CA.
pub struct Pki {
    root: Ca,
    issuing: Ca,
    prefix: String,
    serial: AtomicU64,
    key_type: KeyType,
    base: u64,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

fn ca_params(cn: &str, not_before: u64, not_after: u64, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "certclaims test kit");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = dt(not_before);
    p.not_after = dt(not_after);
    p.serial_number = Some(SerialNumber::from(serial));
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = true;
    p
}

impl Pki {
    /// A P-256 root "Test Root CA" and intermediate "Test Issuing CA".
    pub fn new() -> Self {
        Self::with_key_type("Test", KeyType::P256)
    }

    /// A PKI whose CAs are named `<prefix> Root CA` / `<prefix> Issuing CA`, using `key_type`
    /// for the CAs and (by default) for the clients.
    pub fn with_key_type(prefix: &str, key_type: KeyType) -> Self {
        Self::with_key_type_at(prefix, key_type, NOW)
    }

    /// Like [`Pki::new`], but every validity period (CAs, clients, [`ClientBuilder::expired`],
    /// [`Pki::crl`], …) is minted relative to `base` instead of [`NOW`]. For tests that meet a
    /// real clock, e.g. a live rustls handshake: `Pki::at(UnixTime::now())`.
    pub fn at(base: UnixTime) -> Self {
        Self::with_key_type_at("Test", KeyType::P256, base)
    }

    /// [`Pki::with_key_type`] relative to `base` (see [`Pki::at`]).
    pub fn with_key_type_at(prefix: &str, key_type: KeyType, base: UnixTime) -> Self {
        let base = base.as_secs();
        let root_params = ca_params(
            &format!("{prefix} Root CA"),
            base - 365 * DAY,
            base + 3650 * DAY,
            1,
        );
        let root = CertifiedIssuer::self_signed(root_params, key_type.generate()).expect("root");
        let int_params = ca_params(
            &format!("{prefix} Issuing CA"),
            base - 365 * DAY,
            base + 1825 * DAY,
            2,
        );
        let issuing = CertifiedIssuer::signed_by(int_params, key_type.generate(), &root)
            .expect("intermediate");
        let issuing = Ca {
            chain_above: vec![issuing.der().clone()],
            issuer: issuing,
        };
        Self {
            root: Ca {
                chain_above: Vec::new(),
                issuer: root,
            },
            issuing,
            prefix: prefix.to_string(),
            serial: AtomicU64::new(0x1000),
            key_type,
            base,
        }
    }

    /// A second certificate of the issuing CA, signed by the root: same name and key, a new
    /// serial and validity (as when a CA is re-issued or cross-signed). Certificates issued by
    /// the issuing CA chain through either certificate.
    pub fn reissued_issuing_ca(&self) -> CertificateDer<'static> {
        let params = ca_params(
            &format!("{} Issuing CA", self.prefix),
            self.base - 10 * DAY,
            self.base + 900 * DAY,
            self.next_serial(),
        );
        let key = KeyPair::try_from(self.issuing.issuer.key().serialize_der()).expect("key copy");
        params
            .signed_by(&key, &self.root.issuer)
            .expect("re-issued intermediate")
            .der()
            .clone()
    }

    /// SHA-256 of the issuing CA's SubjectPublicKeyInfo, as `issuer_key` deny entries write it.
    pub fn issuing_ca_key_hash(&self) -> String {
        use rcgen::PublicKeyData;
        use sha2::Digest;
        format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(
                self.issuing.issuer.key().subject_public_key_info()
            ))
        )
    }

    /// The instant this PKI was minted around ([`NOW`] unless made with [`Pki::at`]).
    pub fn base(&self) -> UnixTime {
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(self.base))
    }

    fn now(&self) -> u64 {
        self.base
    }

    /// The root CA.
    pub fn root(&self) -> &Ca {
        &self.root
    }

    /// The issuing (intermediate) CA.
    pub fn issuing_ca(&self) -> &Ca {
        &self.issuing
    }

    /// The root certificate in PEM (for `trust.anchors`).
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// The root certificate in DER.
    pub fn root_der(&self) -> CertificateDer<'static> {
        self.root.der()
    }

    /// A version-1 policy that trusts this PKI's root and nothing else.
    pub fn policy(&self) -> Policy {
        let mut p = Policy {
            version: crate::policy::POLICY_VERSION,
            ..Policy::default()
        };
        p.trust.anchors.push(self.root_pem());
        p
    }

    /// The same policy as JSON.
    pub fn policy_json(&self) -> String {
        serde_json::json!({"version": 1, "trust": {"anchors": [self.root_pem()]}}).to_string()
    }

    /// Starts a client certificate with subject `CN=<cn>`, issued by the issuing CA.
    pub fn client(&self, cn: &str) -> ClientBuilder<'_> {
        ClientBuilder {
            pki: self,
            cn: cn.to_string(),
            extra_dn: Vec::new(),
            sans: Vec::new(),
            not_before: (self.now() - 30 * DAY) as i64,
            not_after: self.now() + 365 * DAY,
            eku: Eku::ClientAuth,
            key_usages: Some(vec![KeyUsagePurpose::DigitalSignature]),
            key_type: self.key_type,
            ca: false,
            issuer: Issuer::Issuing,
            serial: None,
            extensions: Vec::new(),
        }
    }

    /// A further intermediate CA under the issuing CA (for depth tests); clients can be issued
    /// by it with [`ClientBuilder::issued_by`].
    pub fn sub_ca(&self, parent: &Ca, cn: &str) -> Ca {
        let p = ca_params(
            cn,
            self.now() - 365 * DAY,
            self.now() + 1825 * DAY,
            self.next_serial(),
        );
        let issuer = CertifiedIssuer::signed_by(p, self.key_type.generate(), &parent.issuer)
            .expect("sub CA");
        let mut chain_above = vec![issuer.der().clone()];
        chain_above.extend(parent.chain_above.iter().cloned());
        Ca {
            issuer,
            chain_above,
        }
    }

    /// A further intermediate CA under `parent` whose nameConstraints extension permits only
    /// the DNS subtrees `permitted_dns` (e.g. `["svc.example"]`), for name-constraint tests.
    pub fn constrained_ca(&self, parent: &Ca, cn: &str, permitted_dns: &[&str]) -> Ca {
        let mut p = ca_params(
            cn,
            self.now() - 365 * DAY,
            self.now() + 1825 * DAY,
            self.next_serial(),
        );
        p.name_constraints = Some(NameConstraints {
            permitted_subtrees: permitted_dns
                .iter()
                .map(|d| GeneralSubtree::DnsName(d.to_string()))
                .collect(),
            excluded_subtrees: Vec::new(),
        });
        let issuer = CertifiedIssuer::signed_by(p, self.key_type.generate(), &parent.issuer)
            .expect("constrained CA");
        let mut chain_above = vec![issuer.der().clone()];
        chain_above.extend(parent.chain_above.iter().cloned());
        Ca {
            issuer,
            chain_above,
        }
    }

    /// A further intermediate CA under `parent` with a critical nameConstraints extension
    /// permitting only the URI hosts `permitted_hosts` (`example.org`, or `.example.org` for
    /// the hosts inside it), as the SPIFFE X.509-SVID specification recommends for a trust
    /// domain's CA.
    pub fn uri_constrained_ca(&self, parent: &Ca, cn: &str, permitted_hosts: &[&str]) -> Ca {
        fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            match body.len() {
                n @ 0..=127 => out.push(n as u8),
                n @ 128..=255 => out.extend([0x81, n as u8]),
                n => out.extend([0x82, (n >> 8) as u8, n as u8]),
            }
            out.extend_from_slice(body);
            out
        }
        let subtrees: Vec<u8> = permitted_hosts
            .iter()
            .flat_map(|h| tlv(0x30, &tlv(0x86, h.as_bytes())))
            .collect();
        let der = tlv(0x30, &tlv(0xa0, &subtrees));
        let mut p = ca_params(
            cn,
            self.now() - 365 * DAY,
            self.now() + 1825 * DAY,
            self.next_serial(),
        );
        let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 30], der);
        ext.set_criticality(true);
        p.custom_extensions.push(ext);
        let issuer = CertifiedIssuer::signed_by(p, self.key_type.generate(), &parent.issuer)
            .expect("URI-constrained CA");
        let mut chain_above = vec![issuer.der().clone()];
        chain_above.extend(parent.chain_above.iter().cloned());
        Ca {
            issuer,
            chain_above,
        }
    }

    fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    /// A CRL from the issuing CA revoking `revoked`, valid from a day before [`NOW`] (the
    /// PKI's base) for a week.
    pub fn crl(&self, revoked: &[&Issued]) -> CertificateRevocationListDer<'static> {
        let serials: Vec<Vec<u8>> = revoked.iter().map(|i| i.serial.clone()).collect();
        Self::crl_from(
            &self.issuing,
            &serials,
            self.now() - DAY,
            self.now() + 7 * DAY,
        )
    }

    /// A CRL signed by `ca` revoking the given serials, with explicit thisUpdate/nextUpdate.
    pub fn crl_from(
        ca: &Ca,
        serials: &[Vec<u8>],
        this_update: u64,
        next_update: u64,
    ) -> CertificateRevocationListDer<'static> {
        let params = CertificateRevocationListParams {
            this_update: dt(this_update),
            next_update: dt(next_update),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: dt(this_update),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&ca.issuer).expect("CRL").der().clone()
    }

    /// PEM of a DER CRL (for `trust.crls`).
    pub fn crl_pem(crl: &CertificateRevocationListDer<'_>) -> String {
        pem_encode("X509 CRL", crl.as_ref())
    }
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(core::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

enum Issuer<'a> {
    Issuing,
    Ca(&'a Ca),
    SelfSigned,
}

/// Builds one client certificate; finish with [`ClientBuilder::issue`].
#[must_use]
pub struct ClientBuilder<'a> {
    pki: &'a Pki,
    cn: String,
    extra_dn: Vec<(DnType, String)>,
    sans: Vec<SanType>,
    not_before: i64,
    not_after: u64,
    eku: Eku,
    key_usages: Option<Vec<KeyUsagePurpose>>,
    key_type: KeyType,
    ca: bool,
    issuer: Issuer<'a>,
    serial: Option<u64>,
    extensions: Vec<CustomExtension>,
}

impl<'a> ClientBuilder<'a> {
    /// Adds a SPIFFE ID (a URI SAN).
    pub fn spiffe(self, id: &str) -> Self {
        self.uri(id)
    }
    /// Adds a URI SAN.
    pub fn uri(mut self, uri: &str) -> Self {
        self.sans
            .push(SanType::URI(uri.try_into().expect("IA5 URI")));
        self
    }
    /// Adds a DNS SAN.
    pub fn dns(mut self, name: &str) -> Self {
        self.sans
            .push(SanType::DnsName(name.try_into().expect("IA5 DNS name")));
        self
    }
    /// Adds an email (rfc822Name) SAN.
    pub fn email(mut self, addr: &str) -> Self {
        self.sans
            .push(SanType::Rfc822Name(addr.try_into().expect("IA5 email")));
        self
    }
    /// Adds a UPN otherName SAN (1.3.6.1.4.1.311.20.2.3).
    pub fn upn(mut self, upn: &str) -> Self {
        self.sans.push(SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
            OtherNameValue::Utf8String(upn.to_string()),
        )));
        self
    }
    /// Adds an IP address SAN.
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.sans.push(SanType::IpAddress(ip));
        self
    }
    /// Adds an organizationName to the subject.
    pub fn org(mut self, o: &str) -> Self {
        self.extra_dn
            .push((DnType::OrganizationName, o.to_string()));
        self
    }
    /// Adds an organizationalUnitName to the subject.
    pub fn ou(mut self, ou: &str) -> Self {
        self.extra_dn
            .push((DnType::OrganizationalUnitName, ou.to_string()));
        self
    }
    /// Sets notBefore/notAfter (seconds since the epoch).
    pub fn validity(mut self, not_before: u64, not_after: u64) -> Self {
        self.not_before = not_before as i64;
        self.not_after = not_after;
        self
    }
    /// Sets notBefore to any instant, before 1970 too (seconds since the epoch, negative
    /// earlier): RFC 5280 UTCTime reaches back to 1950.
    pub fn valid_since(mut self, not_before: i64) -> Self {
        self.not_before = not_before;
        self
    }
    /// Expired a day before [`NOW`] (the PKI's base).
    pub fn expired(self) -> Self {
        let now = self.pki.now();
        self.validity(now - 30 * DAY, now - DAY)
    }
    /// Valid only from a day after [`NOW`] (the PKI's base).
    pub fn not_yet_valid(self) -> Self {
        let now = self.pki.now();
        self.validity(now + DAY, now + 30 * DAY)
    }
    /// Sets the EKU.
    pub fn eku(mut self, eku: Eku) -> Self {
        self.eku = eku;
        self
    }
    /// Sets keyUsage bits (`None`: no keyUsage extension).
    pub fn key_usage(mut self, usages: Option<Vec<KeyUsagePurpose>>) -> Self {
        self.key_usages = usages;
        self
    }
    /// Sets the key type.
    pub fn key_type(mut self, key_type: KeyType) -> Self {
        self.key_type = key_type;
        self
    }
    /// Makes the certificate a CA (basicConstraints cA=true).
    pub fn ca(mut self) -> Self {
        self.ca = true;
        self
    }
    /// Issues it from `ca` instead of the issuing CA.
    pub fn issued_by(mut self, ca: &'a Ca) -> Self {
        self.issuer = Issuer::Ca(ca);
        self
    }
    /// Makes it self-signed.
    pub fn self_signed(mut self) -> Self {
        self.issuer = Issuer::SelfSigned;
        self
    }
    /// Sets the serial number.
    pub fn serial(mut self, serial: u64) -> Self {
        self.serial = Some(serial);
        self
    }

    /// Adds an arbitrary extension: `oid` in components, `content` the DER extnValue contents.
    /// A `critical` extension of an OID nobody knows makes the certificate unacceptable.
    pub fn extension(mut self, oid: &[u64], content: Vec<u8>, critical: bool) -> Self {
        let mut ext = CustomExtension::from_oid_content(oid, content);
        ext.set_criticality(critical);
        self.extensions.push(ext);
        self
    }

    /// Mints the certificate.
    pub fn issue(self) -> Issued {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for (ty, v) in &self.extra_dn {
            dn.push(ty.clone(), v.as_str());
        }
        dn.push(DnType::CommonName, self.cn.as_str());
        p.distinguished_name = dn;
        p.subject_alt_names = self.sans;
        p.not_before = dt_signed(self.not_before);
        p.not_after = dt(self.not_after);
        p.is_ca = if self.ca {
            IsCa::Ca(BasicConstraints::Unconstrained)
        } else {
            IsCa::ExplicitNoCa
        };
        p.key_usages = self.key_usages.unwrap_or_default();
        p.extended_key_usages = match self.eku {
            Eku::ClientAuth => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Eku::ServerAuth => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Eku::None => Vec::new(),
            Eku::Both => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        };
        let serial = self.serial.unwrap_or_else(|| self.pki.next_serial());
        p.serial_number = Some(SerialNumber::from(serial));
        p.use_authority_key_identifier_extension = !matches!(self.issuer, Issuer::SelfSigned);
        p.custom_extensions = self.extensions;
        let key = self.key_type.generate();
        let (cert, intermediates) = match self.issuer {
            Issuer::Issuing => (
                p.signed_by(&key, &self.pki.issuing.issuer).expect("sign"),
                self.pki.issuing.chain_above.clone(),
            ),
            Issuer::Ca(ca) => (
                p.signed_by(&key, &ca.issuer).expect("sign"),
                ca.chain_above.clone(),
            ),
            Issuer::SelfSigned => (p.self_signed(&key).expect("self-sign"), Vec::new()),
        };
        Issued {
            leaf: cert.der().clone(),
            intermediates,
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
            serial: SerialNumber::from(serial).to_bytes(),
        }
    }
}

/// A minted client certificate with its key and chain.
#[derive(Debug, Clone)]
pub struct Issued {
    leaf: CertificateDer<'static>,
    intermediates: Vec<CertificateDer<'static>>,
    key_pem: String,
    key_der: Vec<u8>,
    serial: Vec<u8>,
}

impl Issued {
    /// The leaf.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.leaf
    }
    /// Intermediates up to (not including) the root.
    pub fn intermediates(&self) -> &[CertificateDer<'static>] {
        &self.intermediates
    }
    /// Leaf then intermediates, PEM.
    pub fn chain_pem(&self) -> String {
        std::iter::once(&self.leaf)
            .chain(self.intermediates.iter())
            .map(|c| pem_encode("CERTIFICATE", c))
            .collect()
    }
    /// The leaf alone, PEM.
    pub fn leaf_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.leaf)
    }
    /// The private key, PKCS#8 PEM.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
    /// The private key, PKCS#8 DER.
    pub fn key_der(&self) -> &[u8] {
        &self.key_der
    }
    /// The serial number bytes (big-endian, as in the certificate).
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }
    /// `sha256:<hex>` of the leaf, as policies write fingerprints.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(self.leaf.as_ref()))
        )
    }
}

/// The `sha256:<hex>` fingerprint of any DER certificate.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(der)))
}

/// The headers a proxy or platform of `format` sends for `chain` (leaf first), under the
/// format's default header names, encoded as that product does (see
/// [`crate::forwarded`]): for testing a [`Forwarder`](crate::forwarded::Forwarder) without
/// the proxy. Formats that forward only the leaf (nginx, HAProxy, Caddy, Azure, Cloudflare,
/// base64 DER) ignore the rest of the chain.
pub fn forwarded_headers(
    format: crate::forwarded::Format,
    chain: &[CertificateDer<'_>],
) -> Vec<(String, String)> {
    use crate::forwarded::Format;
    use base64::Engine;
    use sha2::Digest;
    // nginx's NGX_ESCAPE_URI_COMPONENT and Envoy's urlEncode: all but ALPHA DIGIT - . _ ~.
    const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    // AWS ALB: "URL-encoded PEM format ..., with +=/ as safe characters".
    const ALB: &percent_encoding::AsciiSet = &COMPONENT.remove(b'+').remove(b'=').remove(b'/');
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let pem = |d: &[u8]| pem_encode("CERTIFICATE", d);
    let url = |s: &str, set| percent_encoding::utf8_percent_encode(s, set).to_string();
    let Some(leaf) = chain.first() else {
        return Vec::new();
    };
    let rest = &chain[1..];
    let header = format.default_header().to_string();
    let sf = |d: &[u8]| format!(":{}:", b64(d));
    match format {
        Format::Rfc9440 | Format::Gcp => {
            let mut v = vec![(header, sf(leaf))];
            if let (false, Some(name)) = (rest.is_empty(), format.default_chain_header()) {
                let list: Vec<String> = rest.iter().map(|c| sf(c)).collect();
                v.push((name.to_string(), list.join(", ")));
            }
            v
        }
        Format::Xfcc => {
            let all: String = chain.iter().map(|c| url(&pem(c), COMPONENT)).collect();
            let hash = hex::encode(sha2::Sha256::digest(leaf.as_ref()));
            vec![(
                header,
                format!(
                    "By=spiffe://example.org/proxy;Hash={hash};Cert=\"{}\";Chain=\"{all}\"",
                    url(&pem(leaf), COMPONENT)
                ),
            )]
        }
        Format::Nginx => vec![(header, url(&pem(leaf), COMPONENT))],
        Format::AwsAlb => {
            let all: String = chain.iter().map(|c| pem(c)).collect();
            vec![(header, url(&all, ALB))]
        }
        Format::Apache => {
            // mod_headers turns every CR/LF of %{SSL_CLIENT_CERT}s into a space.
            let spaced = |d: &[u8]| pem(d).replace('\n', " ");
            let mut v = vec![(header, spaced(leaf))];
            for (n, c) in rest.iter().enumerate() {
                v.push((format!("x-ssl-client-cert-chain-{n}"), spaced(c)));
            }
            v
        }
        Format::Pem => {
            let all: String = chain.iter().map(|c| pem(c)).collect();
            vec![(header, all.replace('\n', " "))]
        }
        Format::Traefik => {
            let parts: Vec<String> = chain.iter().map(|c| b64(c)).collect();
            vec![(header, parts.join(","))]
        }
        _ => vec![(header, b64(leaf))],
    }
}
