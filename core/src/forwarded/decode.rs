//! The decoders: one header value in, DER certificates out, every failure with its position.
//! The PEM block reader here also decodes the PEM chains clients present
//! ([`pem_document`], behind [`Chain::from_pem`](crate::Chain::from_pem)) and the PEM text of a
//! policy's certificates and CRLs ([`pem_objects`]).
//!
//! Each function returns the certificates the value carries, in the order they appear, or a
//! [`Fault`] that says what is wrong and at which byte. [`super::Forwarder`] turns a fault into
//! a `malformed_header` rejection that also names the header and the format.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use crate::pki_types::CertificateDer;

/// What is wrong with a header value, and where (byte offset into the value the decoder saw).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) offset: usize,
    pub(crate) what: String,
    /// Whether `offset` counts bytes of the percent-decoded text rather than of the raw value.
    pub(crate) decoded: bool,
    /// The value carries more certificates than [`Bounds::max_certificates`].
    pub(crate) too_many: bool,
}

impl Fault {
    pub(crate) fn at(offset: usize, what: impl Into<String>) -> Self {
        Self {
            offset,
            what: what.into(),
            decoded: false,
            too_many: false,
        }
    }

    fn in_decoded(mut self) -> Self {
        self.decoded = true;
        self
    }
}

/// Bounds the decoders keep while they work.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Most certificates one header may carry.
    pub(crate) max_certificates: usize,
}

/// Standard base64 (RFC 4648 section 4) with or without `=` padding; canonical trailing bits.
/// RFC 8941 section 4.2.7 asks parsers of byte sequences not to fail on missing padding;
/// proxies that emit plain base64 (HAProxy's `base64` converter, Caddy, Azure) pad.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64 DER starting at `offset` of the header value (for error positions).
pub(crate) fn base64_der(text: &[u8], offset: usize) -> Result<CertificateDer<'static>, Fault> {
    if text.is_empty() {
        return Err(Fault::at(offset, "empty base64 certificate"));
    }
    if let Some(i) = text.iter().position(|&b| !is_base64(b)) {
        return Err(Fault::at(
            offset + i,
            format!(
                "{} is not a base64 character (standard alphabet, RFC 4648 section 4)",
                describe_byte(text[i])
            ),
        ));
    }
    decode_der(text, offset)
}

/// [`base64_der`] for text already known to hold only base64 characters (and at least one).
fn decode_der(text: &[u8], offset: usize) -> Result<CertificateDer<'static>, Fault> {
    decode_object(text, offset, CERTIFICATE, true).map(CertificateDer::from)
}

/// Decodes base64 text known to hold only base64 characters (at least one); with
/// `sequence`, what it decodes to must begin as the DER of a `label` object does (a SEQUENCE).
fn decode_object(
    text: &[u8],
    offset: usize,
    label: Label,
    sequence: bool,
) -> Result<Vec<u8>, Fault> {
    let der = BASE64
        .decode(text)
        .map_err(|e| Fault::at(offset, format!("invalid base64: {e}")))?;
    if sequence && der.first() != Some(&0x30) {
        return Err(Fault::at(
            offset,
            format!(
                "the base64 text does not decode to a DER {} (no SEQUENCE tag)",
                label.noun
            ),
        ));
    }
    Ok(der)
}

/// Plain base64 DER, the whole value (HAProxy `%[ssl_c_der,base64]`, Caddy
/// `{http.request.tls.client.certificate_der_base64}`, Cloudflare `Cf-Client-Cert-Der-Base64`,
/// Azure `X-ARR-ClientCert`).
pub(crate) fn plain_base64(value: &[u8]) -> Result<Vec<CertificateDer<'static>>, Fault> {
    let (start, text) = trim(value, 0);
    Ok(alloc::vec![base64_der(text, start)?])
}

/// PEM as it survives a trip through a header: `CERTIFICATE` blocks whose line breaks may have
/// become spaces (Apache `%{SSL_CLIENT_CERT}s`), tabs (nginx's deprecated `$ssl_client_cert`
/// folds each line with a tab) or nothing. Whitespace inside and between blocks is ignored;
/// anything else outside a block, and any block that is not a `CERTIFICATE`, is a fault.
///
/// A strict RFC 7468 parser (the `pem` crates) rejects exactly these foldings, which is why
/// this one is written here (the base64 is the `base64` crate's); it is the only PEM parsing
/// certclaims does by hand, and it also reads the PEM chains clients present
/// ([`pem_document`], for [`Chain::from_pem`](crate::Chain::from_pem)).
pub(crate) fn header_pem(
    text: &[u8],
    bounds: Bounds,
) -> Result<Vec<CertificateDer<'static>>, Fault> {
    certificates(pem_blocks(
        text,
        CERTIFICATE,
        bounds.max_certificates,
        Outside::Refused,
        true,
    ))
}

/// A PEM document (RFC 7468 section 5.2, lax): its `CERTIFICATE` blocks, in order; text
/// outside the blocks is explanatory and ignored, and blocks of other labels (a key, a CRL)
/// are skipped whole. The same block reader as [`header_pem`], so a chain decodes the same
/// way from a file, a `verifyChain` string or a header; about twice as fast in the npm
/// package's size-built module as rustls-pki-types' PEM iterator (BENCHMARKS.md, stop 22).
/// No block at all is an empty list, for the caller to reject.
pub(crate) fn pem_document(
    text: &[u8],
    bounds: Bounds,
) -> Result<Vec<CertificateDer<'static>>, Fault> {
    certificates(pem_blocks(
        text,
        CERTIFICATE,
        bounds.max_certificates,
        Outside::Ignored,
        true,
    ))
}

/// The decoded content of each `label` block of a PEM document, read as [`pem_document`]
/// reads a chain (other text and blocks skipped): a policy's certificates and CRLs, whose
/// DER the validator's builder then reads and judges (so a block whose content is not DER is
/// refused as a certificate or CRL that does not parse, as when the CLI hands over a DER
/// file's content). No block is an empty list. A policy's text is the operator's, bounded by
/// the policy document's own size.
pub(crate) fn pem_objects(text: &[u8], label: Label) -> Result<Vec<Vec<u8>>, Fault> {
    pem_blocks(text, label, usize::MAX, Outside::Ignored, false)
}

fn certificates(
    blocks: Result<Vec<Vec<u8>>, Fault>,
) -> Result<Vec<CertificateDer<'static>>, Fault> {
    Ok(blocks?.into_iter().map(CertificateDer::from).collect())
}

/// A kind of PEM block (RFC 7468): its label, and what the messages call one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label {
    pub(crate) name: &'static str,
    noun: &'static str,
    end_line: &'static str,
}

/// `CERTIFICATE` blocks (RFC 7468 section 5).
pub(crate) const CERTIFICATE: Label = Label {
    name: "CERTIFICATE",
    noun: "certificate",
    end_line: "-----END CERTIFICATE-----",
};

/// `X509 CRL` blocks (RFC 7468 section 6).
pub(crate) const X509_CRL: Label = Label {
    name: "X509 CRL",
    noun: "CRL",
    end_line: "-----END X509 CRL-----",
};

/// What a PEM reader makes of what is not a block of the label it reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outside {
    /// A header value: nothing but whitespace may come between the blocks.
    Refused,
    /// A document: other text is skipped a line at a time, other blocks whole.
    Ignored,
}

/// The reader behind [`header_pem`], [`pem_document`] and [`pem_objects`]: the decoded
/// content of each `label` block, at most `max` of them, each required to begin as DER does
/// with `sequence`.
fn pem_blocks(
    text: &[u8],
    label: Label,
    max: usize,
    outside: Outside,
    sequence: bool,
) -> Result<Vec<Vec<u8>>, Fault> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const DASHES: &[u8] = b"-----";
    let wanted = label.name.as_bytes();
    let end_line = label.end_line.as_bytes();
    let mut objects = Vec::new();
    // One block's base64 text without its whitespace, reused from block to block.
    let mut b64 = Vec::new();
    let mut i = 0;
    loop {
        while i < text.len() && is_ws(text[i]) {
            i += 1;
        }
        if i == text.len() {
            break;
        }
        if !text[i..].starts_with(BEGIN) {
            if outside == Outside::Ignored {
                // Explanatory text: a BEGIN line starts a line.
                i = text[i..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .map_or(text.len(), |p| i + p + 1);
                continue;
            }
            return Err(Fault::at(
                i,
                format!(
                    "expected `-----BEGIN {}-----`, found {}",
                    label.name,
                    describe_byte(text[i])
                ),
            ));
        }
        let label_start = i + BEGIN.len();
        let found = find(&text[label_start..], DASHES)
            .map(|len| &text[label_start..label_start + len])
            .filter(|found| !found.iter().any(|&b| b == b'\n' || b == b'\r'));
        let Some(found) = found else {
            return Err(Fault::at(i, "unterminated PEM BEGIN line"));
        };
        if found != wanted && outside == Outside::Ignored {
            // Another kind of block: skipped to its END line, which must be there.
            let body_start = label_start + found.len() + DASHES.len();
            let mut end = Vec::with_capacity(found.len() + 14);
            end.extend_from_slice(b"-----END ");
            end.extend_from_slice(found);
            end.extend_from_slice(DASHES);
            let Some(len) = find(&text[body_start..], &end) else {
                return Err(Fault::at(
                    i,
                    format!(
                        "a `{}` block without its END line",
                        String::from_utf8_lossy(&found[..found.len().min(40)])
                    ),
                ));
            };
            i = body_start + len + end.len();
            continue;
        }
        if found != wanted {
            return Err(Fault::at(
                label_start,
                format!(
                    "a PEM block labelled `{}` where only {} blocks belong",
                    String::from_utf8_lossy(&found[..found.len().min(40)]),
                    label.name
                ),
            ));
        }
        let body_start = label_start + found.len() + DASHES.len();
        // The body a run of base64 characters at a time (a line, or what a folding left of
        // one): whitespace between runs is dropped; the first other byte must begin the END
        // line.
        b64.clear();
        let mut k = body_start;
        loop {
            let run = text[k..]
                .iter()
                .position(|&b| !is_base64(b))
                .unwrap_or(text.len() - k);
            b64.extend_from_slice(&text[k..k + run]);
            k += run;
            match text.get(k) {
                Some(&b) if is_ws(b) => k += 1,
                Some(b'-') if text[k..].starts_with(end_line) => break,
                Some(&b) => {
                    return Err(Fault::at(
                        k,
                        format!("{} inside a {} block", describe_byte(b), label.name),
                    ))
                }
                None => {
                    return Err(Fault::at(
                        i,
                        format!(
                            "a {0} block without its `-----END {0}-----` line",
                            label.name
                        ),
                    ))
                }
            }
        }
        if objects.len() == max {
            return Err(too_many(
                i,
                Bounds {
                    max_certificates: max,
                },
            ));
        }
        if b64.is_empty() {
            return Err(Fault::at(
                body_start,
                format!("empty base64 {}", label.noun),
            ));
        }
        objects.push(decode_object(&b64, body_start, label, sequence)?);
        i = k + end_line.len();
    }
    if objects.is_empty() && outside == Outside::Refused {
        return Err(Fault::at(0, format!("no {} block", label.name)));
    }
    Ok(objects)
}

/// Percent-decodes (RFC 3986 section 2.1) a value; `+` stays `+` (this is not form encoding:
/// nginx, Envoy and ALB leave base64's `+` alone or encode it as `%2B`). A `%` not followed by
/// two hex digits is a fault, not a literal.
///
/// The text between escapes is copied a run at a time: URL-encoded PEM has an escape every
/// few dozen bytes (`%2F`, `%2B`, `%0A`), and the percent-encoding crate's decoder, an
/// iterator of single bytes, was 7 µs of an nginx-header miss in the npm package's module
/// (BENCHMARKS.md, stop 26).
pub(crate) fn percent_decoded(value: &[u8]) -> Result<Cow<'_, [u8]>, Fault> {
    let Some(first) = value.iter().position(|&b| b == b'%') else {
        return Ok(Cow::Borrowed(value));
    };
    let mut out = Vec::with_capacity(value.len());
    let mut run = 0;
    let mut at = first;
    loop {
        let (Some(high), Some(low)) = (hex_digit(value, at + 1), hex_digit(value, at + 2)) else {
            return Err(Fault::at(
                at,
                "`%` is not followed by two hexadecimal digits (URL encoding, RFC 3986 2.1)",
            ));
        };
        out.extend_from_slice(&value[run..at]);
        out.push(high << 4 | low);
        run = at + 3;
        match value[run..].iter().position(|&b| b == b'%') {
            Some(p) => at = run + p,
            None => break,
        }
    }
    out.extend_from_slice(&value[run..]);
    Ok(Cow::Owned(out))
}

/// The value of the hex digit at `value[i]`, if there is one.
fn hex_digit(value: &[u8], i: usize) -> Option<u8> {
    match *value.get(i)? {
        b @ b'0'..=b'9' => Some(b - b'0'),
        b @ b'a'..=b'f' => Some(b - b'a' + 10),
        b @ b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// URL-encoded PEM (nginx `$ssl_client_escaped_cert`, Envoy XFCC `Cert`/`Chain`, ALB
/// `X-Amzn-Mtls-Clientcert`); also accepts PEM that was not encoded at all.
pub(crate) fn url_pem(value: &[u8], bounds: Bounds) -> Result<Vec<CertificateDer<'static>>, Fault> {
    let text = percent_decoded(value)?;
    header_pem(&text, bounds).map_err(Fault::in_decoded)
}

/// Traefik's `X-Forwarded-Tls-Client-Cert`: each certificate's PEM body without its BEGIN/END
/// lines and line breaks, joined by `,`, leaf first, the whole URL-encoded.
pub(crate) fn traefik(value: &[u8], bounds: Bounds) -> Result<Vec<CertificateDer<'static>>, Fault> {
    let text = percent_decoded(value)?;
    let mut certs = Vec::new();
    let mut offset = 0;
    for part in text.split(|&b| b == b',') {
        if certs.len() == bounds.max_certificates {
            return Err(too_many(offset, bounds).in_decoded());
        }
        let (start, body) = trim(part, offset);
        certs.push(base64_der(body, start).map_err(Fault::in_decoded)?);
        offset += part.len() + 1;
    }
    Ok(certs)
}

/// An RFC 8941 Byte Sequence item (section 3.3.5: `:` base64 `:`) starting at `i` after
/// optional whitespace; returns the certificate and the offset after the item. Parameters
/// are not defined for RFC 9440's fields and are refused.
fn sf_byte_sequence(text: &[u8], i: usize) -> Result<(CertificateDer<'static>, usize), Fault> {
    if text.get(i) != Some(&b':') {
        return Err(Fault::at(
            i,
            match text.get(i) {
                Some(&b) => format!(
                    "expected a structured-field byte sequence `:base64:`, found {}",
                    describe_byte(b)
                ),
                None => String::from("expected a structured-field byte sequence `:base64:`"),
            },
        ));
    }
    let start = i + 1;
    let Some(len) = text[start..].iter().position(|&b| b == b':') else {
        return Err(Fault::at(i, "unterminated byte sequence (no closing `:`)"));
    };
    let der = base64_der(&text[start..start + len], start)?;
    let after = start + len + 1;
    if text.get(after) == Some(&b';') {
        return Err(Fault::at(
            after,
            "structured-field parameters are not defined for client certificate fields (RFC 9440)",
        ));
    }
    Ok((der, after))
}

/// RFC 9440 `Client-Cert`: one Byte Sequence item (RFC 8941 section 3.3.5).
pub(crate) fn sf_item(value: &[u8]) -> Result<CertificateDer<'static>, Fault> {
    let (start, text) = trim(value, 0);
    let (der, after) = sf_byte_sequence(value, start)?;
    if after != start + text.len() {
        return Err(Fault::at(
            after,
            "trailing characters after the byte sequence (one certificate expected)",
        ));
    }
    Ok(der)
}

/// RFC 9440 `Client-Cert-Chain` (and GCP's `client_cert_chain`): an RFC 8941 List of Byte
/// Sequences, members separated by `,` and optional whitespace (section 4.2.1).
///
/// The `sfv` crate implements RFC 8941 whole but needs std; certclaims' core is no_std, and
/// only this one shape (a list of byte sequences without parameters) is valid here.
pub(crate) fn sf_list(value: &[u8], bounds: Bounds) -> Result<Vec<CertificateDer<'static>>, Fault> {
    let mut certs = Vec::new();
    let (mut i, text) = trim(value, 0);
    let end = i + text.len();
    if i == end {
        return Ok(certs);
    }
    loop {
        if certs.len() == bounds.max_certificates {
            return Err(too_many(i, bounds));
        }
        let (der, after) = sf_byte_sequence(value, i)?;
        certs.push(der);
        i = after;
        while i < end && matches!(value[i], b' ' | b'\t') {
            i += 1;
        }
        if i == end {
            return Ok(certs);
        }
        if value[i] != b',' {
            return Err(Fault::at(
                i,
                format!(
                    "expected `,` between list members, found {}",
                    describe_byte(value[i])
                ),
            ));
        }
        i += 1;
        while i < end && matches!(value[i], b' ' | b'\t') {
            i += 1;
        }
        if i == end {
            return Err(Fault::at(i, "a trailing `,` after the last list member"));
        }
    }
}

fn too_many(offset: usize, bounds: Bounds) -> Fault {
    let mut f = Fault::at(
        offset,
        format!(
            "more than {} certificates in one header",
            bounds.max_certificates
        ),
    );
    f.too_many = true;
    f
}

/// Trims HTTP optional whitespace (RFC 9110 5.6.3) from both ends; returns the offset of what
/// is left.
pub(crate) fn trim(value: &[u8], offset: usize) -> (usize, &[u8]) {
    let start = value
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    (offset + start, &value[start..end])
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A byte of the standard base64 alphabet (RFC 4648 section 4), `=` included: one load per
/// byte of the runs the decoders scan (the module is built for size, and would call a
/// function for the comparisons).
fn is_base64(b: u8) -> bool {
    const ALPHABET: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
            b += 1;
        }
        t
    };
    ALPHABET[usize::from(b)]
}

/// Where `needle` (not empty) first occurs in `haystack`: candidates found by its first byte,
/// so the work is about one comparison per byte of `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(p) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + p;
        if haystack[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// A byte for a message: printable ASCII quoted, anything else in hex.
pub(crate) fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use alloc::string::ToString;

    const B: Bounds = Bounds {
        max_certificates: 4,
    };

    #[test]
    fn percent_decoding_is_strict_about_escapes() {
        assert_eq!(&*percent_decoded(b"a%2Bb+c").unwrap(), b"a+b+c");
        assert_eq!(percent_decoded(b"ab%2").unwrap_err().offset, 2);
        assert_eq!(percent_decoded(b"%zz").unwrap_err().offset, 0);
        // A bad escape after good ones is named at its own `%`.
        assert_eq!(percent_decoded(b"%41%42x%4g").unwrap_err().offset, 7);
        assert_eq!(percent_decoded(b"%41%42x%").unwrap_err().offset, 7);
        // No escape: the value itself, not a copy.
        assert!(matches!(
            percent_decoded(b"abc+/="),
            Ok(Cow::Borrowed(b"abc+/="))
        ));
    }

    #[test]
    fn percent_decoding_agrees_with_the_percent_encoding_crate() {
        use percent_encoding::{percent_decode, percent_encode, NON_ALPHANUMERIC};
        let every_byte: Vec<u8> = (0..=255).collect();
        let encoded = percent_encode(&every_byte, NON_ALPHANUMERIC).to_string();
        let mut cases: Vec<Vec<u8>> = alloc::vec![
            encoded.clone().into_bytes(),
            encoded.to_lowercase().into_bytes(),
            b"%41%42%43".to_vec(),
            b"%2b".to_vec(),
            b"a%0A".to_vec(),
            b"%0Ab".to_vec(),
            b"-----BEGIN%20CERTIFICATE-----%0AMIIB%2Fz%2B%3D%0A".to_vec(),
            b"plain".to_vec(),
            Vec::new(),
        ];
        // Runs of every length between escapes.
        for n in 0..20 {
            let mut v = b"x".repeat(n);
            v.extend_from_slice(b"%25");
            v.extend(b"y".repeat(n));
            cases.push(v);
        }
        for case in cases {
            let want: Vec<u8> = percent_decode(&case).collect();
            assert_eq!(&*percent_decoded(&case).unwrap(), &want[..], "{case:?}");
        }
    }

    #[test]
    fn pem_blocks_other_than_certificates_are_faults() {
        let e = header_pem(
            b"-----BEGIN PRIVATE KEY----- AAAA -----END PRIVATE KEY-----",
            B,
        )
        .unwrap_err();
        assert_eq!(e.offset, 11);
        assert!(e.what.contains("`PRIVATE KEY`"), "{}", e.what);
        let e = header_pem(b"  junk", B).unwrap_err();
        assert_eq!(e.offset, 2);
        assert_eq!(
            header_pem(b"   ", B).unwrap_err().what,
            "no CERTIFICATE block"
        );
    }

    #[test]
    fn pem_documents_skip_text_and_other_blocks() {
        let doc =
            b"Subject: CN=alice\r\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n\
            not a -----BEGIN CERTIFICATE----- line\n-----BEGIN CERTIFICATE-----\nMA\n==\n\
            -----END CERTIFICATE----- trailing words\n\
            -----BEGIN CERTIFICATE-----\r\nMAE=\r\n-----END CERTIFICATE-----";
        let certs = pem_document(doc, B).unwrap();
        let ders: Vec<&[u8]> = certs.iter().map(|c| c.as_ref()).collect();
        assert_eq!(ders, [&[0x30][..], &[0x30, 0x01][..]]);
        assert_eq!(pem_document(b"just words\n", B).unwrap(), Vec::new());
        // What a header refuses outright.
        assert_eq!(header_pem(doc, B).unwrap_err().offset, 0);
    }

    #[test]
    fn broken_pem_documents_are_faults_with_their_place() {
        let fault = |doc: &[u8]| {
            let e = pem_document(doc, B).unwrap_err();
            (e.offset, e.what)
        };
        assert_eq!(
            fault(b"-----BEGIN PRIVATE KEY-----\nAAAA\n"),
            (0, "a `PRIVATE KEY` block without its END line".into())
        );
        assert_eq!(
            fault(b"x\n-----BEGIN CERTIFICATE\nMA==\n-----END CERTIFICATE-----"),
            (2, "unterminated PEM BEGIN line".into())
        );
        assert_eq!(
            fault(b"-----BEGIN CERTIFICATE-----\nMA!=\n-----END CERTIFICATE-----"),
            (30, "`!` inside a CERTIFICATE block".into())
        );
        assert_eq!(
            fault(b"-----BEGIN CERTIFICATE-----\nMA==\n"),
            (
                0,
                "a CERTIFICATE block without its `-----END CERTIFICATE-----` line".into()
            )
        );
        assert_eq!(
            fault(b"-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----"),
            (27, "empty base64 certificate".into())
        );
        let five = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n".repeat(5);
        assert!(pem_document(five.as_bytes(), B).unwrap_err().too_many);
    }

    #[test]
    fn sf_lists_need_commas_and_no_trailing_comma() {
        assert_eq!(sf_list(b"", B).unwrap(), Vec::new());
        let e = sf_list(b":MA==: :MA==:", B).unwrap_err();
        assert_eq!(
            (e.offset, e.what.as_str()),
            (7, "expected `,` between list members, found `:`")
        );
        let e = sf_list(b":MA==:, ", B).unwrap_err();
        assert_eq!(e.what, "a trailing `,` after the last list member");
        let e = sf_item(b":MA==:;a=1").unwrap_err();
        assert_eq!(e.offset, 6);
    }

    #[test]
    fn base64_rejects_url_alphabet_and_non_der() {
        assert_eq!(base64_der(b"MA-_", 10).unwrap_err().offset, 12);
        assert!(base64_der(b"AAAA", 0)
            .unwrap_err()
            .what
            .contains("SEQUENCE"));
        // Padding is optional (RFC 8941 4.2.7): `MA` and `MA==` are the same byte 0x30.
        assert_eq!(base64_der(b"MA", 0).unwrap().as_ref(), &[0x30]);
        assert_eq!(base64_der(b"MA==", 0).unwrap().as_ref(), &[0x30]);
    }
}
