//! Name comparison (RFC 5280 7.1): names chain, match CRL issuers and satisfy directoryName
//! constraints when they are equal after the LDAP string preparation of RFC 4518 —
//! case-insensitive, insignificant whitespace ignored, and the string types of a
//! DirectoryString (PrintableString, UTF8String, TeletexString, BMPString) equivalent —
//! rather than byte for byte. (UniversalString never gets here: the DER reader refuses its
//! tag, as der did.)

use alloc::vec::Vec;

use super::der::{self, Name};
use super::sort;

/// A distinguished name in comparable form, flattened into one buffer: each RDN is its
/// number of attributes and then its attributes in a canonical order, each attribute its
/// type and its prepared value. The encoding is self-delimiting, so two names are equal
/// exactly when their buffers are, and an RDN prefix of a name is a byte prefix of its
/// buffer. (One allocation per name: the leaf's subject and issuer are prepared on every
/// verification.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DistinguishedName(Vec<u8>);

/// The kinds of prepared value.
const TEXT: u8 = 0;
const RAW: u8 = 1;

impl DistinguishedName {
    pub(crate) fn of(name: &Name<'_>) -> Self {
        let size: usize = name
            .attributes()
            .map(|a| a.oid.as_bytes().len() + a.value.len() + 10)
            .sum::<usize>()
            + 4 * name.rdns.len();
        let mut out = Vec::with_capacity(size);
        for rdn in &name.rdns {
            push_len(&mut out, rdn.len());
            if let [atv] = rdn.as_slice() {
                attribute(&mut out, atv.oid.as_bytes(), atv.tag, atv.value);
            } else {
                // A multi-valued RDN is a set: its attributes in the order of their prepared
                // encodings, whatever order the certificate has them in.
                let mut atvs: Vec<Vec<u8>> = rdn
                    .iter()
                    .map(|atv| {
                        let mut one = Vec::new();
                        attribute(&mut one, atv.oid.as_bytes(), atv.tag, atv.value);
                        one
                    })
                    .collect();
                sort::unstable_by(&mut atvs, |a, b| a < b);
                atvs.iter().for_each(|a| out.extend_from_slice(a));
            }
        }
        Self(out)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` is `other` or an RDN prefix of it (a directoryName subtree contains
    /// every name it prefixes, RFC 5280 4.2.1.10). The encoding delimits itself, so a byte
    /// prefix that is a whole name ends on an RDN boundary of `other`.
    pub(crate) fn is_prefix_of(&self, other: &Self) -> bool {
        other.0.starts_with(&self.0)
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    // Lengths come from a DER input already bounded in size; saturate rather than wrap.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

/// One attribute: its type, then its value prepared (RFC 4518): a character string case
/// folded with insignificant whitespace removed, anything else its tag and bytes, compared
/// exactly.
fn attribute(out: &mut Vec<u8>, oid: &[u8], tag: u8, bytes: &[u8]) {
    push_len(out, oid.len());
    out.extend_from_slice(oid);
    let mark = out.len();
    out.push(TEXT);
    out.extend_from_slice(&[0; 4]);
    let text_start = out.len();
    let prepared = match tag {
        der::UTF8_STRING | der::PRINTABLE_STRING | der::IA5_STRING | der::VISIBLE_STRING => {
            match core::str::from_utf8(bytes) {
                Ok(s) if s.is_ascii() => {
                    fold_ascii(out, bytes);
                    true
                }
                Ok(s) => fold(out, s.chars().map(Ok)),
                Err(_) => false,
            }
        }
        // T.61 read as Latin-1, as most implementations do.
        der::TELETEX_STRING => fold(out, bytes.iter().map(|b| Ok(char::from(*b)))),
        der::BMP_STRING if bytes.len() % 2 == 0 => {
            let units = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            fold(
                out,
                &mut char::decode_utf16(units).map(|c| c.map_err(|_| ())),
            )
        }
        _ => false,
    };
    if prepared {
        let len = u32::try_from(out.len() - text_start).unwrap_or(u32::MAX);
        out[text_start - 4..text_start].copy_from_slice(&len.to_be_bytes());
    } else {
        out.truncate(mark);
        out.push(RAW);
        out.push(tag);
        push_len(out, bytes.len());
        out.extend_from_slice(bytes);
    }
}

/// Case folding and insignificant-space handling (RFC 4518 2.3, 2.6.1): lowercase, leading
/// and trailing spaces dropped, inner runs of whitespace one space. False (and `out` holds
/// part of the text) when `chars` is not text after all (a BMPString of lone surrogates).
fn fold(out: &mut Vec<u8>, chars: impl Iterator<Item = Result<char, ()>>) -> bool {
    let start = out.len();
    let mut space = false;
    let mut buf = [0; 4];
    for c in chars {
        let Ok(c) = c else { return false };
        if c.is_whitespace() {
            space = out.len() > start;
            continue;
        }
        if space {
            out.push(b' ');
            space = false;
        }
        for l in c.to_lowercase() {
            out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
        }
    }
    true
}

/// [`fold`] for ASCII text (almost every name), byte by byte.
fn fold_ascii(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    let mut space = false;
    for &b in bytes {
        // `char::is_whitespace` on ASCII: space, \t, \n, \x0b, \x0c, \r.
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            space = out.len() > start;
            continue;
        }
        if space {
            out.push(b' ');
            space = false;
        }
        out.push(b.to_ascii_lowercase());
    }
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
        // A multi-valued RDN is a set; a prefix ends on an RDN boundary.
        assert_eq!(dn("CN=a+O=b,C=US"), dn("O=B+CN=A,C=us"));
        assert!(dn("C=US").is_prefix_of(&dn("CN=a+O=b,C=US")));
        assert!(!dn("CN=a,C=US").is_prefix_of(&dn("CN=a+O=b,C=US")));
        assert!(!dn("CN=al,O=Example").is_prefix_of(&dn("CN=alice,O=Example")));
        assert!(DistinguishedName::default().is_prefix_of(&dn("CN=a")));
        // Whitespace: tabs and runs are one space, none at the ends; non-ASCII folds too.
        assert_eq!(dn("CN=  Ex   ample "), dn("CN=ex ample"));
        let folded = |s: &str| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fold_ascii(&mut a, s.as_bytes());
            assert!(fold(&mut b, s.chars().map(Ok)));
            assert_eq!(a, b);
            a
        };
        assert_eq!(folded("\tEx \r\n\x0b\x0cAMPLE\t"), b"ex ample");
        assert_eq!(folded("   "), b"");
        // The string types are equivalent; a BMPString that is not text is compared raw.
        let prepared = |tag, bytes: &[u8]| {
            let mut out = Vec::new();
            attribute(&mut out, &[85, 4, 3], tag, bytes);
            out
        };
        let utf8 = prepared(der::UTF8_STRING, b" A  b");
        assert_eq!(
            prepared(der::BMP_STRING, &[0, 0x41, 0, 0x20, 0, 0x62]),
            utf8
        );
        assert_eq!(prepared(der::TELETEX_STRING, b"a b "), utf8);
        assert_eq!(prepared(der::PRINTABLE_STRING, b"a B"), utf8);
        let surrogate = prepared(der::BMP_STRING, &[0xd8, 0x00, 0, 0x41]);
        assert_eq!(surrogate[7], RAW);
        assert_ne!(surrogate, prepared(der::BMP_STRING, &[0xd8, 0x01, 0, 0x41]));
        assert_eq!(prepared(der::BMP_STRING, &[0, 0x41, 0])[7], RAW);
        assert_eq!(dn("CN=ÉCOLE Été"), dn("CN=école été"));
        assert_ne!(dn("CN=ÉCOLE"), dn("CN=ECOLE"));
    }
}
