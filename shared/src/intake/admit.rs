//! Admission: the one path every alert takes in, from the webhook now and the poller later.
//! Look up the facts, decide, store once (conditional write), hand the work to the queue.

use crate::core::admission::{Admission, Decision, Facts, decide};
use crate::core::alert::{Alert, AlertId};
use crate::core::identity::IdentityConfig;
use crate::core::links::LinkPolicy;
use crate::core::metrics::Metric;
use crate::core::redact::Redactor;
use crate::core::rules::RuleBook;
use crate::core::snooze::SnoozeScope;
use crate::core::state::{EscalationReason, Status};
use crate::core::work::WorkItem;
use crate::error::Result;
use crate::ports::{
    AdmitAlert, AlertStore, Clock, Directory, Inserted, Metrics, SnoozeStore, WorkQueue,
};
use chrono::Duration;
use serde::Serialize;
use std::sync::Arc;

/// Alerts admitted at once from one batch or page: independent, a few AWS calls each.
pub const ADMIT_CONCURRENCY: usize = 8;

/// What became of one alert, as reported to the sender.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Stored and queued: the person will be asked.
    Ask,
    /// Stored and queued for the security team.
    Escalate { reason: EscalationReason },
    /// Stored as covered by an earlier verified Yes; nobody is asked.
    Snoozed { snoozed_by: AlertId },
    /// Already stored by an earlier delivery; nothing new was done.
    Duplicate { status: Status },
}

impl Outcome {
    /// Its name in metrics and in the sender's answer.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Ask => "ask",
            Outcome::Escalate { .. } => "escalate",
            Outcome::Snoozed { .. } => "snoozed",
            Outcome::Duplicate { .. } => "duplicate",
        }
    }
}

pub struct Intake {
    pub alerts: Arc<dyn AlertStore>,
    pub snoozes: Arc<dyn SnoozeStore>,
    pub directory: Arc<dyn Directory>,
    pub queue: Arc<dyn WorkQueue>,
    pub clock: Arc<dyn Clock>,
    pub rules: Arc<RuleBook>,
    pub identity: IdentityConfig,
    pub redactor: Redactor,
    pub links: LinkPolicy,
    pub retention: Duration,
    pub metrics: Arc<dyn Metrics>,
}

impl Intake {
    /// Admits one alert. Safe to call again with the same alert: the second call stores nothing
    /// and queues nothing, except to finish a hand-off an earlier call could not complete.
    pub async fn admit(
        &self,
        alert: &Alert,
        raw: String,
        received_via: &str,
    ) -> Result<(AlertId, Outcome)> {
        let admitted = self.admit_once(alert, raw, received_via).await;
        // Split by the credential or poller it came through: the operator's names, so a
        // sender cannot mint metrics (each distinct dimension value is a billed metric).
        self.metrics.record(Metric::AlertReceived {
            source: received_via,
            outcome: match &admitted {
                Ok((_, outcome)) => outcome.name(),
                Err(_) => "failed",
            },
        });
        admitted
    }

    async fn admit_once(
        &self,
        alert: &Alert,
        raw: String,
        received_via: &str,
    ) -> Result<(AlertId, Outcome)> {
        let now = self.clock.now();
        let facts = self.facts(alert).await?;
        let decision = decide(&facts);
        let record = Admission {
            alert,
            raw,
            received_via,
            now,
            retention: self.retention,
            redactor: &self.redactor,
            links: &self.links,
        }
        .record(&facts, &decision);
        let id = record.id.clone();
        match self.alerts.insert_new(&record).await? {
            Inserted::Created => {
                // Queued only: the record was stored due for a second look (`due_at`), so no
                // write after the queue is needed to make a lost hand-off come back.
                if let Some(action) = record.pending_action() {
                    self.queue.send(&WorkItem::new(action, id.clone())).await?;
                }
                let outcome = match decision {
                    Decision::Ask => Outcome::Ask,
                    Decision::Escalate(reason) => Outcome::Escalate { reason },
                    Decision::Snoozed { by } => Outcome::Snoozed { snoozed_by: by },
                };
                tracing::info!(alert_id = %id, rule = %alert.rule, ?outcome, "alert admitted");
                Ok((id, outcome))
            }
            Inserted::AlreadyStored(existing) => {
                // Still waiting for its work: an earlier delivery may have stored it and died
                // before queueing it, so queue it again rather than wait for the scheduler's
                // sweep. Harmless if it was queued: the notifier sends once (claims, status).
                if let Some(action) = existing.pending_action() {
                    tracing::info!(alert_id = %id, ?action, "duplicate of an alert still owed work: queued again");
                    self.queue.send(&WorkItem::new(action, id.clone())).await?;
                }
                tracing::info!(alert_id = %id, status = %existing.status, "duplicate delivery");
                Ok((
                    id,
                    Outcome::Duplicate {
                        status: existing.status,
                    },
                ))
            }
        }
    }

    async fn facts(&self, alert: &Alert) -> Result<Facts> {
        let Some(user) = alert
            .user
            .as_deref()
            .and_then(|u| self.identity.map_user(u))
        else {
            return Ok(Facts::default());
        };
        let settings = self.rules.settings_for(&alert.rule);
        let scope = (settings.snooze_max_minutes > 0)
            .then(|| SnoozeScope::of(alert, &user, &settings.snooze_scope))
            .flatten();
        // Independent reads, made at once (a snoozed alert does not need the second one, but
        // waiting for the first to know costs a round trip on every other alert).
        let now = self.clock.now();
        let snooze = async {
            match &scope {
                Some(scope) => Ok(self
                    .snoozes
                    .find(&scope.key())
                    .await?
                    .filter(|s| s.is_active(now) && &s.scope == scope)),
                None => Ok(None),
            }
        };
        let (snooze, never_contact) =
            futures_util::future::try_join(snooze, self.directory.is_never_contact(&user)).await?;
        let never_contact = snooze.is_none() && never_contact;
        Ok(Facts {
            user: Some(user),
            snooze,
            never_contact,
        })
    }
}

#[async_trait::async_trait]
impl AdmitAlert for Intake {
    async fn admit_alert(
        &self,
        alert: &Alert,
        raw: String,
        via: &str,
    ) -> Result<(AlertId, String)> {
        let (id, outcome) = self.admit(alert, raw, via).await?;
        let name = serde_json::to_value(&outcome).expect("outcomes serialise")["outcome"]
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        Ok((id, name))
    }
}
