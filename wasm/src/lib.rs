//! # certclaims-wasm
//!
//! The certclaims engine for edge workers: a thin wasm-bindgen facade over the core, shipped
//! as the npm package `certclaims` (see `wasm/js/` for the JavaScript API and its TypeScript
//! types). Everything that decides lives in the core; this crate converts values:
//!
//! - [`Engine`]: a policy, parsed and checked once; `verifyPem` / `verifyDer` validate a chain
//!   at a time given in seconds (the core never reads a clock: `Date.now()` comes from JS);
//!   `authenticate` decodes a forwarded-certificate header with a [`ForwarderConfig`].
//! - Outcomes cross as JSON text that the JS API parses: an accepted chain's principal as
//!   the array of its JSON form's values ([`Principal::as_json_values`], kept by the
//!   principal, so a cache hit is not serialized again), from which JS rebuilds the form's
//!   object and returns `{ ok: true, principal }`, or
//!   `{ ok: false, error: { code, message, step, status } }`. A bad policy or forwarder
//!   document throws the JSON text of `{ name: "PolicyError", code: "invalid_policy" |
//!   "invalid_forwarder", message }`: the operator's mistake, not the client's.
//!
//! Signatures: each call runs the validation's first round and returns its outcome when that
//! finishes it, or else a [`Verification`] that JS steps until it is done. Where the host has
//! synchronous crypto (`node:crypto` in Node, Deno and Bun), JS passes it along and the round
//! calls it for each signature ([`SyncVerifier`]): a chain finishes in that one call, with no
//! `Verification` object for JS to make and free; otherwise JS answers the requests of each
//! round with `crypto.subtle.verify` (see `certclaims::host` for the protocol and what is
//! delegated). ECDSA P-256/P-384 and RSA go to WebCrypto, which every target host has (they
//! are Web Crypto's baseline); Ed25519 is always verified in Rust (`certclaims::crypto::ALL`
//! with the feature `rustcrypto-ed25519`), where its strict rules are the same everywhere.
//! The feature `rustcrypto-all` builds a module with the whole pure-Rust set, for a host
//! without WebCrypto (answers "unsupported" fall back to it) and for the test that compares
//! it with WebCrypto.

use std::rc::Rc;

use certclaims::forwarded::Forwarder;
use certclaims::host::{DeferredVerification, HostAlgorithm, HostAnswer, HostKey, Progress};
use certclaims::pki_types::{CertificateDer, UnixTime};
use certclaims::{Chain, Code, Principal, Rejection, Source, Step, Validator};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// A policy, parsed and checked once, and the validator it configures.
#[wasm_bindgen]
pub struct Engine {
    validator: Rc<Validator>,
    /// What the host's WebCrypto is asked for (empty: everything in Rust).
    host: &'static [HostAlgorithm],
    keys: Rc<KeyIds>,
}

/// One validation in progress, after its first round (run by the call that began it): answer
/// `pending()`, then `step()` (or `stepWith`) until it returns an outcome.
#[wasm_bindgen]
pub struct Verification {
    validator: Rc<Validator>,
    keys: Rc<KeyIds>,
    inner: DeferredVerification,
    /// Cloudflare's own verdict (`certVerified`, `certRevoked`), when it must agree.
    cloudflare: Option<(String, String)>,
}

/// A forwarder document, parsed and checked once.
#[wasm_bindgen]
pub struct ForwarderConfig {
    inner: Forwarder,
}

#[derive(Serialize)]
struct Failure {
    ok: bool,
    error: ErrorBody,
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

/// Should serializing fail (it cannot for these plain values), the caller sees a rejection.
const UNSERIALIZABLE: &str = r#"{"ok":false,"error":{"code":"malformed","message":"the outcome could not be serialized","step":"input","status":400}}"#;

/// Values cross to JS as JSON text (`JSON.parse` on the JS side): one serializer in the
/// module, serde_json's, and the same documents as natively.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    JsValue::from_str(&serde_json::to_string(value).unwrap_or_else(|_| UNSERIALIZABLE.into()))
}

fn outcome(result: Result<Principal, Rejection>) -> JsValue {
    match &result {
        // The principal's values as JSON text, which it keeps: a cache hit returns the same
        // principal, serialized once. JS rebuilds the principal from the array and wraps it
        // as `{ ok: true, principal }`.
        Ok(principal) => JsValue::from_str(principal.as_json_values()),
        Err(r) => to_js(&Failure {
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
        webcrypto: bool,
    ) -> Result<Engine, JsValue> {
        let cache = certclaims::CacheOptions::new(
            cache_capacity as usize,
            core::time::Duration::from_secs(cache_ttl_secs.into()),
            core::time::Duration::from_secs(cache_rejection_ttl_secs.into()),
        );
        Validator::from_policy_json(policy_json, certclaims::crypto::ALL)
            .map(|validator| Engine {
                validator: Rc::new(validator.with_cache(cache)),
                host: if webcrypto { HostAlgorithm::ALL } else { &[] },
                keys: Rc::default(),
            })
            .map_err(|e| thrown("invalid_policy", &e.to_string()))
    }

    /// Validates a PEM chain (leaf first, its UTF-8 bytes: JS passes `TextEncoder`'s
    /// output, which the host encodes natively, rather than a string that the glue would copy
    /// into the module one character at a time) at `at_secs`. Like every validation here, it
    /// runs the first round at once, with `sync` when the host has one ([`SyncVerifier`]),
    /// and returns the outcome's JSON text when that finishes it (no [`Verification`] is made
    /// for JS), or the `Verification` to step on.
    #[wasm_bindgen(js_name = verifyPem)]
    pub fn verify_pem(&self, pem: &[u8], at_secs: f64, sync: Option<SyncVerifier>) -> JsValue {
        first_round(self.pem_verification(pem, at_secs, sync.as_ref()), sync)
    }

    /// Validates DER certificates (leaf first) at `at_secs` (returns as `verifyPem`).
    #[wasm_bindgen(js_name = verifyDer)]
    pub fn verify_der(
        &self,
        certs: Vec<js_sys::Uint8Array>,
        at_secs: f64,
        sync: Option<SyncVerifier>,
    ) -> JsValue {
        first_round(self.der_verification(certs, at_secs, sync.as_ref()), sync)
    }

    /// Decodes the certificate a forwarder sent in the request's headers on a request from
    /// `peer` (an IP address; none means an unknown sender, which is never trusted),
    /// validates it at `at_secs` and applies the policy (returns as `verifyPem`). The headers
    /// cross as `text`, their names and values in UTF-8 one after the other (JS encodes them
    /// natively, as for `verifyPem`, where a list of strings would be copied into the module
    /// one character at a time), and `lengths`, the byte length of each: name, value, name,
    /// value, ….
    pub fn authenticate(
        &self,
        forwarder: &ForwarderConfig,
        text: &[u8],
        lengths: &[u32],
        peer: Option<String>,
        at_secs: f64,
        sync: Option<SyncVerifier>,
    ) -> JsValue {
        first_round(
            self.forwarded_verification(forwarder, text, lengths, peer, at_secs, sync.as_ref()),
            sync,
        )
    }
}

/// The (name, value) pairs of headers that crossed as `text` and the byte `lengths` of
/// each name and value ([`Engine::authenticate`]); `None` unless the lengths come in pairs,
/// cover `text` exactly and cut it into UTF-8 strings.
fn header_pairs<'a>(text: &'a [u8], lengths: &[u32]) -> Option<Vec<(&'a str, &'a str)>> {
    if lengths.len() % 2 != 0 {
        return None;
    }
    let mut rest = text;
    let mut next = |len: u32| -> Option<&'a str> {
        let len = usize::try_from(len).ok()?;
        if len > rest.len() {
            return None;
        }
        let (s, after) = rest.split_at(len);
        rest = after;
        core::str::from_utf8(s).ok()
    };
    let mut pairs = Vec::with_capacity(lengths.len() / 2);
    for pair in lengths.chunks_exact(2) {
        pairs.push((next(pair[0])?, next(pair[1])?));
    }
    rest.is_empty().then_some(pairs)
}

/// Runs the first round of `v` (see [`Engine::verify_pem`]).
fn first_round(mut v: Verification, sync: Option<SyncVerifier>) -> JsValue {
    let outcome = match &sync {
        Some(sync) => v.step_with(sync),
        None => v.step(),
    };
    if outcome.is_undefined() {
        JsValue::from(v)
    } else {
        outcome
    }
}

impl Engine {
    fn pem_verification(
        &self,
        pem: &[u8],
        at_secs: f64,
        sync: Option<&SyncVerifier>,
    ) -> Verification {
        match time(at_secs).and_then(|now| Ok((Chain::from_pem(pem)?, now))) {
            Ok((chain, now)) => self.chain(&chain, now, sync),
            Err(r) => self.decided(Err(r)),
        }
    }

    fn der_verification(
        &self,
        certs: Vec<js_sys::Uint8Array>,
        at_secs: f64,
        sync: Option<&SyncVerifier>,
    ) -> Verification {
        let certs: Vec<CertificateDer<'static>> = certs
            .iter()
            .map(|c| CertificateDer::from(c.to_vec()))
            .collect();
        match time(at_secs).and_then(|now| Ok((Chain::from_der(certs)?, now))) {
            Ok((chain, now)) => self.chain(&chain, now, sync),
            Err(r) => self.decided(Err(r)),
        }
    }

    fn forwarded_verification(
        &self,
        forwarder: &ForwarderConfig,
        text: &[u8],
        lengths: &[u32],
        peer: Option<String>,
        at_secs: f64,
        sync: Option<&SyncVerifier>,
    ) -> Verification {
        let Some(pairs) = header_pairs(text, lengths) else {
            // Not what common.js sends: refused rather than read some other way.
            return self.decided(Err(Rejection::new(
                Code::Malformed,
                Step::Input,
                "the request's headers did not reach the module intact (names and values \
                 of the lengths given, in UTF-8): pass `request.headers` as fetch `Headers` \
                 or [name, value] string pairs",
            )));
        };
        let f = &forwarder.inner;
        let now = match time(at_secs) {
            Ok(now) => now,
            Err(r) => return self.decided(Err(r)),
        };
        match peer
            .as_deref()
            .and_then(|p| p.parse::<core::net::IpAddr>().ok())
        {
            Some(ip) => self.started(
                f.authenticate_deferred(
                    &self.validator,
                    ip,
                    &pairs,
                    now,
                    self.host,
                    sync.map(host_sha256).as_ref().map(|d| d as _),
                ),
                None,
            ),
            None if f.carries_forwarded_headers(&pairs) => {
                self.decided(Err(f.untrusted_rejection()))
            }
            None => self.decided(Err(Rejection::no_certificate())),
        }
    }

    fn started(
        &self,
        inner: DeferredVerification,
        cloudflare: Option<(String, String)>,
    ) -> Verification {
        Verification {
            validator: Rc::clone(&self.validator),
            keys: Rc::clone(&self.keys),
            inner,
            cloudflare,
        }
    }

    fn decided(&self, outcome: Result<Principal, Rejection>) -> Verification {
        self.started(DeferredVerification::decided(outcome), None)
    }

    fn chain(&self, chain: &Chain<'_>, now: UnixTime, sync: Option<&SyncVerifier>) -> Verification {
        let digest = sync.map(host_sha256);
        self.started(
            self.validator.verify_deferred(
                chain.leaf(),
                chain.intermediates(),
                now,
                Source::Direct,
                self.host,
                digest.as_ref().map(|d| d as _),
            ),
            None,
        )
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
    /// (`certVerified`, `certRevoked`) must agree with certclaims' acceptance. Returns as
    /// `verifyPem`.
    pub fn cloudflare(
        &self,
        tls_client_auth: Option<String>,
        agree: bool,
        at_secs: f64,
        sync: Option<SyncVerifier>,
    ) -> JsValue {
        first_round(
            self.cloudflare_verification(tls_client_auth, agree, at_secs, sync.as_ref()),
            sync,
        )
    }
}

impl Engine {
    fn cloudflare_verification(
        &self,
        tls_client_auth: Option<String>,
        agree: bool,
        at_secs: f64,
        sync: Option<&SyncVerifier>,
    ) -> Verification {
        let t: TlsClientAuth = match tls_client_auth.as_deref() {
            None | Some("null") => TlsClientAuth::default(),
            Some(json) => match serde_json::from_str(json) {
                Ok(t) => t,
                Err(e) => {
                    return self.decided(Err(Rejection::new(
                        Code::MalformedHeader,
                        Step::Input,
                        format!("request.cf.tlsClientAuth is not Cloudflare's shape: {e}"),
                    )))
                }
            },
        };
        let chain = (|| {
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
            Ok((chain, now))
        })();
        match chain {
            Err(r) => self.decided(Err(r)),
            Ok((chain, now)) => self.started(
                self.validator.verify_deferred(
                    chain.leaf(),
                    chain.intermediates(),
                    now,
                    Source::Forwarded,
                    self.host,
                    sync.map(host_sha256).as_ref().map(|d| d as _),
                ),
                agree.then_some((t.cert_verified, t.cert_revoked)),
            ),
        }
    }
}

/// Cloudflare's verdict must agree with an acceptance.
fn cloudflare_agrees(verified: &str, revoked: &str) -> Result<(), Rejection> {
    if verified != "SUCCESS" {
        return Err(check_failed(format!(
            "Cloudflare did not verify the certificate (certVerified `{}`) that certclaims \
             accepts: check the zone's mTLS CA configuration",
            verified.chars().take(60).collect::<String>()
        )));
    }
    if revoked == "1" {
        return Err(check_failed(
            "Cloudflare reports the certificate revoked (certRevoked)".into(),
        ));
    }
    Ok(())
}

fn bytes(b: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(b).into()
}

fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
    // Setting a property of a plain object cannot fail.
    let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), v);
}

#[wasm_bindgen]
extern "C" {
    /// A host's synchronous signature check (`node:crypto`'s `verify`, in Node, Deno and
    /// Bun): `verify(keyId, key, hash, saltLength, spki, message, signature)` with the
    /// arguments of a `pending()` request, `key` and `hash` as numbers (`key` indexes
    /// `["P-256", "P-384", "RSASSA-PKCS1-v1_5", "RSA-PSS"]`, `hash` indexes `["SHA-256",
    /// "SHA-384", "SHA-512"]`: no string crosses per signature, and JS prepares a key's
    /// options once, under its id), returning 0 (valid), 1 (invalid), 2 (the host lacks the
    /// algorithm) or `undefined` (not answered here: the request goes to `pending()`). The
    /// byte arguments are views of the module's memory, valid during the call only.
    pub type SyncVerifier;

    #[wasm_bindgen(method, structural)]
    #[allow(clippy::too_many_arguments)]
    fn verify(
        this: &SyncVerifier,
        key_id: u32,
        key: u32,
        hash: u32,
        salt_length: u32,
        spki: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> JsValue;

    /// The host's SHA-256 of `data` (`node:crypto`'s `hash`) written to `out` (32 bytes),
    /// returning true, or false when the host could not compute it (the module then does).
    /// `data` and `out` are views of the module's memory, valid during the call only.
    #[wasm_bindgen(method, structural)]
    fn sha256(this: &SyncVerifier, data: &[u8], out: &mut [u8]) -> bool;
}

/// The host's SHA-256 through `sync` (see [`certclaims::host::HostSha256`]).
fn host_sha256(sync: &SyncVerifier) -> impl Fn(&[u8]) -> Option<[u8; 32]> + '_ {
    move |data| {
        let mut out = [0; 32];
        sync.sha256(data, &mut out).then_some(out)
    }
}

/// The WebCrypto key type of a request.
fn key_name(key: HostKey) -> &'static str {
    match key {
        HostKey::P256 => "P-256",
        HostKey::P384 => "P-384",
        HostKey::RsaPkcs1 => "RSASSA-PKCS1-v1_5",
        HostKey::RsaPss => "RSA-PSS",
        _ => "unsupported",
    }
}

/// A request's key type for [`SyncVerifier`]: the index of its [`key_name`] in
/// `["P-256", "P-384", "RSASSA-PKCS1-v1_5", "RSA-PSS"]` (`SYNC_KEYS` in common.js); 4 for a
/// key type the host is not asked for (none is delegated today).
fn key_code(key: HostKey) -> u32 {
    match key {
        HostKey::P256 => 0,
        HostKey::P384 => 1,
        HostKey::RsaPkcs1 => 2,
        HostKey::RsaPss => 3,
        _ => 4,
    }
}

/// A request's hash for [`SyncVerifier`]: the index of its WebCrypto name in `["SHA-256",
/// "SHA-384", "SHA-512"]` (`SYNC_HASHES` in common.js); 3 for any other.
fn hash_code(hash: &str) -> u32 {
    match hash {
        "SHA-256" => 0,
        "SHA-384" => 1,
        "SHA-512" => 2,
        _ => 3,
    }
}

/// The ids of an [`Engine`]'s keys, by key type, hash and SPKI: JS keeps each imported key
/// under its id. An id is never given to another key: when the table is full it is emptied
/// and numbering goes on, so a JS cache entry under an old id is simply never asked for again.
#[derive(Default)]
struct KeyIds {
    /// (algorithm, SPKI, id), at most [`KEY_IDS`]: a short list, searched in order.
    ids: std::cell::RefCell<Vec<(HostAlgorithm, Vec<u8>, u32)>>,
    next: std::cell::Cell<u32>,
}

/// At most this many key ids are remembered (JS keeps at most as many keys).
const KEY_IDS: usize = 1024;

impl KeyIds {
    fn of(&self, r: &certclaims::host::SignatureRequest) -> u32 {
        let mut ids = self.ids.borrow_mut();
        // The id names the imported key: the key type and the hash are part of it (RSA keys
        // are imported with their hash in WebCrypto).
        if let Some((_, _, id)) = ids
            .iter()
            .find(|(a, spki, _)| *a == r.algorithm && *spki == r.spki)
        {
            return *id;
        }
        if ids.len() >= KEY_IDS {
            ids.clear();
        }
        let id = self.next.get();
        self.next.set(id.wrapping_add(1));
        ids.push((r.algorithm, r.spki.clone(), id));
        id
    }
}

fn host_answer(answer: u8) -> HostAnswer {
    match answer {
        0 => HostAnswer::Valid,
        2 => HostAnswer::Unsupported,
        _ => HostAnswer::Invalid,
    }
}

#[wasm_bindgen]
impl Verification {
    /// Runs a round: the outcome (`{ ok, principal | error }`) when finished, `undefined`
    /// when `pending()` has signatures to verify first.
    pub fn step(&mut self) -> JsValue {
        let progress = self.inner.step(&self.validator);
        self.progressed(progress)
    }

    /// Runs a round in which `verifier.verify(…)` is called at once for each signature
    /// without an answer (see [`SyncVerifier`]): a host with synchronous verification finishes
    /// in this one step. What it leaves unanswered is in `pending()`, as after `step()`.
    #[wasm_bindgen(js_name = stepWith)]
    pub fn step_with(&mut self, verifier: &SyncVerifier) -> JsValue {
        let progress = self.inner.step_answering(&self.validator, &mut |r| {
            let answer = verifier.verify(
                self.keys.of(r),
                key_code(r.algorithm.key()),
                hash_code(r.algorithm.hash()),
                r.algorithm.salt_length(),
                &r.spki,
                &r.message,
                &r.signature,
            );
            answer.as_f64().map(|a| host_answer(a as u8))
        });
        self.progressed(progress)
    }
}

impl Verification {
    fn progressed(&mut self, progress: Progress) -> JsValue {
        match progress {
            Progress::Done(result) => {
                let result = match (&self.cloudflare, result) {
                    (Some((verified, revoked)), Ok(p)) => {
                        cloudflare_agrees(verified, revoked).map(|()| p)
                    }
                    (_, r) => r,
                };
                outcome(result)
            }
            _ => JsValue::UNDEFINED,
        }
    }
}

#[wasm_bindgen]
impl Verification {
    /// The signatures to verify before the next step: `[{ key, hash, saltLength, keyId, spki,
    /// message, signature }]`, `key` one of `P-256`, `P-384`, `RSASSA-PKCS1-v1_5`,
    /// `RSA-PSS`; `keyId` (a number) names the imported key: the same key type, hash and SPKI
    /// always have the same id, and an id is never given to another key.
    pub fn pending(&self) -> js_sys::Array {
        self.inner
            .pending()
            .iter()
            .map(|r| {
                let o = js_sys::Object::new();
                set(&o, "key", &JsValue::from_str(key_name(r.algorithm.key())));
                set(&o, "hash", &JsValue::from_str(r.algorithm.hash()));
                set(&o, "saltLength", &JsValue::from(r.algorithm.salt_length()));
                set(&o, "keyId", &JsValue::from(self.keys.of(r)));
                set(&o, "spki", &bytes(&r.spki));
                set(&o, "message", &bytes(&r.message));
                set(&o, "signature", &bytes(&r.signature));
                JsValue::from(o)
            })
            .collect()
    }

    /// The host's answer to `pending()[index]`: 0 valid, 1 invalid, 2 the host lacks the
    /// algorithm (anything else counts as invalid).
    pub fn answer(&mut self, index: u32, answer: u8) {
        self.inner.answer(index as usize, host_answer(answer));
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

/// The module's allocator: talc instead of the standard library's dlmalloc, 3.0 KB less gzip
/// for the same speed (BENCHMARKS.md, stop 25). It grows the module's memory as dlmalloc
/// did; a module built with threads (atomics) keeps the standard one.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
