//! Policy JSON parsing and validator building from arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = certclaims::Policy::from_json(text) {
        let _ = certclaims::Validator::from_policy(&policy, certclaims::crypto::ALL);
    }
    let _ = certclaims::policy::Matcher::from_json(text);
});
