//! # certclaims-wasm
//!
//! The certclaims engine for edge workers: a thin wasm-bindgen facade over the core, shipped
//! as the npm package `certclaims` (see `wasm/js/` for the JavaScript API and its TypeScript
//! types). Everything that decides lives in the core; this crate converts values:
//!
//! - [`Engine`]: a policy, parsed and checked once; `verifyPem` / `verifyDer` validate a chain
//!   at a time given in seconds (the core never reads a clock: `Date.now()` comes from JS);
//!   `authenticate` decodes a forwarded-certificate header with a [`ForwarderConfig`].
//! - Outcomes are plain objects: `{ ok: true, principal }` or `{ ok: false, error: { code,
//!   message, step, status } }`. A bad policy or forwarder document throws
//!   `{ name: "PolicyError", code: "invalid_policy" | "invalid_forwarder", message }`: the
//!   operator's mistake, not the client's.
//!
//! Signature algorithms are the core's pure-Rust set (`certclaims::crypto::ALL`).

use certclaims::forwarded::Forwarder;
use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::{Chain, Code, Principal, Rejection, Step, Validator};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// A policy, parsed and checked once, and the validator it configures.
#[wasm_bindgen]
pub struct Engine {
    validator: Validator,
}

/// A forwarder document, parsed and checked once.
#[wasm_bindgen]
pub struct ForwarderConfig {
    inner: Forwarder,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Outcome<'a> {
    Ok { ok: bool, principal: &'a Principal },
    Err { ok: bool, error: ErrorBody },
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    step: &'static str,
    status: u16,
}

#[derive(Serialize)]
struct Thrown<'a> {
    name: &'static str,
    code: &'static str,
    message: &'a str,
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .unwrap_or_else(|e| JsValue::from_str(&e.to_string()))
}

fn outcome(result: Result<Principal, Rejection>) -> JsValue {
    match &result {
        Ok(principal) => to_js(&Outcome::Ok {
            ok: true,
            principal,
        }),
        Err(r) => to_js(&Outcome::Err {
            ok: false,
            error: ErrorBody {
                code: r.code().as_str(),
                message: r.detail().to_string(),
                step: r.step().as_str(),
                status: r.http_status(),
            },
        }),
    }
}

fn thrown(code: &'static str, message: &str) -> JsValue {
    to_js(&Thrown {
        name: "PolicyError",
        code,
        message,
    })
}

/// Seconds since the epoch from JS (`Date.getTime() / 1000`); a time before 1970, or not a
/// number, is a rejection rather than a guess.
fn time(at_secs: f64) -> Result<UnixTime, Rejection> {
    if !at_secs.is_finite() || !(0.0..=253_402_300_799.0).contains(&at_secs) {
        return Err(Rejection::new(
            Code::Malformed,
            Step::Input,
            "the validation time must be a date between 1970 and 9999",
        ));
    }
    // Whole seconds: truncation toward zero of a non-negative finite value in range.
    let secs = at_secs.trunc() as u64;
    Ok(UnixTime::since_unix_epoch(core::time::Duration::from_secs(
        secs,
    )))
}

#[wasm_bindgen]
impl Engine {
    /// Parses and checks a policy document (JSON text). Throws a `PolicyError` object with
    /// the same dotted-path message as the CLI.
    #[wasm_bindgen(constructor)]
    pub fn new(
        policy_json: &str,
        cache_capacity: u32,
        cache_ttl_secs: u32,
        cache_rejection_ttl_secs: u32,
    ) -> Result<Engine, JsValue> {
        let cache = certclaims::CacheOptions::new(
            cache_capacity as usize,
            core::time::Duration::from_secs(cache_ttl_secs.into()),
            core::time::Duration::from_secs(cache_rejection_ttl_secs.into()),
        );
        Validator::from_policy_json(policy_json, certclaims::crypto::ALL)
            .map(|validator| Engine {
                validator: validator.with_cache(cache),
            })
            .map_err(|e| thrown("invalid_policy", &e.to_string()))
    }

    /// Validates a PEM chain (leaf first) at `at_secs`.
    #[wasm_bindgen(js_name = verifyPem)]
    pub fn verify_pem(&self, pem: &str, at_secs: f64) -> JsValue {
        outcome(time(at_secs).and_then(|now| {
            Chain::from_pem(pem.as_bytes()).and_then(|c| self.validator.verify_chain(&c, now))
        }))
    }

    /// Validates DER certificates (leaf first) at `at_secs`.
    #[wasm_bindgen(js_name = verifyDer)]
    pub fn verify_der(&self, certs: Vec<js_sys::Uint8Array>, at_secs: f64) -> JsValue {
        let certs: Vec<CertificateDer<'static>> = certs
            .iter()
            .map(|c| CertificateDer::from(c.to_vec()))
            .collect();
        outcome(time(at_secs).and_then(|now| {
            Chain::from_der(certs).and_then(|c| self.validator.verify_chain(&c, now))
        }))
    }

    /// Decodes the certificate a forwarder sent in `headers` (a flat list: name, value, name,
    /// value, …) on a request from `peer` (an IP address; none means an unknown sender, which
    /// is never trusted), validates it at `at_secs` and applies the policy.
    pub fn authenticate(
        &self,
        forwarder: &ForwarderConfig,
        headers: Vec<String>,
        peer: Option<String>,
        at_secs: f64,
    ) -> JsValue {
        let pairs: Vec<(&str, &str)> = headers
            .chunks_exact(2)
            .map(|p| (p[0].as_str(), p[1].as_str()))
            .collect();
        let f = &forwarder.inner;
        let result = time(at_secs).and_then(|now| {
            match peer
                .as_deref()
                .and_then(|p| p.parse::<core::net::IpAddr>().ok())
            {
                Some(ip) => f.authenticate(&self.validator, ip, &pairs, now),
                None if f.carries_forwarded_headers(&pairs) => Err(f.untrusted_rejection()),
                None => Err(Rejection::no_certificate()),
            }
        });
        outcome(result)
    }
}

/// What `authenticate(request, { source: "cloudflare" })` reads of Cloudflare's
/// `request.cf.tlsClientAuth` (the "client certificate variables"; the values are strings).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TlsClientAuth {
    cert_presented: String,
    cert_verified: String,
    cert_revoked: String,
    #[serde(rename = "certRFC9440")]
    cert_rfc9440: String,
    #[serde(rename = "certRFC9440TooLarge")]
    cert_rfc9440_too_large: bool,
    #[serde(rename = "certChainRFC9440")]
    cert_chain_rfc9440: String,
    #[serde(rename = "certChainRFC9440TooLarge")]
    cert_chain_rfc9440_too_large: bool,
}

fn check_failed(detail: String) -> Rejection {
    Rejection::new(Code::ForwarderCheckFailed, Step::Input, detail)
}

#[wasm_bindgen]
impl Engine {
    /// The principal of a Cloudflare Workers request from `request.cf.tlsClientAuth` (pass
    /// the object, or undefined). Only the platform's values count: no header is read. The
    /// chain is re-validated against the policy; with `agree`, Cloudflare's own verdict
    /// (`certVerified`, `certRevoked`) must agree with certclaims' acceptance.
    pub fn cloudflare(&self, tls_client_auth: JsValue, agree: bool, at_secs: f64) -> JsValue {
        let t: TlsClientAuth = if tls_client_auth.is_undefined() || tls_client_auth.is_null() {
            TlsClientAuth::default()
        } else {
            match serde_wasm_bindgen::from_value(tls_client_auth) {
                Ok(t) => t,
                Err(e) => {
                    return outcome(Err(Rejection::new(
                        Code::MalformedHeader,
                        Step::Input,
                        format!("request.cf.tlsClientAuth is not Cloudflare's shape: {e}"),
                    )))
                }
            }
        };
        let result = (|| {
            let now = time(at_secs)?;
            if t.cert_presented != "1" {
                return Err(Rejection::no_certificate());
            }
            for (too_large, name) in [
                (t.cert_rfc9440_too_large, "certRFC9440"),
                (t.cert_chain_rfc9440_too_large, "certChainRFC9440"),
            ] {
                if too_large {
                    return Err(check_failed(format!(
                        "Cloudflare left out `{name}`: the certificate exceeds the platform's \
                         size limit ({name}TooLarge); use smaller certificates or chains"
                    )));
                }
            }
            let chain = certclaims::forwarded::decode_rfc9440(
                t.cert_rfc9440.as_bytes(),
                t.cert_chain_rfc9440.as_bytes(),
                "certRFC9440",
                "certChainRFC9440",
            )?;
            let verdict = self.validator.verify_from(
                chain.leaf(),
                chain.intermediates(),
                now,
                certclaims::Source::Forwarded,
            );
            if agree {
                if verdict.is_ok() && t.cert_verified != "SUCCESS" {
                    return Err(check_failed(format!(
                        "Cloudflare did not verify the certificate (certVerified `{}`) that \
                         certclaims accepts: check the zone's mTLS CA configuration",
                        t.cert_verified.chars().take(60).collect::<String>()
                    )));
                }
                if verdict.is_ok() && t.cert_revoked == "1" {
                    return Err(check_failed(
                        "Cloudflare reports the certificate revoked (certRevoked)".into(),
                    ));
                }
            }
            verdict
        })();
        outcome(result)
    }
}

#[wasm_bindgen]
impl ForwarderConfig {
    /// Parses and checks a forwarder document (JSON text). Throws a `PolicyError` object.
    #[wasm_bindgen(constructor)]
    pub fn new(json: &str) -> Result<ForwarderConfig, JsValue> {
        Forwarder::from_json(json)
            .map(|inner| ForwarderConfig { inner })
            .map_err(|e| thrown("invalid_forwarder", &e.to_string()))
    }

    /// The header that carries the certificate (lower case).
    #[wasm_bindgen(getter)]
    pub fn header(&self) -> String {
        self.inner.header().to_string()
    }

    /// Whether `name` is a header this forwarder reads (hosts remove these before handing a
    /// request on).
    #[wasm_bindgen(js_name = readsHeader)]
    pub fn reads_header(&self, name: &str) -> bool {
        self.inner.reads_header(name)
    }
}
