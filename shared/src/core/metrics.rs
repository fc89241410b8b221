//! What the bot counts, in the team's words, and how each becomes a CloudWatch metric in
//! Embedded Metric Format (EMF): one JSON log line per event, which CloudWatch Logs turns into
//! metrics with no API call and no extra permission. Pure: the line is written by the
//! `Metrics` port's adapter.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// Seconds from `from` to `to`, for the time metrics.
pub fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// One thing that happened, with the dimensions the dashboard splits it by. Dimension values
/// are our own words (sources, outcomes, reasons, Slack method names), never alert content.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric<'a> {
    /// An alert came in (webhook or poller) and what became of it: `ask`, `escalate`,
    /// `snoozed`, `duplicate`, or `failed`.
    AlertReceived { source: &'a str, outcome: &'a str },
    /// A person was asked; how long after the alert was received.
    Asked { seconds_since_alert: f64 },
    /// A person answered (`yes`, `no`); how long after they were asked, when known.
    Answered {
        kind: &'a str,
        seconds_since_ask: Option<f64>,
    },
    /// A second-factor check: `verified`, `wrong_code`, `unverified`, `denied`, `push_sent`...
    SecondFactor { result: &'a str },
    /// An escalation was posted to the team, by reason.
    Escalated { reason: &'a str },
    /// A Slack Web API call, and whether Slack said 429.
    SlackCall { method: &'a str, rate_limited: bool },
    /// A poller run over one source: items read and how far behind now its window ends.
    Polled {
        source: &'a str,
        items: u64,
        lag_seconds: f64,
    },
    /// An answer sent back to the SIEM (`ok` or `failed`).
    WriteBack { sink: &'a str, outcome: &'a str },
    /// The rules document in the store was refused (the last good one stays in force).
    RulesRefused,
}

/// CloudWatch's unit names (the EMF spec accepts exactly these).
const COUNT: &str = "Count";
const SECONDS: &str = "Seconds";

impl Metric<'_> {
    /// (metric name, unit, value) for each value this event carries.
    fn values(&self) -> Vec<(&'static str, &'static str, f64)> {
        match self {
            Metric::AlertReceived { .. } => vec![("AlertsReceived", COUNT, 1.0)],
            Metric::Asked {
                seconds_since_alert,
            } => vec![
                ("Asks", COUNT, 1.0),
                ("AlertToAsk", SECONDS, seconds_since_alert.max(0.0)),
            ],
            Metric::Answered {
                seconds_since_ask, ..
            } => {
                let mut values = vec![("Answers", COUNT, 1.0)];
                if let Some(s) = seconds_since_ask {
                    values.push(("AskToAnswer", SECONDS, s.max(0.0)));
                }
                values
            }
            Metric::SecondFactor { .. } => vec![("SecondFactorChecks", COUNT, 1.0)],
            Metric::Escalated { .. } => vec![("Escalations", COUNT, 1.0)],
            Metric::SlackCall { rate_limited, .. } => vec![
                ("SlackCalls", COUNT, 1.0),
                (
                    "SlackRateLimited",
                    COUNT,
                    f64::from(u8::from(*rate_limited)),
                ),
            ],
            Metric::Polled {
                items, lag_seconds, ..
            } => vec![
                ("PolledItems", COUNT, *items as f64),
                ("PollerLag", SECONDS, lag_seconds.max(0.0)),
            ],
            Metric::WriteBack { .. } => vec![("WriteBacks", COUNT, 1.0)],
            Metric::RulesRefused => vec![("RulesRefused", COUNT, 1.0)],
        }
    }

    /// The dimensions (name, value) this event is split by.
    fn dimensions(&self) -> Vec<(&'static str, &str)> {
        match *self {
            Metric::AlertReceived { source, outcome } => {
                vec![("Source", source), ("Outcome", outcome)]
            }
            Metric::Asked { .. } => vec![],
            Metric::Answered { kind, .. } => vec![("Answer", kind)],
            Metric::SecondFactor { result } => vec![("Result", result)],
            Metric::Escalated { reason } => vec![("Reason", reason)],
            Metric::SlackCall { method, .. } => vec![("Method", method)],
            Metric::Polled { source, .. } => vec![("Source", source)],
            Metric::WriteBack { sink, outcome } => vec![("Sink", sink), ("Outcome", outcome)],
            Metric::RulesRefused => vec![],
        }
    }

    /// The EMF document for this event. Each dimension is its own dimension set, beside an
    /// empty one, so the dashboard can show the total and each split without metric math.
    pub fn emf(&self, namespace: &str, timestamp_ms: i64) -> Value {
        let dimensions = self.dimensions();
        let mut sets: Vec<Vec<&str>> = vec![vec![]];
        sets.extend(dimensions.iter().map(|(name, _)| vec![*name]));
        let values = self.values();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": sets,
                    "Metrics": values.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
                }],
            }),
        );
        for (name, value) in dimensions {
            root.insert(name.into(), value.into());
        }
        for (name, _, value) in values {
            root.insert(name.into(), value.into());
        }
        Value::Object(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the EMF specification requires of a document, checked on every kind of event.
    #[test]
    fn every_event_is_a_valid_emf_document() {
        let events = [
            Metric::AlertReceived {
                source: "splunk",
                outcome: "ask",
            },
            Metric::Asked {
                seconds_since_alert: 4.5,
            },
            Metric::Answered {
                kind: "yes",
                seconds_since_ask: Some(60.0),
            },
            Metric::Answered {
                kind: "no",
                seconds_since_ask: None,
            },
            Metric::SecondFactor { result: "verified" },
            Metric::Escalated { reason: "denied" },
            Metric::SlackCall {
                method: "chat.postMessage",
                rate_limited: true,
            },
            Metric::Polled {
                source: "splunk_prod",
                items: 3,
                lag_seconds: 120.0,
            },
            Metric::WriteBack {
                sink: "splunk_hec",
                outcome: "ok",
            },
            Metric::RulesRefused,
        ];
        for event in events {
            let doc = event.emf("Securitybot/test", 1_700_000_000_000);
            let aws = &doc["_aws"];
            assert_eq!(aws["Timestamp"], 1_700_000_000_000i64, "{doc}");
            let directive = &aws["CloudWatchMetrics"][0];
            assert_eq!(directive["Namespace"], "Securitybot/test");
            for set in directive["Dimensions"].as_array().unwrap() {
                for name in set.as_array().unwrap() {
                    assert!(doc[name.as_str().unwrap()].is_string(), "{doc}");
                }
            }
            let metrics = directive["Metrics"].as_array().unwrap();
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for m in metrics {
                assert!(["Count", "Seconds"].contains(&m["Unit"].as_str().unwrap()));
                assert!(doc[m["Name"].as_str().unwrap()].is_number(), "{doc}");
            }
        }
    }

    #[test]
    fn the_dashboard_can_show_totals_and_splits() {
        let doc = Metric::AlertReceived {
            source: "grafana",
            outcome: "duplicate",
        }
        .emf("N", 0);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[], ["Source"], ["Outcome"]])
        );
        assert_eq!(
            (&doc["Source"], &doc["Outcome"], &doc["AlertsReceived"]),
            (&json!("grafana"), &json!("duplicate"), &json!(1.0))
        );
        let late = Metric::Asked {
            seconds_since_alert: -3.0,
        }
        .emf("N", 0);
        assert_eq!(
            late["AlertToAsk"], 0.0,
            "clock skew never graphs below zero"
        );
    }
}
