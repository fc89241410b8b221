//! Metrics as CloudWatch Embedded Metric Format lines on stdout, where Lambda sends them to
//! CloudWatch Logs, which extracts the metrics: no API call, no permission, no latency.
//! Hand-written rather than a `metrics`-facade backend: the document is one `serde_json` value
//! (`core::metrics`), a facade's global recorder would not fit the per-instance wiring that
//! lets tests run side by side, and a line per event survives a function stopped mid-batch.

use crate::core::metrics::Metric;
use crate::ports::Metrics;
use std::io::Write;
use std::sync::{Arc, Mutex};

pub const DEFAULT_NAMESPACE: &str = "Securitybot";

pub struct EmfMetrics {
    namespace: String,
    /// `None`: stdout. `Some`: kept in memory (tests read what would have been logged).
    captured: Option<Arc<Mutex<Vec<String>>>>,
}

impl EmfMetrics {
    pub fn stdout(namespace: impl Into<String>) -> Self {
        EmfMetrics {
            namespace: namespace.into(),
            captured: None,
        }
    }

    /// Lines kept instead of printed; `lines()` reads them.
    pub fn capturing(namespace: impl Into<String>) -> Self {
        EmfMetrics {
            namespace: namespace.into(),
            captured: Some(Arc::default()),
        }
    }

    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.captured
            .as_ref()
            .map(|c| {
                c.lock()
                    .unwrap()
                    .iter()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Metrics for EmfMetrics {
    fn record(&self, metric: Metric<'_>) {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let line = metric.emf(&self.namespace, now_ms).to_string();
        match &self.captured {
            Some(lines) => lines.lock().unwrap().push(line),
            // One write per line, so lines from concurrent tasks never interleave.
            None => {
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
        }
    }
}
