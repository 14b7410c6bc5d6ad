//! The verified identity: claims read from a validated chain.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Deref;

use serde::Serialize;

use crate::pki_types::UnixTime;

/// ASP.NET Core claim type URIs (`System.Security.Claims.ClaimTypes`).
pub mod claim_types {
    /// `ClaimTypes.NameIdentifier`.
    pub const NAME_IDENTIFIER: &str =
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
    /// `ClaimTypes.Name`.
    pub const NAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
    /// `ClaimTypes.X500DistinguishedName`.
    pub const X500_DISTINGUISHED_NAME: &str =
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/x500distinguishedname";
    /// `ClaimTypes.Thumbprint`.
    pub const THUMBPRINT: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/thumbprint";
    /// `ClaimTypes.SerialNumber`.
    pub const SERIAL_NUMBER: &str =
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/serialnumber";
    /// `ClaimTypes.Dns`.
    pub const DNS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/dns";
    /// `ClaimTypes.Email`.
    pub const EMAIL: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
    /// `ClaimTypes.Upn`.
    pub const UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
    /// `ClaimTypes.Uri`.
    pub const URI: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/uri";
    /// The plain `issuer` claim ASP.NET Core's certificate handler adds.
    pub const ISSUER: &str = "issuer";
    /// `ClaimTypes.Role`: what `[Authorize(Roles = "...")]` and `User.IsInRole` read. A
    /// policy's `claims.add` grants it under the short type `role`.
    pub const ROLE: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

    /// The claim type a policy's short type stands for: `role` is [`ROLE`]; every other type
    /// is itself (write a full URI for any other ASP.NET claim type). Granting and querying
    /// ([`crate::Principal::has_claim`], [`crate::Principal::claim_values`]) both go through
    /// it, so `has_claim("role", …)` and `has_claim(ROLE, …)` are the same question.
    pub fn canonical(claim_type: &str) -> &str {
        match claim_type {
            "role" => ROLE,
            other => other,
        }
    }
}

/// `ClaimValueTypes` URIs.
pub mod value_types {
    /// `ClaimValueTypes.String`.
    pub const STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
    /// `ClaimValueTypes.Base64Binary` (what ASP.NET Core records for the thumbprint).
    pub const BASE64_BINARY: &str = "http://www.w3.org/2001/XMLSchema#base64Binary";
}

/// Text a principal shares between its fields, its claims and the certificates it was read
/// from: a static string or a reference-counted one, so that the subject the principal, three
/// claims and the chain show is one allocation, and the claims issuer none. Compares,
/// prints and serializes as the string.
#[derive(Clone)]
pub(crate) enum Text {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Shared(s) => s,
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self::Shared(Arc::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self::Shared(Arc::from(s))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl core::fmt::Debug for Text {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (**self).fmt(f)
    }
}

impl core::fmt::Display for Text {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self)
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

/// One claim, shaped like .NET's `System.Security.Claims.Claim`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    #[serde(rename = "type")]
    pub(crate) claim_type: Text,
    pub(crate) value: Text,
    pub(crate) value_type: &'static str,
    pub(crate) issuer: Text,
}

impl Claim {
    /// The claim type (a URI for the standard claims, verbatim for policy claims).
    pub fn claim_type(&self) -> &str {
        &self.claim_type
    }
    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
    /// The value type URI.
    pub fn value_type(&self) -> &str {
        self.value_type
    }
    /// The claims issuer (the policy's `claims.issuer`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// One certificate of the verified path, leaf first, trust anchor last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    pub(crate) subject: Text,
    pub(crate) issuer: Text,
    pub(crate) fingerprint_sha256: Text,
}

impl ChainLink {
    /// RFC 4514 subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// RFC 4514 issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// Lowercase hex SHA-256 of the certificate's DER.
    pub fn fingerprint_sha256(&self) -> &str {
        &self.fingerprint_sha256
    }
}

/// How the certificate behind a [`Principal`] reached certclaims. Serialized as `source`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Presented directly: the client's own TLS handshake, or a chain handed to
    /// [`Validator::verify`](crate::Validator::verify) (a file, the CLI).
    Direct,
    /// Read from a trusted forwarder's header (see [`crate::forwarded`]) and validated
    /// against the policy's trust anchors like a direct chain.
    Forwarded,
    /// Read from a trusted forwarder's header and admitted on the proxy's verdict, without
    /// path validation (`"verification": "danger_trust_proxy_verdict"`).
    ForwardedUnverified,
}

impl Source {
    /// The JSON string: `direct`, `forwarded` or `forwarded_unverified`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Forwarded => "forwarded",
            Self::ForwardedUnverified => "forwarded_unverified",
        }
    }
}

/// A client identity proven by a validated certificate chain and admitted by a policy.
///
/// Only [`Validator::verify`](crate::Validator::verify) creates one; it cannot be built or
/// deserialized by other code. Its JSON form (`serde::Serialize`, [`Principal::to_json`]) is
/// the contract shared by the CLI, the adapters and the npm package.
///
/// Cloning one is cheap (the fields are shared): the validation cache hands out clones.
/// The SHA-1 thumbprint, the claims list and the values' JSON text
/// ([`Principal::as_json_values`]) are computed when first asked for (and kept): a
/// verification whose caller reads none of them does not pay for them, and a cached principal
/// makes each once.
#[derive(Clone)]
pub struct Principal(Arc<Fields>);

impl core::fmt::Debug for Principal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Principal")
            .field("source", &self.0.source)
            .field("subject", &self.0.subject)
            .field("issuer", &self.0.issuer)
            .field("serial", &self.0.serial)
            .field("fingerprint_sha256", &self.0.fingerprint_sha256)
            .field("not_before", &self.0.not_before)
            .field("not_after", &self.0.not_after)
            .field("spiffe_id", &self.0.spiffe_id)
            .field("chain", &self.0.chain)
            .field("claims", &self.claims())
            .finish_non_exhaustive()
    }
}

/// Equal when everything it shows is equal (the derived values computed as needed).
impl PartialEq for Principal {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&*self.0, &*other.0);
        a.source == b.source
            && a.subject == b.subject
            && a.issuer == b.issuer
            && a.common_name == b.common_name
            && a.serial == b.serial
            && a.fingerprint_sha256 == b.fingerprint_sha256
            && a.leaf_der == b.leaf_der
            && a.not_before == b.not_before
            && a.not_after == b.not_after
            && a.spiffe_id == b.spiffe_id
            && a.dns == b.dns
            && a.uris == b.uris
            && a.emails == b.emails
            && a.upns == b.upns
            && a.ips == b.ips
            && a.chain == b.chain
            && self.claims() == other.claims()
            && a.subject_attrs == b.subject_attrs
            && a.issuer_attrs == b.issuer_attrs
            && a.usable_until_unix == b.usable_until_unix
    }
}

impl Eq for Principal {}

/// The JSON contract: these fields, in this order.
impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let f = &*self.0;
        let mut s = serializer.serialize_struct("Principal", 18)?;
        s.serialize_field("authentication_type", f.authentication_type)?;
        s.serialize_field("source", &f.source)?;
        s.serialize_field("subject", &f.subject)?;
        s.serialize_field("issuer", &f.issuer)?;
        s.serialize_field("common_name", &f.common_name)?;
        s.serialize_field("serial", &f.serial)?;
        s.serialize_field("fingerprint_sha256", &f.fingerprint_sha256)?;
        s.serialize_field("thumbprint_sha1", self.thumbprint_sha1())?;
        s.serialize_field("not_before", &f.not_before)?;
        s.serialize_field("not_after", &f.not_after)?;
        s.serialize_field("spiffe_id", &f.spiffe_id)?;
        s.serialize_field("dns", &f.dns)?;
        s.serialize_field("uris", &f.uris)?;
        s.serialize_field("emails", &f.emails)?;
        s.serialize_field("upns", &f.upns)?;
        s.serialize_field("ips", &f.ips)?;
        s.serialize_field("chain", &f.chain)?;
        s.serialize_field("claims", self.claims())?;
        s.end()
    }
}

/// A value computed on first use and kept (thread-safe, without std).
pub(crate) struct Lazy<T>(spin::Once<T>);

impl<T> Lazy<T> {
    pub(crate) const fn new() -> Self {
        Self(spin::Once::new())
    }

    pub(crate) fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.0.call_once(f)
    }
}

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        match self.0.get() {
            Some(v) => Self(spin::Once::from(v.clone())),
            None => Self::new(),
        }
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0.get() {
            Some(v) => v.fmt(f),
            None => f.write_str("(not computed)"),
        }
    }
}

/// What a principal computes only when asked: the SHA-1 thumbprint (a hash of the whole
/// certificate that a verification does not otherwise need) and the claims that show it.
pub(crate) struct Derived {
    sha1: [u8; 20],
    thumbprint: Text,
    claims: Vec<Claim>,
}

/// What a [`Principal`] holds.
pub(crate) struct Fields {
    pub(crate) authentication_type: &'static str,
    pub(crate) source: Source,
    pub(crate) subject: Text,
    pub(crate) issuer: Text,
    pub(crate) common_name: Option<String>,
    pub(crate) serial: Text,
    pub(crate) fingerprint_sha256: Text,
    pub(crate) not_before: String,
    pub(crate) not_after: String,
    pub(crate) spiffe_id: Option<String>,
    pub(crate) dns: Vec<String>,
    pub(crate) uris: Vec<String>,
    pub(crate) emails: Vec<String>,
    pub(crate) upns: Vec<String>,
    pub(crate) ips: Vec<String>,
    pub(crate) chain: Vec<ChainLink>,
    /// The claims the policy grants (type, value), in order, after the certificate's own.
    pub(crate) granted: Vec<(Text, Text)>,
    /// The policy's `claims.issuer`.
    pub(crate) claims_issuer: Text,
    /// The leaf's DER, which the thumbprint is computed from.
    pub(crate) leaf_der: Vec<u8>,
    /// The leaf's SHA-1, when the validator computed it already.
    pub(crate) sha1: Lazy<[u8; 20]>,
    pub(crate) derived: Lazy<Derived>,
    /// The values' JSON text, made on first use ([`Principal::as_json_values`]).
    pub(crate) json: Lazy<String>,
    pub(crate) subject_attrs: Vec<(const_oid::ObjectIdentifier, String)>,
    pub(crate) issuer_attrs: Vec<(const_oid::ObjectIdentifier, String)>,
    pub(crate) sha256: [u8; 32],
    pub(crate) not_before_unix: u64,
    pub(crate) not_after_unix: u64,
    /// See [`Principal::usable_until`]; set by the validator.
    pub(crate) usable_until_unix: Option<u64>,
}

impl Fields {
    fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| {
            let sha1 = *self
                .sha1
                .get_or_init(|| <sha1::Sha1 as sha1::Digest>::digest(&self.leaf_der).into());
            let thumbprint = Text::from(crate::cert::hex_text(&sha1, true));
            let claim = |ty: Text, value: Text, vt: &'static str| Claim {
                claim_type: ty,
                value,
                value_type: vt,
                issuer: self.claims_issuer.clone(),
            };
            let standard = |ty: &'static str, value: &Text| {
                claim(Text::Static(ty), value.clone(), value_types::STRING)
            };
            let mut claims = Vec::with_capacity(
                6 + self.dns.len()
                    + self.emails.len()
                    + self.upns.len()
                    + self.uris.len()
                    + self.granted.len(),
            );
            claims.extend([
                standard(claim_types::NAME_IDENTIFIER, &self.subject),
                standard(claim_types::NAME, &self.subject),
                standard(claim_types::X500_DISTINGUISHED_NAME, &self.subject),
                claim(
                    Text::Static(claim_types::THUMBPRINT),
                    thumbprint.clone(),
                    value_types::BASE64_BINARY,
                ),
                standard(claim_types::SERIAL_NUMBER, &self.serial),
                standard(claim_types::ISSUER, &self.issuer),
            ]);
            for (ty, values) in [
                (claim_types::DNS, &self.dns),
                (claim_types::EMAIL, &self.emails),
                (claim_types::UPN, &self.upns),
                (claim_types::URI, &self.uris),
            ] {
                claims.extend(values.iter().map(|v| standard(ty, &Text::from(v.as_str()))));
            }
            claims.extend(
                self.granted
                    .iter()
                    .map(|(t, v)| claim(t.clone(), v.clone(), value_types::STRING)),
            );
            Derived {
                sha1,
                thumbprint,
                claims,
            }
        })
    }
}

impl Principal {
    pub(crate) fn new(fields: Fields) -> Self {
        Self(Arc::new(fields))
    }

    /// The last instant it is usable at, in seconds (see [`Principal::usable_until`]).
    pub(crate) fn usable_until_unix(&self) -> Option<u64> {
        self.0.usable_until_unix
    }

    /// How the certificate reached certclaims: directly, or from a forwarder.
    pub fn source(&self) -> Source {
        self.0.source
    }

    /// Always `"Certificate"` (ASP.NET Core's `CertificateAuthenticationDefaults`).
    pub fn authentication_type(&self) -> &str {
        self.0.authentication_type
    }
    /// RFC 4514 subject, most specific RDN first (`CN=alice,O=Example Corp`).
    pub fn subject(&self) -> &str {
        &self.0.subject
    }
    /// RFC 4514 issuer.
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }
    /// The most specific commonName of the subject, if any.
    pub fn common_name(&self) -> Option<&str> {
        self.0.common_name.as_deref()
    }
    /// Serial number, uppercase hex, no leading zero byte.
    pub fn serial(&self) -> &str {
        &self.0.serial
    }
    /// SHA-256 of the leaf's DER, lowercase hex.
    pub fn fingerprint_sha256(&self) -> &str {
        &self.0.fingerprint_sha256
    }
    /// SHA-1 of the leaf's DER, uppercase hex (.NET's `Thumbprint`).
    pub fn thumbprint_sha1(&self) -> &str {
        &self.0.derived().thumbprint
    }
    /// notBefore.
    pub fn not_before(&self) -> UnixTime {
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(self.0.not_before_unix))
    }
    /// notAfter.
    pub fn not_after(&self) -> UnixTime {
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(self.0.not_after_unix))
    }
    /// The last instant (inclusive) at which the validator that made this principal still
    /// accepts the validity of its chain, with the policy's own notion of validity: the
    /// leaf's notAfter plus `clock_skew_seconds`, or the earliest notAfter of an issuer in the
    /// path if that comes before the leaf's notAfter. `None` when nothing in the path ever
    /// expires for this policy (`check_validity: false` and no issuer expiring before the
    /// leaf).
    ///
    /// Code that keeps a principal beyond the moment it was verified (a long-lived
    /// connection) asks [`Principal::is_usable_at`] rather than comparing notAfter itself.
    pub fn usable_until(&self) -> Option<UnixTime> {
        self.0
            .usable_until_unix
            .map(|s| UnixTime::since_unix_epoch(core::time::Duration::from_secs(s)))
    }
    /// Whether the validator that made this principal would still accept its chain's validity
    /// at `now` (see [`Principal::usable_until`]).
    pub fn is_usable_at(&self, now: UnixTime) -> bool {
        self.0
            .usable_until_unix
            .is_none_or(|until| now.as_secs() <= until)
    }
    /// The SPIFFE ID: set when exactly one URI SAN has the scheme `spiffe` (compared
    /// case-insensitively) and it is a valid SPIFFE ID.
    pub fn spiffe_id(&self) -> Option<&str> {
        self.0.spiffe_id.as_deref()
    }
    /// DNS SANs, in certificate order.
    pub fn dns(&self) -> &[String] {
        &self.0.dns
    }
    /// URI SANs, in certificate order.
    pub fn uris(&self) -> &[String] {
        &self.0.uris
    }
    /// rfc822Name (email) SANs, in certificate order.
    pub fn emails(&self) -> &[String] {
        &self.0.emails
    }
    /// UPN otherName SANs (1.3.6.1.4.1.311.20.2.3), in certificate order.
    pub fn upns(&self) -> &[String] {
        &self.0.upns
    }
    /// IP address SANs as text, in certificate order.
    pub fn ips(&self) -> &[String] {
        &self.0.ips
    }
    /// The verified path, leaf first, trust anchor last.
    pub fn chain(&self) -> &[ChainLink] {
        &self.0.chain
    }
    /// All claims: those read from the certificate, then the policy's.
    pub fn claims(&self) -> &[Claim] {
        &self.0.derived().claims
    }
    /// Values of every claim of type `claim_type` (`role` is
    /// [`claim_types::ROLE`], see [`claim_types::canonical`]).
    pub fn claim_values<'a>(&'a self, claim_type: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let claim_type = claim_types::canonical(claim_type);
        self.claims()
            .iter()
            .filter(move |c| *c.claim_type == *claim_type)
            .map(|c| &*c.value)
    }
    /// Whether a claim `claim_type` with `value` is present (ASP.NET's `HasClaim`; `role` is
    /// [`claim_types::ROLE`]).
    pub fn has_claim(&self, claim_type: &str, value: &str) -> bool {
        let claim_type = claim_types::canonical(claim_type);
        self.claims()
            .iter()
            .any(|c| *c.claim_type == *claim_type && *c.value == *value)
    }
    /// Whether the principal has the role `role` (ASP.NET's `IsInRole`): a
    /// [`claim_types::ROLE`] claim with that value.
    pub fn is_in_role(&self, role: &str) -> bool {
        self.has_claim(claim_types::ROLE, role)
    }
    pub(crate) fn match_target(&self) -> crate::policy::MatchTarget<'_> {
        crate::policy::MatchTarget {
            spiffe_id: self.0.spiffe_id.as_deref(),
            dns: &self.0.dns,
            uris: &self.0.uris,
            emails: &self.0.emails,
            subject_attrs: &self.0.subject_attrs,
            issuer_attrs: &self.0.issuer_attrs,
            sha256: &self.0.sha256,
            sha1: &self.0.derived().sha1,
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The values of the JSON form, as compact JSON text, made on first use and kept: one
    /// array of the [`Serialize`] form's values in its order, without the keys; each list
    /// (`dns`, `uris`, `emails`, `upns`, `ips`, `chain`, `claims`) preceded by its length, a
    /// chain link as its `subject`, `issuer` and `fingerprint_sha256`, a claim as its `type`,
    /// `value`, `value_type` and `issuer`; absent values `null`. It is what the npm package's
    /// module hands its JavaScript, which rebuilds the JSON form's object from it: parsing
    /// this array and rebuilding the object took 1.8–2.3 µs in Node where parsing the form's
    /// keyed text took 3.5 µs (BENCHMARKS.md, stop 26). The
    /// validation cache hands out clones of one principal, so a returning client's principal
    /// is written once, not on every request. Strings are escaped as `serde_json` escapes
    /// them (`tests/principal.rs` holds this text equal to serde_json's text of the same
    /// array).
    pub fn as_json_values(&self) -> &str {
        self.0.json.get_or_init(|| self.json_values())
    }

    /// Writes [`Principal::as_json_values`]' text, by hand rather than through serde: the npm
    /// package returns every accepted chain as this text, and serde_json's generic string
    /// escaping, instantiated in a module built for size, copied the 2 KB of a principal one
    /// byte at a time (a third of a miss's own work in Node, measured).
    fn json_values(&self) -> String {
        let f = &*self.0;
        let mut o = String::with_capacity(1024 + 160 * (f.chain.len() + f.granted.len()));
        // The scalar fields, in the `Serialize` order; `None` is `null`.
        o.push('[');
        for (i, value) in [
            Some(f.authentication_type),
            Some(f.source.as_str()),
            Some(&*f.subject),
            Some(&*f.issuer),
            f.common_name.as_deref(),
            Some(&*f.serial),
            Some(&*f.fingerprint_sha256),
            Some(self.thumbprint_sha1()),
            Some(&*f.not_before),
            Some(&*f.not_after),
            f.spiffe_id.as_deref(),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                o.push(',');
            }
            json::optional(&mut o, value);
        }
        for list in [&f.dns, &f.uris, &f.emails, &f.upns, &f.ips] {
            json::count(&mut o, list.len());
            for v in list {
                o.push(',');
                json::string(&mut o, v);
            }
        }
        json::count(&mut o, f.chain.len());
        for link in &f.chain {
            for v in [&link.subject, &link.issuer, &link.fingerprint_sha256] {
                o.push(',');
                json::string(&mut o, v);
            }
        }
        let claims = self.claims();
        json::count(&mut o, claims.len());
        for claim in claims {
            for v in [
                &*claim.claim_type,
                &*claim.value,
                claim.value_type,
                &*claim.issuer,
            ] {
                o.push(',');
                json::string(&mut o, v);
            }
        }
        o.push(']');
        o
    }
}

/// JSON strings as serde_json writes them (RFC 8259): `"` and `\` escaped, the control
/// characters U+0000 to U+001F as `\b \t \n \f \r` or `\u00xx` (lower-case hex),
/// everything else as it is; runs without an escape are copied whole.
mod json {
    use alloc::string::String;

    pub(super) fn string(out: &mut String, s: &str) {
        out.push('"');
        let bytes = s.as_bytes();
        let mut run = 0;
        let mut i = 0;
        loop {
            // Eight bytes at a time while none of them needs an escape (a principal's
            // strings rarely hold one): a byte-at-a-time scan was most of the writing in the
            // npm package's size-built module.
            while let Some(Ok(&word)) = bytes.get(i..i + 8).map(<&[u8; 8]>::try_from) {
                if needs_escape(u64::from_le_bytes(word)) {
                    break;
                }
                i += 8;
            }
            let Some(&b) = bytes.get(i) else { break };
            if b >= 0x20 && b != b'"' && b != b'\\' {
                i += 1;
                continue;
            }
            // `run..i` and the escape are ASCII boundaries: every byte before is part of
            // whole characters.
            out.push_str(&s[run..i]);
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                0x08 => out.push_str("\\b"),
                b'\t' => out.push_str("\\t"),
                b'\n' => out.push_str("\\n"),
                0x0c => out.push_str("\\f"),
                b'\r' => out.push_str("\\r"),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.push_str("\\u00");
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0xf)]));
                }
            }
            i += 1;
            run = i;
        }
        out.push_str(&s[run..]);
        out.push('"');
    }

    /// Whether one of the eight bytes of `w` is below U+0020, `"` or `\`. Each test is exact
    /// for the word as a whole: a byte only borrows from the next one when it is itself
    /// below the value subtracted (a byte of 0x80 and above never flags).
    fn needs_escape(w: u64) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = ONES << 7;
        let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        below(w, 0x20) | below(quote, 1) | below(backslash, 1) != 0
    }

    /// `,` and a list's length.
    pub(super) fn count(out: &mut String, n: usize) {
        use core::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(out, ",{n}");
    }

    pub(super) fn optional(out: &mut String, s: Option<&str>) {
        match s {
            Some(s) => string(out, s),
            None => out.push_str("null"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::json;
    use alloc::string::String;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        // Every byte value that can start a character, at every offset of a word and across
        // word boundaries, among ASCII and multi-byte neighbours.
        let mut cases = alloc::vec::Vec::new();
        for c in (0u32..0x80).chain([0xe9, 0x2028, 0x1f600]) {
            let c = char::from_u32(c).unwrap();
            for before in 0..17 {
                for filler in ["a", "é", "\u{80}"] {
                    let mut s = filler.repeat(before);
                    s.push(c);
                    s.push_str(&filler.repeat(9));
                    cases.push(s);
                }
            }
        }
        cases.extend(["".into(), "\"\\\"".into(), "CN=a\\,b".into()]);
        for s in cases {
            let mut out = String::new();
            json::string(&mut out, &s);
            assert_eq!(out, serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }
}
