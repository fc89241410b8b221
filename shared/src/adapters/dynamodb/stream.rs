//! Reading the alerts table's stream images (DynamoDB JSON) into write-back events.

use crate::core::alert::AlertId;
use crate::core::answer_event::{AnswerEvent, is_reported_change};
use crate::core::state::Status;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Deserialize)]
struct StatusOnly {
    status: Option<String>,
}

#[derive(Deserialize)]
struct Image {
    alert_id: String,
    status: String,
    source: String,
    source_id: Option<String>,
    rule: String,
    user: Option<String>,
    escalation_reason: Option<String>,
    explanation: Option<String>,
    #[serde(default)]
    history: Vec<HistoryEntry>,
}

#[derive(Deserialize)]
struct HistoryEntry {
    at: String,
    actor: String,
}

/// The status in an image, if it has one (an INSERT's old image is empty).
pub fn status_of(image: &serde_dynamo::Item) -> Option<Status> {
    let only: StatusOnly = serde_dynamo::from_item(image.clone()).ok()?;
    only.status?.parse().ok()
}

/// The write-back event a change calls for: `None` when the status did not change to one the
/// SIEM hears about (claims and other bookkeeping writes keep the status).
pub fn reported_change(
    old_image: &serde_dynamo::Item,
    new_image: serde_dynamo::Item,
) -> Result<Option<AnswerEvent>> {
    if !is_reported_change(status_of(old_image), status_of(&new_image)) {
        return Ok(None);
    }
    answer_event(new_image).map(Some)
}

/// The write-back event for a new image: the alert as the SIEM knows it, and the last change.
pub fn answer_event(image: serde_dynamo::Item) -> Result<AnswerEvent> {
    let image: Image = serde_dynamo::from_item(image)
        .map_err(|e| Error::Invalid(format!("stream image is not an alert: {e}")))?;
    let status: Status = image.status.parse().map_err(Error::Invalid)?;
    let last = image.history.last();
    let at = last
        .and_then(|h| DateTime::parse_from_rfc3339(&h.at).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    Ok(AnswerEvent {
        event_id: format!("{}:{}", image.alert_id, status),
        alert_id: AlertId::from_stored(image.alert_id),
        source: image.source,
        source_id: image.source_id,
        rule: image.rule,
        user: image.user,
        status,
        escalation_reason: image.escalation_reason,
        explanation: image.explanation,
        at,
        actor: last.map(|h| h.actor.clone()).unwrap_or_default(),
    })
}
