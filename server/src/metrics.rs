//! A small Prometheus registry: counters and latency histograms keyed by label values, rendered
//! in the text exposition format. Hand-written because the server needs only two metric kinds
//! and a fixed set of families; a dependency would add more than it saves.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use parking_lot::Mutex;

/// Upper bounds (seconds) of the latency histogram buckets: 0.1 ms to 10 s.
const BUCKETS: [f64; 16] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Default)]
struct Inner {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

/// Process-wide metrics. Cheap to update (one short lock); rendered on scrape.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Help text of each family, rendered as `# HELP` / `# TYPE`.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("grove_http_requests_total", "counter", "REST requests by route template, method and status code."),
    ("grove_http_request_duration_seconds", "histogram", "REST request latency by route template."),
    ("grove_grpc_requests_total", "counter", "gRPC requests by method and status code."),
    ("grove_grpc_request_duration_seconds", "histogram", "gRPC request latency by method."),
    ("grove_searches_total", "counter", "Searches answered, by the planner path that ran."),
    ("grove_points", "gauge", "Live points per collection."),
    ("grove_indexed_points", "gauge", "Points already in the graph per collection (index build progress)."),
    ("grove_ready", "gauge", "1 once every collection is loaded, else 0."),
];

impl Metrics {
    /// Records one REST request.
    pub fn http_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let mut inner = self.inner.lock();
        let labels =
            vec![("route", route.to_owned()), ("method", method.to_owned()), ("status", status.to_string())];
        *inner.counters.entry(("grove_http_requests_total", labels)).or_default() += 1;
        inner
            .histograms
            .entry(("grove_http_request_duration_seconds", vec![("route", route.to_owned())]))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// Records one gRPC request.
    pub fn grpc_request(&self, method: &str, code: &str, elapsed: Duration) {
        let mut inner = self.inner.lock();
        let labels = vec![("method", method.to_owned()), ("code", code.to_owned())];
        *inner.counters.entry(("grove_grpc_requests_total", labels)).or_default() += 1;
        inner
            .histograms
            .entry(("grove_grpc_request_duration_seconds", vec![("method", method.to_owned())]))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// Records one search by the path that answered it.
    pub fn search(&self, path: &str) {
        let mut inner = self.inner.lock();
        *inner.counters.entry(("grove_searches_total", vec![("path", path.to_owned())])).or_default() += 1;
    }

    /// REST request counts as `(route template, method, status, count)` (for `/telemetry`).
    pub fn http_counts(&self) -> Vec<(String, String, String, u64)> {
        let inner = self.inner.lock();
        inner
            .counters
            .iter()
            .filter(|((f, _), _)| *f == "grove_http_requests_total")
            .map(|((_, labels), n)| {
                let get = |k: &str| {
                    labels.iter().find(|(l, _)| *l == k).map(|(_, v)| v.clone()).unwrap_or_default()
                };
                (get("route"), get("method"), get("status"), *n)
            })
            .collect()
    }

    /// gRPC request counts per method, all codes together (for `/telemetry`).
    pub fn grpc_counts(&self) -> Vec<(String, u64)> {
        let inner = self.inner.lock();
        let mut out: BTreeMap<String, u64> = BTreeMap::new();
        for ((f, labels), n) in &inner.counters {
            if *f == "grove_grpc_requests_total" {
                let m =
                    labels.iter().find(|(l, _)| *l == "method").map(|(_, v)| v.clone()).unwrap_or_default();
                *out.entry(m).or_default() += n;
            }
        }
        out.into_iter().collect()
    }

    /// Renders every family; `gauges` are the point-in-time values read at scrape time
    /// (family, labels, value).
    pub fn render(&self, gauges: &[(&'static str, Labels, f64)]) -> String {
        let inner = self.inner.lock();
        let mut out = String::new();
        for (family, kind, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {family} {help}");
            let _ = writeln!(out, "# TYPE {family} {kind}");
            match *kind {
                "counter" => {
                    for ((f, labels), v) in &inner.counters {
                        if f == family {
                            let _ = writeln!(out, "{family}{} {v}", fmt_labels(labels, None));
                        }
                    }
                }
                "histogram" => {
                    for ((f, labels), h) in &inner.histograms {
                        if f != family {
                            continue;
                        }
                        let mut cumulative = 0;
                        for (bound, n) in BUCKETS.iter().zip(h.counts) {
                            cumulative += n;
                            let le = bound.to_string();
                            let _ = writeln!(
                                out,
                                "{family}_bucket{} {cumulative}",
                                fmt_labels(labels, Some(&le))
                            );
                        }
                        let _ =
                            writeln!(out, "{family}_bucket{} {}", fmt_labels(labels, Some("+Inf")), h.count);
                        let _ = writeln!(out, "{family}_sum{} {}", fmt_labels(labels, None), h.sum);
                        let _ = writeln!(out, "{family}_count{} {}", fmt_labels(labels, None), h.count);
                    }
                }
                _ => {
                    for (f, labels, v) in gauges {
                        if f == family {
                            let _ = writeln!(out, "{family}{} {v}", fmt_labels(labels, None));
                        }
                    }
                }
            }
        }
        out
    }
}

fn fmt_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// Escapes a label value per the exposition format.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.http_request("/collections/{name}", "GET", 200, Duration::from_millis(3));
        m.http_request("/collections/{name}", "GET", 200, Duration::from_secs(20));
        m.search("acorn_gamma");
        let text = m.render(&[("grove_points", vec![("collection", "a\"b".to_owned())], 7.0)]);
        assert!(text.contains(
            "grove_http_requests_total{route=\"/collections/{name}\",method=\"GET\",status=\"200\"} 2"
        ));
        // 3 ms lands in the 5 ms bucket; 20 s only in +Inf.
        assert!(text.contains(
            "grove_http_request_duration_seconds_bucket{route=\"/collections/{name}\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "grove_http_request_duration_seconds_bucket{route=\"/collections/{name}\",le=\"10\"} 1"
        ));
        assert!(text.contains(
            "grove_http_request_duration_seconds_bucket{route=\"/collections/{name}\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("grove_searches_total{path=\"acorn_gamma\"} 1"));
        assert!(text.contains("grove_points{collection=\"a\\\"b\"} 7"));
        assert!(text.contains("# TYPE grove_http_request_duration_seconds histogram"));
    }
}
