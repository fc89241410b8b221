//! Operator commands (2FA enrollment and reset, the never-contact list, snoozes, an alert's
//! history), as the admin function receives them: a JSON command in, a JSON answer out.
//! Access is whoever may invoke the function (IAM); no chat user can reach these, so nobody can
//! put themselves on the never-contact list. Lambda does not tell a function who invoked it, so
//! every command that changes something names its `operator`: it is recorded as the actor and
//! announced to the security team (CloudTrail's Invoke record shows the IAM principal).

use crate::core::alert::{Alert, AlertId, Severity};
use crate::core::identity::IdentityConfig;
use crate::core::messages;
use crate::core::record::AlertRecord;
use crate::core::rollup::OpenEscalation;
use crate::core::snooze::Snooze;
use crate::core::state::{AuditEntry, Status};
use crate::core::work::{Action, Announcement, Notice, WorkItem};
use crate::error::{Error, Result};
use crate::ports::{
    AdmitAlert, AlertStore, Chat, Clock, ConfigCheck, Directory, SecondFactor, SnoozeStore,
    WorkQueue,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Enrolls a person in TOTP, active at once (the operator checked who they are), and
    /// returns the otpauth URI, once.
    Enroll {
        user: String,
        operator: String,
    },
    /// Removes a person's TOTP seed so they can enroll again.
    ResetSecondFactor {
        user: String,
        operator: String,
    },
    NeverContactAdd {
        user: String,
        operator: String,
    },
    NeverContactRemove {
        user: String,
        operator: String,
    },
    NeverContactList,
    /// Active snoozes, optionally for one person.
    SnoozeList {
        #[serde(default)]
        user: Option<String>,
    },
    SnoozeRemove {
        snooze_key: String,
        operator: String,
    },
    /// Seals every stored TOTP seed again under the secret's current seed key (key rotation).
    ResealSeeds {
        operator: String,
    },
    /// An alert with its audit trail.
    ShowAlert {
        alert_id: String,
    },
    /// Escalations the team has not acknowledged or closed yet, oldest first.
    OpenEscalations,
    /// Whether the bot can work in Slack: token, scopes, the security channel, the team's ids.
    CheckSlack,
    /// A test alert about `user` through the real intake path (asked, reminded, escalated like
    /// any other), marked as a test in its rule, title and context.
    SendTestAlert {
        user: String,
        operator: String,
    },
    /// One person's most recent alerts, newest first (default 20, at most 100).
    AlertsFor {
        user: String,
        #[serde(default)]
        limit: Option<usize>,
    },
    /// Posts an escalation to the security channel again (its post was deleted or lost), or
    /// queues it when it was never posted; the buttons of the new post are the live ones.
    ResendTeamPost {
        alert_id: String,
        operator: String,
    },
    /// Checks a candidate rules document as every function would read it, and lists what it
    /// would change against the rules in force. Changes nothing.
    CheckRules {
        rules: String,
    },
}

pub struct Admin {
    pub alerts: Arc<dyn AlertStore>,
    pub snoozes: Arc<dyn SnoozeStore>,
    pub directory: Arc<dyn Directory>,
    pub second_factor: Arc<dyn SecondFactor>,
    /// Announcements of every change go to the security team through the queue.
    pub queue: Arc<dyn WorkQueue>,
    pub identity: IdentityConfig,
    pub clock: Arc<dyn Clock>,
    pub chat: Arc<dyn Chat>,
    pub security_channel: String,
    pub team: Vec<String>,
    /// The webhook's own admission, for test alerts.
    pub intake: Arc<dyn AdmitAlert>,
    /// Checks candidate rules against the ones in force.
    pub rules: Arc<dyn ConfigCheck>,
}

/// The rule of test alerts: how they show in rollups and write-backs.
pub const TEST_RULE: &str = "securitybot_test";

/// `operator:<name>`: who is recorded as having acted.
fn actor(operator: &str) -> Result<String> {
    let name = operator.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "operator must name you (1-100 characters): it is recorded and announced to the security team".into(),
        ));
    }
    Ok(format!("operator:{name}"))
}

impl Admin {
    fn person(&self, user: &str) -> Result<String> {
        self.identity.map_user(user).ok_or_else(|| {
            Error::Invalid(format!(
                "'{user}' is not an email (or a username with identity.email_domain set)"
            ))
        })
    }

    pub async fn run(&self, event: Value) -> Result<Value> {
        let command: Command = serde_json::from_value(event).map_err(|e| {
            Error::Invalid(format!(
                "{e}; commands: enroll, reset_second_factor, never_contact_add, never_contact_remove, never_contact_list, snooze_list, snooze_remove, reseal_seeds, show_alert, open_escalations, alerts_for, resend_team_post, check_slack, send_test_alert, check_rules"
            ))
        })?;
        match command {
            Command::Enroll { user, operator } => {
                self.enroll(&self.person(&user)?, &actor(&operator)?).await
            }
            Command::ResetSecondFactor { user, operator } => {
                let (user, by) = (self.person(&user)?, actor(&operator)?);
                self.second_factor.reset(&user).await?;
                tracing::warn!(user, by, "second factor reset by an operator");
                self.announce(Notice::SecondFactorReset, &user, &by, None)
                    .await?;
                Ok(json!({ "user": user, "second_factor": "reset" }))
            }
            Command::NeverContactAdd { user, operator } => {
                self.never_contact(&user, true, &actor(&operator)?).await
            }
            Command::NeverContactRemove { user, operator } => {
                self.never_contact(&user, false, &actor(&operator)?).await
            }
            Command::NeverContactList => {
                Ok(json!({ "never_contact": self.directory.never_contact_list().await? }))
            }
            Command::SnoozeList { user } => {
                let user = user.map(|u| self.person(&u)).transpose()?;
                self.snooze_list(user.as_deref()).await
            }
            Command::SnoozeRemove {
                snooze_key,
                operator,
            } => self.snooze_remove(&snooze_key, &actor(&operator)?).await,
            Command::ResealSeeds { operator } => {
                let by = actor(&operator)?;
                let report = self.second_factor.reseal_all().await?;
                tracing::warn!(by, ?report, "seeds re-sealed under the current key");
                Ok(
                    json!({ "resealed": report.resealed, "already_current": report.already_current, "failed": report.failed }),
                )
            }
            Command::ShowAlert { alert_id } => {
                let record = self
                    .alerts
                    .get(&AlertId::from_stored(&alert_id))
                    .await?
                    .ok_or_else(|| Error::Invalid(format!("no alert {alert_id}")))?;
                Ok(show_alert(&record))
            }
            Command::OpenEscalations => self.open_escalations().await,
            Command::AlertsFor { user, limit } => {
                let user = self.person(&user)?;
                let alerts = self.alerts.recent_for(&user, limit.unwrap_or(20)).await?;
                let list: Vec<Value> = alerts
                    .iter()
                    .map(|a| {
                        json!({ "alert_id": a.id.as_str(), "status": a.status.as_str(), "rule": a.rule,
                                "title": a.title, "received_at": a.received_at.to_rfc3339() })
                    })
                    .collect();
                Ok(json!({ "user": user, "alerts": list }))
            }
            Command::ResendTeamPost { alert_id, operator } => {
                self.resend_team_post(&AlertId::from_stored(&alert_id), &actor(&operator)?)
                    .await
            }
            Command::CheckRules { rules } => match self.rules.check(&rules) {
                Ok(changes) => Ok(json!({ "valid": true, "changes": changes })),
                // The problem, naming the setting, is the answer: nothing was saved.
                Err(e) => Ok(json!({ "valid": false, "problem": e.to_string() })),
            },
            Command::SendTestAlert { user, operator } => {
                self.send_test_alert(&self.person(&user)?, &actor(&operator)?)
                    .await
            }
            Command::CheckSlack => {
                let check = self.chat.check(&self.security_channel, &self.team).await?;
                Ok(
                    json!({ "ok": check.problems.is_empty(), "connected_as": check.connected_as,
                           "problems": check.problems, "unchecked": check.unchecked }),
                )
            }
        }
    }

    /// A test alert, admitted exactly as the webhook admits one (the person is asked, the
    /// deadline escalates): proof that the whole path works, end to end, for that person.
    async fn send_test_alert(&self, user: &str, by: &str) -> Result<Value> {
        let now = self.clock.now();
        let alert = Alert {
            source: "securitybot".into(),
            source_id: Some(format!("test-{}", now.timestamp_millis())),
            rule: TEST_RULE.into(),
            user: Some(user.to_string()),
            title: "[TEST] A test alert: please answer it".into(),
            description: format!(
                "This is a test of Securitybot, sent by {by}. Answer it as you would a real one."
            ),
            severity: Severity::Low,
            occurred_at: now,
            context: [("test".to_string(), format!("sent by {by}"))].into(),
            link: None,
            sender: None,
        };
        let raw = serde_json::to_string(&alert).expect("an alert serialises");
        let (id, outcome) = self
            .intake
            .admit_alert(&alert, raw, &format!("admin:{by}"))
            .await?;
        tracing::info!(alert_id = %id, user, by, "test alert sent");
        let answer = json!({ "alert_id": id, "user": user, "test": true, "outcome": outcome });
        Ok(answer)
    }

    /// What the team still owes a look, oldest first: how long each has waited, and whether
    /// its post reached the channel (one that has not is still being retried, and alarmed on).
    async fn resend_team_post(&self, id: &AlertId, by: &str) -> Result<Value> {
        let record = self
            .alerts
            .get(id)
            .await?
            .ok_or_else(|| Error::Invalid(format!("no alert {id}")))?;
        if !matches!(record.status, Status::Escalated | Status::Acknowledged) {
            return Err(Error::Invalid(format!(
                "alert {id} is {}: only an escalation the team has not closed has a post to re-send",
                record.status
            )));
        }
        if record.escalation_message.is_none() {
            // Still owed: the notifier posts it (once, under its claim); never two posts racing.
            self.queue
                .send(&WorkItem::new(Action::Escalate, id.clone()))
                .await?;
            tracing::warn!(alert_id = %id, by, "owed team post queued by an operator");
            return Ok(json!({ "alert_id": id.as_str(), "queued": true }));
        }
        let posted = self
            .chat
            .send_to_channel(&self.security_channel, &messages::escalation(&record))
            .await?;
        let audit = AuditEntry {
            at: self.clock.now(),
            actor: by.to_string(),
            status: record.status,
            note: "team post re-sent".into(),
        };
        self.alerts
            .replace_escalation_message(id, &posted, &audit)
            .await?;
        tracing::warn!(alert_id = %id, by, "team post re-sent by an operator");
        Ok(
            json!({ "alert_id": id.as_str(), "posted": true, "channel": posted.channel, "ts": posted.ts }),
        )
    }

    async fn open_escalations(&self) -> Result<Value> {
        let now = self.clock.now();
        let mut open: Vec<(OpenEscalation, bool)> = self
            .alerts
            .awaiting_team()
            .await?
            .iter()
            .filter(|r| r.status == Status::Escalated)
            .map(|r| (OpenEscalation::of(r), r.escalation_message.is_some()))
            .collect();
        open.sort_by(|(a, _), (b, _)| a.since.cmp(&b.since).then_with(|| a.id.cmp(&b.id)));
        let list: Vec<Value> = open
            .iter()
            .map(|(e, posted)| {
                json!({ "alert_id": e.id, "title": e.title, "user": e.who, "reason": e.reason,
                        "since": e.since.to_rfc3339(), "waiting_minutes": (now - e.since).num_minutes(),
                        "posted_to_team": posted })
            })
            .collect();
        Ok(json!({ "open_escalations": list }))
    }

    async fn enroll(&self, user: &str, by: &str) -> Result<Value> {
        let now = self.clock.now();
        let Some(uri) = self.second_factor.enroll_vouched(user, by, now).await? else {
            return Err(Error::Invalid(format!(
                "{user} is already enrolled (or has a setup in progress); run reset_second_factor first"
            )));
        };
        tracing::info!(user, by, "second-factor enrollment made by an operator");
        self.announce(Notice::OperatorEnrolled, user, by, None)
            .await?;
        Ok(
            json!({ "user": user, "otpauth_uri": uri, "next": "add it to the person's authenticator app (it is active now, for alerts from now on)" }),
        )
    }

    async fn never_contact(&self, user: &str, never: bool, by: &str) -> Result<Value> {
        let user = self.person(user)?;
        self.directory.set_never_contact(&user, never, by).await?;
        let notice = if never {
            Notice::NeverContactAdded
        } else {
            Notice::NeverContactRemoved
        };
        self.announce(notice, &user, by, None).await?;
        Ok(json!({ "user": user, "never_contact": never }))
    }

    async fn snooze_remove(&self, key: &str, by: &str) -> Result<Value> {
        let snooze = self.snoozes.find(key).await?;
        self.snoozes.remove(key).await?;
        if let Some(s) = &snooze {
            let detail = format!(
                "rule {}, until {}",
                s.scope.rule,
                s.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            self.announce(Notice::SnoozeRemoved, &s.scope.user, by, Some(detail))
                .await?;
        }
        Ok(json!({ "snooze_key": key, "removed": true }))
    }

    async fn announce(
        &self,
        notice: Notice,
        user: &str,
        by: &str,
        detail: Option<String>,
    ) -> Result<()> {
        let mut announcement = Announcement::new(notice, user, by, self.clock.now());
        announcement.detail = detail;
        self.queue.announce(&announcement).await
    }

    /// Active snoozes (expired ones linger until TTL removes them), soonest to expire first.
    async fn snooze_list(&self, user: Option<&str>) -> Result<Value> {
        let now = self.clock.now();
        let mut active: Vec<Snooze> = self
            .snoozes
            .list()
            .await?
            .into_iter()
            .filter(|s| s.is_active(now) && user.is_none_or(|u| s.scope.user == u))
            .collect();
        active.sort_by_key(|s| s.expires_at);
        let active: Vec<Value> = active.iter().map(snooze_json).collect();
        Ok(json!({ "snoozes": active }))
    }
}

fn snooze_json(s: &Snooze) -> Value {
    json!({ "snooze_key": s.scope.key(), "user": s.scope.user, "rule": s.scope.rule, "scope": s.scope.context,
            "confirmed_alert_id": s.confirmed_alert, "expires_at": s.expires_at.to_rfc3339() })
}

/// An alert with its audit trail, for an operator.
fn show_alert(record: &AlertRecord) -> Value {
    let history: Vec<Value> = record
        .history
        .iter()
        .map(|h| json!({ "at": h.at.to_rfc3339(), "actor": h.actor, "status": h.status, "note": h.note }))
        .collect();
    json!({
        "alert_id": record.id, "status": record.status, "user": record.user, "rule": record.alert.rule,
        "title": record.alert.title, "severity": record.alert.severity, "context": record.alert.context,
        "escalation_reason": record.escalation_reason, "explanation": record.explanation,
        "snoozed_by": record.snoozed_by, "history": history,
    })
}
