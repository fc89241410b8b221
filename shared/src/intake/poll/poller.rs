//! One poller run: for each source, take its lock, read pages from its checkpoint onwards,
//! admit every item, and move the checkpoint after each stored page. Page and time limits keep
//! a run inside the function's timeout; the next run carries on where this one stopped.

use super::items;
use crate::core::metrics::{Metric, seconds_between};
use crate::core::poll::{PollKind, PollSource, Position};
use crate::error::{Error, Result};
use crate::intake::admit::{ADMIT_CONCURRENCY, Intake, Outcome};
use crate::intake::formats::mapping::SourceMappings;
use crate::intake::formats::{Draft, Entry, ParseContext, finish};
use crate::ports::{AlertFeed, Checkpoints, Claim, Clock};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// One configured source and the adapter that reads it.
pub struct Feed {
    pub name: String,
    pub source: PollSource,
    pub fetch: Arc<dyn AlertFeed>,
}

/// What one run did for one source (the function's answer, and its log line).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PollReport {
    pub source: String,
    pub pages: usize,
    pub alerts: usize,
    /// Alerts stored for the first time (the rest were already stored: overlaps, repeats).
    pub new: usize,
    /// Everything before this is stored.
    pub done_until: Option<DateTime<Utc>>,
    /// Nothing more to read until time moves on.
    pub caught_up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub struct Poller {
    pub intake: Intake,
    pub checkpoints: Arc<dyn Checkpoints>,
    pub feeds: Vec<Feed>,
    pub mappings: SourceMappings,
    pub clock: Arc<dyn Clock>,
    /// Pages per source per run.
    pub max_pages: usize,
    /// Wall time per run, across sources (leave room under the function's timeout).
    pub time_budget: std::time::Duration,
}

impl Poller {
    /// Polls every source (or only `only`). Fails, after trying every source, if any failed,
    /// so the schedule's retry policy and dead-letter queue see it.
    pub async fn run(&self, only: Option<&str>) -> Result<Vec<PollReport>> {
        if let Some(name) = only
            && !self.feeds.iter().any(|f| f.name == name)
        {
            let known: Vec<&str> = self.feeds.iter().map(|f| f.name.as_str()).collect();
            return Err(Error::permanent(
                "poller",
                format!(
                    "no poller named '{name}' (configured: {})",
                    known.join(", ")
                ),
            ));
        }
        let started = Instant::now();
        let mut reports = Vec::new();
        for feed in self
            .feeds
            .iter()
            .filter(|f| only.is_none_or(|n| n == f.name))
        {
            let report = self.poll(feed, started).await;
            tracing::info!(source = %report.source, pages = report.pages, alerts = report.alerts, new = report.new, caught_up = report.caught_up, error = ?report.error, "polled");
            if let Some(done_until) = report.done_until {
                // Lag: how far behind now everything is read (what a late alert waits).
                self.intake.metrics.record(Metric::Polled {
                    source: &report.source,
                    items: report.alerts as u64,
                    lag_seconds: seconds_between(done_until, self.clock.now()),
                });
            }
            reports.push(report);
        }
        let failed: Vec<String> = reports
            .iter()
            .filter_map(|r| Some(format!("{}: {}", r.source, r.error.as_ref()?)))
            .collect();
        if failed.is_empty() {
            Ok(reports)
        } else {
            Err(Error::transient("poller", failed.join("; ")))
        }
    }

    async fn poll(&self, feed: &Feed, started: Instant) -> PollReport {
        let mut report = PollReport {
            source: feed.name.clone(),
            ..PollReport::default()
        };
        let lock = format!("poller#{}#lock", feed.name);
        let lease = Duration::from_std(self.time_budget).unwrap_or(Duration::minutes(5))
            + Duration::minutes(1);
        match self.checkpoints.claim(&lock, self.clock.now(), lease).await {
            Ok(Claim::Taken) => {}
            Ok(_) => {
                report.skipped = Some("another run is polling this source".into());
                return report;
            }
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        }
        if let Err(e) = self.pull(feed, started, &mut report).await {
            report.error = Some(e.to_string());
        }
        if let Err(e) = self.checkpoints.release(&lock).await {
            tracing::warn!(source = %feed.name, error = %e, "could not release the poller lock; it expires with its lease");
        }
        report
    }

    async fn pull(&self, feed: &Feed, started: Instant, report: &mut PollReport) -> Result<()> {
        let key = format!("poller#{}", feed.name);
        let source = &feed.source;
        // One horizon per run, in whole seconds (Splunk's window bounds are epoch seconds):
        // windows up to it, then the run is caught up, however long its pages took.
        let horizon = self.clock.now().trunc_subsecs(0);
        let mut position = match self.checkpoints.read(&key).await? {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                Error::permanent("poller", format!("checkpoint {key} is unreadable: {e}"))
            })?,
            None => Position::first(horizon, Duration::minutes(source.first_lookback_minutes)),
        };
        report.done_until = Some(position.done_until);
        let via = format!("poller:{}", feed.name);
        while report.pages < self.max_pages && started.elapsed() < self.time_budget {
            let now = self.clock.now();
            let Some(window) = position.next_window(
                horizon,
                Duration::seconds(source.delay_seconds),
                Duration::minutes(source.window_minutes),
            ) else {
                report.caught_up = true;
                break;
            };
            let page = feed.fetch.page(&window, position.after.as_ref()).await?;
            report.pages += 1;
            let drafts: Vec<Draft> = page
                .items
                .iter()
                .flat_map(|item| self.drafts(feed, item, now))
                .collect();
            // A page's alerts are independent: admit several at once. Any failure fails the
            // page, and the checkpoint stays before it.
            let outcomes: Vec<Outcome> = stream::iter(drafts)
                .map(|draft| {
                    let (alert, raw) = finish(draft, &self.intake.rules);
                    let via = via.as_str();
                    async move { self.intake.admit(&alert, raw, via).await.map(|(_, o)| o) }
                })
                .buffer_unordered(ADMIT_CONCURRENCY)
                .try_collect()
                .await?;
            report.alerts += outcomes.len();
            report.new += outcomes
                .iter()
                .filter(|o| !matches!(o, Outcome::Duplicate { .. }))
                .count();
            // Only now that every item of the page is stored does the checkpoint move.
            position.advance(window, page.next);
            self.checkpoints
                .write(
                    &key,
                    &serde_json::to_string(&position).expect("a position serialises"),
                )
                .await?;
            report.done_until = Some(position.done_until);
        }
        Ok(())
    }

    fn drafts(&self, feed: &Feed, item: &Value, now: DateTime<Utc>) -> Vec<Draft> {
        match feed.source.kind {
            PollKind::Splunk => {
                let ctx = ParseContext {
                    now,
                    sources: &self.mappings,
                    max_batch: 1,
                };
                let search = feed.source.saved_search.as_deref().unwrap_or_default();
                match items::splunk_result(&feed.name, search, item, &ctx) {
                    Ok(entries) => entries
                        .into_iter()
                        .filter_map(|e| match e {
                            Entry::Alert(d) => Some(*d),
                            Entry::Ignored { .. } => None,
                        })
                        .collect(),
                    Err(rejection) => {
                        // Export results are objects; anything else is logged and passed over
                        // rather than blocking the source forever.
                        tracing::warn!(source = %feed.name, problem = ?rejection, "unreadable Splunk result skipped");
                        Vec::new()
                    }
                }
            }
            PollKind::Elastic | PollKind::HttpJson => {
                vec![items::mapped(&feed.name, item, &feed.source.mapping(), now)]
            }
        }
    }
}
