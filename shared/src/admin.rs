//! Operator commands (2FA enrollment and reset, the never-contact list, snoozes, an alert's
//! history), as the admin function receives them: a JSON command in, a JSON answer out.
//! Access is whoever may invoke the function (IAM); no chat user can reach these, so nobody can
//! put themselves on the never-contact list.

use crate::core::alert::AlertId;
use crate::core::identity::IdentityConfig;
use crate::core::record::AlertRecord;
use crate::core::snooze::Snooze;
use crate::error::{Error, Result};
use crate::ports::{AlertStore, Clock, Directory, SecondFactor, SnoozeStore};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Starts TOTP enrollment and returns the otpauth URI, once.
    Enroll {
        user: String,
    },
    /// Removes a person's TOTP seed so they can enroll again.
    ResetSecondFactor {
        user: String,
    },
    NeverContactAdd {
        user: String,
    },
    NeverContactRemove {
        user: String,
    },
    NeverContactList,
    /// Active snoozes, optionally for one person.
    SnoozeList {
        #[serde(default)]
        user: Option<String>,
    },
    SnoozeRemove {
        snooze_key: String,
    },
    /// An alert with its audit trail.
    ShowAlert {
        alert_id: String,
    },
}

pub struct Admin {
    pub alerts: Arc<dyn AlertStore>,
    pub snoozes: Arc<dyn SnoozeStore>,
    pub directory: Arc<dyn Directory>,
    pub second_factor: Arc<dyn SecondFactor>,
    pub identity: IdentityConfig,
    pub clock: Arc<dyn Clock>,
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
                "{e}; commands: enroll, reset_second_factor, never_contact_add, never_contact_remove, never_contact_list, snooze_list, snooze_remove, show_alert"
            ))
        })?;
        match command {
            Command::Enroll { user } => self.enroll(&self.person(&user)?).await,
            Command::ResetSecondFactor { user } => {
                let user = self.person(&user)?;
                self.second_factor.reset(&user).await?;
                tracing::warn!(user, "second factor reset by an operator");
                Ok(json!({ "user": user, "second_factor": "reset" }))
            }
            Command::NeverContactAdd { user } => self.never_contact(&user, true).await,
            Command::NeverContactRemove { user } => self.never_contact(&user, false).await,
            Command::NeverContactList => {
                Ok(json!({ "never_contact": self.directory.never_contact_list().await? }))
            }
            Command::SnoozeList { user } => {
                let user = user.map(|u| self.person(&u)).transpose()?;
                self.snooze_list(user.as_deref()).await
            }
            Command::SnoozeRemove { snooze_key } => {
                self.snoozes.remove(&snooze_key).await?;
                Ok(json!({ "snooze_key": snooze_key, "removed": true }))
            }
            Command::ShowAlert { alert_id } => {
                let record = self
                    .alerts
                    .get(&AlertId::from_stored(&alert_id))
                    .await?
                    .ok_or_else(|| Error::Invalid(format!("no alert {alert_id}")))?;
                Ok(show_alert(&record))
            }
        }
    }

    async fn enroll(&self, user: &str) -> Result<Value> {
        match self.second_factor.enroll(user, self.clock.now()).await? {
            Some(uri) => {
                tracing::info!(user, "second-factor enrollment started");
                Ok(
                    json!({ "user": user, "otpauth_uri": uri, "next": "add it to the person's authenticator app; their first valid code completes enrollment" }),
                )
            }
            None => Err(Error::Invalid(format!(
                "{user} is already enrolled; run reset_second_factor first"
            ))),
        }
    }

    async fn never_contact(&self, user: &str, never: bool) -> Result<Value> {
        let user = self.person(user)?;
        self.directory
            .set_never_contact(&user, never, "admin")
            .await?;
        Ok(json!({ "user": user, "never_contact": never }))
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
