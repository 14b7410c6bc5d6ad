//! The record format of the `chain` and `differential` targets: a sequence of
//! `[u16 big-endian length][DER]`, at most `max` records (a short last one is cut to what is
//! left).

pub fn records(mut data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while data.len() >= 2 && out.len() < max {
        let n = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let rest = &data[2..];
        let n = n.min(rest.len());
        out.push(&rest[..n]);
        data = &rest[n..];
    }
    out
}
