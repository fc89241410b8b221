//! The notifier: asking once, escalating once, one reminder, and every way a send can fail.

use super::*;
use crate::conversation::notifier::Received;
use crate::core::messages::{self, Answered};
use crate::core::work::ClaimKind;
use crate::ports::AlertStore;
use std::sync::atomic::Ordering;

fn message(id: &str, action: Action, alert: &AlertId) -> Received {
    Received {
        id: id.into(),
        receipt: Some(format!("receipt-{id}")),
        body: WorkItem::new(action, alert.clone()).to_json(),
    }
}

fn is_reply(call: &ChatCall) -> bool {
    matches!(call, ChatCall::Reply { .. })
}

#[tokio::test]
async fn asks_once_and_sets_the_reminder_and_deadline() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.notify(Action::Ask, &id).await.unwrap();
    world.notify(Action::Ask, &id).await.unwrap(); // redelivered
    let record = world.record(&id);
    assert_eq!(record.status, Status::Asked);
    assert_eq!(record.chat_user.as_deref(), Some(ALICE_CHAT));
    assert_eq!(record.deadline_at, Some(t0() + Duration::minutes(30)));
    assert_eq!(record.due_at, Some(t0() + Duration::minutes(10)));
    assert_eq!(world.chat.directs().len(), 1, "one DM");
}

#[tokio::test]
async fn a_second_open_question_says_one_more_thing() {
    let world = World::new();
    world.stored(Status::Asked);
    let second = world.another("al_second", |_| {});
    let record = world.record(&second);
    world.notify(Action::Ask, &second).await.unwrap();
    let expected = messages::ask(&record, true, t0() + Duration::minutes(30));
    assert_eq!(world.chat.directs(), vec![expected]);
}

#[tokio::test]
async fn only_recent_open_questions_count_as_one_more() {
    let world = World::new();
    let old = world.stored(Status::Asked);
    world
        .alerts
        .0
        .lock()
        .unwrap()
        .get_mut(&old)
        .unwrap()
        .received_at = t0() - Duration::days(15);
    let second = world.another("al_second", |_| {});
    let record = world.record(&second);
    world.notify(Action::Ask, &second).await.unwrap();
    let expected = messages::ask(&record, false, t0() + Duration::minutes(30));
    assert_eq!(world.chat.directs(), vec![expected]);
}

#[tokio::test]
async fn a_claim_held_by_another_delivery_means_try_later_not_drop() {
    let world = World::new();
    let id = world.stored(Status::Received);
    assert!(world.alerts.claim(&id, ClaimKind::Ask, t0()).await.unwrap());
    let error = world.notify(Action::Ask, &id).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(world.chat.directs().is_empty());
    assert_eq!(world.record(&id).status, Status::Received);
}

#[tokio::test]
async fn a_failed_dm_gives_the_claim_back_so_the_retry_asks() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.chat.fail(Fault::Outage);
    assert!(
        world
            .notify(Action::Ask, &id)
            .await
            .unwrap_err()
            .is_retryable()
    );
    assert!(!world.alerts.is_claimed(&id, ClaimKind::Ask));
    assert_eq!(world.record(&id).status, Status::Received);
    world.chat.heal();
    world.notify(Action::Ask, &id).await.unwrap();
    assert_eq!(world.record(&id).status, Status::Asked);
}

#[tokio::test]
async fn a_rate_limited_item_comes_back_when_the_platform_allows_without_spending_an_attempt() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.chat.fail(Fault::RateLimited(42));
    let failed = world
        .notifier()
        .handle_batch(vec![message("m1", Action::Ask, &id)], None)
        .await;
    assert!(failed.is_empty(), "the original is done: no receive spent");
    let later = world.queue.drain();
    assert_eq!(later.len(), 1);
    assert_eq!((later[0].action, later[0].deferred), (Action::Ask, 1));
    let delays = world.queue.1.lock().unwrap().clone();
    assert_eq!(delays, vec![(format!("later:{id}"), 42)]);
}

#[tokio::test]
async fn an_item_rate_limited_too_often_spends_its_attempts_and_can_dead_letter() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.chat.fail(Fault::RateLimited(42));
    let mut item = WorkItem::new(Action::Ask, id.clone());
    item.deferred = crate::core::work::MAX_DEFERRALS;
    let tired = Received {
        id: "m1".into(),
        receipt: Some("receipt-m1".into()),
        body: item.to_json(),
    };
    let failed = world.notifier().handle_batch(vec![tired], None).await;
    assert_eq!(failed, vec!["m1".to_string()]);
    let delays = world.queue.1.lock().unwrap().clone();
    assert_eq!(delays, vec![("receipt-m1".to_string(), 42)]);
}

#[tokio::test]
async fn a_batch_asks_about_different_alerts_at_once() {
    let world = World::new();
    let ids = [
        world.stored(Status::Received),
        world.another("al_b", |_| {}),
        world.another("al_c", |_| {}),
    ];
    *world.chat.send_time.lock().unwrap() = Some(std::time::Duration::from_millis(50));
    let batch = ids
        .iter()
        .enumerate()
        .map(|(i, id)| message(&format!("m{i}"), Action::Ask, id))
        .collect();
    let handed_back = world.notifier().handle_batch(batch, None).await;
    assert!(handed_back.is_empty(), "{handed_back:?}");
    assert_eq!(
        world.chat.most_in_flight.load(Ordering::SeqCst),
        3,
        "the three DMs were on their way at once"
    );
    for id in &ids {
        assert_eq!(world.record(id).status, Status::Asked);
    }
}

#[test]
fn a_batch_is_grouped_by_alert_in_order_of_first_appearance() {
    let (a, b) = (AlertId::from_stored("al_a"), AlertId::from_stored("al_b"));
    let garbage = Received {
        id: "g".into(),
        receipt: None,
        body: "not json".into(),
    };
    let batch = vec![
        message("1", Action::Ask, &a),
        message("2", Action::Ask, &b),
        message("3", Action::Remind, &a),
        garbage,
        message("5", Action::Escalate, &b),
    ];
    let groups: Vec<Vec<String>> = crate::conversation::notifier::in_groups(batch)
        .into_iter()
        .map(|g| g.into_iter().map(|(m, _)| m.id).collect())
        .collect();
    assert_eq!(groups, [vec!["1", "3"], vec!["2", "5"], vec!["g"]]);
}

#[tokio::test]
async fn out_of_time_the_rest_of_the_batch_is_handed_back_untried() {
    let world = World::new();
    let a = world.stored(Status::Received);
    let b = world.another("al_b", |_| {});
    let batch = vec![
        message("m1", Action::Ask, &a),
        message("m2", Action::Ask, &b),
    ];
    let past = std::time::Instant::now();
    let handed_back = world.notifier().handle_batch(batch, Some(past)).await;
    assert_eq!(handed_back, vec!["m1".to_string(), "m2".to_string()]);
    assert!(world.chat.directs().is_empty(), "nothing tried");
    let delays = world.queue.1.lock().unwrap().clone();
    assert_eq!(delays.len(), 2, "handed back at once");
    assert!(delays.iter().all(|(_, s)| *s == 0));
}

#[tokio::test]
async fn someone_who_cannot_get_a_dm_goes_to_the_team() {
    let world = World::new();
    world
        .chat
        .unreachable
        .lock()
        .unwrap()
        .insert(ALICE_CHAT.into());
    let id = world.stored(Status::Received);
    world.notify(Action::Ask, &id).await.unwrap();
    world.assert_escalated(&id, EscalationReason::UnknownInChat);
    assert_eq!(world.chat.channel_posts().len(), 1);
}

#[tokio::test]
async fn a_broken_token_is_our_error_not_the_persons_absence() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.chat.fail(Fault::BrokenToken);
    let failed = world
        .notifier()
        .handle_batch(vec![message("m1", Action::Ask, &id)], None)
        .await;
    assert_eq!(
        failed,
        vec!["m1".to_string()],
        "retried, then dead-lettered"
    );
    let record = world.record(&id);
    assert_eq!(record.status, Status::Received, "not escalated as unknown");
    assert_eq!(record.escalation_reason, None);
    assert!(!world.alerts.is_claimed(&id, ClaimKind::Ask));
}

#[tokio::test]
async fn people_slack_does_not_know_and_unmappable_alerts_are_escalated() {
    let world = World::new();
    world.chat.people.lock().unwrap().clear();
    let id = world.stored(Status::Received);
    world.notify(Action::Ask, &id).await.unwrap();
    world.assert_escalated(&id, EscalationReason::UnknownInChat);
    let nobody = world.another("al_nobody", |r| r.user = None);
    world.notify(Action::Ask, &nobody).await.unwrap();
    world.assert_escalated(&nobody, EscalationReason::UnmappableUser);
}

#[tokio::test]
async fn someone_put_on_the_never_contact_list_while_queued_is_not_asked() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.directory.0.lock().unwrap().insert(ALICE.into());
    world.notify(Action::Ask, &id).await.unwrap();
    assert!(world.chat.directs().is_empty());
    world.assert_escalated(&id, EscalationReason::NeverContact);
}

#[tokio::test]
async fn an_escalation_is_posted_once_and_a_failed_post_is_retried() {
    let world = World::new();
    let id = world.stored(Status::Escalated);
    world.chat.fail(Fault::Outage);
    assert!(world.notify(Action::Escalate, &id).await.is_err());
    assert!(!world.alerts.is_claimed(&id, ClaimKind::Escalation));
    world.chat.heal();
    world.notify(Action::Escalate, &id).await.unwrap();
    world.notify(Action::Escalate, &id).await.unwrap();
    assert_eq!(world.chat.channel_posts().len(), 1);
    assert!(world.record(&id).escalation_message.is_some());
}

#[tokio::test]
async fn silence_tells_the_person_too() {
    let world = World::new();
    let id = world.stored(Status::Escalated);
    world.edit(&id, |r| {
        r.escalation_reason = Some(EscalationReason::NoAnswer)
    });
    world.notify(Action::Escalate, &id).await.unwrap();
    let record = world.record(&id);
    let told = ChatCall::Update {
        at: record.ask_message.clone().unwrap(),
        message: messages::answered(&record, Answered::TimedOut),
    };
    assert!(world.chat.calls().contains(&told));
}

#[tokio::test]
async fn one_reminder_in_the_thread_even_when_redelivered() {
    let world = World::new();
    let id = world.stored(Status::Reminded);
    world.notify(Action::Remind, &id).await.unwrap();
    world.notify(Action::Remind, &id).await.unwrap();
    assert_eq!(world.calls(is_reply), 1);
}

#[tokio::test]
async fn a_failed_reminder_is_sent_by_the_retry() {
    let world = World::new();
    let id = world.stored(Status::Reminded);
    world.chat.fail(Fault::Outage);
    assert!(world.notify(Action::Remind, &id).await.is_err());
    world.chat.heal();
    world.notify(Action::Remind, &id).await.unwrap();
    assert_eq!(world.calls(is_reply), 1);
}

#[tokio::test]
async fn a_batch_fails_only_its_bad_items() {
    let world = World::new();
    let id = world.stored(Status::Received);
    let garbage = Received {
        id: "garbage".into(),
        receipt: None,
        body: "not json".into(),
    };
    let gone = AlertId::from_stored("al_deleted");
    let batch = vec![
        garbage,
        message("good", Action::Ask, &id),
        message("gone", Action::Ask, &gone),
    ];
    let failed = world.notifier().handle_batch(batch, None).await;
    assert_eq!(failed, vec!["garbage".to_string()]);
    assert_eq!(world.record(&id).status, Status::Asked);
}
