//! The notifier: asking once, escalating once, one reminder, and every way a send can fail.

use super::*;
use crate::conversation::notifier::Received;
use crate::core::state::EscalationReason;
use crate::core::work::ClaimKind;
use crate::ports::AlertStore;

fn message(id: &str, item: &WorkItem) -> Received {
    Received {
        id: id.into(),
        receipt: Some(format!("receipt-{id}")),
        body: item.to_json(),
    }
}

#[tokio::test]
async fn asks_once_and_sets_the_reminder_and_deadline() {
    let world = World::new();
    let id = world.stored(Status::Received);
    let ask = World::item(Action::Ask, &id);
    world.notifier().handle(&ask).await.unwrap();
    world.notifier().handle(&ask).await.unwrap(); // redelivered
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
    let mut second = crate::core::messages::tests::record();
    second.id = AlertId::from_stored("al_second");
    world
        .alerts
        .0
        .lock()
        .unwrap()
        .insert(second.id.clone(), second.clone());
    world
        .notifier()
        .handle(&World::item(Action::Ask, &second.id))
        .await
        .unwrap();
    let dm = &world.chat.directs()[0];
    let expected = crate::core::messages::ask(&second, true, t0() + Duration::minutes(30));
    assert_eq!(dm, &expected);
}

#[tokio::test]
async fn a_claim_held_by_another_delivery_means_try_later_not_drop() {
    let world = World::new();
    let id = world.stored(Status::Received);
    assert!(world.alerts.claim(&id, ClaimKind::Ask, t0()).await.unwrap());
    let error = world
        .notifier()
        .handle(&World::item(Action::Ask, &id))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(world.chat.directs().is_empty());
    assert_eq!(world.record(&id).status, Status::Received);
}

#[tokio::test]
async fn a_failed_dm_gives_the_claim_back_so_the_retry_asks() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.chat.fail(Fault::Outage);
    let error = world
        .notifier()
        .handle(&World::item(Action::Ask, &id))
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert!(!world.alerts.is_claimed(&id, ClaimKind::Ask));
    assert_eq!(world.record(&id).status, Status::Received);
    world.chat.heal();
    world
        .notifier()
        .handle(&World::item(Action::Ask, &id))
        .await
        .unwrap();
    assert_eq!(world.record(&id).status, Status::Asked);
}

#[tokio::test]
async fn a_rate_limited_item_fails_and_comes_back_when_the_platform_allows() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.chat.fail(Fault::RateLimited(42));
    let failed = world
        .notifier()
        .handle_batch(vec![message("m1", &World::item(Action::Ask, &id))])
        .await;
    assert_eq!(failed, vec!["m1".to_string()]);
    assert_eq!(
        *world.queue.1.lock().unwrap(),
        vec![("receipt-m1".to_string(), 42)]
    );
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
    world
        .notifier()
        .handle(&World::item(Action::Ask, &id))
        .await
        .unwrap();
    let record = world.record(&id);
    assert_eq!(record.status, Status::Escalated);
    assert_eq!(
        record.escalation_reason,
        Some(EscalationReason::UnknownInChat)
    );
    assert_eq!(world.chat.channel_posts().len(), 1);
}

#[tokio::test]
async fn a_broken_token_is_our_error_not_the_persons_absence() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.chat.fail(Fault::BrokenToken);
    let failed = world
        .notifier()
        .handle_batch(vec![message("m1", &World::item(Action::Ask, &id))])
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
    world
        .notifier()
        .handle(&World::item(Action::Ask, &id))
        .await
        .unwrap();
    assert_eq!(
        world.record(&id).escalation_reason,
        Some(EscalationReason::UnknownInChat)
    );

    let mut nobody = crate::core::messages::tests::record();
    nobody.id = AlertId::from_stored("al_nobody");
    nobody.user = None;
    world
        .alerts
        .0
        .lock()
        .unwrap()
        .insert(nobody.id.clone(), nobody.clone());
    world
        .notifier()
        .handle(&World::item(Action::Ask, &nobody.id))
        .await
        .unwrap();
    assert_eq!(
        world.record(&nobody.id).escalation_reason,
        Some(EscalationReason::UnmappableUser)
    );
}

#[tokio::test]
async fn someone_put_on_the_never_contact_list_while_queued_is_not_asked() {
    let world = World::new();
    let id = world.stored(Status::Received);
    world.directory.0.lock().unwrap().insert(ALICE.into());
    world
        .notifier()
        .handle(&World::item(Action::Ask, &id))
        .await
        .unwrap();
    assert!(world.chat.directs().is_empty());
    assert_eq!(
        world.record(&id).escalation_reason,
        Some(EscalationReason::NeverContact)
    );
}

#[tokio::test]
async fn an_escalation_is_posted_once_and_a_failed_post_is_retried() {
    let world = World::new();
    let id = world.stored(Status::Escalated);
    let escalate = World::item(Action::Escalate, &id);
    world.chat.fail(Fault::Outage);
    assert!(world.notifier().handle(&escalate).await.is_err());
    assert!(!world.alerts.is_claimed(&id, ClaimKind::Escalation));
    world.chat.heal();
    world.notifier().handle(&escalate).await.unwrap();
    world.notifier().handle(&escalate).await.unwrap();
    assert_eq!(world.chat.channel_posts().len(), 1);
    assert!(world.record(&id).escalation_message.is_some());
}

#[tokio::test]
async fn silence_tells_the_person_too() {
    let world = World::new();
    let id = world.stored(Status::Escalated);
    world
        .alerts
        .0
        .lock()
        .unwrap()
        .get_mut(&id)
        .unwrap()
        .escalation_reason = Some(EscalationReason::NoAnswer);
    world
        .notifier()
        .handle(&World::item(Action::Escalate, &id))
        .await
        .unwrap();
    let record = world.record(&id);
    let told = crate::core::messages::answered(&record, crate::core::messages::Answered::TimedOut);
    assert!(world.chat.calls().contains(&ChatCall::Update {
        at: record.ask_message.clone().unwrap(),
        message: told
    }));
}

#[tokio::test]
async fn one_reminder_in_the_thread_even_when_redelivered() {
    let world = World::new();
    let id = world.stored(Status::Reminded);
    let remind = World::item(Action::Remind, &id);
    world.notifier().handle(&remind).await.unwrap();
    world.notifier().handle(&remind).await.unwrap();
    let replies = world
        .chat
        .calls()
        .into_iter()
        .filter(|c| matches!(c, ChatCall::Reply { .. }))
        .count();
    assert_eq!(replies, 1);
}

#[tokio::test]
async fn a_failed_reminder_is_sent_by_the_retry() {
    let world = World::new();
    let id = world.stored(Status::Reminded);
    let remind = World::item(Action::Remind, &id);
    world.chat.fail(Fault::Outage);
    assert!(world.notifier().handle(&remind).await.is_err());
    world.chat.heal();
    world.notifier().handle(&remind).await.unwrap();
    assert!(
        world
            .chat
            .calls()
            .iter()
            .any(|c| matches!(c, ChatCall::Reply { .. }))
    );
}

#[tokio::test]
async fn a_batch_fails_only_its_bad_items() {
    let world = World::new();
    let id = world.stored(Status::Received);
    let batch = vec![
        Received {
            id: "garbage".into(),
            receipt: None,
            body: "not json".into(),
        },
        message("good", &World::item(Action::Ask, &id)),
        message(
            "gone",
            &World::item(Action::Ask, &AlertId::from_stored("al_deleted")),
        ),
    ];
    let failed = world.notifier().handle_batch(batch).await;
    assert_eq!(failed, vec!["garbage".to_string()]);
    assert_eq!(world.record(&id).status, Status::Asked);
}
