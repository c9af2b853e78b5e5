//! The server's Prometheus metrics, kept in the process and written in the text exposition
//! format at `GET /metrics`. A handful of counters and one histogram family do not need a
//! metrics framework; the names follow Prometheus' conventions (`_total`, `_seconds`) so that
//! `promtool check metrics` accepts them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::redis_link::RedisState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// Every metric the server exports.
#[derive(Default)]
pub struct Metrics {
    /// `(route, method, status)` → requests answered.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route → latency histogram.
    latency: Mutex<BTreeMap<String, Histogram>>,
    in_flight: AtomicI64,
    overload_rejections: AtomicU64,
    timeouts: AtomicU64,
    /// `(cache, hit)` → lookups.
    cache: Mutex<BTreeMap<(&'static str, bool), u64>>,
    /// cache → hits answered from Redis (a part of the hits above).
    shared_hits: Mutex<BTreeMap<&'static str, u64>>,
    predictions: AtomicU64,
    matches: AtomicU64,
    /// Matches scored by the skills-only fallback (a part of `matches`).
    skills_only_matches: AtomicU64,
    /// Saved-search alert mails the server sent, and those the mail server did not take.
    alert_mails_sent: AtomicU64,
    alert_mails_failed: AtomicU64,
    /// Budget (a tier, or `login`) → requests refused with 429.
    rate_limited: Mutex<BTreeMap<&'static str, u64>>,
}

/// Every budget requests can be refused by, so each series exists from the start.
const BUDGETS: [&str; 5] = ["anonymous", "free", "premium", "admin", "login"];

/// What the exposition reads from the rest of the server at scrape time.
pub struct Gauges {
    /// `(kind, version)` of each model in use.
    pub models: Vec<(String, String)>,
    /// Silver's Delta version the answers use, when the lake has been read.
    pub lake_version: Option<i64>,
    /// Seconds since the newest posting's publication date.
    pub newest_posting_age_seconds: Option<f64>,
    pub ready: bool,
    /// The shared rate limits' Redis, when one is configured.
    pub redis: Option<RedisState>,
}

impl Metrics {
    pub fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn request_finished(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((route.to_string(), method.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            latency.entry(route.to_string()).or_default().observe(seconds);
        }
    }

    pub fn overload_rejected(&self) {
        self.overload_rejections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn timed_out(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn cache_lookup(&self, cache: &'static str, hit: bool) {
        if let Ok(mut lookups) = self.cache.lock() {
            *lookups.entry((cache, hit)).or_default() += 1;
        }
    }

    /// A hit that came from the replicas' shared cache in Redis rather than this process'.
    pub fn shared_hit(&self, cache: &'static str) {
        if let Ok(mut hits) = self.shared_hits.lock() {
            *hits.entry(cache).or_default() += 1;
        }
    }

    pub fn predicted(&self, n: usize) {
        self.predictions.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn rate_limited(&self, budget: &'static str) {
        if let Ok(mut refused) = self.rate_limited.lock() {
            *refused.entry(budget).or_default() += 1;
        }
    }

    /// One résumé matched; `skills_only` when the encoder was too busy and the fallback scored it.
    pub fn matched(&self, skills_only: bool) {
        self.matches.fetch_add(1, Ordering::Relaxed);
        if skills_only {
            self.skills_only_matches.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One saved-search alert mail sent (`sent`), or refused by the mail server.
    pub fn alert_mailed(&self, sent: bool) {
        let counter = if sent { &self.alert_mails_sent } else { &self.alert_mails_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition (format 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "rats_http_requests_total",
            "counter",
            "HTTP requests answered, by route, method and status.",
        );
        if let Ok(requests) = self.requests.lock() {
            for ((route, method, status), n) in requests.iter() {
                let _ = writeln!(
                    out,
                    "rats_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    escape(route),
                    escape(method)
                );
            }
        }
        family(
            &mut out,
            "rats_http_request_duration_seconds",
            "histogram",
            "Time to answer HTTP requests, by route.",
        );
        if let Ok(latency) = self.latency.lock() {
            for (route, histogram) in latency.iter() {
                let route = escape(route);
                for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                    let _ = writeln!(
                        out,
                        "rats_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "rats_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(out, "rats_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", histogram.sum);
                let _ = writeln!(
                    out,
                    "rats_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    histogram.count
                );
            }
        }
        family(
            &mut out,
            "rats_http_requests_in_flight",
            "gauge",
            "HTTP requests being answered now.",
        );
        let _ = writeln!(out, "rats_http_requests_in_flight {}", self.in_flight.load(Ordering::Relaxed));
        family(
            &mut out,
            "rats_http_overload_rejections_total",
            "counter",
            "Requests refused with 503 because too many were in flight and waiting.",
        );
        let _ = writeln!(
            out,
            "rats_http_overload_rejections_total {}",
            self.overload_rejections.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "rats_http_timeouts_total",
            "counter",
            "Requests that ran out of time (answered 503).",
        );
        let _ = writeln!(out, "rats_http_timeouts_total {}", self.timeouts.load(Ordering::Relaxed));
        family(
            &mut out,
            "rats_rate_limited_total",
            "counter",
            "Requests refused with 429, by the budget that was spent (a tier, or login).",
        );
        if let Ok(refused) = self.rate_limited.lock() {
            for budget in BUDGETS {
                let n = refused.get(budget).copied().unwrap_or_default();
                let _ = writeln!(out, "rats_rate_limited_total{{tier=\"{budget}\"}} {n}");
            }
        }
        if let Some(redis) = &gauges.redis {
            family(
                &mut out,
                "rats_redis_up",
                "gauge",
                "1 while rate limits and caches are shared through Redis, 0 while this process uses its own.",
            );
            let _ = writeln!(out, "rats_redis_up {}", u8::from(redis.up));
            family(
                &mut out,
                "rats_redis_fallbacks_total",
                "counter",
                "Rate limit decisions and cache lookups done in this process because Redis failed or was skipped.",
            );
            let _ = writeln!(out, "rats_redis_fallbacks_total {}", redis.fallbacks);
        }
        family(
            &mut out,
            "rats_cache_requests_total",
            "counter",
            "Cache lookups, by cache and result (hit or miss).",
        );
        if let Ok(lookups) = self.cache.lock() {
            for ((cache, hit), n) in lookups.iter() {
                let result = if *hit { "hit" } else { "miss" };
                let _ = writeln!(out, "rats_cache_requests_total{{cache=\"{cache}\",result=\"{result}\"}} {n}");
            }
        }
        family(
            &mut out,
            "rats_cache_shared_hits_total",
            "counter",
            "Cache hits answered from the replicas' shared cache in Redis (part of the hits above).",
        );
        if let Ok(hits) = self.shared_hits.lock() {
            for (cache, n) in hits.iter() {
                let _ = writeln!(out, "rats_cache_shared_hits_total{{cache=\"{cache}\"}} {n}");
            }
        }
        family(
            &mut out,
            "rats_predictions_total",
            "counter",
            "Salary predictions made (each posting of a batch counts).",
        );
        let _ = writeln!(out, "rats_predictions_total {}", self.predictions.load(Ordering::Relaxed));
        family(
            &mut out,
            "rats_matches_total",
            "counter",
            "Résumés matched against the postings, by scoring: full, or skills_only when the sentence encoder was too busy.",
        );
        // Read one after the other while matches go on: the part first (`matched` counts the
        // whole before it), and never a difference below zero.
        let skills_only = self.skills_only_matches.load(Ordering::Relaxed);
        let all = self.matches.load(Ordering::Relaxed);
        let _ = writeln!(out, "rats_matches_total{{scoring=\"full\"}} {}", all.saturating_sub(skills_only));
        let _ = writeln!(out, "rats_matches_total{{scoring=\"skills_only\"}} {skills_only}");
        family(
            &mut out,
            "rats_alert_mails_total",
            "counter",
            "Saved-search alert mails, by outcome: sent, or failed when the mail server did not take one (its postings are mailed the next round).",
        );
        for (outcome, counter) in [("sent", &self.alert_mails_sent), ("failed", &self.alert_mails_failed)] {
            let _ = writeln!(
                out,
                "rats_alert_mails_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        family(
            &mut out,
            "rats_model_info",
            "gauge",
            "The model versions in use (value 1), by kind and version.",
        );
        for (kind, version) in &gauges.models {
            let _ = writeln!(
                out,
                "rats_model_info{{kind=\"{}\",version=\"{}\"}} 1",
                escape(kind),
                escape(version)
            );
        }
        family(
            &mut out,
            "rats_ready",
            "gauge",
            "1 when the server answers every route (models loaded, lake read).",
        );
        let _ = writeln!(out, "rats_ready {}", u8::from(gauges.ready));
        if let Some(version) = gauges.lake_version {
            family(
                &mut out,
                "rats_lake_version",
                "gauge",
                "The Delta version of silver the answers use.",
            );
            let _ = writeln!(out, "rats_lake_version {version}");
        }
        if let Some(age) = gauges.newest_posting_age_seconds {
            family(
                &mut out,
                "rats_newest_posting_age_seconds",
                "gauge",
                "Seconds since the publication date of the newest posting in the lake.",
            );
            let _ = writeln!(out, "rats_newest_posting_age_seconds {age}");
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the exposition format wants it (backslash, quote and newline escaped).
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let metrics = Metrics::default();
        for seconds in [0.0005, 0.003, 0.2, 30.0] {
            metrics.request_started();
            metrics.request_finished("/v1/jobs", "GET", 200, seconds);
        }
        let text = metrics.render(&Gauges {
            models: vec![("salary".into(), "v\"2".into())],
            lake_version: Some(7),
            newest_posting_age_seconds: None,
            ready: true,
            redis: None,
        });
        assert!(
            text.contains("rats_http_request_duration_seconds_bucket{route=\"/v1/jobs\",le=\"0.001\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("le=\"0.005\"} 2\n"), "{text}");
        assert!(text.contains("le=\"0.25\"} 3\n"), "{text}");
        assert!(text.contains("le=\"10\"} 3\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 4\n"), "{text}");
        assert!(text.contains("rats_http_requests_total{route=\"/v1/jobs\",method=\"GET\",status=\"200\"} 4\n"));
        assert!(text.contains("rats_http_requests_in_flight 0\n"));
        assert!(text.contains("rats_model_info{kind=\"salary\",version=\"v\\\"2\"} 1\n"), "{text}");
        assert!(text.contains("rats_lake_version 7\n"));
        assert!(!text.contains("rats_newest_posting_age_seconds"));
    }
}
