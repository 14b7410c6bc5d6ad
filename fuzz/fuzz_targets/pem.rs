//! PEM chain input from arbitrary bytes (what the CLI and adapters read from files).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(chain) = certclaims::Chain::from_pem(data) {
        assert!(!chain.certs().is_empty());
        for cert in chain.certs() {
            let _ = certclaims::inspect(cert);
        }
    }
});
