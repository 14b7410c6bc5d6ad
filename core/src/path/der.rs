//! The few DER reads the engine needs beside x509-cert's decoding: where the signed bytes,
//! the algorithm identifiers and the key sit in a certificate (signatures are checked over
//! the exact bytes received, never over a re-encoding), and validity times over the whole
//! RFC 5280 range (x509-cert stops at 1970).

use alloc::vec::Vec;
use core::ops::Range;

/// One TLV: its tag, where its value starts, and where it ends, as offsets into the input.
#[derive(Debug, Clone, Copy)]
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
}

/// Reads the TLV at `at` in `input` (single-byte tags, definite lengths up to 4 bytes).
pub(crate) fn tlv(input: &[u8], at: usize) -> Option<Tlv> {
    let tag = *input.get(at)?;
    let first = *input.get(at + 1)?;
    let (len, value) = if first < 0x80 {
        (usize::from(first), at + 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*input.get(at + 2 + i)?);
        }
        (len, at + 2 + n)
    };
    let end = value.checked_add(len)?;
    (end <= input.len()).then_some(Tlv {
        tag,
        start: at,
        value,
        end,
    })
}

/// The children of a constructed TLV, in order.
pub(crate) fn children(input: &[u8], parent: &Tlv) -> Option<Vec<Tlv>> {
    let mut out = Vec::new();
    let mut at = parent.value;
    while at < parent.end {
        let child = tlv(&input[..parent.end], at)?;
        at = child.end;
        out.push(child);
    }
    Some(out)
}

/// Where a signed structure's parts are (a certificate or a CRL:
/// `SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING }`).
#[derive(Debug, Clone)]
pub(crate) struct SignedLayout {
    /// The to-be-signed structure, tag and length included: the signed bytes.
    pub(crate) tbs: Range<usize>,
    /// The contents of the outer AlgorithmIdentifier (as rustls-pki-types compares them).
    pub(crate) sig_alg: Range<usize>,
    /// The contents of the tbs's own signature AlgorithmIdentifier (its third field in a
    /// certificate, second in a CRL).
    pub(crate) inner_sig_alg: Range<usize>,
    /// The signature: the BIT STRING's bits (without the unused-bits octet, which must be 0).
    pub(crate) signature: Range<usize>,
    /// The tbs's fields.
    pub(crate) fields: Vec<Tlv>,
}

/// Locates the parts of a signed structure; `inner_index` is the position of the signature
/// algorithm inside the tbs when no version field precedes it (certificate: 1 after the
/// serial; CRL: 0).
pub(crate) fn signed_layout(der: &[u8], inner_index: usize) -> Option<SignedLayout> {
    let outer = tlv(der, 0)?;
    if outer.tag != 0x30 || outer.end != der.len() {
        return None;
    }
    let parts = children(der, &outer)?;
    let [tbs, alg, sig] = parts.as_slice() else {
        return None;
    };
    if tbs.tag != 0x30 || alg.tag != 0x30 || sig.tag != 0x03 || sig.value >= sig.end {
        return None;
    }
    if der[sig.value] != 0 {
        return None;
    }
    let fields = children(der, tbs)?;
    // An explicit [0] version (certificate) or an INTEGER version (CRL) shifts the fields.
    let skip = match fields.first()?.tag {
        0xa0 => 1,
        0x02 if inner_index == 0 => 1,
        _ => 0,
    };
    let inner = fields.get(skip + inner_index)?;
    if inner.tag != 0x30 {
        return None;
    }
    Some(SignedLayout {
        tbs: tbs.whole(),
        sig_alg: alg.contents(),
        inner_sig_alg: inner.contents(),
        signature: sig.value + 1..sig.end,
        fields: fields[skip..].to_vec(),
    })
}

/// Where a SubjectPublicKeyInfo's parts are: the AlgorithmIdentifier's contents and the
/// key's bits, as offsets into `der` (the SPKI starts at `spki.start`).
pub(crate) fn spki_layout(der: &[u8], spki: &Tlv) -> Option<(Range<usize>, Range<usize>)> {
    let parts = children(der, spki)?;
    let [alg, key] = parts.as_slice() else {
        return None;
    };
    if alg.tag != 0x30 || key.tag != 0x03 || key.value >= key.end || der[key.value] != 0 {
        return None;
    }
    Some((alg.contents(), key.value + 1..key.end))
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
        (0x17, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 15) => (digits(&text[..4])?, &text[4..]),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
