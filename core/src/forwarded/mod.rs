//! Forwarded client certificates: a proxy or an edge platform terminated mutual TLS and
//! passes the client's certificate on in an HTTP header.
//!
//! A [`Forwarder`] describes one trusted hop: which header it sets, in which [`Format`], from
//! which peer addresses it connects, and which companion headers it must send. It is plain
//! data ([`Forwarder::from_json`]), so the same document configures `certclaims serve
//! --forwarder`, the tower adapter and the npm package.
//!
//! ```text
//!  request from peer P ─► Forwarder::authenticate(validator, P, headers, now)
//!     P not in trusted_proxies + header present ─► untrusted_forwarder (never decoded)
//!     duplicate header / other format / too big  ─► malformed_header
//!     companion header / shared secret wrong     ─► forwarder_check_failed
//!     decode (Format) ─► Chain ─► Validator (re-validated against the policy's anchors)
//!                                   └─► Principal { source: "forwarded" }
//! ```
//!
//! # Trust model
//! - A forwarded certificate proves nothing by itself: the proxy checked that the client holds
//!   the private key; certclaims did not. The header is believed only from a peer address in
//!   [`Forwarder::trusted_proxies`]; from anyone else it is refused (`untrusted_forwarder`)
//!   or, with `"untrusted": "strip"`, ignored as if absent. It is never decoded.
//! - The chain is re-validated against the policy's own trust anchors
//!   ([`Verification::Revalidate`], the default). Believing the proxy's verdict instead is the
//!   opt-in [`Verification::DangerTrustProxyVerdict`], and such a principal says so
//!   (`"source": "forwarded_unverified"`).
//! - Where proxies append (Envoy `APPEND_FORWARD`), only the last XFCC element, the one the
//!   trusted hop added, counts. Identity comes only from the certificate, never from an XFCC
//!   `Subject`/`URI`/`DNS` text.
//! - Everything is bounded before it is decoded: header size ([`Forwarder::max_header_bytes`]),
//!   certificates per request ([`Forwarder::max_certificates`]), XFCC elements
//!   ([`MAX_XFCC_ELEMENTS`]).
//!
//! # Formats
//!
//! | [`Format`] | default header | value |
//! |---|---|---|
//! | `rfc9440` | `client-cert` (+ `client-cert-chain`) | RFC 9440: a structured-field byte sequence `:base64 DER:`; the chain header a list of them, without the leaf |
//! | `xfcc` | `x-forwarded-client-cert` | Envoy XFCC: `Cert`/`Chain` are URL-encoded PEM, `Hash` (hex SHA-256 of the DER) is checked when present; the last element counts |
//! | `nginx` | `ssl-client-cert` | `$ssl_client_escaped_cert` (URL-encoded PEM), or the deprecated tab-folded `$ssl_client_cert` |
//! | `apache` | `x-ssl-client-cert` (+ `x-ssl-client-cert-chain-{n}`) | mod_ssl `%{SSL_CLIENT_CERT}s`: PEM whose line breaks became spaces; `SSL_CLIENT_CERT_CHAIN_n` in numbered headers; `(null)` means none |
//! | `haproxy` | `x-ssl-client-cert` | `%[ssl_c_der,base64]` |
//! | `caddy` | `x-client-cert` | `{http.request.tls.client.certificate_der_base64}` |
//! | `aws-alb` | `x-amzn-mtls-clientcert` | ALB mutual TLS: URL-encoded PEM, the chain leaf first (`x-amzn-mtls-clientcert-leaf` in verify mode: the leaf) |
//! | `azure` | `x-arr-clientcert` | App Service: base64 DER |
//! | `cloudflare` | `cf-client-cert-der-base64` | base64 DER |
//! | `traefik` | `x-forwarded-tls-client-cert` | PassTLSClientCert `pem: true`: PEM bodies without delimiters, joined by `,`, leaf first, URL-encoded |
//! | `gcp` | `x-client-cert-leaf` (+ `x-client-cert-chain`) | load balancer custom headers `{client_cert_leaf}` / `{client_cert_chain}`: RFC 9440 encoding |
//! | `pem` | `x-client-cert` | PEM, line breaks as they came (spaces, tabs or none) |
//! | `base64-der` | `x-client-cert` | base64 DER |
//!
//! Each proxy's configuration, with the line that keeps a client from sending the header
//! itself, is in `docs/forwarded.md`.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;
use core::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Code, PolicyError, Rejection, Step};
use crate::input::{limits, Chain};
use crate::pki_types::{CertificateDer, UnixTime};
use crate::principal::Source;
use crate::{Principal, Validator};

pub(crate) mod decode;
mod xfcc;

use decode::{Bounds, Fault};

/// Most XFCC elements read from one header (`malformed_header` beyond).
pub const MAX_XFCC_ELEMENTS: usize = 32;
/// Default of [`Forwarder::max_header_bytes`]: 64 KiB per header value.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest [`Forwarder::max_header_bytes`] a forwarder may configure (1 MiB).
pub const MAX_HEADER_BYTES_LIMIT: usize = limits::MAX_PEM_BYTES;
/// Default of [`Forwarder::max_certificates`]: the leaf and up to 7 intermediates.
pub const DEFAULT_MAX_CERTIFICATES: usize = 8;

/// How a proxy or platform encodes the certificate. The JSON and CLI names are
/// [`Format::as_str`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// RFC 9440 `Client-Cert` / `Client-Cert-Chain`.
    Rfc9440,
    /// Envoy `x-forwarded-client-cert`.
    Xfcc,
    /// nginx `$ssl_client_escaped_cert` (or the deprecated `$ssl_client_cert`).
    Nginx,
    /// Apache httpd mod_ssl `%{SSL_CLIENT_CERT}s` and `SSL_CLIENT_CERT_CHAIN_n`.
    Apache,
    /// HAProxy `%[ssl_c_der,base64]`.
    Haproxy,
    /// Caddy `{http.request.tls.client.certificate_der_base64}`.
    Caddy,
    /// AWS Application Load Balancer `X-Amzn-Mtls-Clientcert` / `-Leaf`.
    AwsAlb,
    /// Azure App Service `X-ARR-ClientCert`.
    Azure,
    /// Cloudflare `Cf-Client-Cert-Der-Base64`.
    Cloudflare,
    /// Traefik PassTLSClientCert `X-Forwarded-Tls-Client-Cert`.
    Traefik,
    /// Google Cloud load balancer mTLS custom headers (`{client_cert_leaf}`,
    /// `{client_cert_chain}`).
    Gcp,
    /// PEM.
    Pem,
    /// base64 DER.
    Base64Der,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Format] = &[
        Self::Rfc9440,
        Self::Xfcc,
        Self::Nginx,
        Self::Apache,
        Self::Haproxy,
        Self::Caddy,
        Self::AwsAlb,
        Self::Azure,
        Self::Cloudflare,
        Self::Traefik,
        Self::Gcp,
        Self::Pem,
        Self::Base64Der,
    ];

    /// The name used in JSON and on the command line (`rfc9440`, `xfcc`, `aws-alb`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rfc9440 => "rfc9440",
            Self::Xfcc => "xfcc",
            Self::Nginx => "nginx",
            Self::Apache => "apache",
            Self::Haproxy => "haproxy",
            Self::Caddy => "caddy",
            Self::AwsAlb => "aws-alb",
            Self::Azure => "azure",
            Self::Cloudflare => "cloudflare",
            Self::Traefik => "traefik",
            Self::Gcp => "gcp",
            Self::Pem => "pem",
            Self::Base64Der => "base64-der",
        }
    }

    /// The header this format arrives in unless the forwarder names another (lower case).
    pub const fn default_header(self) -> &'static str {
        match self {
            Self::Rfc9440 => "client-cert",
            Self::Xfcc => "x-forwarded-client-cert",
            Self::Nginx => "ssl-client-cert",
            Self::Apache | Self::Haproxy => "x-ssl-client-cert",
            Self::Caddy | Self::Pem | Self::Base64Der => "x-client-cert",
            Self::AwsAlb => "x-amzn-mtls-clientcert",
            Self::Azure => "x-arr-clientcert",
            Self::Cloudflare => "cf-client-cert-der-base64",
            Self::Traefik => "x-forwarded-tls-client-cert",
            Self::Gcp => "x-client-cert-leaf",
        }
    }

    /// The header that carries the intermediates separately, for the formats that have one:
    /// `client-cert-chain` (RFC 9440), `x-client-cert-chain` (GCP), and for Apache the
    /// numbered `x-ssl-client-cert-chain-{n}` (`{n}` = 0, 1, …).
    pub const fn default_chain_header(self) -> Option<&'static str> {
        match self {
            Self::Rfc9440 => Some("client-cert-chain"),
            Self::Gcp => Some("x-client-cert-chain"),
            Self::Apache => Some("x-ssl-client-cert-chain-{n}"),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown forwarded format `{s}`; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// What happens to a request that carries a forwarded-certificate header but does not come
/// from a trusted proxy.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Untrusted {
    /// Refuse the request with `untrusted_forwarder` (the default).
    #[default]
    Reject,
    /// Remove the headers and treat the request as carrying no certificate.
    Strip,
}

/// Whether a forwarded chain is validated again.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Validate the chain against the policy's own trust anchors, exactly as a chain
    /// presented over TLS (the default).
    #[default]
    Revalidate,
    /// Believe the proxy: skip path building and signatures (the proxy did them against ITS
    /// trust store), still apply the leaf's own checks (usage, validity, deny-list by
    /// fingerprint) and the identity rules. Anyone who can make the trusted proxy forward a
    /// certificate, or who can reach certclaims from a trusted address, is whoever the
    /// certificate says. The principal's `source` is `forwarded_unverified`.
    DangerTrustProxyVerdict,
}

/// Which XFCC element counts.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XfccElement {
    /// The last element: the one the trusted hop appended (Envoy `APPEND_FORWARD`,
    /// `SANITIZE_SET`). The default.
    #[default]
    Last,
    /// Exactly one element, or `malformed_header` (for a hop that sanitises: `SANITIZE_SET`,
    /// `ALWAYS_FORWARD_ONLY` behind a sanitising edge).
    Only,
}

/// A header whose value the forwarder must send, compared exactly (ASCII case-insensitive
/// for the value when `ignore_case`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RequiredHeader {
    /// Header name (any case).
    pub name: String,
    /// The value it must have, for example `SUCCESS` for nginx `$ssl_client_verify`.
    pub value: String,
}

/// A secret the proxy adds to every request (for example `proxy_set_header
/// X-Certclaims-Proxy-Secret ...`), compared in constant time. It proves the sender is the
/// proxy when addresses alone cannot (shared networks, NAT).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SharedSecret {
    /// Header name.
    pub header: String,
    /// The secret; at least 16 bytes.
    pub value: String,
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSecret")
            .field("header", &self.header)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// One trusted hop that forwards client certificates: the forwarder document.
///
/// ```json
/// { "format": "nginx",
///   "header": "ssl-client-cert",
///   "trusted_proxies": ["127.0.0.2/32", "10.0.0.0/8", "fd00::/8"],
///   "untrusted": "reject",
///   "verification": "revalidate",
///   "require_headers": [{"name": "x-ssl-client-verify", "value": "SUCCESS"}],
///   "shared_secret": {"header": "x-certclaims-proxy-secret", "value": "…"},
///   "max_header_bytes": 65536, "max_certificates": 8 }
/// ```
///
/// Only `format` and `trusted_proxies` are required. Unknown fields are errors that name the
/// field, as in the policy.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Forwarder {
    /// How the certificate is encoded.
    pub format: Format,
    /// The header that carries the certificate (default: [`Format::default_header`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// The header that carries the intermediates, for `rfc9440`, `gcp` and `apache`
    /// (default: [`Format::default_chain_header`]); for `apache` it contains `{n}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_header: Option<String>,
    /// Peer addresses (CIDRs, IPv4 and IPv6; a bare address is a /32 or /128) allowed to
    /// send the header. Required, non-empty.
    pub trusted_proxies: Vec<String>,
    /// What happens to the header from anyone else.
    #[serde(default)]
    pub untrusted: Untrusted,
    /// Whether the chain is validated again (it is, by default).
    #[serde(default)]
    pub verification: Verification,
    /// Headers the forwarder must send with these values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_headers: Vec<RequiredHeader>,
    /// A shared secret the forwarder sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_secret: Option<SharedSecret>,
    /// Which XFCC element counts (`xfcc` only).
    #[serde(default)]
    pub xfcc_element: XfccElement,
    /// Largest accepted header value in bytes (default 64 KiB, at most 1 MiB).
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Most certificates (leaf included) one request may forward (default 8, at most 65).
    #[serde(default = "default_max_certificates")]
    pub max_certificates: usize,
    #[serde(skip)]
    compiled: Compiled,
}

fn default_max_header_bytes() -> usize {
    DEFAULT_MAX_HEADER_BYTES
}

fn default_max_certificates() -> usize {
    DEFAULT_MAX_CERTIFICATES
}

/// The checked, lower-cased form of the fields above, made by [`Forwarder::check`].
#[derive(Clone, PartialEq, Eq, Default)]
struct Compiled {
    header: String,
    chain: ChainHeader,
    proxies: Vec<IpNet>,
    required: Vec<(String, String)>,
    secret: Option<(String, Vec<u8>)>,
}

#[derive(Clone, PartialEq, Eq, Default)]
enum ChainHeader {
    #[default]
    None,
    One(String),
    /// Apache's numbered headers: the parts before and after `{n}`.
    Numbered(String, String),
}

impl fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forwarder")
            .field("format", &self.format)
            .field("header", &self.compiled.header)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("untrusted", &self.untrusted)
            .field("verification", &self.verification)
            .field("shared_secret", &self.shared_secret)
            .finish_non_exhaustive()
    }
}

/// The request headers, as the host has them. Implemented for slices of `(name, value)`
/// pairs; the tower adapter and the npm package implement it over their header maps.
pub trait Headers {
    /// Every value of the header `name` (given in lower case; compare ASCII
    /// case-insensitively), one per header line, in order of arrival.
    fn get_all(&self, name: &str) -> Vec<&[u8]>;
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn get_all(&self, name: &str) -> Vec<&[u8]> {
        self.iter()
            .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
            .collect()
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn get_all(&self, name: &str) -> Vec<&[u8]> {
        self.as_slice().get_all(name)
    }
}

impl Forwarder {
    /// A forwarder of `format` trusted from `trusted_proxies` (CIDRs), with every other
    /// setting at its default. Fails like [`Forwarder::from_json`] for a bad CIDR.
    pub fn new<S: Into<String>>(
        format: Format,
        trusted_proxies: impl IntoIterator<Item = S>,
    ) -> Result<Self, PolicyError> {
        Self {
            format,
            header: None,
            chain_header: None,
            trusted_proxies: trusted_proxies.into_iter().map(Into::into).collect(),
            untrusted: Untrusted::default(),
            verification: Verification::default(),
            require_headers: Vec::new(),
            shared_secret: None,
            xfcc_element: XfccElement::default(),
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_certificates: DEFAULT_MAX_CERTIFICATES,
            compiled: Compiled::default(),
        }
        .check()
    }

    /// Parses and checks a forwarder document. Unknown fields are errors that name the field;
    /// bad values name it as `forwarder.<field>`.
    #[inline]
    pub fn from_json(json: &str) -> Result<Self, PolicyError> {
        let json = json.strip_prefix('\u{feff}').unwrap_or(json);
        let doc: Forwarder =
            serde_json::from_str(json).map_err(|e| PolicyError::ForwarderJson(e.to_string()))?;
        doc.check()
    }

    /// Checks every field and prepares the lower-cased header names and parsed CIDRs. Call it
    /// after changing a public field ([`Forwarder::new`] and [`Forwarder::from_json`] do).
    pub fn check(mut self) -> Result<Self, PolicyError> {
        let header = match &self.header {
            Some(h) => header_name("forwarder.header", h)?,
            None => self.format.default_header().to_owned(),
        };
        let chain = match (&self.chain_header, self.format.default_chain_header()) {
            (Some(_), None) => {
                return Err(PolicyError::invalid(
                    "forwarder.chain_header",
                    format!(
                        "the `{}` format carries its chain in the certificate header; only \
                         rfc9440, gcp and apache have a chain header",
                        self.format
                    ),
                ))
            }
            (Some(h), Some(_)) => self.chain_header_of(h)?,
            (None, Some(d)) => self.chain_header_of(d)?,
            (None, None) => ChainHeader::None,
        };
        if self.trusted_proxies.is_empty() {
            return Err(PolicyError::invalid(
                "forwarder.trusted_proxies",
                "no trusted proxy: list the addresses (CIDRs) your proxy connects from, for \
                 example \"10.0.0.5/32\"",
            ));
        }
        let mut proxies = Vec::with_capacity(self.trusted_proxies.len());
        for (i, p) in self.trusted_proxies.iter().enumerate() {
            let net = ip_net(p).ok_or_else(|| {
                PolicyError::invalid(
                    format!("forwarder.trusted_proxies[{i}]"),
                    format!("`{p}` is not an IP address or CIDR (e.g. \"10.0.0.0/8\", \"::1\")"),
                )
            })?;
            if net.prefix_len() == 0 {
                return Err(PolicyError::invalid(
                    format!("forwarder.trusted_proxies[{i}]"),
                    format!("`{p}` trusts every address; name your proxies' addresses"),
                ));
            }
            proxies.push(normalize_net(net));
        }
        let mut required = Vec::new();
        for (i, r) in self.require_headers.iter().enumerate() {
            required.push((
                header_name(&format!("forwarder.require_headers[{i}].name"), &r.name)?,
                r.value.clone(),
            ));
        }
        let secret = match &self.shared_secret {
            Some(s) => {
                if s.value.len() < 16 {
                    return Err(PolicyError::invalid(
                        "forwarder.shared_secret.value",
                        "a shared secret must be at least 16 bytes long",
                    ));
                }
                Some((
                    header_name("forwarder.shared_secret.header", &s.header)?,
                    s.value.as_bytes().to_vec(),
                ))
            }
            None => None,
        };
        if self.max_header_bytes == 0 || self.max_header_bytes > MAX_HEADER_BYTES_LIMIT {
            return Err(PolicyError::invalid(
                "forwarder.max_header_bytes",
                format!("must be between 1 and {MAX_HEADER_BYTES_LIMIT}"),
            ));
        }
        let max_certs = limits::MAX_PRESENTED_INTERMEDIATES + 1;
        if self.max_certificates == 0 || self.max_certificates > max_certs {
            return Err(PolicyError::invalid(
                "forwarder.max_certificates",
                format!("must be between 1 and {max_certs}"),
            ));
        }
        if self.xfcc_element != XfccElement::Last && self.format != Format::Xfcc {
            return Err(PolicyError::invalid(
                "forwarder.xfcc_element",
                "applies to the xfcc format only",
            ));
        }
        let mut names: Vec<&str> = Vec::new();
        names.push(&header);
        if let ChainHeader::One(c) = &chain {
            names.push(c);
        }
        names.extend(required.iter().map(|(n, _)| n.as_str()));
        names.extend(secret.iter().map(|(n, _)| n.as_str()));
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(PolicyError::invalid(
                    "forwarder",
                    format!("the header `{n}` is named twice"),
                ));
            }
        }
        self.compiled = Compiled {
            header,
            chain,
            proxies,
            required,
            secret,
        };
        Ok(self)
    }

    fn chain_header_of(&self, name: &str) -> Result<ChainHeader, PolicyError> {
        let field = "forwarder.chain_header";
        if self.format == Format::Apache {
            let Some((before, after)) = name.split_once("{n}") else {
                return Err(PolicyError::invalid(
                    field,
                    "Apache's chain headers are numbered: include `{n}` (e.g. \
                     \"x-ssl-client-cert-chain-{n}\")",
                ));
            };
            let check =
                |s: &str| s.is_empty() || header_name(field, s).is_ok() || s.bytes().all(is_tchar);
            if before.is_empty() || !check(before) || !check(after) {
                return Err(PolicyError::invalid(
                    field,
                    format!("`{name}` is not a header name"),
                ));
            }
            Ok(ChainHeader::Numbered(
                before.to_ascii_lowercase(),
                after.to_ascii_lowercase(),
            ))
        } else {
            Ok(ChainHeader::One(header_name(field, name)?))
        }
    }

    /// The header that carries the certificate (lower case).
    pub fn header(&self) -> &str {
        &self.compiled.header
    }

    /// Whether `peer` is one of the trusted proxies. An IPv4-mapped IPv6 address
    /// (`::ffff:10.0.0.5`) is compared as the IPv4 address it maps.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = normalize_ip(peer);
        self.compiled.proxies.iter().any(|n| n.contains(&peer))
    }

    /// Whether the request carries any header this forwarder reads (certificate, chain,
    /// companion or secret). A host removes these from requests of untrusted peers.
    pub fn carries_forwarded_headers(&self, headers: &(impl Headers + ?Sized)) -> bool {
        self.fixed_header_names()
            .any(|n| !headers.get_all(n).is_empty())
            || self.numbered_chain_present(headers)
    }

    /// Whether `name` (any case) is a header this forwarder reads, for hosts that strip them.
    pub fn reads_header(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        if self.fixed_header_names().any(|n| n == lower) {
            return true;
        }
        match &self.compiled.chain {
            ChainHeader::Numbered(before, after) => lower
                .strip_prefix(before.as_str())
                .and_then(|rest| rest.strip_suffix(after.as_str()))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
            _ => false,
        }
    }

    fn fixed_header_names(&self) -> impl Iterator<Item = &str> {
        let c = &self.compiled;
        core::iter::once(c.header.as_str())
            .chain(match &c.chain {
                ChainHeader::One(h) => Some(h.as_str()),
                _ => None,
            })
            .chain(c.required.iter().map(|(n, _)| n.as_str()))
            .chain(c.secret.iter().map(|(n, _)| n.as_str()))
    }

    fn numbered_chain_present(&self, headers: &(impl Headers + ?Sized)) -> bool {
        match &self.compiled.chain {
            ChainHeader::Numbered(before, after) => (0..self.max_certificates)
                .any(|n| !headers.get_all(&format!("{before}{n}{after}")).is_empty()),
            _ => false,
        }
    }

    /// The whole forwarded-certificate decision for one request from `peer`: trust, companion
    /// checks, decoding, validation with `validator` at `now`, and the policy.
    ///
    /// A request without the header is `no_certificate` (401), so a host's allow mode can let
    /// it through anonymously. A request from an untrusted peer that carries any of the
    /// forwarder's headers is `untrusted_forwarder`, or `no_certificate` with
    /// [`Untrusted::Strip`]; the header is never decoded.
    pub fn authenticate(
        &self,
        validator: &Validator,
        peer: IpAddr,
        headers: &(impl Headers + ?Sized),
        now: UnixTime,
    ) -> Result<Principal, Rejection> {
        let chain = self.chain_from(peer, headers)?;
        match self.verification {
            Verification::Revalidate => {
                validator.verify_from(chain.leaf(), chain.intermediates(), now, Source::Forwarded)
            }
            Verification::DangerTrustProxyVerdict => {
                validator.admit_forwarded_unverified(chain.leaf(), chain.intermediates(), now)
            }
        }
    }

    /// [`Forwarder::authenticate`] for a host that verifies signatures itself (WebCrypto):
    /// the same decisions, with the validation run as a [`crate::host::DeferredVerification`]
    /// whose signatures of the `host` algorithms the caller answers.
    pub fn authenticate_deferred(
        &self,
        validator: &Validator,
        peer: IpAddr,
        headers: &(impl Headers + ?Sized),
        now: UnixTime,
        host: &[crate::host::HostAlgorithm],
        sha256: crate::host::HostSha256<'_>,
    ) -> crate::host::DeferredVerification {
        use crate::host::DeferredVerification;
        match self.chain_from(peer, headers) {
            Err(r) => DeferredVerification::decided(Err(r)),
            Ok(chain) => match self.verification {
                Verification::Revalidate => validator.verify_deferred(
                    chain.leaf(),
                    chain.intermediates(),
                    now,
                    Source::Forwarded,
                    host,
                    sha256,
                ),
                Verification::DangerTrustProxyVerdict => DeferredVerification::decided(
                    validator.admit_forwarded_unverified(chain.leaf(), chain.intermediates(), now),
                ),
            },
        }
    }

    /// The chain a request from `peer` forwards: refused from an untrusted peer, decoded from
    /// a trusted one.
    fn chain_from(
        &self,
        peer: IpAddr,
        headers: &(impl Headers + ?Sized),
    ) -> Result<Chain<'static>, Rejection> {
        if !self.trusts(peer) {
            if !self.carries_forwarded_headers(headers) {
                return Err(Rejection::no_certificate());
            }
            return Err(match self.untrusted {
                Untrusted::Reject => self.untrusted_rejection(),
                Untrusted::Strip => Rejection::no_certificate(),
            });
        }
        self.extract(headers)
    }

    /// The rejection for a forwarded header from a peer outside `trusted_proxies`. It names
    /// the header, never the configured addresses.
    pub fn untrusted_rejection(&self) -> Rejection {
        Rejection::new(
            Code::UntrustedForwarder,
            Step::Input,
            format!(
                "the request carries the forwarded-certificate header `{}` but does not come \
                 from a trusted proxy; send the request through the proxy, or add the proxy's \
                 address to the forwarder's trusted_proxies",
                self.compiled.header
            ),
        )
    }

    /// Decodes the forwarded chain of a request that came from a trusted peer: companion
    /// checks, then the headers, each bounded. No header is `no_certificate`.
    pub fn extract(&self, headers: &(impl Headers + ?Sized)) -> Result<Chain<'static>, Rejection> {
        let c = &self.compiled;
        for (name, want) in &c.required {
            match single(headers, name)? {
                Some(v) if v == want.as_bytes() => {}
                Some(v) => {
                    return Err(check_failed(format!(
                        "the forwarder's header `{name}` is `{}`, not `{want}`: the proxy did not \
                         accept the client's certificate",
                        printable(v, 40)
                    )))
                }
                None => {
                    return Err(check_failed(format!(
                        "the forwarder's header `{name}` is missing; configure the proxy to send it"
                    )))
                }
            }
        }
        if let Some((name, secret)) = &c.secret {
            let ok = match single(headers, name)? {
                Some(v) => bool::from(v.ct_eq(secret.as_slice())),
                None => false,
            };
            if !ok {
                return Err(check_failed(format!(
                    "the forwarder's shared secret (header `{name}`) is missing or wrong"
                )));
            }
        }
        self.reject_other_formats(headers)?;

        let bounds = Bounds {
            max_certificates: self.max_certificates,
        };
        let leaf_value = single(headers, &c.header)?;
        let mut certs = match leaf_value {
            None => Vec::new(),
            Some(v) => self.decode_leaf_header(v, bounds)?,
        };
        match &c.chain {
            ChainHeader::None => {}
            ChainHeader::One(name) => {
                // RFC 9440 2.3: the chain "MAY have a list of values or occur multiple times";
                // its lines form one list.
                let lines = headers.get_all(name);
                let joined;
                let value = match lines.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    more => {
                        let total: usize = more.iter().map(|l| l.len() + 1).sum();
                        if total > self.max_header_bytes {
                            return Err(Rejection::malformed_header(format!(
                                "the `{name}` header lines add up to {total} bytes; the limit is \
                                 {} bytes (max_header_bytes)",
                                self.max_header_bytes
                            )));
                        }
                        joined = more.join(&b","[..]);
                        Some(joined.as_slice())
                    }
                };
                if let Some(v) = value {
                    if certs.is_empty() {
                        return Err(self.fault(
                            name,
                            Fault::at(0, "a chain header without the certificate header"),
                        ));
                    }
                    self.check_size(name, v)?;
                    let rest = Bounds {
                        max_certificates: self.max_certificates - certs.len(),
                    };
                    let chain = decode::sf_list(v, rest).map_err(|f| self.fault(name, f))?;
                    certs.extend(chain);
                }
            }
            ChainHeader::Numbered(before, after) => {
                for n in 0..=self.max_certificates {
                    let name = format!("{before}{n}{after}");
                    let Some(v) = single(headers, &name)? else {
                        break;
                    };
                    if apache_null(v) {
                        break;
                    }
                    if certs.is_empty() {
                        return Err(self.fault(
                            &name,
                            Fault::at(0, "a chain header without the certificate header"),
                        ));
                    }
                    if certs.len() == self.max_certificates {
                        return Err(self.too_many(&name));
                    }
                    self.check_size(&name, v)?;
                    let mut one = decode::header_pem(
                        v,
                        Bounds {
                            max_certificates: 1,
                        },
                    )
                    .map_err(|f| self.fault(&name, f))?;
                    certs.append(&mut one);
                }
            }
        }
        if certs.is_empty() {
            return Err(Rejection::no_certificate());
        }
        Chain::from_der(certs)
    }

    fn decode_leaf_header(
        &self,
        v: &[u8],
        bounds: Bounds,
    ) -> Result<Vec<CertificateDer<'static>>, Rejection> {
        let name = &self.compiled.header;
        self.check_size(name, v)?;
        let (_, trimmed) = decode::trim(v, 0);
        // A proxy with no client certificate to forward sends an empty value (HAProxy, Caddy,
        // nginx) or Apache's `(null)`.
        // A hand-built RFC 9440 header (HAProxy `:%[ssl_c_der,base64]:`) without a
        // certificate is `::`.
        let rfc9440_empty =
            matches!(self.format, Format::Rfc9440 | Format::Gcp) && trimmed == b"::";
        // Caddy 2.6 leaves an unknown placeholder as its own text when there is no client
        // certificate (`verify_if_given`); the client cannot set it (`header_up` replaces).
        let caddy_empty =
            self.format == Format::Caddy && trimmed.starts_with(b"{http.request.tls.");
        if trimmed.is_empty()
            || rfc9440_empty
            || caddy_empty
            || (self.format == Format::Apache && apache_null(trimmed))
        {
            return Ok(Vec::new());
        }
        let fault = |f| self.fault(name, f);
        match self.format {
            Format::Rfc9440 | Format::Gcp => Ok(alloc::vec![decode::sf_item(v).map_err(fault)?]),
            Format::Xfcc => self.decode_xfcc(v, bounds),
            Format::Nginx | Format::AwsAlb => decode::url_pem(v, bounds).map_err(fault),
            Format::Apache => decode::header_pem(
                v,
                Bounds {
                    max_certificates: 1,
                },
            )
            .map_err(fault),
            Format::Pem => decode::header_pem(v, bounds).map_err(fault),
            Format::Haproxy
            | Format::Caddy
            | Format::Azure
            | Format::Cloudflare
            | Format::Base64Der => decode::plain_base64(v).map_err(fault),
            Format::Traefik => decode::traefik(v, bounds).map_err(fault),
        }
    }

    fn decode_xfcc(
        &self,
        v: &[u8],
        bounds: Bounds,
    ) -> Result<Vec<CertificateDer<'static>>, Rejection> {
        let name = &self.compiled.header;
        let elements = xfcc::parse(v, MAX_XFCC_ELEMENTS).map_err(|f| self.fault(name, f))?;
        let n = elements.len();
        if self.xfcc_element == XfccElement::Only && n != 1 {
            return Err(self.fault(
                name,
                Fault::at(
                    elements.get(1).map_or(0, |e| e.offset),
                    format!(
                        "{n} XFCC elements where the forwarder sends exactly one \
                         (xfcc_element \"only\"): a client may have added its own"
                    ),
                ),
            ));
        }
        let Some(el) = elements.last() else {
            return Ok(Vec::new());
        };
        let wrap = |f: Fault, at: usize| {
            self.fault(
                name,
                Fault {
                    offset: if f.decoded { at } else { at + f.offset },
                    what: format!("XFCC element {n} of {n}: {}", f.what),
                    decoded: false,
                    too_many: f.too_many,
                },
            )
        };
        let cert = match el.get("cert") {
            Some((c, at)) => Some((
                decode::url_pem(
                    c,
                    Bounds {
                        max_certificates: 1,
                    },
                )
                .map_err(|f| wrap(f, at))?,
                at,
            )),
            None => None,
        };
        let chain = match el.get("chain") {
            Some((c, at)) => Some((decode::url_pem(c, bounds).map_err(|f| wrap(f, at))?, at)),
            None => None,
        };
        let certs = match (cert, chain) {
            (None, None) => return Ok(Vec::new()),
            (Some((c, _)), None) => c,
            (None, Some((ch, _))) => ch,
            (Some((c, _)), Some((ch, at))) => {
                if ch.first() != c.first() {
                    return Err(wrap(
                        Fault::at(0, "`Chain` does not begin with the certificate in `Cert`"),
                        at,
                    ));
                }
                ch
            }
        };
        if let (Some((hash, at)), Some(leaf)) = (el.get("hash"), certs.first()) {
            let want: [u8; 32] = Sha256::digest(leaf.as_ref()).into();
            let ok = hash.len() == 64
                && hex::decode(hash).is_ok_and(|h| h.as_slice() == want.as_slice());
            if !ok {
                return Err(wrap(
                    Fault::at(
                        0,
                        "`Hash` is not the SHA-256 of the certificate in `Cert`/`Chain`",
                    ),
                    at,
                ));
            }
        }
        Ok(certs)
    }

    /// A request carrying certificate headers of another format as well is ambiguous (two
    /// proxies, or a client's own header passed along): refused.
    fn reject_other_formats(&self, headers: &(impl Headers + ?Sized)) -> Result<(), Rejection> {
        for f in Format::ALL {
            for other in [Some(f.default_header()), f.default_chain_header()]
                .into_iter()
                .flatten()
            {
                if other.contains("{n}") || self.reads_header(other) {
                    continue;
                }
                if !headers.get_all(other).is_empty() {
                    return Err(Rejection::malformed_header(format!(
                        "the request carries the `{other}` header ({} format) besides `{}` \
                         ({}): two forwarded-certificate formats at once; configure the proxy \
                         to remove the headers it does not set",
                        f.as_str(),
                        self.compiled.header,
                        self.format
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_size(&self, name: &str, v: &[u8]) -> Result<(), Rejection> {
        if v.len() > self.max_header_bytes {
            return Err(Rejection::malformed_header(format!(
                "the `{name}` header is {} bytes; the limit is {} bytes (max_header_bytes)",
                v.len(),
                self.max_header_bytes
            )));
        }
        Ok(())
    }

    fn too_many(&self, name: &str) -> Rejection {
        Rejection::new(
            Code::ChainTooDeep,
            Step::Input,
            format!(
                "the `{name}` header brings the forwarded chain past {} certificates \
                 (max_certificates)",
                self.max_certificates
            ),
        )
    }

    fn fault(&self, name: &str, f: Fault) -> Rejection {
        if f.too_many {
            return self.too_many(name);
        }
        let decoded = if f.decoded {
            " of the URL-decoded value"
        } else {
            ""
        };
        Rejection::malformed_header(format!(
            "the `{name}` header ({} format), byte {}{decoded}: {}; check that the proxy \
             forwards the certificate in this format",
            self.format, f.offset, f.what
        ))
    }
}

/// Decodes RFC 9440 values that arrive as platform metadata rather than headers: Cloudflare
/// Workers' `request.cf.tlsClientAuth.certRFC9440` and `certChainRFC9440` (the platform, not a
/// header a client could send, is the trusted hop). `leaf_name` and `chain_name` name the
/// values in messages. Bounded like a header: [`DEFAULT_MAX_HEADER_BYTES`] per value,
/// [`DEFAULT_MAX_CERTIFICATES`] in all. An empty leaf is `no_certificate`.
pub fn decode_rfc9440(
    leaf: &[u8],
    chain: &[u8],
    leaf_name: &str,
    chain_name: &str,
) -> Result<Chain<'static>, Rejection> {
    let fault = |name: &str, f: Fault| {
        if f.too_many {
            return Rejection::new(
                Code::ChainTooDeep,
                Step::Input,
                format!("`{name}` brings the chain past {DEFAULT_MAX_CERTIFICATES} certificates"),
            );
        }
        Rejection::malformed_header(format!(
            "`{name}` (RFC 9440), byte {}: {}",
            f.offset, f.what
        ))
    };
    for (name, v) in [(leaf_name, leaf), (chain_name, chain)] {
        if v.len() > DEFAULT_MAX_HEADER_BYTES {
            return Err(Rejection::malformed_header(format!(
                "`{name}` is {} bytes; the limit is {DEFAULT_MAX_HEADER_BYTES} bytes",
                v.len()
            )));
        }
    }
    let (_, trimmed) = decode::trim(leaf, 0);
    if trimmed.is_empty() || trimmed == b"::" {
        if !decode::trim(chain, 0).1.is_empty() {
            return Err(fault(
                chain_name,
                Fault::at(0, "a chain without the certificate"),
            ));
        }
        return Err(Rejection::no_certificate());
    }
    let mut certs = alloc::vec![decode::sf_item(leaf).map_err(|f| fault(leaf_name, f))?];
    let rest = Bounds {
        max_certificates: DEFAULT_MAX_CERTIFICATES - 1,
    };
    certs.extend(decode::sf_list(chain, rest).map_err(|f| fault(chain_name, f))?);
    Chain::from_der(certs)
}

/// The only value of a header, or `None`; two lines of one header are refused, as a client
/// could have sent one of them.
fn single<'h>(
    headers: &'h (impl Headers + ?Sized),
    name: &str,
) -> Result<Option<&'h [u8]>, Rejection> {
    let values = headers.get_all(name);
    match values.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        more => Err(Rejection::malformed_header(format!(
            "the `{name}` header appears {} times; a forwarder sends it once",
            more.len()
        ))),
    }
}

fn apache_null(v: &[u8]) -> bool {
    v == b"(null)"
}

fn check_failed(detail: String) -> Rejection {
    Rejection::new(Code::ForwarderCheckFailed, Step::Input, detail)
}

fn printable(v: &[u8], max: usize) -> String {
    let s: String = v
        .iter()
        .take(max)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    if v.len() > max {
        s + "…"
    } else {
        s
    }
}

/// RFC 9110 5.1 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn header_name(field: &str, name: &str) -> Result<String, PolicyError> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(PolicyError::invalid(
            field,
            format!("`{name}` is not an HTTP header name"),
        ));
    }
    Ok(name.to_ascii_lowercase())
}

fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// An address (`10.0.0.5`, `::1`: a network of that one address) or a CIDR (`10.0.0.0/8`,
/// `2001:db8::/32`, a prefix of one to three digits). The address is read by `core::net`,
/// which the module has anyway; ipnet's own parser would be a second one in the npm
/// package's size-budgeted module.
fn ip_net(text: &str) -> Option<IpNet> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return IpAddr::from_str(text).ok().map(IpNet::from);
    };
    let digits = (1..=3).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        return None;
    }
    IpNet::new(IpAddr::from_str(addr).ok()?, prefix.parse().ok()?).ok()
}

fn normalize_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map_or(IpNet::V6(v6.trunc()), |n| IpNet::V4(n.trunc())),
            None => IpNet::V6(v6.trunc()),
        },
        other => other.trunc(),
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reject => "reject",
            Self::Strip => "strip",
        })
    }
}
