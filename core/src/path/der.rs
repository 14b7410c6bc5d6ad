//! certclaims' DER reader: the one decoder of certificates and CRLs in the crate (the
//! certificate and CRL layouts are read in [`crate::cert`] and [`super::revocation`]; the
//! building blocks they share — names, general names, extensions — are here).
//!
//! Zero-copy: a value is a [`Tlv`] of offsets into the input, strings and octets are slices of
//! it. Strict as DER is and exactly as strict as x509-cert 0.2 / der 0.7, which it replaced:
//! definite lengths in the fewest octets (at most four, under 256 MiB), no bytes left over at
//! any level, single-octet tags of the classes and universal types der knows, BOOLEAN only
//! `00` or `FF`, INTEGERs in the fewest octets, BIT STRINGs with at most seven unused bits
//! (none when empty), the SET of a relative distinguished name without a repeated attribute,
//! IA5String, PrintableString and UTF8String contents checked where x509-cert checked them,
//! and optional context-specific fields read as der read them (a lower-numbered field before
//! the one looked for is skipped, a higher one ends the search). The layouts are fixed, so
//! the depth is too: nothing here recurses on the input beyond a directoryName's Name.
//!
//! Times cover the whole RFC 5280 range (UTCTime from 1950; x509-cert stopped at 1970).

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use const_oid::ObjectIdentifier;

use super::sort;

/// A malformation: what is wrong and where, as an offset into the certificate or CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    what: Cow<'static, str>,
    at: usize,
}

impl Error {
    pub(crate) fn new(what: impl Into<Cow<'static, str>>, at: usize) -> Self {
        Self {
            what: what.into(),
            at,
        }
    }

    /// The same error, said to be inside `part` (`subjectAltName: …`).
    pub(crate) fn inside(self, part: &str) -> Self {
        Self {
            what: format!("{part}: {}", self.what).into(),
            at: self.at,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at DER byte {}", self.what, self.at)
    }
}

pub(crate) type Result<T> = core::result::Result<T, Error>;

fn fail<T>(what: impl Into<Cow<'static, str>>, at: usize) -> Result<T> {
    Err(Error::new(what, at))
}

/// Universal tags.
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTF8_STRING: u8 = 0x0c;
pub(crate) const PRINTABLE_STRING: u8 = 0x13;
pub(crate) const TELETEX_STRING: u8 = 0x14;
pub(crate) const IA5_STRING: u8 = 0x16;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const VISIBLE_STRING: u8 = 0x1a;
pub(crate) const BMP_STRING: u8 = 0x1e;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// Whether der knows the tag octet: single-octet tag numbers (0 to 30), and of the universal
/// class only the types it implements (UniversalString, GraphicString and the like are not).
fn known_tag(tag: u8) -> bool {
    if tag & 0x1f == 0x1f {
        return false;
    }
    matches!(
        tag,
        0x01..=0x06 | 0x09 | 0x0a | 0x0c | 0x12..=0x18 | 0x1a | 0x1e | 0x30 | 0x31 | 0x40..=0xfe
    )
}

/// One TLV: its tag, where it starts, where its value starts, and where it ends, as offsets
/// into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv {
    pub(crate) tag: u8,
    pub(crate) start: usize,
    pub(crate) value: usize,
    pub(crate) end: usize,
}

impl Tlv {
    pub(crate) fn whole(&self) -> Range<usize> {
        self.start..self.end
    }
    pub(crate) fn contents(&self) -> Range<usize> {
        self.value..self.end
    }
    pub(crate) fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
    /// The context-specific tag number, for a context-specific tag.
    fn context_number(&self) -> Option<u8> {
        (self.tag & 0xc0 == 0x80).then_some(self.tag & 0x1f)
    }
}

/// Reads the TLVs of one level, in order, from `pos` to `end` of `der`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    der: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// A reader of the whole input.
    pub(crate) fn new(der: &'a [u8]) -> Self {
        Self {
            der,
            pos: 0,
            end: der.len(),
        }
    }

    /// A reader of the contents of `tlv`.
    pub(crate) fn inside(der: &'a [u8], tlv: &Tlv) -> Self {
        Self {
            der,
            pos: tlv.value,
            end: tlv.end,
        }
    }

    /// A reader of the contents of an EXPLICIT context-specific tag, which must be constructed.
    pub(crate) fn explicit(der: &'a [u8], tlv: &Tlv) -> Result<Self> {
        if !tlv.constructed() {
            return fail("an explicit tag that is not constructed", tlv.start);
        }
        Ok(Self::inside(der, tlv))
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    /// The tag of the next TLV, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.peek()
    }

    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.der[self.pos])
    }

    fn byte(&self, at: usize) -> Result<u8> {
        if at < self.end {
            Ok(self.der[at])
        } else {
            fail("truncated: a value is cut short", at)
        }
    }

    /// The next TLV, whatever its tag.
    pub(crate) fn any(&mut self) -> Result<Tlv> {
        let start = self.pos;
        let tag = self.byte(start)?;
        if !known_tag(tag) {
            return fail(
                format!("tag 0x{tag:02x}, which DER here does not allow"),
                start,
            );
        }
        let first = self.byte(start + 1)?;
        let (len, value) = match first {
            0..=0x7f => (usize::from(first), start + 2),
            0x80 => return fail("an indefinite length (BER, not DER)", start + 1),
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                let mut len = 0usize;
                for i in 0..n {
                    len = (len << 8) | usize::from(self.byte(start + 2 + i)?);
                }
                let fewest = match len {
                    0..=0x7f => 0,
                    0x80..=0xff => 1,
                    0x100..=0xffff => 2,
                    0x1_0000..=0xff_ffff => 3,
                    _ => 4,
                };
                if len > 0x0fff_ffff {
                    return fail("a length over 256 MiB", start + 1);
                }
                if fewest != n {
                    return fail("a length not in the fewest octets (not DER)", start + 1);
                }
                (len, start + 2 + n)
            }
            _ => return fail("a length of more than four octets", start + 1),
        };
        let end = value.checked_add(len).filter(|e| *e <= self.end);
        let Some(end) = end else {
            return fail(
                "truncated: a length that runs past the end of its container",
                start,
            );
        };
        self.pos = end;
        Ok(Tlv {
            tag,
            start,
            value,
            end,
        })
    }

    /// The next TLV, which must have tag `tag` (`what` names it in the error).
    pub(crate) fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv> {
        let at = self.pos;
        if self.at_end() {
            return fail(format!("{what} is missing"), at);
        }
        let found = self.der[at];
        if found != tag {
            return fail(format!("expected {what}, found tag 0x{found:02x}"), at);
        }
        self.any()
    }

    /// The next TLV if it has tag `tag`.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Tlv>> {
        if self.peek() == Some(tag) {
            self.any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The context-specific field `[number]` if it comes next, as der looks for one: a
    /// context-specific field with a lower number before it is skipped, anything else ends
    /// the search (and is left for what follows).
    pub(crate) fn context(&mut self, number: u8) -> Result<Option<Tlv>> {
        while let Some(tag) = self.peek() {
            if !known_tag(tag) {
                return fail(
                    format!("tag 0x{tag:02x}, which DER here does not allow"),
                    self.pos,
                );
            }
            if tag & 0xc0 != 0x80 || tag & 0x1f > number {
                break;
            }
            let tlv = self.any()?;
            if tlv.context_number() == Some(number) {
                return Ok(Some(tlv));
            }
        }
        Ok(None)
    }

    /// Fails if anything is left (`what` names the container).
    pub(crate) fn finish(&self, what: &str) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            fail(format!("unexpected data at the end of {what}"), self.pos)
        }
    }
}

/// Reads `der` as exactly one TLV of tag `tag`.
pub(crate) fn single(der: &[u8], range: Range<usize>, tag: u8, what: &str) -> Result<Tlv> {
    let mut r = Reader {
        der,
        pos: range.start,
        end: range.end,
    };
    let tlv = r.expect(tag, what)?;
    r.finish(what)?;
    Ok(tlv)
}

/// An IMPLICIT tag must keep the constructed bit of the type it replaces.
pub(crate) fn implicit(tlv: &Tlv, constructed: bool) -> Result<&Tlv> {
    if tlv.constructed() != constructed {
        let what = if constructed {
            "a primitive tag for a constructed type"
        } else {
            "a constructed tag for a primitive type"
        };
        return fail(what, tlv.start);
    }
    Ok(tlv)
}

pub(crate) fn boolean(der: &[u8], tlv: &Tlv) -> Result<bool> {
    match &der[tlv.contents()] {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        [_] => fail("a BOOLEAN neither 00 nor FF (not DER)", tlv.value),
        _ => fail("a BOOLEAN that is not one octet", tlv.start),
    }
}

/// The magnitude of a non-negative INTEGER in the fewest octets, at most `max` octets of
/// magnitude (`usize::MAX`: any).
pub(crate) fn unsigned<'a>(der: &'a [u8], tlv: &Tlv, max: usize) -> Result<&'a [u8]> {
    let bytes = &der[tlv.contents()];
    let magnitude = match bytes {
        [] => return fail("an empty INTEGER", tlv.start),
        [0] => bytes,
        [0, b, ..] if *b < 0x80 => {
            return fail("an INTEGER not in the fewest octets (not DER)", tlv.value)
        }
        [0, rest @ ..] => rest,
        [b, ..] if *b >= 0x80 => return fail("a negative INTEGER", tlv.value),
        _ => bytes,
    };
    if magnitude.len() > max {
        return fail("an INTEGER too large", tlv.value);
    }
    Ok(magnitude)
}

/// A non-negative INTEGER of at most `max` octets of magnitude (up to 8), as a number.
pub(crate) fn small_unsigned(der: &[u8], tlv: &Tlv, max: usize) -> Result<u64> {
    let m = unsigned(der, tlv, max.min(8))?;
    Ok(m.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
}

/// The octets of a signed INTEGER in the fewest octets (two's complement, as encoded).
pub(crate) fn signed<'a>(der: &'a [u8], tlv: &Tlv) -> Result<&'a [u8]> {
    let bytes = &der[tlv.contents()];
    match bytes {
        [] => fail("an empty INTEGER", tlv.start),
        [0x00, b, ..] if *b < 0x80 => {
            fail("an INTEGER not in the fewest octets (not DER)", tlv.value)
        }
        [0xff, b, ..] if *b >= 0x80 => {
            fail("an INTEGER not in the fewest octets (not DER)", tlv.value)
        }
        _ => Ok(bytes),
    }
}

pub(crate) fn oid(der: &[u8], tlv: &Tlv) -> Result<ObjectIdentifier> {
    ObjectIdentifier::from_bytes(&der[tlv.contents()])
        .map_err(|_| Error::new("a malformed OBJECT IDENTIFIER", tlv.start))
}

/// A BIT STRING's contents.
#[derive(Debug, Clone)]
pub(crate) struct BitString<'a> {
    pub(crate) unused: u8,
    pub(crate) bytes: &'a [u8],
    /// Where `bytes` are in the input.
    pub(crate) range: Range<usize>,
}

impl BitString<'_> {
    /// Bit `i`, counted from the first octet's most significant bit; false past the end.
    pub(crate) fn bit(&self, i: usize) -> bool {
        let len = self.bytes.len() * 8 - usize::from(self.unused);
        i < len && self.bytes[i / 8] & (0x80 >> (i % 8)) != 0
    }

    fn bit_len(&self) -> usize {
        self.bytes.len() * 8 - usize::from(self.unused)
    }
}

pub(crate) fn bit_string<'a>(der: &'a [u8], tlv: &Tlv) -> Result<BitString<'a>> {
    let Some((&unused, bytes)) = der[tlv.contents()].split_first() else {
        return fail("a BIT STRING without its unused-bits octet", tlv.start);
    };
    if unused > 7 || (unused != 0 && bytes.is_empty()) {
        return fail("a BIT STRING with a wrong count of unused bits", tlv.value);
    }
    Ok(BitString {
        unused,
        bytes,
        range: tlv.value + 1..tlv.end,
    })
}

/// A named-bit BIT STRING (keyUsage, ReasonFlags) as x509-cert's 16-bit flag sets read it.
pub(crate) fn flags(der: &[u8], tlv: &Tlv) -> Result<u16> {
    let bits = bit_string(der, tlv)?;
    if bits.bit_len() > 16 {
        return fail("more named bits than the type has", tlv.start);
    }
    Ok((0..16).fold(0u16, |v, i| v | (u16::from(bits.bit(i)) << i)))
}

pub(crate) fn ia5<'a>(der: &'a [u8], tlv: &Tlv) -> Result<&'a str> {
    let bytes = &der[tlv.contents()];
    match bytes.iter().position(|b| *b > 0x7f) {
        Some(i) => fail("an IA5String with a byte above 0x7F", tlv.value + i),
        None => core::str::from_utf8(bytes).map_err(|_| Error::new("not ASCII", tlv.value)),
    }
}

pub(crate) fn utf8<'a>(der: &'a [u8], tlv: &Tlv) -> Result<&'a str> {
    core::str::from_utf8(&der[tlv.contents()]).map_err(|e| {
        Error::new(
            "a UTF8String that is not UTF-8",
            tlv.value + e.valid_up_to(),
        )
    })
}

fn printable_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&c)
}

/// The text of a DirectoryString (PrintableString, TeletexString of ASCII, UTF8String).
fn directory_string(der: &[u8], tlv: &Tlv) -> Result<()> {
    let bytes = &der[tlv.contents()];
    match tlv.tag {
        PRINTABLE_STRING if bytes.iter().all(|c| printable_char(*c)) => Ok(()),
        TELETEX_STRING if bytes.is_ascii() => Ok(()),
        UTF8_STRING => utf8(der, tlv).map(|_| ()),
        PRINTABLE_STRING | TELETEX_STRING => {
            fail("a string with a character its type forbids", tlv.value)
        }
        _ => fail("not a DirectoryString", tlv.start),
    }
}

/// Seconds since the Unix epoch of the Time (UTCTime or GeneralizedTime) that `r` reads next.
pub(crate) fn read_time(r: &mut Reader<'_>, what: &str) -> Result<i64> {
    let at = r.pos;
    if r.at_end() {
        return fail(format!("{what} is missing"), at);
    }
    let t = r.any()?;
    time(t.tag, &r.der[t.contents()]).ok_or_else(|| {
        Error::new(
            format!(
                "{what} is not an RFC 5280 time (UTCTime or GeneralizedTime, to the second, in UTC)"
            ),
            at,
        )
    })
}

/// Seconds since the Unix epoch of an RFC 5280 4.1.2.5 time: UTCTime `YYMMDDHHMMSSZ` (years
/// 1950 to 2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`; negative before 1970.
pub(crate) fn time(tag: u8, text: &[u8]) -> Option<i64> {
    let digits = |s: &[u8]| -> Option<i64> {
        s.iter().try_fold(0i64, |v, b| {
            b.is_ascii_digit().then(|| v * 10 + i64::from(b - b'0'))
        })
    };
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if rest[10] != b'Z' {
        return None;
    }
    let (month, day) = (digits(&rest[0..2])?, digits(&rest[2..4])?);
    let (hour, minute, second) = (
        digits(&rest[4..6])?,
        digits(&rest[6..8])?,
        digits(&rest[8..10])?,
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: (year, month, day).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// An AlgorithmIdentifier: its OID, its parameters (any one TLV) and where its contents are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlgorithmId {
    pub(crate) oid: ObjectIdentifier,
    pub(crate) parameters: Option<Tlv>,
    pub(crate) tlv: Tlv,
}

/// `SEQUENCE { tbs SEQUENCE, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT
/// STRING }`, the envelope of a certificate and of a CRL, filling the whole input; the
/// signature a whole number of octets. `names` are (the whole, its tbs, the end) as error
/// messages say them.
pub(crate) struct Signed<'a> {
    pub(crate) tbs: Tlv,
    pub(crate) sig_alg: AlgorithmId,
    pub(crate) signature: BitString<'a>,
}

pub(crate) fn signed_envelope<'a>(der: &'a [u8], names: (&str, &str, &str)) -> Result<Signed<'a>> {
    let (whole, tbs_name, end) = names;
    let mut top = Reader::new(der);
    let outer = top.expect(SEQUENCE, whole)?;
    top.finish(end)?;
    let mut r = Reader::inside(der, &outer);
    let tbs = r.expect(SEQUENCE, tbs_name)?;
    let sig_alg = algorithm(&mut r, "the signatureAlgorithm (AlgorithmIdentifier)")?;
    let sig = r.expect(BIT_STRING, "the signatureValue (BIT STRING)")?;
    let signature = bit_string(der, &sig)?;
    r.finish(end)?;
    if signature.unused != 0 {
        return fail(
            "a signatureValue that is not a whole number of octets",
            sig.value,
        );
    }
    Ok(Signed {
        tbs,
        sig_alg,
        signature,
    })
}

pub(crate) fn algorithm(r: &mut Reader<'_>, what: &str) -> Result<AlgorithmId> {
    let tlv = r.expect(SEQUENCE, what)?;
    let mut inner = Reader::inside(r.der, &tlv);
    let oid = oid(
        r.der,
        &inner.expect(OID, "the algorithm's OBJECT IDENTIFIER")?,
    )?;
    let parameters = if inner.at_end() {
        None
    } else {
        Some(inner.any()?)
    };
    inner.finish(what)?;
    Ok(AlgorithmId {
        oid,
        parameters,
        tlv,
    })
}

/// One attribute of a distinguished name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attribute<'a> {
    pub(crate) oid: ObjectIdentifier,
    /// The value's tag and contents.
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    /// The value's whole encoding.
    pub(crate) encoded: &'a [u8],
    /// The AttributeTypeAndValue's contents length (der's SET OF order starts with it).
    len: usize,
}

impl Attribute<'_> {
    /// der's order of the elements of a SET OF AttributeTypeAndValue: by encoded length, then
    /// the type's length and octets, then the value's tag, length and octets.
    fn order(&self) -> (usize, usize, &[u8], u8, usize, &[u8]) {
        let oid = self.oid.as_bytes();
        (
            self.len,
            oid.len(),
            oid,
            self.tag,
            self.value.len(),
            self.value,
        )
    }
}

/// A distinguished name: its RDNs in DER order, each a set of attributes (in der's SET OF
/// order, which x509-cert sorted them into).
#[derive(Debug, Clone, Default)]
pub(crate) struct Name<'a> {
    pub(crate) rdns: Vec<Vec<Attribute<'a>>>,
}

/// Reads the Name whose SEQUENCE is `tlv`.
pub(crate) fn name<'a>(der: &'a [u8], tlv: &Tlv) -> Result<Name<'a>> {
    let mut r = Reader::inside(der, tlv);
    let mut rdns = Vec::new();
    while !r.at_end() {
        let set = r.expect(SET, "a relative distinguished name (SET)")?;
        rdns.push(rdn(der, &set)?);
    }
    Ok(Name { rdns })
}

/// Reads a RelativeDistinguishedName (the contents of `tlv`, whatever its tag).
pub(crate) fn rdn<'a>(der: &'a [u8], tlv: &Tlv) -> Result<Vec<Attribute<'a>>> {
    let mut r = Reader::inside(der, tlv);
    let mut atvs = Vec::new();
    while !r.at_end() {
        let seq = r.expect(SEQUENCE, "an attribute (SEQUENCE)")?;
        let mut a = Reader::inside(der, &seq);
        let oid = oid(der, &a.expect(OID, "an attribute type")?)?;
        if a.at_end() {
            return fail("an attribute without a value", seq.start);
        }
        let value = a.any()?;
        a.finish("an attribute")?;
        atvs.push(Attribute {
            oid,
            tag: value.tag,
            value: &der[value.contents()],
            encoded: &der[value.whole()],
            len: seq.end - seq.value,
        });
    }
    sort::unstable_by(&mut atvs, |a, b| a.order() < b.order());
    if atvs.windows(2).any(|w| w[0].order() == w[1].order()) {
        return fail(
            "a relative distinguished name with the same attribute twice",
            tlv.start,
        );
    }
    Ok(atvs)
}

impl Name<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    pub(crate) fn attributes(&self) -> impl Iterator<Item = &Attribute<'_>> {
        self.rdns.iter().flatten()
    }

    /// The RFC 4514 string, as x509-cert wrote it: most specific RDN first, `+` between the
    /// attributes of one RDN, the shortest registered name of a type in capitals, or the
    /// dotted OID and `#` with the hex DER of a value that is not a string.
    pub(crate) fn to_rfc4514(&self) -> String {
        let mut out =
            String::with_capacity(self.attributes().map(|a| a.value.len() + 8).sum::<usize>());
        for (i, rdn) in self.rdns.iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for (j, atv) in rdn.iter().enumerate() {
                if j > 0 {
                    out.push('+');
                }
                attribute_text(&mut out, atv);
            }
        }
        out
    }
}

/// The names of the directory attribute types in RFC 4514 text: those of X.520 (2.5.4.*),
/// RFC 4524 / COSINE (0.9.2342.19200300.100.1.*), PKCS #9 (1.2.840.113549.1.9.*) and the EV
/// jurisdiction attributes (1.3.6.1.4.1.311.60.2.1.*) that const-oid's registry names, each
/// by its shortest name, upper-cased (a unit test holds the table to the registry). Any other
/// type is written as its dotted OID with the value's DER in hex (RFC 4514 2.4).
const ATTRIBUTE_NAMES: &[(ObjectIdentifier, &str)] = &[
    (ObjectIdentifier::new_unwrap("2.5.4.0"), "OBJECTCLASS"),
    (ObjectIdentifier::new_unwrap("2.5.4.1"), "ALIASEDOBJECTNAME"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.2"),
        "KNOWLEDGEINFORMATION",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.3"), "CN"),
    (ObjectIdentifier::new_unwrap("2.5.4.4"), "SN"),
    (ObjectIdentifier::new_unwrap("2.5.4.5"), "SERIALNUMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.6"), "C"),
    (ObjectIdentifier::new_unwrap("2.5.4.7"), "L"),
    (ObjectIdentifier::new_unwrap("2.5.4.8"), "ST"),
    (ObjectIdentifier::new_unwrap("2.5.4.9"), "STREET"),
    (ObjectIdentifier::new_unwrap("2.5.4.10"), "O"),
    (ObjectIdentifier::new_unwrap("2.5.4.11"), "OU"),
    (ObjectIdentifier::new_unwrap("2.5.4.12"), "TITLE"),
    (ObjectIdentifier::new_unwrap("2.5.4.13"), "DESCRIPTION"),
    (ObjectIdentifier::new_unwrap("2.5.4.14"), "SEARCHGUIDE"),
    (ObjectIdentifier::new_unwrap("2.5.4.15"), "BUSINESSCATEGORY"),
    (ObjectIdentifier::new_unwrap("2.5.4.16"), "POSTALADDRESS"),
    (ObjectIdentifier::new_unwrap("2.5.4.17"), "POSTALCODE"),
    (ObjectIdentifier::new_unwrap("2.5.4.18"), "POSTOFFICEBOX"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.19"),
        "PHYSICALDELIVERYOFFICENAME",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.20"), "TELEPHONENUMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.21"), "TELEXNUMBER"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.22"),
        "TELETEXTERMINALIDENTIFIER",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.23"),
        "FACSIMILETELEPHONENUMBER",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.24"), "X121ADDRESS"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.25"),
        "INTERNATIONALISDNNUMBER",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.26"),
        "REGISTEREDADDRESS",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.27"),
        "DESTINATIONINDICATOR",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.28"),
        "PREFERREDDELIVERYMETHOD",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.29"),
        "PRESENTATIONADDRESS",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.30"),
        "SUPPORTEDAPPLICATIONCONTEXT",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.31"), "MEMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.32"), "OWNER"),
    (ObjectIdentifier::new_unwrap("2.5.4.33"), "ROLEOCCUPANT"),
    (ObjectIdentifier::new_unwrap("2.5.4.34"), "SEEALSO"),
    (ObjectIdentifier::new_unwrap("2.5.4.35"), "USERPASSWORD"),
    (ObjectIdentifier::new_unwrap("2.5.4.36"), "USERCERTIFICATE"),
    (ObjectIdentifier::new_unwrap("2.5.4.37"), "CACERTIFICATE"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.38"),
        "AUTHORITYREVOCATIONLIST",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.39"),
        "CERTIFICATEREVOCATIONLIST",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.40"),
        "CROSSCERTIFICATEPAIR",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.41"), "NAME"),
    (ObjectIdentifier::new_unwrap("2.5.4.42"), "GIVENNAME"),
    (ObjectIdentifier::new_unwrap("2.5.4.43"), "INITIALS"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.44"),
        "GENERATIONQUALIFIER",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.45"),
        "X500UNIQUEIDENTIFIER",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.46"), "DNQUALIFIER"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.47"),
        "ENHANCEDSEARCHGUIDE",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.48"),
        "PROTOCOLINFORMATION",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.49"),
        "DISTINGUISHEDNAME",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.50"), "UNIQUEMEMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.51"), "HOUSEIDENTIFIER"),
    (
        ObjectIdentifier::new_unwrap("2.5.4.52"),
        "SUPPORTEDALGORITHMS",
    ),
    (
        ObjectIdentifier::new_unwrap("2.5.4.53"),
        "DELTAREVOCATIONLIST",
    ),
    (ObjectIdentifier::new_unwrap("2.5.4.54"), "DMDNAME"),
    (ObjectIdentifier::new_unwrap("2.5.4.65"), "PSEUDONYM"),
    (ObjectIdentifier::new_unwrap("2.5.4.72"), "ID-AT-ROLE"),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1"),
        "UID",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.2"),
        "TEXTENCODEDORADDRESS",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.3"),
        "MAIL",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.4"),
        "INFO",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.5"),
        "DRINK",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.6"),
        "ROOMNUMBER",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.7"),
        "PHOTO",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.8"),
        "USERCLASS",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.9"),
        "HOST",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.10"),
        "MANAGER",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.11"),
        "DOCUMENTIDENTIFIER",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.12"),
        "DOCUMENTTITLE",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.13"),
        "DOCUMENTVERSION",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.14"),
        "DOCUMENTAUTHOR",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.15"),
        "DOCUMENTLOCATION",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.20"),
        "HOMEPHONE",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.21"),
        "SECRETARY",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.22"),
        "OTHERMAILBOX",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.23"),
        "LASTMODIFIEDTIME",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.24"),
        "LASTMODIFIEDBY",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        "DC",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.26"),
        "ARECORD",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.27"),
        "MDRECORD",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.28"),
        "MXRECORD",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.29"),
        "NSRECORD",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.30"),
        "SOARECORD",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.31"),
        "CNAMERECORD",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.37"),
        "ASSOCIATEDDOMAIN",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.38"),
        "ASSOCIATEDNAME",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.39"),
        "HOMEPOSTALADDRESS",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.40"),
        "PERSONALTITLE",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.41"),
        "MOBILE",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.42"),
        "PAGER",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.43"),
        "CO",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.44"),
        "UNIQUEIDENTIFIER",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.45"),
        "ORGANIZATIONALSTATUS",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.46"),
        "JANETMAILBOX",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.47"),
        "MAILPREFERENCEOPTION",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.48"),
        "BUILDINGNAME",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.49"),
        "DSAQUALITY",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.50"),
        "SINGLELEVELQUALITY",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.51"),
        "SUBTREEMINIMUMQUALITY",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.52"),
        "SUBTREEMAXIMUMQUALITY",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.53"),
        "PERSONALSIGNATURE",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.54"),
        "DITREDIRECT",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.55"),
        "AUDIO",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.56"),
        "DOCUMENTPUBLISHER",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.60"),
        "JPEGPHOTO",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1"),
        "EMAIL",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3"),
        "ID-CONTENTTYPE",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4"),
        "ID-MESSAGEDIGEST",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5"),
        "ID-SIGNINGTIME",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.6"),
        "ID-COUNTERSIGNATURE",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14"),
        "ID-EXTENSIONREQ",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.15"),
        "SMIMECAPABILITIES",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16"),
        "ID-SMIME",
    ),
];

fn attribute_text(out: &mut String, atv: &Attribute<'_>) {
    let ascii = |ok: fn(&u8) -> bool| {
        atv.value
            .iter()
            .all(ok)
            .then(|| core::str::from_utf8(atv.value).ok())
            .flatten()
    };
    let text = match atv.tag {
        PRINTABLE_STRING => ascii(|c| printable_char(*c)),
        UTF8_STRING => core::str::from_utf8(atv.value).ok(),
        IA5_STRING | TELETEX_STRING => ascii(|c| c.is_ascii()),
        _ => None,
    };
    let key = ATTRIBUTE_NAMES
        .iter()
        .find(|(oid, _)| *oid == atv.oid)
        .map(|(_, name)| *name);
    match (key, text) {
        (Some(key), Some(text)) => {
            out.push_str(key);
            out.push('=');
            escape_value(out, text);
        }
        _ => {
            use core::fmt::Write;
            let _ = write!(out, "{}=#", atv.oid);
            hex_into(out, atv.encoded);
        }
    }
}

/// An attribute value escaped as RFC 4514 2.4 asks: a leading `#` or space, a trailing
/// space, the special characters and the control characters. The runs between them are
/// copied whole (this is on every verification's path: the leaf's subject and issuer).
fn escape_value(out: &mut String, text: &str) {
    let last = text.len().saturating_sub(1);
    let mut copied = 0;
    for (i, b) in text.bytes().enumerate() {
        let special = match b {
            b'#' => i == 0,
            b' ' => i == 0 || i == last,
            b'"' | b'+' | b',' | b';' | b'<' | b'>' | b'\\' => true,
            0x00..=0x1f | 0x7f => true,
            _ => false,
        };
        if !special {
            continue;
        }
        // `i` is at an ASCII byte: a character boundary.
        out.push_str(&text[copied..i]);
        out.push('\\');
        if b < 0x20 || b == 0x7f {
            hex_into(out, &[b]);
        } else {
            out.push(char::from(b));
        }
        copied = i + 1;
    }
    out.push_str(&text[copied..]);
}

/// Appends `bytes` as lowercase hex.
fn hex_into(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

/// A GeneralName (RFC 5280 4.2.1.6) as certclaims reads it.
#[derive(Debug, Clone)]
pub(crate) enum GeneralName<'a> {
    /// type-id, and the value's tag and contents.
    Other(ObjectIdentifier, u8, &'a [u8]),
    Email(&'a str),
    Dns(&'a str),
    Directory(Name<'a>),
    EdiParty,
    Uri(&'a str),
    Ip(&'a [u8]),
    RegisteredId,
}

pub(crate) fn general_name<'a>(r: &mut Reader<'a>) -> Result<GeneralName<'a>> {
    let der = r.der;
    let t = r.any()?;
    Ok(match t.tag {
        0xa0 => {
            let mut inner = Reader::inside(der, &t);
            let type_id = oid(der, &inner.expect(OID, "an otherName type-id")?)?;
            let value = inner.expect(0xa0, "an otherName value ([0] EXPLICIT)")?;
            inner.finish("an otherName")?;
            let mut v = Reader::inside(der, &value);
            if v.at_end() {
                return fail("an otherName without a value", value.start);
            }
            let any = v.any()?;
            v.finish("an otherName value")?;
            GeneralName::Other(type_id, any.tag, &der[any.contents()])
        }
        0x81 => GeneralName::Email(ia5(der, &t)?),
        0x82 => GeneralName::Dns(ia5(der, &t)?),
        0xa4 => {
            let mut inner = Reader::inside(der, &t);
            let n = inner.expect(SEQUENCE, "a directoryName (Name)")?;
            inner.finish("a directoryName")?;
            GeneralName::Directory(name(der, &n)?)
        }
        0xa5 => {
            let mut inner = Reader::inside(der, &t);
            if let Some(assigner) = inner.context(0)? {
                let mut a = Reader::explicit(der, &assigner)?;
                directory_string(der, &a.any()?)?;
                a.finish("a nameAssigner")?;
            }
            let party = inner.expect(0xa1, "an ediPartyName partyName ([1] EXPLICIT)")?;
            let mut p = Reader::inside(der, &party);
            if p.at_end() {
                return fail("an empty partyName", party.start);
            }
            directory_string(der, &p.any()?)?;
            p.finish("a partyName")?;
            inner.finish("an ediPartyName")?;
            GeneralName::EdiParty
        }
        0x86 => GeneralName::Uri(ia5(der, &t)?),
        0x87 => GeneralName::Ip(&der[t.contents()]),
        0x88 => {
            oid(der, &t)?;
            GeneralName::RegisteredId
        }
        tag => return fail(format!("tag 0x{tag:02x} is no GeneralName"), t.start),
    })
}

/// The GeneralNames inside `tlv` (a SEQUENCE, or an IMPLICIT tag standing for one).
pub(crate) fn general_names<'a>(der: &'a [u8], tlv: &Tlv) -> Result<Vec<GeneralName<'a>>> {
    let mut r = Reader::inside(der, tlv);
    let mut out = Vec::new();
    while !r.at_end() {
        out.push(general_name(&mut r)?);
    }
    Ok(out)
}

/// One extension of a certificate, a CRL or a CRL entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extension {
    pub(crate) oid: ObjectIdentifier,
    pub(crate) critical: bool,
    /// The OCTET STRING holding the value.
    pub(crate) value: Tlv,
    pub(crate) start: usize,
}

/// The `[n] EXPLICIT Extensions` of a tbsCertificate or tbsCertList: `tagged` is the context
/// element; `names` are (the SEQUENCE, the whole) as error messages name them.
pub(crate) fn explicit_extensions(
    der: &[u8],
    tagged: &Tlv,
    names: (&str, &str),
) -> Result<Vec<Extension>> {
    let mut e = Reader::explicit(der, tagged)?;
    let seq = e.expect(SEQUENCE, names.0)?;
    e.finish(names.1)?;
    extensions(der, &seq)
}

/// The `Extensions` SEQUENCE OF Extension inside `tlv`.
pub(crate) fn extensions(der: &[u8], tlv: &Tlv) -> Result<Vec<Extension>> {
    let mut r = Reader::inside(der, tlv);
    let mut out = Vec::new();
    while !r.at_end() {
        let e = r.expect(SEQUENCE, "an extension (SEQUENCE)")?;
        let mut inner = Reader::inside(der, &e);
        let oid = oid(der, &inner.expect(OID, "an extension's extnID")?)?;
        let critical = match inner.optional(BOOLEAN)? {
            Some(b) => boolean(der, &b)?,
            None => false,
        };
        let value = inner.expect(OCTET_STRING, "an extension's extnValue (OCTET STRING)")?;
        inner.finish("an extension")?;
        out.push(Extension {
            oid,
            critical,
            value,
            start: e.start,
        });
    }
    Ok(out)
}

/// The extension `oid` of `exts`, if present once; an error if present more than once.
pub(crate) fn find<'e>(exts: &'e [Extension], oid: &[u8]) -> Result<Option<&'e Extension>> {
    let mut found = None;
    for e in exts {
        let id = e.oid.as_bytes();
        // The last octet first: the id-ce extensions differ only there.
        if id.last() == oid.last() && id == oid {
            if found.is_some() {
                return fail("an extension that appears twice", e.start);
            }
            found = Some(e);
        }
    }
    Ok(found)
}

/// `2.5.29.n`, the id-ce extensions, as OID contents.
pub(crate) const fn id_ce(n: u8) -> [u8; 3] {
    [0x55, 0x1d, n]
}

/// The one value (of tag `tag`) an extension's OCTET STRING holds.
pub(crate) fn extension_value(der: &[u8], e: &Extension, tag: u8, what: &str) -> Result<Tlv> {
    single(der, e.value.contents(), tag, what)
}

/// basicConstraints: (cA, pathLenConstraint).
pub(crate) fn basic_constraints(der: &[u8], e: &Extension) -> Result<(bool, Option<u8>)> {
    let seq = extension_value(der, e, SEQUENCE, "BasicConstraints (SEQUENCE)")?;
    let mut r = Reader::inside(der, &seq);
    let ca = match r.optional(BOOLEAN)? {
        Some(b) => boolean(der, &b)?,
        None => false,
    };
    let path_len = match r.optional(INTEGER)? {
        Some(i) => Some(small_unsigned(der, &i, 1)? as u8),
        None => None,
    };
    r.finish("BasicConstraints")?;
    Ok((ca, path_len))
}

/// keyUsage bits (bit 0 digitalSignature, 5 keyCertSign, 6 cRLSign).
pub(crate) fn key_usage(der: &[u8], e: &Extension) -> Result<u16> {
    let bits = extension_value(der, e, BIT_STRING, "KeyUsage (BIT STRING)")?;
    flags(der, &bits)
}

/// extKeyUsage purposes.
pub(crate) fn extended_key_usage(der: &[u8], e: &Extension) -> Result<Vec<ObjectIdentifier>> {
    let seq = extension_value(der, e, SEQUENCE, "ExtKeyUsageSyntax (SEQUENCE)")?;
    let mut r = Reader::inside(der, &seq);
    let mut out = Vec::new();
    while !r.at_end() {
        out.push(oid(der, &r.expect(OID, "a KeyPurposeId")?)?);
    }
    Ok(out)
}

/// subjectAltName (or any extension that is a GeneralNames).
pub(crate) fn alt_names<'a>(der: &'a [u8], e: &Extension) -> Result<Vec<GeneralName<'a>>> {
    let seq = extension_value(der, e, SEQUENCE, "GeneralNames (SEQUENCE)")?;
    general_names(der, &seq)
}

/// A GeneralSubtree of a nameConstraints extension.
#[derive(Debug, Clone)]
pub(crate) struct Subtree<'a> {
    pub(crate) base: GeneralName<'a>,
    pub(crate) minimum: u64,
    pub(crate) maximum: Option<u64>,
}

/// nameConstraints: (permittedSubtrees, excludedSubtrees).
#[derive(Debug, Clone)]
pub(crate) struct NameConstraints<'a> {
    pub(crate) permitted: Option<Vec<Subtree<'a>>>,
    pub(crate) excluded: Option<Vec<Subtree<'a>>>,
}

pub(crate) fn name_constraints<'a>(der: &'a [u8], e: &Extension) -> Result<NameConstraints<'a>> {
    let seq = extension_value(der, e, SEQUENCE, "NameConstraints (SEQUENCE)")?;
    let mut r = Reader::inside(der, &seq);
    let subtrees = |t: &Tlv| -> Result<Vec<Subtree<'a>>> {
        let mut r = Reader::inside(der, implicit(t, true)?);
        let mut out = Vec::new();
        while !r.at_end() {
            let s = r.expect(SEQUENCE, "a GeneralSubtree (SEQUENCE)")?;
            let mut inner = Reader::inside(der, &s);
            let base = general_name(&mut inner)?;
            let minimum = match inner.context(0)? {
                Some(m) => small_unsigned(der, implicit(&m, false)?, 4)?,
                None => 0,
            };
            let maximum = match inner.context(1)? {
                Some(m) => Some(small_unsigned(der, implicit(&m, false)?, 4)?),
                None => None,
            };
            inner.finish("a GeneralSubtree")?;
            out.push(Subtree {
                base,
                minimum,
                maximum,
            });
        }
        Ok(out)
    };
    let permitted = r.context(0)?.map(|t| subtrees(&t)).transpose()?;
    let excluded = r.context(1)?.map(|t| subtrees(&t)).transpose()?;
    r.finish("NameConstraints")?;
    Ok(NameConstraints {
        permitted,
        excluded,
    })
}

/// authorityKeyIdentifier.
#[derive(Debug, Clone)]
pub(crate) struct AuthorityKeyId<'a> {
    pub(crate) key_identifier: Option<&'a [u8]>,
    /// authorityCertIssuer or authorityCertSerialNumber is present.
    pub(crate) names_issuer_cert: bool,
}

pub(crate) fn authority_key_id<'a>(der: &'a [u8], e: &Extension) -> Result<AuthorityKeyId<'a>> {
    let seq = extension_value(der, e, SEQUENCE, "AuthorityKeyIdentifier (SEQUENCE)")?;
    let mut r = Reader::inside(der, &seq);
    let key_identifier = match r.context(0)? {
        Some(k) => Some(&der[implicit(&k, false)?.contents()]),
        None => None,
    };
    let issuer = match r.context(1)? {
        Some(t) => Some(general_names(der, implicit(&t, true)?)?),
        None => None,
    };
    let serial = match r.context(2)? {
        Some(t) => Some(serial_number(der, implicit(&t, false)?)?),
        None => None,
    };
    r.finish("AuthorityKeyIdentifier")?;
    Ok(AuthorityKeyId {
        key_identifier,
        names_issuer_cert: issuer.is_some() || serial.is_some(),
    })
}

/// A CertificateSerialNumber as x509-cert read it: a signed INTEGER of up to 21 octets.
pub(crate) fn serial_number<'a>(der: &'a [u8], tlv: &Tlv) -> Result<&'a [u8]> {
    let bytes = signed(der, tlv)?;
    if bytes.len() > 21 {
        return fail("a serial number longer than 21 octets", tlv.start);
    }
    Ok(bytes)
}

/// subjectKeyIdentifier.
pub(crate) fn subject_key_id<'a>(der: &'a [u8], e: &Extension) -> Result<&'a [u8]> {
    let o = extension_value(der, e, OCTET_STRING, "SubjectKeyIdentifier (OCTET STRING)")?;
    Ok(&der[o.contents()])
}

/// A DistributionPointName: the fullName general names, or `None` for
/// nameRelativeToCRLIssuer.
fn distribution_point_name<'a>(
    der: &'a [u8],
    explicit: &Tlv,
) -> Result<Option<Vec<GeneralName<'a>>>> {
    let mut r = Reader::explicit(der, explicit)?;
    let at = explicit.value;
    if r.at_end() {
        return fail("an empty distributionPoint", at);
    }
    let t = r.any()?;
    let out = match t.tag {
        0xa0 => Some(general_names(der, &t)?),
        0xa1 => {
            rdn(der, &t)?;
            None
        }
        tag => {
            return fail(
                format!("tag 0x{tag:02x} is no DistributionPointName"),
                t.start,
            )
        }
    };
    r.finish("a distributionPoint")?;
    Ok(out)
}

/// cRLDistributionPoints: for each point, its fullName names (`None` without a fullName).
pub(crate) fn crl_distribution_points<'a>(
    der: &'a [u8],
    e: &Extension,
) -> Result<Vec<Option<Vec<GeneralName<'a>>>>> {
    let seq = extension_value(der, e, SEQUENCE, "CRLDistributionPoints (SEQUENCE)")?;
    let mut r = Reader::inside(der, &seq);
    let mut out = Vec::new();
    while !r.at_end() {
        let dp = r.expect(SEQUENCE, "a DistributionPoint (SEQUENCE)")?;
        let mut inner = Reader::inside(der, &dp);
        let name = match inner.context(0)? {
            Some(t) => distribution_point_name(der, &t)?,
            None => None,
        };
        if let Some(t) = inner.context(1)? {
            flags(der, implicit(&t, false)?)?;
        }
        if let Some(t) = inner.context(2)? {
            general_names(der, implicit(&t, true)?)?;
        }
        inner.finish("a DistributionPoint")?;
        out.push(name);
    }
    Ok(out)
}

/// authorityInfoAccess: the number of access descriptions.
pub(crate) fn authority_info_access(der: &[u8], e: &Extension) -> Result<usize> {
    let seq = extension_value(der, e, SEQUENCE, "AuthorityInfoAccessSyntax (SEQUENCE)")?;
    let mut r = Reader::inside(der, &seq);
    let mut n = 0;
    while !r.at_end() {
        let ad = r.expect(SEQUENCE, "an AccessDescription (SEQUENCE)")?;
        let mut inner = Reader::inside(der, &ad);
        oid(der, &inner.expect(OID, "an accessMethod")?)?;
        general_name(&mut inner)?;
        inner.finish("an AccessDescription")?;
        n += 1;
    }
    Ok(n)
}

/// issuingDistributionPoint of a CRL.
#[derive(Debug, Clone)]
pub(crate) struct IssuingDistributionPoint<'a> {
    /// `Some(None)`: named relative to the CRL issuer.
    pub(crate) distribution_point: Option<Option<Vec<GeneralName<'a>>>>,
    pub(crate) only_user: bool,
    pub(crate) only_ca: bool,
    pub(crate) only_some_reasons: bool,
    pub(crate) indirect: bool,
    pub(crate) only_attribute: bool,
}

pub(crate) fn issuing_distribution_point<'a>(
    der: &'a [u8],
    e: &Extension,
) -> Result<IssuingDistributionPoint<'a>> {
    let seq = extension_value(der, e, SEQUENCE, "IssuingDistributionPoint (SEQUENCE)")?;
    let mut r = Reader::inside(der, &seq);
    let distribution_point = match r.context(0)? {
        Some(t) => Some(distribution_point_name(der, &t)?),
        None => None,
    };
    let flag = |r: &mut Reader<'_>, n| -> Result<bool> {
        match r.context(n)? {
            Some(t) => boolean(der, implicit(&t, false)?),
            None => Ok(false),
        }
    };
    let only_user = flag(&mut r, 1)?;
    let only_ca = flag(&mut r, 2)?;
    let only_some_reasons = match r.context(3)? {
        Some(t) => {
            flags(der, implicit(&t, false)?)?;
            true
        }
        None => false,
    };
    let indirect = flag(&mut r, 4)?;
    let only_attribute = flag(&mut r, 5)?;
    r.finish("IssuingDistributionPoint")?;
    Ok(IssuingDistributionPoint {
        distribution_point,
        only_user,
        only_ca,
        only_some_reasons,
        indirect,
        only_attribute,
    })
}

/// The DER length octets of `n`.
pub(crate) fn push_length(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloc::string::ToString;

    /// The attribute names are const-oid registry's, for every type of the four arcs.
    #[test]
    fn attribute_names_are_the_registrys() {
        let arcs: [(&str, u32, u32); 4] = [
            ("2.5.4", 0, 100),
            ("0.9.2342.19200300.100.1", 1, 60),
            ("1.2.840.113549.1.9", 1, 30),
            ("1.3.6.1.4.1.311.60.2.1", 1, 3),
        ];
        let mut named = 0;
        for (arc, first, last) in arcs {
            for i in first..=last {
                let text = alloc::format!("{arc}.{i}");
                let oid = ObjectIdentifier::new(&text).unwrap();
                let registry = const_oid::db::DB
                    .find_names_for_oid(oid)
                    .fold(None::<&str>, |best, m| match best {
                        Some(b) if m.len() >= b.len() => Some(b),
                        _ => Some(m),
                    })
                    .map(|n| n.to_ascii_uppercase());
                let ours = ATTRIBUTE_NAMES
                    .iter()
                    .find(|(o, _)| *o == oid)
                    .map(|(_, n)| String::from(*n));
                assert_eq!(ours, registry, "{text}");
                named += usize::from(ours.is_some());
            }
        }
        assert_eq!(named, ATTRIBUTE_NAMES.len());
    }

    #[test]
    fn times_cover_the_rfc_5280_range() {
        assert_eq!(time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(time(0x17, b"650601120000Z"), Some(-144_676_800));
        assert_eq!(time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(0x18, b"20500101000000Z"), Some(2_524_608_000));
        assert_eq!(time(0x18, b"19500101000000Z"), Some(-631_152_000));
        assert_eq!(time(0x17, b"240229000000Z"), Some(1_709_164_800));
        for bad in [
            &b"230229000000Z"[..],
            b"700101000000",
            b"7001010000Z",
            b"701301000000Z",
            b"700101240000Z",
            b"70010100000aZ",
        ] {
            assert_eq!(time(0x17, bad), None, "{bad:?}");
        }
        for days in [-1_000_000i64, -1, 0, 59, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    /// Reads `der` as one TLV of any tag; the error text, or the contents.
    fn read(der: &[u8]) -> core::result::Result<Vec<u8>, String> {
        let mut r = Reader::new(der);
        let t = r.any().map_err(|e| e.to_string())?;
        r.finish("the input").map_err(|e| e.to_string())?;
        Ok(der[t.contents()].to_vec())
    }

    #[test]
    fn lengths_and_tags_are_strict_der() {
        assert_eq!(read(&[0x04, 0x01, 0xaa]), Ok(alloc::vec![0xaa]));
        let cases: [(&[u8], &str); 9] = [
            (
                &[0x04, 0x80, 0x00, 0x00],
                "an indefinite length (BER, not DER) at DER byte 1",
            ),
            (
                &[0x04, 0x81, 0x01, 0xaa],
                "a length not in the fewest octets (not DER) at DER byte 1",
            ),
            (
                &[0x04, 0x82, 0x00, 0x81],
                "a length not in the fewest octets (not DER) at DER byte 1",
            ),
            (
                &[0x04, 0x85, 1, 0, 0, 0, 0],
                "a length of more than four octets at DER byte 1",
            ),
            (
                &[0x04, 0x84, 0x10, 0, 0, 0],
                "a length over 256 MiB at DER byte 1",
            ),
            (
                &[0x04, 0x02, 0xaa],
                "truncated: a length that runs past the end of its container at DER byte 0",
            ),
            (
                &[0x04, 0x01, 0xaa, 0x00],
                "unexpected data at the end of the input at DER byte 3",
            ),
            (
                &[0x1f, 0x01, 0x00],
                "tag 0x1f, which DER here does not allow at DER byte 0",
            ),
            (
                &[0x1c, 0x00],
                "tag 0x1c, which DER here does not allow at DER byte 0",
            ),
        ];
        for (der, want) in cases {
            assert_eq!(read(der), Err(want.into()), "{der:02x?}");
        }
    }

    #[test]
    fn primitives_are_canonical() {
        let tlv = |der: &[u8]| Reader::new(der).any().unwrap();
        let b = |der: &[u8]| boolean(der, &tlv(der)).map_err(|e| e.to_string());
        assert_eq!(b(&[1, 1, 0xff]), Ok(true));
        assert_eq!(b(&[1, 1, 0]), Ok(false));
        assert!(b(&[1, 1, 1]).is_err());
        assert!(b(&[1, 2, 0, 0]).is_err());
        let u = |der: &[u8]| small_unsigned(der, &tlv(der), 1).map_err(|e| e.to_string());
        assert_eq!(u(&[2, 1, 5]), Ok(5));
        assert_eq!(u(&[2, 2, 0, 0xff]), Ok(255));
        assert!(u(&[2, 2, 0, 5]).is_err());
        assert!(u(&[2, 1, 0x80]).is_err());
        assert!(u(&[2, 2, 1, 0]).is_err());
        assert!(u(&[2, 0]).is_err());
        let s = |der: &[u8]| signed(der, &tlv(der)).map(<[u8]>::to_vec);
        assert_eq!(s(&[2, 1, 0x80]), Ok(alloc::vec![0x80]));
        assert!(s(&[2, 2, 0xff, 0x80]).is_err());
        assert!(s(&[2, 2, 0x00, 0x7f]).is_err());
        let bits = |der: &[u8]| bit_string(der, &tlv(der)).map(|b| (b.unused, b.bytes.to_vec()));
        assert_eq!(bits(&[3, 2, 7, 0x80]).unwrap(), (7, alloc::vec![0x80]));
        assert!(bits(&[3, 2, 8, 0x80]).is_err());
        assert!(bits(&[3, 1, 1]).is_err());
        assert!(bits(&[3, 0]).is_err());
        let ku = |der: &[u8]| flags(der, &tlv(der)).unwrap();
        assert_eq!(ku(&[3, 2, 7, 0x80]), 1);
        // Bits beyond the unused count do not count.
        assert_eq!(ku(&[3, 2, 2, 0x06]), 1 << 5);
    }

    #[test]
    fn context_fields_are_found_as_der_found_them() {
        // [1] then [0] then [2]: looking for [0] stops at [1]; looking for [2] skips [0].
        let der = [0x81, 0x00, 0x80, 0x00, 0x82, 0x00];
        let mut r = Reader::new(&der);
        assert_eq!(r.context(0).unwrap(), None);
        assert_eq!(r.context(1).unwrap().map(|t| t.tag), Some(0x81));
        assert_eq!(r.context(2).unwrap().map(|t| t.tag), Some(0x82));
        assert!(r.at_end());
    }

    fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let body: Vec<u8> = parts.concat();
        let mut out = alloc::vec![tag];
        push_length(&mut out, body.len());
        out.extend(body);
        out
    }

    #[test]
    fn names_sort_like_der_and_print_as_rfc_4514() {
        let atv =
            |oid: &[u8], tag: u8, v: &[u8]| tlv(SEQUENCE, &[&tlv(OID, &[oid]), &tlv(tag, &[v])]);
        let (cn, o, c) = ([0x55, 4, 3], [0x55, 4, 10], [0x55, 4, 6]);
        // RDN 1: O=b+CN=a (out of order: der sorts them, by length first); RDN 2: C=US.
        let der = tlv(
            SEQUENCE,
            &[
                &tlv(SET, &[&atv(&c, PRINTABLE_STRING, b"US")]),
                &tlv(
                    SET,
                    &[
                        &atv(&o, UTF8_STRING, b"b,c"),
                        &atv(&cn, PRINTABLE_STRING, b"a"),
                    ],
                ),
            ],
        );
        let n = name(&der, &Reader::new(&der).any().unwrap()).unwrap();
        assert_eq!(n.to_rfc4514(), "CN=a+O=b\\,c,C=US");
        // A value that is not a string, and a type without a name.
        let der = tlv(
            SEQUENCE,
            &[&tlv(SET, &[&atv(&[0x2a, 3, 4], INTEGER, &[5])])],
        );
        let n = name(&der, &Reader::new(&der).any().unwrap()).unwrap();
        assert_eq!(n.to_rfc4514(), "1.2.3.4=#020105");
        // RFC 4514 2.4 escapes: a leading `#` or space, a trailing space, the specials,
        // control characters as hex; other characters, non-ASCII included, as they are.
        for (value, text) in [
            ("#a #", "CN=\\#a #"),
            (" a b ", "CN=\\ a b\\ "),
            (" ", "CN=\\ "),
            ("a\"+,;<>\\z", "CN=a\\\"\\+\\,\\;\\<\\>\\\\z"),
            ("a\u{1}b\u{7f}", "CN=a\\01b\\7f"),
            ("é,ü", "CN=é\\,ü"),
            ("", "CN="),
        ] {
            let der = tlv(
                SEQUENCE,
                &[&tlv(SET, &[&atv(&cn, UTF8_STRING, value.as_bytes())])],
            );
            let n = name(&der, &Reader::new(&der).any().unwrap()).unwrap();
            assert_eq!(n.to_rfc4514(), text, "{value:?}");
        }
        // The same attribute twice in one RDN.
        let twice = atv(&cn, PRINTABLE_STRING, b"a");
        let der = tlv(SEQUENCE, &[&tlv(SET, &[&twice, &twice])]);
        assert!(name(&der, &Reader::new(&der).any().unwrap()).is_err());
    }
}
