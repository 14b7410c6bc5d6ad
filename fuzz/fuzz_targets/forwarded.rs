//! Every forwarded-certificate decoder on hostile header values (what a proxy, or a client
//! behind a misconfigured proxy, can put in front of certclaims).
//!
//! Input: byte 0 picks the format, byte 1 the options (XFCC element mode, strip/reject,
//! trusted or untrusted peer), the rest is header values separated by `\n`: the certificate
//! header, then the chain header(s).
#![no_main]

use certclaims::forwarded::{Format, Forwarder, Headers, Untrusted, XfccElement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [f, opts, rest @ ..] = data else { return };
    let format = Format::ALL[usize::from(*f) % Format::ALL.len()];
    let Ok(mut fwd) = Forwarder::new(format, ["10.0.0.0/8"]) else { return };
    if format == Format::Xfcc && opts & 1 == 1 {
        fwd.xfcc_element = XfccElement::Only;
    }
    if opts & 2 == 2 {
        fwd.untrusted = Untrusted::Strip;
    }
    fwd.max_certificates = 1 + usize::from(opts >> 4);
    let Ok(fwd) = fwd.check() else { return };
    let mut values = rest.split(|&b| b == b'\n');
    let mut headers: Vec<(String, &[u8])> = Vec::new();
    if let Some(v) = values.next() {
        headers.push((fwd.header().to_string(), v));
    }
    let chain_name = format.default_chain_header().unwrap_or("client-cert-chain");
    for (n, v) in values.enumerate() {
        headers.push((chain_name.replace("{n}", &n.to_string()), v));
    }
    assert!(headers.is_empty() || fwd.carries_forwarded_headers(&headers));
    match fwd.extract(&headers) {
        Ok(chain) => {
            assert!(chain.certs().len() <= fwd.max_certificates);
            for c in chain.certs() {
                let _ = certclaims::inspect(c);
            }
        }
        Err(r) => {
            let _ = r.to_json();
        }
    }
    let _ = headers.get_all("x");
});
