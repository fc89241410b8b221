//! Write-back on the twins: once per status, retried after a failure, in order.

use super::*;
use crate::adapters::memory::{FixedClock, MemoryAlerts, MemoryFailedWritebacks, MemorySiem};
use crate::core::alert::AlertId;
use crate::core::state::Status;
use crate::error::Error;
use chrono::{TimeZone, Utc};
use std::sync::atomic::Ordering;

fn event(id: &str, status: Status) -> AnswerEvent {
    AnswerEvent {
        event_id: format!("{id}:{status}"),
        alert_id: AlertId::from_stored(id),
        source: "webhook".into(),
        source_id: None,
        rule: "sudo_root_shell".into(),
        user: Some("alice@example.com".into()),
        status,
        escalation_reason: None,
        explanation: None,
        at: Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap(),
        actor: "chat:U1".into(),
    }
}

fn writeback() -> (Writeback, Arc<MemorySiem>, Arc<MemoryAlerts>) {
    let siem = Arc::new(MemorySiem::default());
    let alerts = Arc::new(MemoryAlerts::default());
    let writeback = Writeback {
        sink: Some(siem.clone()),
        alerts: alerts.clone(),
        clock: Arc::new(FixedClock::at(Utc::now())),
        metrics: Arc::new(crate::adapters::emf::EmfMetrics::capturing("test")),
        failures: Arc::new(MemoryFailedWritebacks::default()),
    };
    (writeback, siem, alerts)
}

#[tokio::test]
async fn each_status_is_written_back_once() {
    let (writeback, siem, _) = writeback();
    let escalated = event("al_1", Status::Escalated);
    assert!(writeback.deliver(&escalated).await.unwrap());
    assert!(
        !writeback.deliver(&escalated).await.unwrap(),
        "a redelivery"
    );
    assert!(
        writeback
            .deliver(&event("al_1", Status::Acknowledged))
            .await
            .unwrap()
    );
    let sent: Vec<Status> = siem.0.lock().unwrap().iter().map(|e| e.status).collect();
    assert_eq!(sent, vec![Status::Escalated, Status::Acknowledged]);
}

#[tokio::test]
async fn a_failure_is_kept_with_its_content_and_a_redrive_sends_it_once() {
    let (writeback, siem, _) = writeback();
    siem.1.store(true, Ordering::SeqCst);
    let confirmed = event("al_1", Status::Confirmed);
    let escalated = event("al_2", Status::Escalated);
    writeback.deliver(&confirmed).await.unwrap_err();
    writeback.deliver(&escalated).await.unwrap_err();
    assert_eq!(
        writeback.failures.pending().await.unwrap(),
        [confirmed.clone(), escalated.clone()]
    );
    // Still failing: kept.
    let report = writeback.redrive("operator:dana").await.unwrap();
    assert_eq!(report.still_failing, 2);
    assert_eq!(writeback.failures.pending().await.unwrap().len(), 2);
    // The stream's own retry got one through meanwhile; the redrive sends only the other.
    siem.1.store(false, Ordering::SeqCst);
    assert!(writeback.deliver(&escalated).await.unwrap());
    let report = writeback.redrive("operator:dana").await.unwrap();
    assert_eq!(
        (report.sent, report.already_sent, report.still_failing),
        (1, 1, 0)
    );
    let sent: Vec<Status> = siem.0.lock().unwrap().iter().map(|e| e.status).collect();
    assert_eq!(sent, [Status::Escalated, Status::Confirmed], "each once");
    assert!(writeback.failures.pending().await.unwrap().is_empty());
    assert_eq!(
        writeback.redrive("operator:dana").await.unwrap(),
        Redriven::default()
    );
}

#[tokio::test]
async fn a_failed_send_is_sent_by_the_retry() {
    let (writeback, siem, _) = writeback();
    siem.1.store(true, Ordering::SeqCst);
    let confirmed = event("al_1", Status::Confirmed);
    assert!(
        writeback
            .deliver(&confirmed)
            .await
            .unwrap_err()
            .is_retryable()
    );
    siem.1.store(false, Ordering::SeqCst);
    assert!(writeback.deliver(&confirmed).await.unwrap());
    assert_eq!(siem.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failing_release_never_hides_the_send_error() {
    let (writeback, siem, alerts) = writeback();
    siem.1.store(true, Ordering::SeqCst);
    alerts.2.store(true, Ordering::SeqCst);
    let error = writeback
        .deliver(&event("al_1", Status::Confirmed))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Transient {
                service: "siem",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn off_sends_nothing() {
    let (mut writeback, siem, _) = writeback();
    writeback.sink = None;
    assert!(
        !writeback
            .deliver(&event("al_1", Status::Confirmed))
            .await
            .unwrap()
    );
    assert!(siem.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_batch_stops_at_its_first_failure_and_reports_where() {
    let (writeback, siem, _) = writeback();
    let changes = vec![
        StreamChange {
            sequence: "1".into(),
            event: Ok(Some(event("al_1", Status::Confirmed))),
        },
        StreamChange {
            sequence: "2".into(),
            event: Ok(None),
        },
        StreamChange {
            sequence: "3".into(),
            event: Err(Error::Invalid("stream image is not an alert".into())),
        },
        StreamChange {
            sequence: "4".into(),
            event: Ok(Some(event("al_2", Status::Escalated))),
        },
    ];
    assert_eq!(
        writeback.deliver_in_order(changes, None).await,
        Some("3".into())
    );
    let sent: Vec<String> = siem
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.event_id.clone())
        .collect();
    assert_eq!(
        sent,
        vec!["al_1:confirmed".to_string()],
        "nothing after the failure"
    );
}

#[tokio::test]
async fn a_send_cut_short_by_a_timeout_is_sent_by_the_retry_after_a_short_lease() {
    use crate::core::work::ClaimKind;
    use crate::ports::AlertStore;
    let (mut writeback, siem, alerts) = writeback();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
    let escalated = event("al_1", Status::Escalated);
    // The function claimed the send, then ran out of time before the SIEM answered.
    assert!(
        alerts
            .claim(
                &escalated.alert_id,
                ClaimKind::Writeback(Status::Escalated),
                t0
            )
            .await
            .unwrap()
    );
    writeback.clock = Arc::new(FixedClock::at(t0 + chrono::Duration::minutes(1)));
    assert!(
        !writeback.deliver(&escalated).await.unwrap(),
        "still in flight"
    );
    writeback.clock = Arc::new(FixedClock::at(t0 + chrono::Duration::minutes(3)));
    assert!(
        writeback.deliver(&escalated).await.unwrap(),
        "the lease lapsed: sent"
    );
    writeback.clock = Arc::new(FixedClock::at(t0 + chrono::Duration::days(30)));
    assert!(
        !writeback.deliver(&escalated).await.unwrap(),
        "sent: never again"
    );
    assert_eq!(siem.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn out_of_time_it_stops_before_a_send_and_the_stream_resumes_there() {
    let (writeback, siem, _) = writeback();
    let changes = vec![StreamChange {
        sequence: "7".into(),
        event: Ok(Some(event("al_1", Status::Confirmed))),
    }];
    let past = std::time::Instant::now();
    assert_eq!(
        writeback.deliver_in_order(changes, Some(past)).await,
        Some("7".into())
    );
    assert!(
        siem.0.lock().unwrap().is_empty(),
        "nothing started, nothing claimed"
    );
}
