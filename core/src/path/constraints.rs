//! Name constraints (RFC 5280 4.2.1.10, 6.1.3 (b)-(c), 6.1.4 (g)): every form a client
//! certificate PKI uses — dNSName, iPAddress, uniformResourceIdentifier (host-based),
//! rfc822Name (mailbox, host and `.domain` forms; the legacy emailAddress attribute of the
//! subject too) and directoryName (RDN prefix of the subject and of directoryName SANs).
//!
//! Constraints are not merged symbolically: each CA's subtrees are kept and a name must
//! satisfy every CA above it — which is exactly the intersection of permitted subtrees and the
//! union of excluded ones that 6.1.4 (g) describes. A constraint on a form certclaims cannot
//! evaluate (otherName, x400Address, ediPartyName, registeredID) rejects any certificate that
//! carries a name of that form, as RFC 5280 requires of a critical extension; a URI without
//! a host name (`urn:…`, `spiffe:relative`, an IP-literal host) fails closed.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::der::{GeneralName, NameConstraints, Subtree};

use super::name::DistinguishedName;

/// A general name as the engine compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gn {
    Dns(String),
    Email(String),
    Uri(String),
    /// 4 or 16 bytes in a certificate; address and mask (8 or 32 bytes) in a constraint.
    Ip(Vec<u8>),
    Dir(DistinguishedName, String),
    /// A form certclaims does not evaluate, by its GeneralName tag number.
    Other(u8),
}

impl Gn {
    pub(crate) fn of(name: &GeneralName<'_>) -> Self {
        match name {
            GeneralName::Dns(s) => Self::Dns(s.to_string()),
            GeneralName::Email(s) => Self::Email(s.to_string()),
            GeneralName::Uri(s) => Self::Uri(s.to_string()),
            GeneralName::Ip(o) => Self::Ip(o.to_vec()),
            GeneralName::Directory(n) => Self::Dir(DistinguishedName::of(n), n.to_rfc4514()),
            GeneralName::Other(..) => Self::Other(0),
            GeneralName::EdiParty => Self::Other(5),
            GeneralName::RegisteredId => Self::Other(8),
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Self::Other(k) => *k,
            Self::Email(_) => 1,
            Self::Dns(_) => 2,
            Self::Dir(..) => 4,
            Self::Uri(_) => 6,
            Self::Ip(_) => 7,
        }
    }

    fn kind_name(&self) -> &'static str {
        match self.kind() {
            0 => "otherName",
            1 => "rfc822Name",
            2 => "dNSName",
            3 => "x400Address",
            4 => "directoryName",
            5 => "ediPartyName",
            6 => "URI",
            7 => "iPAddress",
            _ => "registeredID",
        }
    }

    /// The name as a person reads it.
    pub(crate) fn display(&self) -> String {
        match self {
            Self::Dns(s) | Self::Email(s) | Self::Uri(s) => s.clone(),
            Self::Dir(_, s) => s.clone(),
            Self::Ip(b) => ip_text(b),
            Self::Other(_) => self.kind_name().to_string(),
        }
    }
}

fn ip_text(b: &[u8]) -> String {
    let addr = |a: &[u8]| -> String {
        match a.len() {
            4 => <[u8; 4]>::try_from(a).map(|x| Ipv4Addr::from(x).to_string()),
            16 => <[u8; 16]>::try_from(a).map(|x| Ipv6Addr::from(x).to_string()),
            _ => return hex::encode(a),
        }
        .unwrap_or_default()
    };
    match b.len() {
        8 | 32 => {
            let (a, m) = b.split_at(b.len() / 2);
            let prefix: u32 = m.iter().map(|x| x.count_ones()).sum();
            format!("{}/{prefix}", addr(a))
        }
        _ => addr(b),
    }
}

/// One CA's name constraints, checked for well-formedness.
#[derive(Debug, Clone)]
pub(crate) struct Constraints {
    permitted: Vec<Gn>,
    excluded: Vec<Gn>,
}

impl Constraints {
    /// Reads a nameConstraints extension; `Err` says why it cannot be applied.
    pub(crate) fn parse(nc: &NameConstraints<'_>) -> Result<Self, String> {
        let read = |subtrees: &Option<Vec<Subtree<'_>>>| {
            let mut out = Vec::new();
            for s in subtrees.iter().flatten() {
                if s.minimum != 0 || s.maximum.is_some() {
                    return Err(
                        "a subtree with a minimum or maximum (RFC 5280 4.2.1.10: minimum 0, no maximum)"
                            .to_string(),
                    );
                }
                let base = Gn::of(&s.base);
                if let Gn::Ip(b) = &base {
                    check_ip_constraint(b)?;
                }
                out.push(base);
            }
            Ok(out)
        };
        Ok(Self {
            permitted: read(&nc.permitted)?,
            excluded: read(&nc.excluded)?,
        })
    }

    /// Checks `names` (of the certificate called `whom`) against these constraints of the
    /// CA called `ca`; counts each comparison into `comparisons` and stops (with an `Err`)
    /// once it passes `limit`.
    pub(crate) fn check(
        &self,
        names: &[Gn],
        whom: &str,
        ca: &str,
        comparisons: &mut usize,
        limit: usize,
    ) -> Result<(), String> {
        for name in names {
            let kind = name.kind();
            let constrained = self
                .permitted
                .iter()
                .chain(&self.excluded)
                .any(|b| b.kind() == kind);
            if constrained && !well_formed(name) {
                return Err(format!(
                    "`{}` of `{whom}` is not a well-formed {}, so it cannot be placed inside the \
                     name constraints of `{ca}` (RFC 5280 4.2.1.10)",
                    name.display(),
                    name.kind_name()
                ));
            }
            for base in self.excluded.iter().filter(|b| b.kind() == kind) {
                *comparisons += 1;
                if *comparisons > limit {
                    return Err("too many name constraint comparisons".to_string());
                }
                if let Gn::Other(_) = name {
                    return Err(unevaluable(name, whom, ca));
                }
                if matches(name, base, true) {
                    return Err(format!(
                        "`{}` of `{whom}` is inside the excluded {} subtree `{}` of `{ca}` (RFC 5280 4.2.1.10)",
                        name.display(),
                        name.kind_name(),
                        base.display()
                    ));
                }
            }
            let mut permitted = self
                .permitted
                .iter()
                .filter(|b| b.kind() == kind)
                .peekable();
            if permitted.peek().is_none() {
                continue;
            }
            if let Gn::Other(_) = name {
                return Err(unevaluable(name, whom, ca));
            }
            let mut bases = Vec::new();
            let mut ok = false;
            for base in permitted {
                *comparisons += 1;
                if *comparisons > limit {
                    return Err("too many name constraint comparisons".to_string());
                }
                if matches(name, base, false) {
                    ok = true;
                    break;
                }
                bases.push(format!("`{}`", base.display()));
            }
            if !ok {
                let what = if bases.len() == 1 {
                    format!("the {} constraint {}", name.kind_name(), bases[0])
                } else {
                    format!("the {} constraints {}", name.kind_name(), bases.join(", "))
                };
                return Err(format!(
                    "`{}` of `{whom}` is outside {what} of `{ca}` (RFC 5280 4.2.1.10)",
                    name.display()
                ));
            }
        }
        Ok(())
    }
}

fn unevaluable(name: &Gn, whom: &str, ca: &str) -> String {
    format!(
        "`{whom}` carries a {} name and `{ca}` constrains that form, which certclaims cannot \
         evaluate (RFC 5280 4.2.1.10: such a certificate must be rejected)",
        name.kind_name()
    )
}

/// Whether a name of a constrained form can be compared at all: a dNSName must be a host
/// name (a leading `*.` label allowed), an rfc822Name a mailbox `local@host` (an `@` in the
/// local part only when quoted), an iPAddress 4 or 16 bytes.
fn well_formed(name: &Gn) -> bool {
    match name {
        Gn::Dns(d) => host_name(d.strip_prefix("*.").unwrap_or(d)),
        Gn::Email(e) => e.rsplit_once('@').is_some_and(|(local, host)| {
            let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
            !local.is_empty() && (quoted || !local.contains('@')) && host_name(host)
        }),
        Gn::Ip(b) => b.len() == 4 || b.len() == 16,
        _ => true,
    }
}

/// A host name: dot-separated labels of letters, digits, `-` and `_`, 1 to 63 characters
/// each, 253 in all.
fn host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// An iPAddress constraint: address and mask of 8 or 32 bytes, the mask a run of ones.
fn check_ip_constraint(b: &[u8]) -> Result<(), String> {
    if b.len() != 8 && b.len() != 32 {
        return Err(format!(
            "an iPAddress subtree of {} bytes (RFC 5280 4.2.1.10: 8 for IPv4, 32 for IPv6)",
            b.len()
        ));
    }
    let mask = &b[b.len() / 2..];
    let bits: u32 = mask.iter().map(|x| x.count_ones()).sum();
    let contiguous = mask.iter().enumerate().all(|(i, byte)| {
        let want_ones = bits.saturating_sub(8 * i as u32).min(8);
        *byte == (0xffu16 << (8 - want_ones)) as u8
    });
    if !contiguous {
        return Err("an iPAddress subtree whose mask is not a CIDR prefix".to_string());
    }
    Ok(())
}

/// Whether `name` is inside the subtree `base` (same form). `excluded` widens a wildcard
/// dNSName to every name it could stand for.
fn matches(name: &Gn, base: &Gn, excluded: bool) -> bool {
    match (name, base) {
        (Gn::Dns(n), Gn::Dns(b)) => {
            let (n, b) = (n.to_ascii_lowercase(), b.to_ascii_lowercase());
            dns_within(&n, &b)
                || (excluded
                    && n.strip_prefix("*.").is_some_and(|rest| {
                        let b = b.trim_start_matches('.');
                        dns_within(b, rest) && b != rest
                    }))
        }
        (Gn::Email(n), Gn::Email(b)) => email_within(n, b),
        (Gn::Uri(n), Gn::Uri(b)) => match uri_host(n) {
            Some(host) => host_within(&host, &b.to_ascii_lowercase()),
            // No host name to compare: inside every subtree for exclusion, outside for
            // permission (fail closed both ways).
            None => excluded,
        },
        (Gn::Ip(n), Gn::Ip(b)) => {
            b.len() == 2 * n.len()
                && n.iter()
                    .zip(&b[..n.len()])
                    .zip(&b[n.len()..])
                    .all(|((a, c), m)| a & m == c & m)
        }
        (Gn::Dir(n, _), Gn::Dir(b, _)) => b.is_prefix_of(n),
        _ => false,
    }
}

/// dNSName subtree semantics: `example.com` contains itself and every name with labels
/// prepended; `.example.com` only the latter; the empty name everything.
fn dns_within(name: &str, base: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let base = base.strip_suffix('.').unwrap_or(base);
    if base.is_empty() {
        return true;
    }
    if let Some(domain) = base.strip_prefix('.') {
        return name.len() > domain.len() + 1 && name.ends_with(base);
    }
    name == base
        || (name.len() > base.len()
            && name.ends_with(base)
            && name.as_bytes()[name.len() - base.len() - 1] == b'.')
}

/// URI host semantics: `host` is that host exactly, `.domain` any host inside the domain.
fn host_within(host: &str, base: &str) -> bool {
    match base.strip_prefix('.') {
        Some(domain) => host.len() > domain.len() + 1 && host.ends_with(base),
        None => host == base,
    }
}

/// rfc822Name semantics: `user@host` that mailbox (host case-insensitive), `host` every
/// mailbox at that host, `.domain` every mailbox at a host inside the domain.
fn email_within(name: &str, base: &str) -> bool {
    let Some((local, host)) = name.rsplit_once('@') else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    match base.rsplit_once('@') {
        Some((blocal, bhost)) => blocal == local && bhost.eq_ignore_ascii_case(&host),
        None => {
            let base = base.to_ascii_lowercase();
            match base.strip_prefix('.') {
                Some(domain) => host.len() > domain.len() + 1 && host.ends_with(&base),
                None => host == base,
            }
        }
    }
}

/// The host name of a URI with an authority (`scheme://[userinfo@]host[:port]…`), lowercase;
/// `None` without one, for an empty host, and for an IP-literal host.
fn uri_host(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    if scheme.is_empty() {
        return None;
    }
    let authority = rest.strip_prefix("//")?;
    let end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
    let authority = &authority[..end];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hostport.starts_with('[') {
        return None;
    }
    let host = match hostport.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        Some(_) => return None,
        None => hostport,
    };
    if host.is_empty() || host.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloc::vec;

    #[test]
    fn dns_subtrees() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("a.b.example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(!dns_within("example.com", ".example.com"));
        assert!(dns_within("a.example.com", ".example.com"));
        assert!(dns_within("anything", ""));
        let dns = |s: &str| Gn::Dns(s.into());
        assert!(matches(&dns("*.example.com"), &dns("example.com"), false));
        assert!(!matches(
            &dns("*.example.com"),
            &dns("foo.example.com"),
            false
        ));
        assert!(matches(
            &dns("*.example.com"),
            &dns("foo.example.com"),
            true
        ));
        assert!(!matches(&dns("*.example.com"), &dns("example.org"), true));
    }

    #[test]
    fn uri_email_and_ip_subtrees() {
        assert_eq!(
            uri_host("spiffe://Example.org/ns/a").as_deref(),
            Some("example.org")
        );
        assert_eq!(
            uri_host("https://u@h.example:8443/x").as_deref(),
            Some("h.example")
        );
        assert_eq!(uri_host("urn:uuid:1234"), None);
        assert_eq!(uri_host("https://[::1]/"), None);
        assert_eq!(uri_host("https://10.0.0.1/"), None);
        assert!(host_within("example.org", "example.org"));
        assert!(!host_within("a.example.org", "example.org"));
        assert!(host_within("a.example.org", ".example.org"));
        assert!(!host_within("example.org", ".example.org"));
        assert!(email_within("Alice@Example.com", "example.com"));
        assert!(email_within("alice@mail.example.com", ".example.com"));
        assert!(!email_within("alice@example.com", ".example.com"));
        assert!(email_within("alice@EXAMPLE.com", "alice@example.com"));
        assert!(!email_within("Alice@example.com", "alice@example.com"));
        let ip = |b: &[u8]| Gn::Ip(b.to_vec());
        assert!(matches(
            &ip(&[10, 1, 2, 3]),
            &ip(&[10, 0, 0, 0, 255, 0, 0, 0]),
            false
        ));
        assert!(!matches(
            &ip(&[11, 1, 2, 3]),
            &ip(&[10, 0, 0, 0, 255, 0, 0, 0]),
            false
        ));
        assert!(check_ip_constraint(&[10, 0, 0, 0, 255, 0, 255, 0]).is_err());
        assert!(check_ip_constraint(&[10, 0, 0, 0, 255, 255, 240, 0]).is_ok());
        assert!(check_ip_constraint(&[10, 0, 0, 0]).is_err());
        let c = Constraints {
            permitted: vec![Gn::Uri("example.org".into())],
            excluded: vec![],
        };
        let mut n = 0;
        let err = c
            .check(
                &[Gn::Uri("spiffe://evil.example/x".into())],
                "CN=w",
                "CN=SPIFFE CA",
                &mut n,
                usize::MAX,
            )
            .unwrap_err();
        assert_eq!(
            err,
            "`spiffe://evil.example/x` of `CN=w` is outside the URI constraint `example.org` of `CN=SPIFFE CA` (RFC 5280 4.2.1.10)"
        );
        assert!(c
            .check(
                &[Gn::Uri("spiffe://example.org/x".into())],
                "CN=w",
                "CN=SPIFFE CA",
                &mut n,
                usize::MAX,
            )
            .is_ok());
        // The limit stops the comparisons.
        let mut spent = 0;
        assert_eq!(
            c.check(
                &[Gn::Uri("spiffe://example.org/x".into())],
                "CN=w",
                "CN=SPIFFE CA",
                &mut spent,
                0,
            ),
            Err("too many name constraint comparisons".to_string())
        );
        assert_eq!(spent, 1);
    }
}
