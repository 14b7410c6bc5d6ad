//! `serve`'s Prometheus metrics (text exposition format 0.0.4), on the health listener:
//! handshakes and requests by outcome code, request latency, policy reloads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds of the request latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 9] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0];

/// The process's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    handshakes: Mutex<BTreeMap<String, u64>>,
    requests: Mutex<BTreeMap<(u16, String), u64>>,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_nanos: AtomicU64,
    reloads: Mutex<BTreeMap<&'static str, u64>>,
}

/// The counters of this process.
pub(crate) fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut m) = map.lock() {
        *m.entry(key).or_insert(0) += 1;
    }
}

/// A label value as the exposition format writes it: `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// A handshake ended: `ok`, a certclaims code, or `failed` (not about a certificate).
    pub(crate) fn handshake(&self, outcome: &str) {
        bump(&self.handshakes, outcome.to_string());
    }

    /// A request was answered with `status`; `outcome` is `ok`, `healthz` or a code.
    pub(crate) fn request(&self, status: u16, outcome: &str, latency: Duration) {
        bump(&self.requests, (status, outcome.to_string()));
        let secs = latency.as_secs_f64();
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// A policy reload succeeded or failed.
    pub(crate) fn reload(&self, ok: bool) {
        bump(&self.reloads, if ok { "ok" } else { "failed" });
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP certclaims_handshakes_total TLS handshakes by outcome (ok, the rejection code, or failed).\n# TYPE certclaims_handshakes_total counter"
        );
        if let Ok(m) = self.handshakes.lock() {
            for (outcome, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "certclaims_handshakes_total{{outcome=\"{}\"}} {n}",
                    label(outcome)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP certclaims_requests_total HTTP requests by status and outcome (ok, healthz, or the rejection code).\n# TYPE certclaims_requests_total counter"
        );
        if let Ok(m) = self.requests.lock() {
            for ((status, outcome), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "certclaims_requests_total{{status=\"{status}\",outcome=\"{}\"}} {n}",
                    label(outcome)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP certclaims_request_duration_seconds Time to answer a request.\n# TYPE certclaims_request_duration_seconds histogram"
        );
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "certclaims_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let sum = self.latency_sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(
            out,
            "certclaims_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\ncertclaims_request_duration_seconds_sum {sum}\ncertclaims_request_duration_seconds_count {count}"
        );
        let _ = writeln!(
            out,
            "# HELP certclaims_policy_reloads_total Policy reloads (SIGHUP) by result.\n# TYPE certclaims_policy_reloads_total counter"
        );
        if let Ok(m) = self.reloads.lock() {
            for (result, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "certclaims_policy_reloads_total{{result=\"{result}\"}} {n}"
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.handshake("ok");
        m.handshake("ok");
        m.handshake("unknown_issuer");
        m.request(200, "ok", Duration::from_micros(300));
        m.request(403, "policy_denied", Duration::from_millis(20));
        m.reload(false);
        let text = m.render();
        for line in [
            "certclaims_handshakes_total{outcome=\"ok\"} 2",
            "certclaims_handshakes_total{outcome=\"unknown_issuer\"} 1",
            "certclaims_requests_total{status=\"200\",outcome=\"ok\"} 1",
            "certclaims_requests_total{status=\"403\",outcome=\"policy_denied\"} 1",
            "certclaims_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "certclaims_request_duration_seconds_bucket{le=\"0.01\"} 1",
            "certclaims_request_duration_seconds_bucket{le=\"0.05\"} 2",
            "certclaims_request_duration_seconds_bucket{le=\"+Inf\"} 2",
            "certclaims_request_duration_seconds_count 2",
            "certclaims_policy_reloads_total{result=\"failed\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
        }
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
