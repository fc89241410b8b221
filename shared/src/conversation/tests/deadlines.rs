//! The scheduler's sweep: one reminder, escalation at the deadline, owed hand-offs re-sent.

use super::*;
use crate::conversation::deadlines::Sweep;

#[tokio::test]
async fn nothing_is_due_before_the_reminder() {
    let world = World::new();
    world.stored(Status::Asked);
    world.later(9);
    assert_eq!(world.deadlines().run().await.unwrap(), Sweep::default());
    assert!(world.queued().is_empty());
}

#[tokio::test]
async fn reminds_once_then_escalates_at_the_deadline() {
    let world = World::new();
    let id = world.stored(Status::Asked);
    world.later(10);
    let sweep = world.deadlines().run().await.unwrap();
    assert_eq!(sweep.reminded, 1);
    assert_eq!(world.queued(), vec![Action::Remind]);
    let record = world.record(&id);
    assert_eq!(record.status, Status::Reminded);
    assert_eq!(record.due_at, record.deadline_at);
    // An overlapping run finds nothing more to do.
    assert_eq!(world.deadlines().run().await.unwrap(), Sweep::default());

    world.later(30);
    let sweep = world.deadlines().run().await.unwrap();
    assert_eq!(sweep.escalated, 1);
    assert_eq!(world.queued(), vec![Action::Escalate]);
    world.assert_escalated(&id, EscalationReason::NoAnswer);
    assert_eq!(world.record(&id).due_at, Some(t0() + Duration::minutes(45)));
}

#[tokio::test]
async fn an_asked_alert_past_its_deadline_skips_the_reminder() {
    let world = World::new();
    let id = world.stored(Status::Asked);
    world.later(45);
    let sweep = world.deadlines().run().await.unwrap();
    assert_eq!((sweep.reminded, sweep.escalated), (0, 1));
    world.assert_escalated(&id, EscalationReason::NoAnswer);
}

#[tokio::test]
async fn a_yes_without_its_code_by_the_deadline_escalates() {
    let world = World::new();
    let id = world.stored(Status::AwaitingSecondFactor);
    world.alerts.0.lock().unwrap().get_mut(&id).unwrap().due_at =
        Some(t0() + Duration::minutes(30));
    world.later(30);
    assert_eq!(world.deadlines().run().await.unwrap().escalated, 1);
    assert_eq!(world.record(&id).status, Status::Escalated);
}

#[tokio::test]
async fn owed_hand_offs_are_sent_again_and_looked_at_later() {
    let world = World::new();
    let asked = world.stored(Status::Received);
    let unroutable = {
        let mut r = crate::core::messages::tests::record();
        r.id = AlertId::from_stored("al_unroutable");
        r.status = Status::Unroutable;
        r.due_at = Some(t0());
        world
            .alerts
            .0
            .lock()
            .unwrap()
            .insert(r.id.clone(), r.clone());
        r.id
    };
    world
        .alerts
        .0
        .lock()
        .unwrap()
        .get_mut(&asked)
        .unwrap()
        .due_at = Some(t0());
    world.later(1);
    let sweep = world.deadlines().run().await.unwrap();
    assert_eq!(sweep.resent, 2);
    let mut actions = world.queued();
    actions.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(actions, vec![Action::Ask, Action::Escalate]);
    for id in [&asked, &unroutable] {
        let record = world.record(id);
        assert_eq!(record.queued_at, Some(t0() + Duration::minutes(1)));
        assert_eq!(record.due_at, Some(t0() + Duration::minutes(16)));
    }
    assert_eq!(world.deadlines().run().await.unwrap().resent, 0);
}

#[tokio::test]
async fn an_escalation_whose_team_post_was_lost_is_queued_again_until_posted() {
    let world = World::new();
    let id = world.stored(Status::Asked);
    world.later(30);
    world.deadlines().run().await.unwrap();
    world.queue.drain(); // the escalation's queue message is lost (or dead-lettered)
    world.later(44);
    assert_eq!(world.deadlines().run().await.unwrap().resent, 0, "not yet");
    world.later(45);
    assert_eq!(world.deadlines().run().await.unwrap().resent, 1);
    let items = world.queue.drain();
    assert_eq!(items.len(), 1);
    world.notifier().handle(&items[0]).await.unwrap();
    assert_eq!(world.chat.channel_posts().len(), 1);
    assert_eq!(world.record(&id).due_at, None, "posted and recorded");
    world.later(90);
    assert_eq!(world.deadlines().run().await.unwrap().resent, 0);
}

#[tokio::test]
async fn a_failed_update_of_the_persons_dm_never_posts_to_the_team_twice() {
    let world = World::new();
    let id = world.stored(Status::Escalated);
    world.edit(&id, |r| {
        r.escalation_reason = Some(EscalationReason::NoAnswer)
    });
    world
        .chat
        .fail_updates
        .store(true, std::sync::atomic::Ordering::SeqCst);
    world.notify(Action::Escalate, &id).await.unwrap();
    assert!(
        world.record(&id).escalation_message.is_some(),
        "recorded first"
    );
    world.later(5); // past the claim's lease: a redelivery would post again if not recorded
    world.notify(Action::Escalate, &id).await.unwrap();
    assert_eq!(world.chat.channel_posts().len(), 1);
}

#[tokio::test]
async fn one_poison_alert_never_stops_the_sweep_and_is_reported_after_five_runs() {
    let world = World::new();
    let poison = world.another("al_poison", |r| {
        r.status = Status::Asked;
        r.due_at = Some(t0() - Duration::hours(1)); // oldest first: at the head of the index
    });
    world.alerts.poison(&poison, false);
    let fine = world.stored(Status::Asked);
    world.later(10);
    for run in 1..=crate::conversation::deadlines::QUARANTINE_AFTER {
        let sweep = world.deadlines().run().await.unwrap();
        assert_eq!(sweep.failed, 1, "run {run}");
        if run == 1 {
            assert_eq!(sweep.reminded, 1, "everyone else is handled");
        }
    }
    assert_eq!(world.record(&fine).status, Status::Reminded);
    let reported = world.queue.announcements();
    assert_eq!(reported.len(), 1);
    assert_eq!(
        reported[0].announce,
        crate::core::work::Notice::AlertNotProcessed
    );
    assert_eq!(reported[0].user, "al_poison");
    assert_eq!(world.record(&poison).due_at, None, "out of the sweep");
    assert_eq!(world.deadlines().run().await.unwrap().failed, 0);
}

#[tokio::test]
async fn a_transient_failure_is_retried_not_quarantined_and_fails_the_run_after_the_others() {
    let world = World::new();
    let flaky = world.another("al_flaky", |r| {
        r.status = Status::Asked;
        r.due_at = Some(t0() - Duration::hours(1));
    });
    world.alerts.poison(&flaky, true);
    let fine = world.stored(Status::Asked);
    world.later(10);
    for _ in 0..10 {
        assert!(world.deadlines().run().await.unwrap_err().is_retryable());
    }
    assert_eq!(
        world.record(&fine).status,
        Status::Reminded,
        "handled all the same"
    );
    assert!(
        world.queue.announcements().is_empty(),
        "never quarantined for an outage"
    );
    assert!(world.record(&flaky).due_at.is_some());
}
