//! The policy as data: trust settings, identity rules and extra claims, loaded from JSON.
//!
//! A policy is plain serde data, so the same file configures the rustls adapter, the CLI and
//! the npm package. [`Policy::from_json`] rejects unknown fields with a message that names
//! them; [`Validator::from_policy`](crate::Validator::from_policy) then checks the values
//! (PEM blocks, fingerprints, patterns) and reports the dotted path of any bad field.
//!
//! # Matching rules
//!
//! An identity rule is an object with one or more matchers; **all** matchers of a rule must
//! match (AND), and a certificate is admitted when **any** rule of `identity.allow` matches
//! (OR). An empty or missing `allow` admits every certificate that validates.
//!
//! | matcher | compared with | pattern syntax |
//! |---|---|---|
//! | `spiffe_id` | the certificate's SPIFFE ID (set only when exactly one URI SAN has the `spiffe` scheme, in any case, and it is a valid SPIFFE ID) | `spiffe://td/a/*/b`: `*` is exactly one non-empty path segment; `**` as the last segment is one or more (`spiffe://td/**`: every ID of the trust domain with a path; `spiffe://td/ns/**`: every ID below `ns`); literal segments are case-sensitive; the trust domain is literal and lower case. A pattern that no SPIFFE ID could match (an upper-case trust domain, an empty or dot segment, a trailing `/`, a percent-encoding or a character outside `[A-Za-z0-9._-]`, `**` before the end) is rejected when the policy loads |
//! | `uri` | any URI SAN | split on `/`; literal segments are byte-exact; `*` is exactly one non-empty path segment of RFC 3986 `pchar`s that is not `.` or `..` and has no percent-encoded `.`, `/` or `\` (so not `..`, `%2e%2e`, `a%2Fb`); a pattern with `*` never matches a URI with a query (`?`) or fragment (`#`). Patterns with dot segments or percent-encoded `.`, `/`, `\`, and patterns with both `*` and `?`/`#`, are rejected when the policy loads: a pattern never matches a name that a path normaliser would turn into another |
//! | `dns` | any DNS SAN | `*` is exactly one whole label of letters, digits, `-` and `_` (`*.svc.example` matches `a.svc.example`, not `a.b.svc.example`, `svc.example` nor a wildcard SAN `*.svc.example`); ASCII case-insensitive; partial-label wildcards (`a*.example`) are rejected when the policy loads |
//! | `email` | any rfc822Name SAN | `local@domain`; the local part is exact (case-sensitive) or `*` (any non-empty local part); the domain follows the `dns` rules |
//! | `subject`, `issuer` | attributes read by OID from the leaf's subject / issuer name: `cn` (2.5.4.3), `o` (2.5.4.10), `ou` (2.5.4.11), `c` (2.5.4.6), `st` (2.5.4.8), `l` (2.5.4.7), `dc` (0.9.2342.19200300.100.1.25), `serial_number` (2.5.4.5) | each given attribute must equal (case-sensitive) one value of that attribute in the name; `"*"` means "present with any value" |
//! | `fingerprint` | SHA-256 of the leaf's DER | `sha256:` + 64 hex digits (case and `:` separators ignored) |

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use const_oid::db::rfc4519;
use const_oid::ObjectIdentifier;
use core::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::cert::CertFacts;
use crate::error::PolicyError;

/// The only policy format version this build reads.
pub const POLICY_VERSION: u64 = 1;

/// A policy document (`version` 1). See the [module docs](self) for the matching rules.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// Format version; must be 1.
    pub version: u64,
    /// What is trusted and how chains are validated.
    #[serde(default)]
    pub trust: Trust,
    /// Who may enter.
    #[serde(default)]
    pub identity: Identity,
    /// Which claims a principal carries beyond those read from the certificate.
    #[serde(default)]
    pub claims: Claims,
    /// `$schema`: the JSON Schema an editor completes the document with
    /// (`docs/policy.schema.json`); read and ignored.
    #[serde(default, rename = "$schema")]
    pub(crate) schema: Option<String>,
}

impl Policy {
    /// Parses a policy from JSON. Unknown fields are errors naming the field.
    #[inline]
    pub fn from_json(json: &str) -> Result<Self, PolicyError> {
        // A UTF-8 byte order mark (PowerShell's `Out-File` writes one) is not JSON's, but it
        // says nothing: it is skipped.
        let json = json.strip_prefix('\u{feff}').unwrap_or(json);
        let policy: Policy =
            serde_json::from_str(json).map_err(|e| PolicyError::Json(e.to_string()))?;
        if policy.version != POLICY_VERSION {
            return Err(PolicyError::UnsupportedVersion(policy.version));
        }
        Ok(policy)
    }
}

/// Which kinds of client certificate are accepted.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AllowedTypes {
    /// Only certificates that chain to a trust anchor (the default).
    #[default]
    Chained,
    /// Only self-signed certificates, and only pinned ones unless
    /// `allow_unpinned_self_signed` is set.
    SelfSigned,
    /// Both.
    All,
}

/// Which certificates of the path must have a known revocation status.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RevocationDepth {
    /// Every certificate but the trust anchor (the default).
    #[default]
    Chain,
    /// Only the leaf.
    EndEntity,
}

/// What to do when no CRL covers a certificate.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownStatus {
    /// Reject with `unknown_revocation_status` (the default: fail closed).
    #[default]
    Deny,
    /// Accept.
    Allow,
}

/// What to do with a CRL whose nextUpdate has passed.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExpiredCrl {
    /// Use it anyway: the opt-in for a CRL publisher that is known to run late.
    Ignore,
    /// Reject with `unknown_revocation_status` (the default, as nginx and OpenSSL refuse an
    /// expired CRL: its silence about a certificate no longer says anything).
    #[default]
    Deny,
}

/// The extended key usage (EKU) a leaf must allow, chosen with
/// [`ValidatorBuilder::with_required_eku`](crate::ValidatorBuilder::with_required_eku).
///
/// As in RFC 5280 4.2.1.12 (and rustls-webpki's `KeyUsage::client_auth()`), a leaf without
/// an extendedKeyUsage extension may be used for any purpose; when the extension is present
/// it must list the required purpose (`anyExtendedKeyUsage` does not stand in for it), and an
/// empty extension is always rejected. [`ServerAuth`] is stricter: it requires the extension
/// and applies the CA/Browser Forum server certificate profile (see the variant). A policy
/// document names the mode in [`Trust::extended_key_usage`] (`"client_auth"`,
/// `"server_auth"`, `"any"`), or with the older [`Trust::require_client_auth_eku`], which
/// chooses between [`ClientAuth`] (`true`, the default) and [`Any`] (`false`).
///
/// [`ClientAuth`]: ExtendedKeyUsage::ClientAuth
/// [`ServerAuth`]: ExtendedKeyUsage::ServerAuth
/// [`Any`]: ExtendedKeyUsage::Any
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExtendedKeyUsage {
    /// TLS client authentication, `id-kp-clientAuth` (1.3.6.1.5.5.7.3.2): the default.
    #[default]
    ClientAuth,
    /// TLS server authentication, `id-kp-serverAuth` (1.3.6.1.5.5.7.3.1): for validating a
    /// server's certificate (or a conformance suite written for servers) with the same engine.
    ///
    /// Server certificates are held to the CA/Browser Forum Baseline Requirements profile on
    /// top of the RFC 5280 checks every mode makes. Each departure is a rejection whose detail
    /// names the rule:
    ///
    /// * the leaf must carry an extendedKeyUsage extension listing serverAuth (BR 7.1.2.7.6;
    ///   rustls-webpki's `KeyUsage::required` rather than `required_if_present`): `wrong_usage`;
    /// * the leaf must carry an authorityKeyIdentifier (BR 7.1.2.7.6, RFC 5280 4.2.1.1), unless
    ///   it is trusted as a pinned self-signed certificate;
    /// * the leaf's subjectAltName must not be critical when its subject is not empty
    ///   (BR 7.1.2.7.12);
    /// * a subject commonName that stands for a subjectAltName must be its exact text
    ///   (BR 7.1.4.3): ASCII, a dNSName copied character for character, an IPv4 address in
    ///   dotted decimal, an IPv6 address in RFC 5952 form. (That the commonName be one of the
    ///   SANs at all is not required: certclaims never matches names against it.)
    /// * a root, i.e. a self-issued trust anchor that issues the path, must carry no
    ///   extendedKeyUsage (BR 7.1.2.1.2) and no authorityCertIssuer or
    ///   authorityCertSerialNumber in its authorityKeyIdentifier (BR 7.1.2.1.3);
    /// * no CA of the path (intermediate or anchor) may have a nameConstraints dNSName subtree
    ///   with a leading period (`.example.com`): RFC 5280 4.2.1.10 defines a DNS constraint as
    ///   a DNS name, and implementations disagree on what the period means.
    ///
    /// All but the first are `invalid_certificate`. Non-critical name constraints stay
    /// accepted, as the Baseline Requirements allow them. [`ClientAuth`](Self::ClientAuth)
    /// and [`Any`](Self::Any) apply none of these rules.
    ServerAuth,
    /// No requirement: any EKU, or none, is accepted (the extension must still be well-formed
    /// and non-empty).
    Any,
}

impl ExtendedKeyUsage {
    /// The name a policy document uses (`trust.extended_key_usage`).
    fn policy_name(self) -> &'static str {
        match self {
            Self::ClientAuth => "client_auth",
            Self::ServerAuth => "server_auth",
            Self::Any => "any",
        }
    }
}

/// CRL checking options; they apply only when `trust.crls` is non-empty.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Revocation {
    /// Which certificates are checked.
    #[serde(default)]
    pub depth: RevocationDepth,
    /// Unknown status handling.
    #[serde(default)]
    pub unknown_status: UnknownStatus,
    /// Expired CRL handling.
    #[serde(default)]
    pub expired_crl: ExpiredCrl,
}

/// A deny-list entry: a certificate's SHA-256 fingerprint, or an issuer and serial number.
///
/// In JSON an entry is a string (`"sha256:<hex>"`) or an object with `serial` and exactly one
/// of `issuer` and `issuer_key`. Unknown fields, a repeated field and an object naming both
/// `issuer` and `issuer_key` are errors that name the fields: a deny entry that was read
/// differently from how it was written would fail open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyEntry {
    /// `"sha256:<hex>"`: any certificate of the path with this fingerprint is denied.
    Fingerprint(String),
    /// `{"issuer": "sha256:<hex of the issuing CA certificate>", "serial": "<hex>"}`: the
    /// certificate with this serial issued by that CA is denied.
    IssuerSerial {
        /// SHA-256 fingerprint of the issuing CA's certificate.
        issuer: String,
        /// Serial number in hex (leading zeros and `:` ignored).
        serial: String,
    },
    /// `{"issuer_key": "sha256:<hex of the issuing CA's SubjectPublicKeyInfo DER>", "serial":
    /// "<hex>"}`: the certificate with this serial issued by that CA key is denied, whichever
    /// certificate of the CA (re-issued, cross-signed) the path uses. The hash is what
    /// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum` prints.
    IssuerKeySerial {
        /// SHA-256 of the issuing CA's SubjectPublicKeyInfo (DER).
        issuer_key: String,
        /// Serial number in hex (leading zeros and `:` ignored).
        serial: String,
    },
}

/// The fields of a deny entry object.
const DENY_FIELDS: &[&str] = &["issuer", "issuer_key", "serial"];

impl<'de> Deserialize<'de> for DenyEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DenyEntryVisitor)
    }
}

struct DenyEntryVisitor;

impl<'de> Visitor<'de> for DenyEntryVisitor {
    type Value = DenyEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a deny entry: \"sha256:<hex>\", or an object with `serial` and one of `issuer`, \
             `issuer_key`",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DenyEntry, E> {
        Ok(DenyEntry::Fingerprint(v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DenyEntry, A::Error> {
        let (mut issuer, mut issuer_key, mut serial) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            let (name, slot): (&'static str, &mut Option<String>) = match key.as_str() {
                "issuer" => ("issuer", &mut issuer),
                "issuer_key" => ("issuer_key", &mut issuer_key),
                "serial" => ("serial", &mut serial),
                other => return Err(de::Error::unknown_field(other, DENY_FIELDS)),
            };
            if slot.is_some() {
                return Err(de::Error::duplicate_field(name));
            }
            *slot = Some(map.next_value::<String>()?);
        }
        let serial = serial.ok_or_else(|| de::Error::missing_field("serial"))?;
        match (issuer, issuer_key) {
            (Some(issuer), None) => Ok(DenyEntry::IssuerSerial { issuer, serial }),
            (None, Some(issuer_key)) => Ok(DenyEntry::IssuerKeySerial { issuer_key, serial }),
            (Some(_), Some(_)) => Err(de::Error::custom(
                "conflicting fields `issuer` and `issuer_key` in a deny entry: give one \
                 (an entry naming the issuer twice could be read as either)",
            )),
            (None, None) => Err(de::Error::custom(
                "a deny entry with `serial` needs `issuer` or `issuer_key`",
            )),
        }
    }
}

/// Deserializes a JSON object into a map, rejecting a key given twice (serde_json's maps keep
/// the last value silently).
fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueKeys<V>(core::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueKeys<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of claim types")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value::<V>()?;
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format!(
                        "claim type `{key}` is given twice"
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(UniqueKeys(core::marker::PhantomData))
}

fn default_true() -> bool {
    true
}

/// Trust settings.
///
/// # The extended key usage
///
/// `extended_key_usage` names the purpose a leaf must allow: `"client_auth"` (the default),
/// `"server_auth"` (validating a TLS server's certificate, with the CA/Browser Forum profile
/// of [`ExtendedKeyUsage::ServerAuth`]) or `"any"`. The older `require_client_auth_eku`
/// keeps its meaning (`true`: `client_auth`, `false`: `any`) and is read when
/// `extended_key_usage` is absent. When both are given they must name the same mode:
/// `{"require_client_auth_eku": true, "extended_key_usage": "server_auth"}` is a
/// [`PolicyError`] naming `trust.extended_key_usage`, since either reading could be the one
/// the author meant. (Built in code rather than read from a document, a `Trust` whose
/// `require_client_auth_eku` is `false` counts as giving it.)
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(try_from = "TrustDoc")]
#[non_exhaustive]
pub struct Trust {
    /// Trust anchors, each a string of one or more PEM `CERTIFICATE` blocks.
    pub anchors: Vec<String>,
    /// Extra intermediates usable in path building (PEM), beside those the client sends.
    pub intermediates: Vec<String>,
    /// CRLs (PEM `X509 CRL` blocks).
    pub crls: Vec<String>,
    /// Chained, self-signed or all.
    pub allowed_types: AllowedTypes,
    /// SHA-256 pins of accepted self-signed certificates (`sha256:<hex>`).
    pub pinned: Vec<String>,
    /// Accept any self-signed certificate (when `allowed_types` permits them) even if it is
    /// not pinned. Off by default: an unpinned self-signed certificate proves nothing.
    pub allow_unpinned_self_signed: bool,
    /// Require the clientAuth EKU when an EKU extension is present (default true); `false`
    /// accepts any EKU. Superseded by `extended_key_usage`
    /// (see [above](Trust#the-extended-key-usage)).
    pub require_client_auth_eku: bool,
    /// The extended key usage a leaf must allow: `client_auth`, `server_auth` or `any`.
    /// `None` (absent) defers to `require_client_auth_eku`.
    pub extended_key_usage: Option<ExtendedKeyUsage>,
    /// Check notBefore/notAfter (default true). When false, the leaf's validity period is not
    /// checked; issuers are still checked at the time the leaf is evaluated at.
    pub check_validity: bool,
    /// Tolerance for a leaf that is just not yet valid or just expired, in seconds.
    pub clock_skew_seconds: u64,
    /// Maximum number of intermediate certificates between the leaf and the anchor, counted
    /// as RFC 5280 counts a path length (4.2.1.9): a self-issued intermediate, whose subject
    /// equals its issuer (a CA's key rollover certificate), does not count. `0` admits only
    /// leaves issued by an anchor (or through self-issued certificates of the anchor's
    /// name). The engine's own limit of 6 intermediates applies to every path, self-issued
    /// ones included.
    pub max_depth: Option<usize>,
    /// Deny-list.
    pub deny: Vec<DenyEntry>,
    /// CRL options.
    pub revocation: Revocation,
    /// Whether `require_client_auth_eku` was written in the document (so that it can
    /// contradict `extended_key_usage`).
    require_client_auth_eku_given: bool,
}

/// The JSON shape of [`Trust`]: the same fields, with `require_client_auth_eku` optional so
/// that a contradiction with `extended_key_usage` can be told from the default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustDoc {
    #[serde(default)]
    anchors: Vec<String>,
    #[serde(default)]
    intermediates: Vec<String>,
    #[serde(default)]
    crls: Vec<String>,
    #[serde(default)]
    allowed_types: AllowedTypes,
    #[serde(default)]
    pinned: Vec<String>,
    #[serde(default)]
    allow_unpinned_self_signed: bool,
    #[serde(default)]
    require_client_auth_eku: Option<bool>,
    #[serde(default)]
    extended_key_usage: Option<ExtendedKeyUsage>,
    #[serde(default = "default_true")]
    check_validity: bool,
    #[serde(default)]
    clock_skew_seconds: u64,
    #[serde(default)]
    max_depth: Option<usize>,
    #[serde(default)]
    deny: Vec<DenyEntry>,
    #[serde(default)]
    revocation: Option<Revocation>,
}

impl TryFrom<TrustDoc> for Trust {
    type Error = String;

    fn try_from(doc: TrustDoc) -> Result<Self, String> {
        // Revocation options without a CRL would check nothing: fail rather than accept
        // silently what the author meant to check.
        if doc.revocation.is_some() && doc.crls.is_empty() {
            return Err(String::from(
                "trust.revocation is configured but trust.crls is empty, so no certificate \
                 would be checked: add the CA's CRLs to trust.crls, or remove trust.revocation",
            ));
        }
        Ok(Self {
            anchors: doc.anchors,
            intermediates: doc.intermediates,
            crls: doc.crls,
            allowed_types: doc.allowed_types,
            pinned: doc.pinned,
            allow_unpinned_self_signed: doc.allow_unpinned_self_signed,
            require_client_auth_eku: doc.require_client_auth_eku.unwrap_or(true),
            extended_key_usage: doc.extended_key_usage,
            check_validity: doc.check_validity,
            clock_skew_seconds: doc.clock_skew_seconds,
            max_depth: doc.max_depth,
            deny: doc.deny,
            revocation: doc.revocation.unwrap_or_default(),
            require_client_auth_eku_given: doc.require_client_auth_eku.is_some(),
        })
    }
}

impl Trust {
    /// The extended key usage these settings require (see
    /// [the type docs](Trust#the-extended-key-usage)); a contradiction between
    /// `extended_key_usage` and a given `require_client_auth_eku` is an error naming
    /// `trust.extended_key_usage`.
    pub(crate) fn required_eku(&self) -> Result<ExtendedKeyUsage, PolicyError> {
        let legacy = if self.require_client_auth_eku {
            ExtendedKeyUsage::ClientAuth
        } else {
            ExtendedKeyUsage::Any
        };
        let legacy_given = self.require_client_auth_eku_given || !self.require_client_auth_eku;
        match self.extended_key_usage {
            None => Ok(legacy),
            Some(eku) if eku == legacy || !legacy_given => Ok(eku),
            Some(eku) => Err(PolicyError::invalid(
                "trust.extended_key_usage",
                format!(
                    "`{}` contradicts `require_client_auth_eku: {}` (which means `{}`); give \
                     only `extended_key_usage`",
                    eku.policy_name(),
                    self.require_client_auth_eku,
                    legacy.policy_name()
                ),
            )),
        }
    }
}

impl Default for Trust {
    fn default() -> Self {
        Self {
            anchors: Vec::new(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            allowed_types: AllowedTypes::default(),
            pinned: Vec::new(),
            allow_unpinned_self_signed: false,
            require_client_auth_eku: true,
            extended_key_usage: None,
            check_validity: true,
            clock_skew_seconds: 0,
            max_depth: None,
            deny: Vec::new(),
            revocation: Revocation::default(),
            require_client_auth_eku_given: false,
        }
    }
}

/// Identity rules.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Identity {
    /// Rules of which one must match; empty admits every validated certificate.
    #[serde(default)]
    pub allow: Vec<Rule>,
}

/// Name attributes matched by OID (see the module docs).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NameMatch {
    /// commonName (2.5.4.3).
    pub cn: Option<String>,
    /// organizationName (2.5.4.10).
    pub o: Option<String>,
    /// organizationalUnitName (2.5.4.11).
    pub ou: Option<String>,
    /// countryName (2.5.4.6).
    pub c: Option<String>,
    /// stateOrProvinceName (2.5.4.8).
    pub st: Option<String>,
    /// localityName (2.5.4.7).
    pub l: Option<String>,
    /// domainComponent (0.9.2342.19200300.100.1.25).
    pub dc: Option<String>,
    /// serialNumber attribute (2.5.4.5).
    pub serial_number: Option<String>,
}

/// One identity rule: every present matcher must match.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Rule {
    /// SPIFFE ID pattern.
    pub spiffe_id: Option<String>,
    /// DNS SAN pattern.
    pub dns: Option<String>,
    /// Email SAN pattern.
    pub email: Option<String>,
    /// URI SAN pattern.
    pub uri: Option<String>,
    /// Subject attributes.
    pub subject: Option<NameMatch>,
    /// Issuer attributes (of the leaf's issuer name).
    pub issuer: Option<NameMatch>,
    /// Leaf SHA-256 fingerprint.
    pub fingerprint: Option<String>,
}

/// A claim value list: a single string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimValues {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for ClaimValues {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Values;
        impl<'de> Visitor<'de> for Values {
            type Value = ClaimValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim value (a string) or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ClaimValues, E> {
                Ok(ClaimValues::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ClaimValues, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    out.push(v);
                }
                Ok(ClaimValues::Many(out))
            }
        }
        deserializer.deserialize_any(Values)
    }
}

impl ClaimValues {
    pub(crate) fn as_slice(&self) -> &[String] {
        match self {
            Self::One(v) => core::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }
}

/// Extra claims earned by certificates matching a rule.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClaimGrant {
    /// The rule (same syntax as `identity.allow` entries).
    pub when: Rule,
    /// Claim type → values. Types are used verbatim (`"role"`, or a full claim type URI); a
    /// type given twice is an error.
    #[serde(deserialize_with = "unique_keys")]
    pub claims: BTreeMap<String, ClaimValues>,
}

/// The claims section.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Claims {
    /// The `issuer` recorded on every claim (ASP.NET Core's `ClaimsIssuer`).
    #[serde(default = "default_claims_issuer")]
    pub issuer: String,
    /// Grants, applied in order; a certificate gets the claims of every grant it matches.
    #[serde(default)]
    pub add: Vec<ClaimGrant>,
}

/// ASP.NET Core's default claims issuer.
pub const DEFAULT_CLAIMS_ISSUER: &str = "LOCAL AUTHORITY";

fn default_claims_issuer() -> String {
    String::from(DEFAULT_CLAIMS_ISSUER)
}

impl Default for Claims {
    fn default() -> Self {
        Self {
            issuer: default_claims_issuer(),
            add: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compiled form

/// What rules are matched against: a leaf's names, read by OID, and its fingerprint.
pub(crate) struct MatchTarget<'a> {
    pub(crate) spiffe_id: Option<&'a str>,
    pub(crate) dns: &'a [String],
    pub(crate) uris: &'a [String],
    pub(crate) emails: &'a [String],
    pub(crate) subject_attrs: &'a [(ObjectIdentifier, String)],
    pub(crate) issuer_attrs: &'a [(ObjectIdentifier, String)],
    pub(crate) sha256: &'a [u8; 32],
    pub(crate) sha1: &'a [u8; 20],
}

impl<'a> MatchTarget<'a> {
    pub(crate) fn of_leaf(leaf: &'a CertFacts, spiffe_id: Option<&'a str>) -> Self {
        Self {
            spiffe_id,
            dns: &leaf.dns,
            uris: &leaf.uris,
            emails: &leaf.emails,
            subject_attrs: &leaf.subject_attrs,
            issuer_attrs: &leaf.issuer_attrs,
            sha256: &leaf.sha256,
            sha1: leaf.sha1(),
        }
    }
}

/// An identity rule compiled for matching outside a policy, e.g. per route in a web
/// framework: `Matcher::new(&rule)?.matches(&principal)`. Same syntax and semantics as the
/// entries of `identity.allow` (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Matcher(CompiledRule);

impl Matcher {
    /// Compiles a rule.
    pub fn new(rule: &Rule) -> Result<Self, PolicyError> {
        CompiledRule::compile("rule", rule).map(Self)
    }

    /// Parses and compiles a rule from JSON, e.g. `{"spiffe_id":"spiffe://td/ns/*/sa/api"}`.
    #[inline]
    pub fn from_json(json: &str) -> Result<Self, PolicyError> {
        let rule: Rule =
            serde_json::from_str(json).map_err(|e| PolicyError::Json(e.to_string()))?;
        Self::new(&rule)
    }

    /// A rule with only a SPIFFE ID pattern.
    pub fn spiffe_id(pattern: &str) -> Result<Self, PolicyError> {
        Self::new(&Rule {
            spiffe_id: Some(pattern.into()),
            ..Rule::default()
        })
    }

    /// Whether the principal satisfies every matcher of the rule.
    pub fn matches(&self, principal: &crate::Principal) -> bool {
        self.0.matches(&principal.match_target())
    }
}

/// A rule checked for syntax, ready to match.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    spiffe_id: Option<Vec<Segment>>,
    spiffe_td: Option<String>,
    dns: Option<Vec<Segment>>,
    email: Option<(Option<String>, Vec<Segment>)>,
    uri: Option<Vec<Segment>>,
    subject: Vec<(ObjectIdentifier, String)>,
    issuer: Vec<(ObjectIdentifier, String)>,
    fingerprint: Option<CertDigest>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `*`: one segment (or label).
    Any,
    /// `**`, last in a `spiffe_id` pattern: one or more segments.
    AnyBelow,
    Literal(String),
}

/// Whether `id` is a SPIFFE ID as the SPIFFE standard defines it: scheme `spiffe` (lower
/// case), a trust domain of `[a-z0-9._-]`, an optional path of non-empty segments of
/// `[A-Za-z0-9._-]` other than `.` and `..`, no trailing `/`, no query, fragment, port or
/// user info, at most 2048 bytes. A certificate's `spiffe_id` is set only for a valid one.
pub fn is_valid_spiffe_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("spiffe://") else {
        return false;
    };
    if id.len() > 2048 {
        return false;
    }
    let (td, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let td_ok = !td.is_empty()
        && td
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !td_ok {
        return false;
    }
    if path.is_empty() {
        return true;
    }
    path[1..].split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

/// A certificate named by its digest: the SHA-256 fingerprint (`sha256:<hex>`) or the SHA-1
/// thumbprint Windows and ASP.NET Core show (`sha1:<hex>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertDigest {
    Sha256([u8; 32]),
    Sha1([u8; 20]),
}

impl CertDigest {
    /// Whether a certificate with these digests is the one named.
    pub(crate) fn matches(&self, sha256: &[u8; 32], sha1: &[u8; 20]) -> bool {
        match self {
            Self::Sha256(d) => d == sha256,
            Self::Sha1(d) => d == sha1,
        }
    }
}

/// Parses `sha256:<64 hex>` or `sha1:<40 hex>` (prefix and digits case-insensitive, `:` or
/// spaces between bytes allowed, as Windows' certificate dialog shows a thumbprint).
pub(crate) fn parse_cert_digest(field: &str, s: &str) -> Result<CertDigest, PolicyError> {
    let lower = s.get(..5).map(str::to_ascii_lowercase);
    if lower.as_deref() == Some("sha1:") {
        let cleaned: String = s[5..].chars().filter(|c| *c != ':' && *c != ' ').collect();
        let mut out = [0u8; 20];
        hex::decode_to_slice(&cleaned, &mut out).map_err(|e| {
            PolicyError::invalid(
                field,
                format!("expected 40 hex digits (a SHA-1 thumbprint) after `sha1:`: {e}"),
            )
        })?;
        return Ok(CertDigest::Sha1(out));
    }
    if s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("sha256:"))
    {
        return parse_fingerprint(field, &alloc::format!("sha256:{}", &s[7..]))
            .map(CertDigest::Sha256);
    }
    let bare: String = s.chars().filter(|c| *c != ':' && *c != ' ').collect();
    let hint = match bare.len() {
        40 if bare.bytes().all(|b| b.is_ascii_hexdigit()) => {
            " (40 hex digits are a SHA-1 thumbprint: write `sha1:` before them)"
        }
        64 if bare.bytes().all(|b| b.is_ascii_hexdigit()) => {
            " (64 hex digits are a SHA-256 fingerprint: write `sha256:` before them)"
        }
        _ => "",
    };
    Err(PolicyError::invalid(
        field,
        alloc::format!("expected `sha256:<64 hex digits>` or `sha1:<40 hex digits>`{hint}"),
    ))
}

/// Parses `sha256:<hex>` (case-insensitive, `:` between bytes allowed).
pub(crate) fn parse_fingerprint(field: &str, s: &str) -> Result<[u8; 32], PolicyError> {
    let hexpart = s
        .strip_prefix("sha256:")
        .or_else(|| s.strip_prefix("SHA256:"))
        .ok_or_else(|| PolicyError::invalid(field, "expected `sha256:<64 hex digits>`"))?;
    let cleaned: String = hexpart.chars().filter(|c| *c != ':').collect();
    let mut out = [0u8; 32];
    hex::decode_to_slice(&cleaned, &mut out).map_err(|e| {
        PolicyError::invalid(
            field,
            format!("expected 64 hex digits after `sha256:`: {e}"),
        )
    })?;
    Ok(out)
}

/// Parses a hex serial (`:` allowed); leading zero bytes are dropped.
pub(crate) fn parse_serial(field: &str, s: &str) -> Result<Vec<u8>, PolicyError> {
    let mut cleaned: String = s.chars().filter(|c| *c != ':').collect();
    if cleaned.len() % 2 == 1 {
        cleaned.insert(0, '0');
    }
    let bytes = hex::decode(&cleaned)
        .map_err(|e| PolicyError::invalid(field, format!("serial is not hex: {e}")))?;
    if bytes.is_empty() {
        return Err(PolicyError::invalid(field, "empty serial"));
    }
    Ok(normalize_serial(&bytes))
}

pub(crate) fn normalize_serial(bytes: &[u8]) -> Vec<u8> {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes[start..].to_vec()
}

fn path_segments(field: &str, s: &str) -> Result<Vec<Segment>, PolicyError> {
    let segs = s
        .split('/')
        .map(|seg| match seg {
            "*" => Ok(Segment::Any),
            _ if seg.contains('*') => Err(PolicyError::invalid(
                field,
                format!("`*` must be a whole path segment in `{s}`"),
            )),
            _ if is_dot_segment(seg) || has_encoded_separator(seg) => Err(PolicyError::invalid(
                field,
                format!(
                    "`{seg}` in `{s}` is a dot segment or hides a `.`, `/` or `\\`: \
                         a path normaliser would turn the names it matches into others"
                ),
            )),
            _ => Ok(Segment::Literal(seg.to_string())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if segs.contains(&Segment::Any) && s.contains(['?', '#']) {
        return Err(PolicyError::invalid(
            field,
            format!("a pattern with `*` cannot have a query or fragment: `{s}`"),
        ));
    }
    Ok(segs)
}

/// The path of a `spiffe_id` pattern: segments of the SPIFFE ID character set
/// (`[A-Za-z0-9._-]`, not `.` or `..`), `*` for one segment, and `**` last for one or more.
/// Anything a SPIFFE ID cannot hold (an empty segment, a trailing `/`, a percent-encoding)
/// would match nothing, and is an error that says so.
fn spiffe_path_pattern(
    field: &str,
    pattern: &str,
    path: &str,
) -> Result<Vec<Segment>, PolicyError> {
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    segments
        .iter()
        .enumerate()
        .map(|(i, seg)| match *seg {
            "*" => Ok(Segment::Any),
            "**" if i == last => Ok(Segment::AnyBelow),
            "**" => Err(PolicyError::invalid(
                field,
                format!(
                    "`**` must be the last segment of `{pattern}` (it matches every path below)"
                ),
            )),
            "" if i == last => Err(PolicyError::invalid(
                field,
                format!(
                    "`{pattern}` ends with `/`, which no SPIFFE ID does: remove it, or end with \
                     `/**` for every ID below"
                ),
            )),
            "" => Err(PolicyError::invalid(
                field,
                format!("`{pattern}` has an empty path segment (`//`), which no SPIFFE ID has"),
            )),
            "." | ".." => Err(PolicyError::invalid(
                field,
                format!("`{pattern}` has a dot segment (`{seg}`), which no SPIFFE ID has"),
            )),
            _ if seg.contains('*') => Err(PolicyError::invalid(
                field,
                format!("`*` must be a whole path segment in `{pattern}`"),
            )),
            _ if !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) =>
            {
                Err(PolicyError::invalid(
                    field,
                    format!(
                        "`{seg}` in `{pattern}` has a character no SPIFFE ID path has: letters, \
                         digits, `.`, `-` and `_` only (no percent-encoding)"
                    ),
                ))
            }
            _ => Ok(Segment::Literal((*seg).to_string())),
        })
        .collect()
}

/// `.` or `..`, also when spelled with percent-encoded dots (`%2e`, `.%2E`, ...).
fn is_dot_segment(seg: &str) -> bool {
    let mut rest = seg.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
        } else if rest.len() >= 3 && rest[0] == b'%' && rest[1] == b'2' && rest[2] | 0x20 == b'e' {
            rest = &rest[3..];
        } else {
            return false;
        }
        dots += 1;
    }
    dots == 1 || dots == 2
}

/// Whether `seg` holds a percent-encoded `.`, `/` or `\` (`%2e`, `%2f`, `%5c`, any case).
fn has_encoded_separator(seg: &str) -> bool {
    seg.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && matches!(
                (w[1], w[2] | 0x20),
                (b'2', b'e') | (b'2', b'f') | (b'5', b'c')
            )
    })
}

/// What a `*` of a `uri` or `spiffe_id` pattern stands for: one non-empty path segment
/// (RFC 3986 `segment-nz`: unreserved characters, sub-delims, `:`, `@` and well-formed
/// percent-encodings) that is not a dot segment and hides no `.`, `/` or `\` behind a
/// percent-encoding. Anything else (`..`, `%2e%2e`, `a%2fb`, `a\b`, a query or fragment)
/// could be normalised into another name, so no wildcard matches it.
fn is_plain_segment(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.is_empty() || is_dot_segment(seg) || has_encoded_separator(seg) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let hex = |x: u8| x.is_ascii_hexdigit();
            if !(i + 2 < b.len() && hex(b[i + 1]) && hex(b[i + 2])) {
                return false;
            }
            i += 3;
            continue;
        }
        let pchar = c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&c);
        if !pchar {
            return false;
        }
        i += 1;
    }
    true
}

/// What a `*` of a `dns` pattern (or an email domain) stands for: one DNS label of letters,
/// digits, `-` and `_`, at most 63 bytes (so not `*` itself, nor anything a resolver would
/// read differently).
fn is_plain_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn dns_labels(field: &str, s: &str) -> Result<Vec<Segment>, PolicyError> {
    if s.is_empty() {
        return Err(PolicyError::invalid(field, "empty DNS pattern"));
    }
    s.split('.')
        .map(|label| match label {
            "*" => Ok(Segment::Any),
            "" => Err(PolicyError::invalid(field, format!("empty label in `{s}`"))),
            _ if label.contains('*') => Err(PolicyError::invalid(
                field,
                format!("`*` must be a whole DNS label in `{s}`"),
            )),
            _ => Ok(Segment::Literal(label.to_ascii_lowercase())),
        })
        .collect()
}

fn name_attrs(field: &str, m: &NameMatch) -> Result<Vec<(ObjectIdentifier, String)>, PolicyError> {
    let mut out = Vec::new();
    let pairs: [(ObjectIdentifier, &Option<String>); 8] = [
        (rfc4519::CN, &m.cn),
        (rfc4519::O, &m.o),
        (rfc4519::OU, &m.ou),
        (rfc4519::C, &m.c),
        (rfc4519::ST, &m.st),
        (rfc4519::L, &m.l),
        (rfc4519::DC, &m.dc),
        (rfc4519::SERIAL_NUMBER, &m.serial_number),
    ];
    for (oid, value) in pairs {
        if let Some(v) = value {
            out.push((oid, v.clone()));
        }
    }
    if out.is_empty() {
        return Err(PolicyError::invalid(field, "name matcher has no attribute"));
    }
    Ok(out)
}

impl CompiledRule {
    pub(crate) fn compile(field: &str, rule: &Rule) -> Result<Self, PolicyError> {
        let mut out = CompiledRule {
            spiffe_id: None,
            spiffe_td: None,
            dns: None,
            email: None,
            uri: None,
            subject: Vec::new(),
            issuer: Vec::new(),
            fingerprint: None,
        };
        let mut any = false;
        if let Some(p) = &rule.spiffe_id {
            any = true;
            let f = format!("{field}.spiffe_id");
            let rest = p.strip_prefix("spiffe://").ok_or_else(|| {
                PolicyError::invalid(&f, "SPIFFE ID pattern must start with `spiffe://`")
            })?;
            let (td, path) = match rest.split_once('/') {
                Some((td, path)) => (td, Some(path)),
                None => (rest, None),
            };
            if td.is_empty() || td.contains('*') {
                return Err(PolicyError::invalid(
                    &f,
                    "the trust domain must be literal and non-empty",
                ));
            }
            if !td
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            {
                return Err(PolicyError::invalid(
                    &f,
                    format!(
                        "the trust domain `{td}` is not one a SPIFFE ID can have: lower-case \
                         letters, digits, `.`, `-` and `_` only (write `{}`)",
                        td.to_ascii_lowercase()
                    ),
                ));
            }
            out.spiffe_td = Some(td.to_string());
            out.spiffe_id = Some(match path {
                None => Vec::new(),
                Some(path) => spiffe_path_pattern(&f, p, path)?,
            });
        }
        if let Some(p) = &rule.dns {
            any = true;
            out.dns = Some(dns_labels(&format!("{field}.dns"), p)?);
        }
        if let Some(p) = &rule.email {
            any = true;
            let f = format!("{field}.email");
            let (local, domain) = p
                .rsplit_once('@')
                .ok_or_else(|| PolicyError::invalid(&f, "email pattern must be `local@domain`"))?;
            let local = match local {
                "*" => None,
                "" => return Err(PolicyError::invalid(&f, "empty local part")),
                l if l.contains('*') => {
                    return Err(PolicyError::invalid(&f, "`*` must be the whole local part"))
                }
                l => Some(l.to_string()),
            };
            out.email = Some((local, dns_labels(&f, domain)?));
        }
        if let Some(p) = &rule.uri {
            any = true;
            out.uri = Some(path_segments(&format!("{field}.uri"), p)?);
        }
        if let Some(m) = &rule.subject {
            any = true;
            out.subject = name_attrs(&format!("{field}.subject"), m)?;
        }
        if let Some(m) = &rule.issuer {
            any = true;
            out.issuer = name_attrs(&format!("{field}.issuer"), m)?;
        }
        if let Some(fp) = &rule.fingerprint {
            any = true;
            out.fingerprint = Some(parse_cert_digest(&format!("{field}.fingerprint"), fp)?);
        }
        if !any {
            return Err(PolicyError::invalid(
                field,
                "a rule needs at least one matcher",
            ));
        }
        Ok(out)
    }

    /// Does the leaf (with its SPIFFE ID, if it has exactly one) satisfy every matcher?
    pub(crate) fn matches(&self, leaf: &MatchTarget<'_>) -> bool {
        let spiffe_id = leaf.spiffe_id;
        if let (Some(td), Some(segs)) = (&self.spiffe_td, &self.spiffe_id) {
            let Some(id) = spiffe_id else { return false };
            let Some(rest) = id.strip_prefix("spiffe://") else {
                return false;
            };
            let (id_td, id_path) = rest.split_once('/').unwrap_or((rest, ""));
            if id_td != td {
                return false;
            }
            let ok = if segs.is_empty() {
                id_path.is_empty()
            } else {
                !id_path.is_empty() && match_uri(segs, id_path)
            };
            if !ok {
                return false;
            }
        }
        if let Some(labels) = &self.dns {
            if !leaf
                .dns
                .iter()
                .any(|d| match_segments(labels, d.split('.'), true, is_plain_label))
            {
                return false;
            }
        }
        if let Some((local, domain)) = &self.email {
            let ok = leaf.emails.iter().any(|e| {
                let Some((l, d)) = e.rsplit_once('@') else {
                    return false;
                };
                let local_ok = match local {
                    None => !l.is_empty(),
                    Some(want) => want == l,
                };
                local_ok && match_segments(domain, d.split('.'), true, is_plain_label)
            });
            if !ok {
                return false;
            }
        }
        if let Some(segs) = &self.uri {
            if !leaf.uris.iter().any(|u| match_uri(segs, u)) {
                return false;
            }
        }
        if !attrs_match(&self.subject, leaf.subject_attrs)
            || !attrs_match(&self.issuer, leaf.issuer_attrs)
        {
            return false;
        }
        if let Some(fp) = &self.fingerprint {
            if !fp.matches(leaf.sha256, leaf.sha1) {
                return false;
            }
        }
        true
    }
}

/// Matches `value` (split into its segments) against `pattern`; a `*` matches one segment for
/// which `plain` holds.
fn match_segments<'a>(
    pattern: &[Segment],
    mut value: impl Iterator<Item = &'a str>,
    fold_case: bool,
    plain: fn(&str) -> bool,
) -> bool {
    for seg in pattern {
        let Some(v) = value.next() else { return false };
        match seg {
            Segment::AnyBelow => return plain(v) && value.all(plain),
            Segment::Any => {
                if !plain(v) {
                    return false;
                }
            }
            Segment::Literal(l) => {
                let eq = if fold_case {
                    l.eq_ignore_ascii_case(v)
                } else {
                    l == v
                };
                if !eq {
                    return false;
                }
            }
        }
    }
    value.next().is_none()
}

/// Matches a URI SAN against a `uri` pattern: byte-exact literal segments, and a `*` only
/// in a URI without a query or fragment, for one plain path segment (see
/// [`is_plain_segment`]).
fn match_uri(pattern: &[Segment], uri: &str) -> bool {
    if pattern.contains(&Segment::Any) && uri.contains(['?', '#']) {
        return false;
    }
    match_segments(pattern, uri.split('/'), false, is_plain_segment)
}

fn attrs_match(want: &[(ObjectIdentifier, String)], have: &[(ObjectIdentifier, String)]) -> bool {
    want.iter().all(|(oid, pattern)| {
        have.iter()
            .any(|(o, v)| o == oid && (pattern == "*" || pattern == v))
    })
}
