//! Envoy's `x-forwarded-client-cert` (XFCC) header.
//!
//! Grammar, from Envoy's documentation of the header
//! (<https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert>):
//! elements separated by `,`, one per proxy hop; key=value pairs of an element separated by
//! `;`; a value may be double-quoted, and inside quotes `\` escapes the next character (so
//! `,`, `;` and `=` in a quoted value are data). Keys are case-insensitive: `By`, `Hash`,
//! `Cert`, `Chain`, `Subject`, `URI`, `DNS`. `Cert` is the URL-encoded PEM of the client
//! certificate, `Chain` the URL-encoded PEM of the whole chain including the leaf, `Hash` the
//! hex SHA-256 of the client certificate's DER.
//!
//! With `forward_client_cert_details: APPEND_FORWARD` each hop appends its own element, so
//! everything before the last element came from further downstream, ultimately from the
//! client. Only the element of the trusted hop can be believed.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::decode::{describe_byte, Fault};

/// One element: its key=value pairs (keys lower-cased, values unquoted), and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) offset: usize,
    pub(crate) pairs: Vec<(String, Vec<u8>, usize)>,
}

impl Element {
    /// The value of `key` (lower-case) and its offset.
    pub(crate) fn get(&self, key: &str) -> Option<(&[u8], usize)> {
        self.pairs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, at)| (v.as_slice(), *at))
    }
}

/// Splits a header value into elements. `max_elements` bounds the work.
pub(crate) fn parse(value: &[u8], max_elements: usize) -> Result<Vec<Element>, Fault> {
    let mut elements = Vec::new();
    let mut current = Element {
        offset: 0,
        pairs: Vec::new(),
    };
    let mut i = 0;
    loop {
        // One key=value pair.
        while i < value.len() && matches!(value[i], b' ' | b'\t') {
            i += 1;
        }
        let key_start = i;
        while i < value.len() && !matches!(value[i], b'=' | b';' | b',') {
            i += 1;
        }
        let key = trim_end(&value[key_start..i]);
        if value.get(i) != Some(&b'=') {
            return Err(Fault::at(
                i.min(value.len()),
                if key.is_empty() && current.pairs.is_empty() {
                    String::from("an empty XFCC element")
                } else {
                    format!(
                        "XFCC key `{}` without `=value`",
                        String::from_utf8_lossy(&key[..key.len().min(40)])
                    )
                },
            ));
        }
        if key.is_empty() {
            return Err(Fault::at(key_start, "an XFCC pair without a key"));
        }
        if let Some(k) = key.iter().position(|b| !b.is_ascii_alphanumeric()) {
            return Err(Fault::at(
                key_start + k,
                format!("{} in an XFCC key", describe_byte(key[k])),
            ));
        }
        let key = String::from_utf8_lossy(key).to_ascii_lowercase();
        i += 1;
        let value_start = i;
        let mut data = Vec::new();
        if value.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match value.get(i) {
                    None => {
                        return Err(Fault::at(
                            value_start,
                            "an XFCC quoted value without its closing `\"`",
                        ))
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => match value.get(i + 1) {
                        Some(&c) => {
                            data.push(c);
                            i += 2;
                        }
                        None => {
                            return Err(Fault::at(i, "a `\\` at the end of an XFCC quoted value"))
                        }
                    },
                    Some(&c) => {
                        data.push(c);
                        i += 1;
                    }
                }
            }
            while i < value.len() && matches!(value[i], b' ' | b'\t') {
                i += 1;
            }
            if i < value.len() && !matches!(value[i], b';' | b',') {
                return Err(Fault::at(
                    i,
                    format!(
                        "{} after an XFCC quoted value (expected `;` or `,`)",
                        describe_byte(value[i])
                    ),
                ));
            }
        } else {
            while i < value.len() && !matches!(value[i], b';' | b',') {
                if value[i] == b'"' {
                    return Err(Fault::at(i, "a `\"` inside an unquoted XFCC value"));
                }
                i += 1;
            }
            data.extend_from_slice(trim_end(&value[value_start..i]));
        }
        // `DNS` and `URI` repeat in Envoy's output (one pair per SAN); the keys certclaims
        // reads must not, or two hops' values could be confused.
        if matches!(key.as_str(), "cert" | "chain" | "hash" | "by") && current.get(&key).is_some() {
            return Err(Fault::at(
                key_start,
                format!("XFCC key `{key}` appears twice in one element"),
            ));
        }
        current.pairs.push((key, data, value_start));
        match value.get(i) {
            None => {
                elements.push(current);
                return Ok(elements);
            }
            Some(b';') => i += 1,
            Some(_) => {
                // `,`: the next element.
                i += 1;
                elements.push(core::mem::replace(
                    &mut current,
                    Element {
                        offset: i,
                        pairs: Vec::new(),
                    },
                ));
                if elements.len() == max_elements {
                    return Err(Fault::at(
                        i,
                        format!("more than {max_elements} XFCC elements"),
                    ));
                }
            }
        }
    }
}

fn trim_end(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |e| e + 1);
    &s[..end]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn keys(e: &Element) -> Vec<(&str, &[u8])> {
        e.pairs
            .iter()
            .map(|(k, v, _)| (k.as_str(), v.as_slice()))
            .collect()
    }

    #[test]
    fn envoy_documentation_samples_parse() {
        // The examples of Envoy's XFCC documentation (headers.html#x-forwarded-client-cert).
        let one = br#"By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com"#;
        let e = parse(one, 8).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(
            keys(&e[0]),
            [
                ("by", &b"http://frontend.lyft.com"[..]),
                (
                    "hash",
                    &b"468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688"[..]
                ),
                (
                    "subject",
                    &b"/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client"[..]
                ),
                ("uri", &b"http://testclient.lyft.com"[..]),
            ]
        );
        let two = br#"By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;URI=http://testclient.lyft.com,By=http://backend.lyft.com;Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;URI=http://frontend.lyft.com"#;
        let e = parse(two, 8).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].get("by").unwrap().0, b"http://backend.lyft.com");
        let three = br#"By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;DNS=lyft.com;DNS=www.lyft.com"#;
        // DNS repeats, one pair per SAN.
        let e = parse(three, 8).unwrap();
        assert_eq!(e[0].pairs.len(), 6);
        let err = parse(b"Hash=ab;Cert=x;hash=cd", 8).unwrap_err();
        assert_eq!(
            (err.offset, err.what.as_str()),
            (15, "XFCC key `hash` appears twice in one element")
        );
    }

    #[test]
    fn quoted_values_keep_separators_and_escapes() {
        let e = parse(br#"subject="a,b;c=\"d\"" ; uri=x"#, 4).unwrap();
        assert_eq!(
            keys(&e[0]),
            [("subject", &br#"a,b;c="d""#[..]), ("uri", &b"x"[..])]
        );
    }

    #[test]
    fn faults_name_the_position() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"", 0, "an empty XFCC element"),
            (b"Hash", 4, "XFCC key `Hash` without `=value`"),
            (b"By=a,", 5, "an empty XFCC element"),
            (
                br#"Cert="abc"#,
                5,
                "an XFCC quoted value without its closing `\"`",
            ),
            (
                br#"Cert="a"b"#,
                8,
                "`b` after an XFCC quoted value (expected `;` or `,`)",
            ),
            (br#"Cert=a"b"#, 6, "a `\"` inside an unquoted XFCC value"),
            (b"=x", 0, "an XFCC pair without a key"),
            (b"Ce rt=x", 2, "byte 0x20 in an XFCC key"),
        ];
        for (value, offset, what) in cases {
            let f = parse(value, 4).unwrap_err();
            assert_eq!((f.offset, f.what.as_str()), (*offset, *what), "{value:?}");
        }
        let f = parse(b"a=1,a=2,a=3", 2).unwrap_err();
        assert_eq!(f.what, "more than 2 XFCC elements");
    }
}
