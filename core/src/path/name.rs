//! Name comparison (RFC 5280 7.1): names chain, match CRL issuers and satisfy directoryName
//! constraints when they are equal after the LDAP string preparation of RFC 4518 —
//! case-insensitive, insignificant whitespace ignored, and the string types of a
//! DirectoryString (PrintableString, UTF8String, TeletexString, BMPString) equivalent —
//! rather than byte for byte. (UniversalString never gets here: the DER reader refuses its
//! tag, as der did.)

use alloc::string::String;
use alloc::vec::Vec;

use super::der::{self, Name};

/// A distinguished name in comparable form: its RDNs in order, each a sorted set of
/// attribute type and prepared value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DistinguishedName(Vec<Vec<(Vec<u8>, Value)>>);

/// An attribute value as compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Value {
    /// A character string, prepared (case folded, whitespace collapsed).
    Text(String),
    /// Any other value: its tag and bytes, compared exactly.
    Raw(u8, Vec<u8>),
}

impl DistinguishedName {
    pub(crate) fn of(name: &Name<'_>) -> Self {
        let rdns = name
            .rdns
            .iter()
            .map(|rdn| {
                let mut atvs: Vec<(Vec<u8>, Value)> = rdn
                    .iter()
                    .map(|atv| (atv.oid.as_bytes().to_vec(), prepare(atv.tag, atv.value)))
                    .collect();
                atvs.sort();
                atvs
            })
            .collect();
        Self(rdns)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` is `other` or an RDN prefix of it (a directoryName subtree contains
    /// every name it prefixes, RFC 5280 4.2.1.10).
    pub(crate) fn is_prefix_of(&self, other: &Self) -> bool {
        self.0.len() <= other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a == b)
    }
}

/// The prepared form of an attribute value (its tag and contents).
fn prepare(tag: u8, bytes: &[u8]) -> Value {
    let text: Option<String> = match tag {
        der::UTF8_STRING | der::PRINTABLE_STRING | der::IA5_STRING | der::VISIBLE_STRING => {
            core::str::from_utf8(bytes).ok().map(String::from)
        }
        // T.61 read as Latin-1, as most implementations do.
        der::TELETEX_STRING => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        der::BMP_STRING if bytes.len() % 2 == 0 => {
            char::decode_utf16(bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])))
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    };
    match text {
        Some(t) => Value::Text(fold(&t)),
        None => Value::Raw(tag, bytes.to_vec()),
    }
}

/// Case folding and insignificant-space handling (RFC 4518 2.3, 2.6.1): lowercase, leading
/// and trailing spaces dropped, inner runs of whitespace one space.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ::der::Encode;
    use core::str::FromStr;

    /// Through x509-cert's RFC 4514 parser and encoder, then certclaims' reader.
    fn dn(s: &str) -> DistinguishedName {
        let encoded = x509_cert::name::Name::from_str(s)
            .unwrap()
            .to_der()
            .unwrap();
        let tlv = der::Reader::new(&encoded).any().unwrap();
        DistinguishedName::of(&der::name(&encoded, &tlv).unwrap())
    }

    #[test]
    fn names_compare_as_rfc_5280_says() {
        assert_eq!(
            dn("CN=Example CA,O=Example"),
            dn("cn=EXAMPLE   ca,o=example")
        );
        assert_eq!(dn("CN= Example CA "), dn("CN=Example CA"));
        assert_ne!(dn("CN=Example CA"), dn("CN=Example CA2"));
        assert_ne!(dn("CN=A,O=B"), dn("O=B,CN=A"));
        // RFC 4514 strings list the most specific RDN first; DER order is the reverse.
        assert!(dn("O=Example").is_prefix_of(&dn("CN=alice,O=Example")));
        assert!(dn("o=EXAMPLE").is_prefix_of(&dn("CN=alice,O=Example")));
        assert!(!dn("CN=alice").is_prefix_of(&dn("CN=alice,O=Example")));
        assert!(!dn("CN=alice,O=Example").is_prefix_of(&dn("O=Example")));
    }
}
