//! The validation cache: a repeat client costs a hash and a lookup.
//!
//! Every [`Validator`](crate::Validator) holds one (see [`CacheOptions`]; on by default). An
//! entry is the outcome of [`Validator::verify`](crate::Validator::verify) — the principal or
//! the rejection — keyed by the presented chain: the SHA-256 of where it came from
//! ([`Source`]) and of the SHA-256 of each certificate's DER, leaf first (the leaf's is its
//! fingerprint, computed once for the key and the principal; a host may compute the
//! certificates' digests, see [`HostSha256`](crate::host::HostSha256)). It answers a later
//! call at `now` only when `now` is not before the instant it was computed at (a caller
//! evaluating an earlier instant gets a fresh verification) and before it expires:
//!
//! * a principal at the earliest of `computed + ttl`, the principal's
//!   [`usable_until`](crate::Principal::usable_until) (the leaf's notAfter with the policy's
//!   skew, or an issuer's earlier notAfter), and the next update of any CRL of the policy;
//! * a rejection at `computed + rejection_ttl` (short: a certificate not yet valid becomes
//!   valid, a client fixes its chain).
//!
//! The cache belongs to the validator, hence to one policy generation: a reload builds a new
//! validator with an empty cache. It holds at most `capacity` entries, least recently used
//! dropped first, and is safe to share between threads (a mutex held for the lookup only).
//! A hit returns exactly what the miss returned.

use alloc::sync::Arc;
use core::num::NonZeroUsize;
use core::time::Duration;

use sha2::{Digest, Sha256};

use crate::cert::CertFacts;
use crate::error::Rejection;
use crate::pki_types::CertificateDer;
use crate::principal::{Principal, Source};

/// How a validator caches its outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheOptions {
    /// Most entries kept (least recently used dropped first); `None` turns the cache off.
    pub capacity: Option<NonZeroUsize>,
    /// Longest a principal is reused.
    pub ttl: Duration,
    /// Longest a rejection is reused.
    pub rejection_ttl: Duration,
}

impl CacheOptions {
    /// The default: 4096 entries, principals for 5 minutes, rejections for 10 seconds.
    pub const DEFAULT: Self = Self {
        capacity: NonZeroUsize::new(4096),
        ttl: Duration::from_secs(300),
        rejection_ttl: Duration::from_secs(10),
    };

    /// No cache: every call verifies.
    pub const OFF: Self = Self {
        capacity: None,
        ..Self::DEFAULT
    };

    /// `capacity` entries, principals for `ttl`, rejections for `rejection_ttl`.
    pub fn new(capacity: usize, ttl: Duration, rejection_ttl: Duration) -> Self {
        Self {
            capacity: NonZeroUsize::new(capacity),
            ttl,
            rejection_ttl,
        }
    }
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the cache did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Calls answered from the cache.
    pub hits: u64,
    /// Calls that verified.
    pub misses: u64,
    /// Entries now held.
    pub entries: usize,
}

type Outcome = Result<Principal, Rejection>;

struct Entry {
    outcome: Arc<Outcome>,
    computed: u64,
    expires: u64,
}

struct State {
    entries: lru::LruCache<[u8; 32], Entry>,
    hits: u64,
    misses: u64,
}

#[cfg(feature = "std")]
type Lock<T> = std::sync::Mutex<T>;
#[cfg(not(feature = "std"))]
type Lock<T> = spin::Mutex<T>;

#[cfg(feature = "std")]
fn lock<T>(l: &Lock<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while the lock was held cannot leave an entry half-written (an insert is one
    // call): the state stays usable.
    l.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
#[cfg(not(feature = "std"))]
fn lock<T>(l: &Lock<T>) -> spin::MutexGuard<'_, T> {
    l.lock()
}

/// Presented intermediates, parsed, by their DER: every client of a CA presents the same
/// issuing certificate, and its facts are a function of its bytes alone (what a verification
/// makes of them depends on the time and the path, evaluated each time). Kept whatever the
/// outcome cache does.
///
/// No hash is computed on this path (a SHA-256 per intermediate and verification was most of
/// a miss's cost in wasm): an entry is found by the certificate's length and its last 28
/// bytes — the end of its signature value, which differs between any two certificates a CA
/// signed — and then the whole DER is compared with the entry's. Bytes made to end like a
/// cached certificate's are a miss that replaces the entry, never its facts.
pub(crate) struct ParsedCerts {
    state: Lock<lru::LruCache<[u8; 32], Arc<CertFacts>>>,
}

impl ParsedCerts {
    /// Most presented intermediates kept parsed.
    pub(crate) const CAPACITY: NonZeroUsize = NonZeroUsize::new(64).unwrap();

    pub(crate) fn new() -> Self {
        Self {
            state: Lock::new(lru::LruCache::new(Self::CAPACITY)),
        }
    }

    /// The lookup key of `der`: its length, then its last (up to) 28 bytes.
    fn key(der: &[u8]) -> [u8; 32] {
        let mut key = [0; 32];
        key[..4].copy_from_slice(&u32::try_from(der.len()).unwrap_or(u32::MAX).to_be_bytes());
        let tail = &der[der.len().saturating_sub(28)..];
        key[4..4 + tail.len()].copy_from_slice(tail);
        key
    }

    /// The SHA-256 of `der` when it is kept parsed: none is computed.
    pub(crate) fn sha256_of(&self, der: &[u8]) -> Option<[u8; 32]> {
        let state = lock(&self.state);
        state
            .peek(&Self::key(der))
            .filter(|f| f.pkix.der == der)
            .map(|f| f.sha256)
    }

    /// The facts of `der`, parsed now or earlier; a parse failure names `what`.
    pub(crate) fn parse(&self, der: &[u8], what: &str) -> Result<Arc<CertFacts>, Rejection> {
        let key = Self::key(der);
        if let Some(f) = lock(&self.state).get(&key) {
            if f.pkix.der == der {
                return Ok(Arc::clone(f));
            }
        }
        let facts = Arc::new(CertFacts::parse(der, what)?);
        lock(&self.state).put(key, Arc::clone(&facts));
        Ok(facts)
    }
}

/// The cache of one validator.
pub(crate) struct Cache {
    options: CacheOptions,
    state: Option<Lock<State>>,
}

impl core::fmt::Debug for Cache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cache")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of `data`, computed here.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The cache key of a presented chain from `source`, given the leaf's SHA-256 (its
/// fingerprint, which the miss needs too) and `sha256` for the intermediates: the SHA-256 of
/// the source and each certificate's SHA-256, leaf first. Every digest has the same length,
/// so the sequence is unambiguous; two chains with one key would mean a SHA-256 collision.
pub(crate) fn key(
    source: Source,
    leaf_sha256: &[u8; 32],
    intermediates: &[CertificateDer<'_>],
    sha256: &dyn Fn(&[u8]) -> [u8; 32],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([source as u8]);
    h.update(leaf_sha256);
    for der in intermediates {
        h.update(sha256(der.as_ref()));
    }
    h.finalize().into()
}

impl Cache {
    pub(crate) fn new(options: CacheOptions) -> Self {
        Self {
            options,
            state: options.capacity.map(|capacity| {
                Lock::new(State {
                    entries: lru::LruCache::new(capacity),
                    hits: 0,
                    misses: 0,
                })
            }),
        }
    }

    pub(crate) fn options(&self) -> CacheOptions {
        self.options
    }

    /// Whether outcomes are kept at all (a validator without a cache hashes no chain).
    pub(crate) fn enabled(&self) -> bool {
        self.state.is_some()
    }

    /// The outcome computed for `key`, if it still answers a call at `now`.
    pub(crate) fn get(&self, key: &[u8; 32], now: u64) -> Option<Outcome> {
        let state = self.state.as_ref()?;
        let found = {
            let mut s = lock(state);
            let found = match s.entries.get(key) {
                Some(e) if e.computed <= now && now < e.expires => Some(e.outcome.clone()),
                _ => None,
            };
            if found.is_some() {
                s.hits += 1;
            } else {
                s.misses += 1;
            }
            found
        };
        // The clone of the principal happens outside the lock.
        found.map(|o| (*o).clone())
    }

    /// Remembers `outcome`, computed at `now`; `bound` is the latest instant (exclusive) a
    /// principal may be reused at besides the TTL (see the module docs).
    pub(crate) fn put(&self, key: [u8; 32], now: u64, outcome: &Outcome, bound: Option<u64>) {
        let Some(state) = self.state.as_ref() else {
            return;
        };
        let expires = match outcome {
            Ok(_) => now
                .saturating_add(self.options.ttl.as_secs())
                .min(bound.unwrap_or(u64::MAX)),
            Err(_) => now.saturating_add(self.options.rejection_ttl.as_secs()),
        };
        if expires <= now {
            return;
        }
        let entry = Entry {
            outcome: Arc::new(outcome.clone()),
            computed: now,
            expires,
        };
        lock(state).entries.put(key, entry);
    }

    pub(crate) fn stats(&self) -> CacheStats {
        match &self.state {
            Some(state) => {
                let s = lock(state);
                CacheStats {
                    hits: s.hits,
                    misses: s.misses,
                    entries: s.entries.len(),
                }
            }
            None => CacheStats::default(),
        }
    }
}

#[cfg(all(test, feature = "test-kit"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_kit::Pki;

    /// An entry is found by length and tail, but only the same bytes get its facts.
    #[test]
    fn the_parse_cache_compares_the_whole_certificate() {
        let pki = Pki::with_key_type("Parse cache", crate::test_kit::KeyType::P256);
        let der = pki.issuing_ca().der().to_vec();
        let cache = ParsedCerts::new();
        let first = cache.parse(&der, "intermediate").unwrap();
        assert!(Arc::ptr_eq(
            &first,
            &cache.parse(&der, "intermediate").unwrap()
        ));

        // The same length and tail, another subject (the last name in the DER): a miss,
        // parsed as what it is.
        let at = der
            .windows(b"Parse cache".len())
            .rposition(|w| w == b"Parse cache")
            .unwrap();
        let mut other = der.clone();
        other[at] = b'Q';
        assert_eq!(ParsedCerts::key(&other), ParsedCerts::key(&der));
        let second = cache.parse(&other, "intermediate").unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(second.subject.contains("Qarse cache"), "{}", second.subject);
        assert_eq!(second.pkix.der, other);
        // And the original is parsed again rather than answered with the other's facts.
        let third = cache.parse(&der, "intermediate").unwrap();
        assert!(third.subject.contains("Parse cache"), "{}", third.subject);
        assert_eq!(third.pkix.der, der);
    }

    /// The digest of a certificate kept parsed (for the cache key) is its own, and none is
    /// given for bytes that only end like it.
    #[test]
    fn a_kept_certificate_gives_its_own_digest() {
        let pki = Pki::with_key_type("Digest", crate::test_kit::KeyType::P256);
        let der = pki.issuing_ca().der().to_vec();
        let cache = ParsedCerts::new();
        assert_eq!(cache.sha256_of(&der), None);
        cache.parse(&der, "intermediate").unwrap();
        assert_eq!(cache.sha256_of(&der), Some(sha256(&der)));
        let mut other = der.clone();
        other[der.len() / 2] ^= 1;
        assert_eq!(ParsedCerts::key(&other), ParsedCerts::key(&der));
        assert_eq!(cache.sha256_of(&other), None);
    }
}
